// SPDX-License-Identifier: GPL-2.0-or-later
// PCI: configuration mechanism #1 (ports 0xCF8 address, 0xCFC..0xCFF data;
// PCI Local Bus Spec 2.1 section 3.7.4.1), a bus of up to 32 devices x 8
// functions, and PciDevice, the base of every PCI function model.
//
// PciDevice keeps the 256-byte type-0 header, a write mask per byte (what
// software may change), and the BAR logic every function shares: size
// probing (write all ones, read back the size mask), and mapping the BAR
// into the port bus or the memory map when the command register enables
// decoding. Guests program BARs freely, so a BAR that would overlap another
// range simply stays unmapped (and is counted), as a real bus conflict
// leaves a device unreachable.
#pragma once

#include "hypervisor/base/types.h"
#include "hypervisor/io/device.h"
#include "hypervisor/io/io_bus.h"
#include "hypervisor/io/irq.h"
#include "hypervisor/io/memory_map.h"

#include <array>
#include <span>
#include <vector>

namespace vsa {

class PciBus;

struct PciId {
    u16 vendor;
    u16 device;
    u8 class_code;
    u8 subclass;
    u8 prog_if;
    u8 revision;
    u16 subsystem_vendor{0};
    u16 subsystem{0};
};

// Standard header offsets.
namespace pci {
constexpr u8 VENDOR_ID = 0x00;
constexpr u8 COMMAND = 0x04;
constexpr u8 STATUS = 0x06;
constexpr u8 REVISION = 0x08;
constexpr u8 HEADER_TYPE = 0x0E;
constexpr u8 BAR0 = 0x10;
constexpr u8 SUBSYSTEM_VENDOR = 0x2C;
constexpr u8 ROM_BAR = 0x30;
constexpr u8 INTERRUPT_LINE = 0x3C;
constexpr u8 INTERRUPT_PIN = 0x3D;
constexpr u16 COMMAND_IO = 1 << 0;
constexpr u16 COMMAND_MEMORY = 1 << 1;
constexpr u16 COMMAND_BUS_MASTER = 1 << 2;
constexpr u16 COMMAND_INTX_DISABLE = 1 << 10;
constexpr unsigned BAR_COUNT = 6;
} // namespace pci

class PciDevice : public Device {
public:
    explicit PciDevice(PciId const& id);

    // Config space access, offset within the function's 256 bytes; the bus
    // has already split accesses that cross a dword.
    virtual u32 config_read(u8 offset, Width width);
    virtual void config_write(u8 offset, Width width, u32 value);

    // Called by PciBus::attach.
    void attach_to(PciBus& bus, u8 device_number, u8 function);
    u8 device_number() const { return m_device_number; }
    u8 function() const { return m_function; }
    u16 command() const;

    void reset() override;
    // Saves config space; subclasses call it from their visit_state and
    // then post_load() remaps the BARs.
    void visit_pci_state(StateVisitor& v);
    void post_load() override;

protected:
    enum class BarKind { Io, Memory32, Rom };
    // Declares BAR `index` (0..5) of `size` bytes (a power of two; I/O at
    // least 4, memory at least 16). The range decodes to this device's
    // io_*/mmio_* handlers with offsets from the BAR base.
    void declare_bar(unsigned index, BarKind kind, u32 size);
    // Declares the expansion ROM BAR serving `image` (kept by the caller).
    void declare_rom(std::span<u8 const> image);
    // Records the current config space as the power-on state reset()
    // returns to; subclass constructors call it after setting registers.
    void snapshot_reset_state();
    // INTx pin 1..4 (A..D), 0 = none. The bus routes it.
    void set_interrupt_pin(u8 pin);
    // Drives this function's INTx line (honours COMMAND_INTX_DISABLE).
    void set_irq_level(bool high);

    // Bytes software may write (0 = read only). Defaults: command, latency
    // timer, interrupt line, BARs as declared.
    void set_write_mask(u8 offset, u8 mask) { m_write_mask[offset] = mask; }
    u8& config_byte(u8 offset) { return m_config[offset]; }
    u8 config_byte(u8 offset) const { return m_config[offset]; }
    u16 config_word(u8 offset) const;
    u32 config_dword(u8 offset) const;
    void set_config_word(u8 offset, u16 value);
    void set_config_dword(u8 offset, u32 value);

    // Hook for device-specific registers; called after the generic write.
    virtual void config_written(u8 offset, Width width) {
        (void)offset;
        (void)width;
    }

    PciBus* bus() const { return m_bus; }

private:
    struct Bar {
        BarKind kind{BarKind::Io};
        u32 size{0};
        bool mapped{false};
        u32 mapped_base{0};
    };
    void update_mappings();
    void unmap_bar(unsigned index);
    u32 bar_address(unsigned index) const;

    std::array<u8, 256> m_config{};
    std::array<u8, 256> m_write_mask{};
    std::array<u8, 256> m_reset_config{};
    Bar m_bars[pci::BAR_COUNT + 1]; // [6] is the ROM BAR
    std::span<u8 const> m_rom;
    PciBus* m_bus{nullptr};
    u8 m_device_number{0};
    u8 m_function{0};
    bool m_irq_level{false};
    bool m_intx_reported{false};
};

// The PCI bus and configuration mechanism #1, as one port device mapped at
// 0xCF8..0xCFF.
class PciBus final : public Device {
public:
    PciBus(IoBus& io, MemoryMap& memory);

    // Places a function at device:function (device < 32, function < 8).
    bool attach(u8 device_number, u8 function, PciDevice& device);
    PciDevice* function_at(u8 device_number, u8 function) const;

    // INTx routing: given (device, pin 1..4) the machine says which of the
    // four PIRQ lines it drives (the standard swizzle is the default), and
    // the PIIX3 routes PIRQs to ISA IRQs through set_pirq_sink().
    void set_pirq_sink(std::function<void(unsigned pirq, bool level)> sink) { m_pirq_sink = std::move(sink); }
    void intx_changed(PciDevice& device, u8 pin, bool level);

    // The PIIX3 decodes a byte at 0xCF9 (reset control) inside our
    // 0xCF8..0xCFF range: byte cycles there go to `device`, with the
    // absolute port number as offset.
    void set_reset_control(Device* device) { m_reset_control = device; }

    IoBus& io() { return m_io; }
    MemoryMap& memory() { return m_memory; }

    u32 config_read(u8 device_number, u8 function, u8 offset, Width width);
    void config_write(u8 device_number, u8 function, u8 offset, Width width, u32 value);

    std::string_view name() const override { return "pci-bus"; }
    void reset() override { m_address = 0; }
    u32 io_read(u16 offset, Width width) override;
    void io_write(u16 offset, Width width, u32 value) override;
    void visit_state(StateVisitor& v) override;

    static constexpr Port CONFIG_ADDRESS = 0xCF8;

private:
    IoBus& m_io;
    MemoryMap& m_memory;
    std::array<PciDevice*, 32 * 8> m_functions{};
    u32 m_address{0};
    Device* m_reset_control{nullptr};
    // Level of each PIRQ input, counted per asserting function (wired-OR).
    std::array<u8, 4> m_pirq_count{};
    std::function<void(unsigned, bool)> m_pirq_sink;
};

} // namespace vsa
