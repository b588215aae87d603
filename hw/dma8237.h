// SPDX-License-Identifier: GPL-2.0-or-later
// Dma8237: the ISA DMA controllers of a PC/AT, two Intel 8237A (8237A
// datasheet; the PC/AT wiring as in the PIIX3 datasheet, 290550, section
// 2.6 "DMA registers" and 4.6 "DMA controller"):
//
//   master  channels 0-3, 8-bit transfers   ports 00h-0Fh
//   slave   channels 4-7, 16-bit transfers  ports C0h-DFh (A0 ignored)
//   page registers (A23-A16 of each channel) 81h-83h, 87h, 89h-8Bh, 8Fh
//
// Port 80h is also decoded by the page register file on a real board, but
// here it belongs to the POST latch (hw/post_port.h), and the unused page
// latches (84h-86h, 88h, 8Ch-8Eh) stay unmapped: nothing reads them back.
//
// Per channel: base and current address and count (16 bits, loaded low
// byte then high byte through the controller's byte-pointer flip-flop),
// the mode register (verify / write / read transfer, auto-initialisation,
// address decrement, demand / single / block / cascade mode), a mask bit,
// a software request bit and the terminal-count and request bits of the
// status register. A terminal count without auto-init sets the channel's
// mask bit (8237A datasheet, "Mask register"); with auto-init the base
// registers are copied back to the current ones.
//
// Device side: a DMA-capable ISA device (the floppy controller) attaches a
// DmaClient to its channel and raises DREQ with set_dreq(). Whenever the
// channel is requested, unmasked and its controller enabled, the
// controller calls the client's dma_service(), inside which the client
// moves bytes with write_memory() (device to memory, a "write transfer")
// or read_memory() (memory to device, a "read transfer") until it is done
// or a call reports terminal count (the channel's count ran out). Single, demand and
// block modes all transfer as much as the client offers per service call:
// a bus cycle costs nothing here, so the modes only differ in when the
// real chip would let the CPU back on the bus, which no guest can observe.
//
// Guest memory is reached through the MemoryMap. An address outside RAM
// (past the end of memory, the VGA window, ROM) is not an error a guest
// can see on a real ISA bus: the bytes are dropped (reads give all ones)
// and counted as ignored accesses. Writes to RAM need no invalidation:
// the CPU interpreter's decoded-instruction cache compares an entry's
// bytes with guest memory on every hit (hypervisor/cpu/interpreter.h), so
// code a DMA transfer loads or overwrites is always seen.
//
// Deliberately left out: memory-to-memory transfers (channel 0/1 command
// bit 0, never used on a PC, whose channel 0 was DRAM refresh), the
// cascade wiring (channels 0-3 run whether or not channel 4 is programmed
// to cascade mode and unmasked, as SeaBIOS does at POST), DREQ/DACK
// polarity and priority bits (accepted and read back, no effect), the EISA
// high page registers (4xxh) and the PIIX's scatter-gather extensions.
#pragma once

#include "hypervisor/io/device.h"
#include "hypervisor/io/memory_map.h"

#include <array>
#include <span>

namespace vsa {

class Dma8237;

// A device wired to a DMA channel's DREQ/DACK pair.
class DmaClient {
public:
    virtual ~DmaClient() = default;
    // The channel is granted (requested, unmasked, controller enabled):
    // move bytes with Dma8237::write_memory / read_memory. Runs on the VM
    // thread, inside the port write (or set_dreq) that granted it.
    virtual void dma_service(Dma8237& dma, unsigned channel) = 0;
};

class Dma8237 final : public Device {
public:
    static constexpr unsigned CHANNELS = 8;
    // Mode register bits 3-2: the transfer type.
    enum class Transfer : u8 { Verify = 0, Write = 1, Read = 2, Illegal = 3 };
    // Mode register bits 7-6.
    enum class Mode : u8 { Demand = 0, Single = 1, Block = 2, Cascade = 3 };

    explicit Dma8237(MemoryMap& memory) : m_memory(memory) { reset(); }

    std::string_view name() const override { return "dma8237"; }
    void reset() override;
    // The device sees absolute port numbers (map with offset_base = base).
    u32 io_read(u16 port, Width width) override;
    void io_write(u16 port, Width width, u32 value) override;
    void visit_state(StateVisitor& visitor) override;
    void post_load() override;

    // Maps every port of both controllers and the page registers 81h-83h,
    // 87h, 89h-8Bh and 8Fh. False if one of them is taken.
    bool map_ports(class IoBus& io);

    // ---- device side ----
    void attach(unsigned channel, DmaClient* client);
    // The client's DREQ line. Raising it on a granted channel services the
    // channel at once; the client keeps it raised until it has no more to
    // move (or sees terminal_count()).
    void set_dreq(unsigned channel, bool level);
    struct Moved {
        std::size_t bytes{0};
        // The last byte moved was the one at terminal count (TC pulsed):
        // the channel is now masked, or reloaded if it auto-initialises.
        bool terminal_count{false};
    };
    // Inside dma_service(): moves up to data.size() bytes from the device
    // to guest memory, stopping at terminal count. In a verify or
    // read-mode channel the bytes are counted but not stored (the real
    // chip would not assert MEMW). For a 16-bit channel a transfer is a
    // word: an odd trailing byte is not taken. A channel that is not
    // granted takes nothing (counted as ignored).
    Moved write_memory(unsigned channel, std::span<u8 const> data);
    // Inside dma_service(): moves up to out.size() bytes from guest memory
    // to the device. A verify or write-mode channel gives all ones
    // (nothing drives the data bus).
    Moved read_memory(unsigned channel, std::span<u8> out);
    // Status register bit: the channel reached terminal count since the
    // guest last read the status (for tests and debugging).
    bool tc_status(unsigned channel) const { return (m_ctl[channel >> 2 & 1].status >> (channel & 3)) & 1; }
    // Bytes left before terminal count (words times two for channels 4-7).
    u32 remaining(unsigned channel) const;
    Transfer transfer_type(unsigned channel) const {
        return static_cast<Transfer>((m_ch[channel & 7].mode >> 2) & 3);
    }
    bool masked(unsigned channel) const { return (m_ctl[channel >> 2 & 1].mask >> (channel & 3)) & 1; }
    // The 24-bit byte address the next transfer of the channel uses.
    PhysAddr current_address(unsigned channel) const;

private:
    struct Channel {
        u16 base_address{0};
        u16 base_count{0};
        u16 address{0};
        u16 count{0};
        u8 mode{0};
        u8 page{0};
        bool dreq{false};
    };
    struct Controller {
        u8 command{0};
        u8 status{0};  // bits 0-3 TC reached (cleared on read); 4-7 requests
        u8 request{0}; // software requests, bits 0-3
        u8 mask{0x0F};
        u8 temporary{0};
        bool flip_flop{false};
    };

    void write_controller(unsigned c, unsigned reg, u8 value);
    u8 read_controller(unsigned c, unsigned reg);
    // Advances one transfer unit (byte or word) on channel `ch`; true if
    // that unit was the last before terminal count.
    bool step(unsigned ch);
    // Services every granted channel (reentrancy-safe).
    void run();
    bool granted(unsigned ch) const;
    template <typename Move>
    Moved transfer(unsigned channel, std::size_t bytes, Move move);

    MemoryMap& m_memory;
    std::array<Channel, CHANNELS> m_ch{};
    std::array<Controller, 2> m_ctl{};
    std::array<DmaClient*, CHANNELS> m_clients{};
    bool m_running{false};
    bool m_run_again{false};
};

} // namespace vsa
