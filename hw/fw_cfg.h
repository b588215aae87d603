// SPDX-License-Identifier: GPL-2.0-or-later
// FwCfg: QEMU's firmware configuration device ("fw_cfg"), the channel
// through which SeaBIOS (src/fw/paravirt.c) learns the machine: RAM size
// and e820 map, CPU counts, boot order, boot menu, and named files.
// Reference: QEMU docs/specs/fw_cfg.rst (guest-side interface); behaviour
// checked against SeaBIOS's reader. No QEMU code is used.
//
// Ports (x86 layout):
//   0x510  selector, 16-bit write; selecting resets the data offset
//   0x511  data, 8-bit read, sequential; past the end (or an unknown
//          selector) reads 0. Byte reads at 0x510 read data too (QEMU).
//   0x514  DMA address, big-endian 64 bits as two 32-bit writes: the high
//          half at 0x514, the low half at 0x518, which starts the transfer.
//          Reads return the DMA signature "QEMU CFG".
//
// DMA: the guest points at a 16-byte FWCfgDmaAccess {be32 control, be32
// length, be64 address}. Control bits: SELECT (selector in bits 16-31),
// then READ, WRITE or SKIP of `length` bytes at the current offset. Every
// guest-memory access goes through MemoryMap::read_bytes/write_bytes, so
// a transfer touching anything but RAM fails: control then holds ERROR
// (bit 0); on success it is cleared. Reads past the item's end give zeros
// (as QEMU). An access structure that is itself not in RAM cannot be
// answered: the request is dropped and counted.
//
// Deliberately left out: writable items (every item is read-only: DMA
// WRITE sets ERROR, data-port writes are ignored, as QEMU >= 2.4 does for
// read-only items), the MMIO variant used on ARM, and the legacy
// kernel/initrd items (direct Linux boot). Item contents are machine
// configuration, not guest state: visit_state saves only the selector,
// the offset and the DMA address; the machine rebuilds the items the same
// way before loading.
#pragma once

#include "hypervisor/base/result.h"
#include "hypervisor/base/types.h"
#include "hypervisor/io/device.h"
#include "hypervisor/io/io_bus.h"
#include "hypervisor/io/memory_map.h"

#include <array>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace vsa {

class FwCfg final : public Device {
public:
    static constexpr Port SELECTOR_PORT = 0x510;
    static constexpr Port DATA_PORT = 0x511;
    static constexpr Port DMA_PORT = 0x514; // high half; low half at 0x518

    // Numbered items (QEMU's FW_CFG_*).
    static constexpr u16 SIGNATURE = 0x0000;
    static constexpr u16 ID = 0x0001;
    static constexpr u16 UUID = 0x0002;
    static constexpr u16 RAM_SIZE = 0x0003;
    static constexpr u16 NOGRAPHIC = 0x0004;
    static constexpr u16 NB_CPUS = 0x0005;
    static constexpr u16 BOOT_MENU = 0x000E;
    static constexpr u16 MAX_CPUS = 0x000F;
    static constexpr u16 FILE_DIR = 0x0019;
    static constexpr u16 FILE_FIRST = 0x0020;
    // Bit 14 of a selector asks for write access (ignored: read-only items).
    static constexpr u16 WRITE_CHANNEL = 0x4000;

    // ID feature bits.
    static constexpr u32 FEATURE_TRADITIONAL = 1u << 0;
    static constexpr u32 FEATURE_DMA = 1u << 1;

    // DMA control bits.
    static constexpr u32 DMA_ERROR = 0x01;
    static constexpr u32 DMA_READ = 0x02;
    static constexpr u32 DMA_SKIP = 0x04;
    static constexpr u32 DMA_SELECT = 0x08;
    static constexpr u32 DMA_WRITE = 0x10;

    static constexpr std::size_t MAX_FILE_NAME = 55; // plus NUL in the 56-byte field
    static constexpr std::size_t MAX_FILES = 0x1000;

    // Maps its ports at once and unmaps them when destroyed (destroy it
    // before `io`). Starts with the signature, the ID (traditional + DMA)
    // and an empty file directory.
    FwCfg(MemoryMap& memory, IoBus& io);
    ~FwCfg() override;
    FwCfg(FwCfg const&) = delete;
    FwCfg& operator=(FwCfg const&) = delete;

    // Adds (or replaces, keeping its selector) a named file; returns its
    // selector. Fails on an empty or too long name, or too many files.
    Result<u16, std::string> add_file(std::string name, std::vector<u8> data);
    // Sets a numbered item (any key outside the file range; bit 14 is
    // ignored). Setting FILE_DIR or a file's selector is refused.
    bool set_item(u16 key, std::vector<u8> data);
    // Convenience setters for the standard numbered items (little-endian
    // as QEMU writes them).
    void set_ram_size(u64 bytes) { set_item(RAM_SIZE, le64(bytes)); }
    void set_cpus(u16 boot_cpus, u16 max_cpus);
    void set_nographic(bool nographic) { set_item(NOGRAPHIC, le16(nographic ? 1 : 0)); }
    void set_boot_menu(bool enabled) { set_item(BOOT_MENU, le16(enabled ? 1 : 0)); }
    void set_uuid(std::array<u8, 16> const& uuid) {
        set_item(UUID, std::vector<u8>(uuid.begin(), uuid.end()));
    }

    // Builders for the standard files (the machine decides the contents).
    enum class E820Type : u32 { Ram = 1, Reserved = 2, Acpi = 3, Nvs = 4, Unusable = 5 };
    struct E820Entry {
        u64 address;
        u64 length;
        E820Type type;
    };
    // "etc/e820": packed 20-byte little-endian entries.
    static std::vector<u8> e820_file(std::span<E820Entry const> entries);
    // "bootorder": one OpenFirmware device path per line, '\n'-separated,
    // NUL-terminated (as QEMU builds it; SeaBIOS splits on '\n').
    static std::vector<u8> bootorder_file(std::span<std::string const> device_paths);
    static std::vector<u8> le16(u16 value);
    static std::vector<u8> le32(u32 value);
    static std::vector<u8> le64(u64 value);

    std::string_view name() const override { return "fw_cfg"; }
    void reset() override;
    u32 io_read(u16 port, Width width) override;
    void io_write(u16 port, Width width, u32 value) override;
    void visit_state(StateVisitor& v) override;

    // For tests and logs.
    u16 selector() const { return m_selector; }
    u32 offset() const { return m_offset; }
    std::vector<u8> const* item(u16 key) const;

private:
    void select(u16 key);
    u8 read_data();
    void run_dma(u64 access_address);
    // Performs one DMA request; false = the ERROR bit.
    bool dma_transfer(u32 control, u32 length, u64 address);
    void rebuild_directory();

    struct File {
        std::string name;
        u16 key;
    };

    MemoryMap& m_memory;
    IoBus& m_io;
    bool m_ports_mapped[2]{};
    std::map<u16, std::vector<u8>> m_items;
    std::vector<File> m_files;
    u16 m_selector{0};
    u32 m_offset{0};
    u32 m_dma_high{0};
};

} // namespace vsa
