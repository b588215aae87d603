// SPDX-License-Identifier: GPL-2.0-or-later
// Pvscsi: the VMware paravirtual SCSI host bus adapter, PCI 15ad:07c0
// (class 01/00, SCSI storage controller). Virtual Server 2005 emulated an
// Adaptec AIC-7870, which neither SeaBIOS nor today's Linux guests drive
// well; PVSCSI is what both know (SeaBIOS's pvscsi boot driver, Linux's
// vmw_pvscsi). Its interface is a handful of registers plus request and
// completion rings in guest memory. The behaviour was learnt from the
// public guest drivers (SeaBIOS src/hw/pvscsi.c, Linux
// drivers/scsi/vmw_pvscsi.{c,h}) and QEMU's model; no code is taken.
//
// Registers: BAR0, 32 KiB of memory space (8 pages, where the drivers look
// for them), dword accesses (anything else is dropped and counted):
//   0x0000 COMMAND        write: starts a command; its descriptor follows
//                         as dwords in COMMAND_DATA
//   0x0004 COMMAND_DATA   the next dword of the descriptor; the command
//                         runs when the last one arrives
//   0x0008 COMMAND_STATUS 0 = done, 0xFFFFFFFF = unsupported or refused
//                         (Linux probes SETUP_MSG_RING and
//                         SETUP_REQCALLTHRESHOLD this way: both read -1)
//   0x100C INTR_STATUS    bit 0-1 completion, 2-3 message; write 1 to clear
//   0x2010 INTR_MASK      which status bits drive INTA
//   0x3014 KICK_NON_RW_IO, 0x4018 KICK_RW_IO: any write processes the
//                         request ring
// Commands: ADAPTER_RESET, SETUP_RINGS (1..32 pages each, a power of two),
// RESET_BUS / RESET_DEVICE / ABORT_CMD (no-ops: every request completes
// within its kick, nothing is ever outstanding). CONFIG, SETUP_MSG_RING,
// DEVICE_UNPLUG, SETUP_REQCALLTHRESHOLD: unsupported (status -1; Linux
// then assumes 16 targets and runs without hot-plug messages).
//
// The rings state page (guest-owned reqProdIdx and cmpConsIdx, device-owned
// reqConsIdx and cmpProdIdx, both ring sizes as log2), 128-byte request
// descriptors (context, data address/length or a scatter-gather list,
// sense buffer, flags, a CDB, LUN, bus, target) and 32-byte completion
// descriptors (context, bytes moved, sense bytes, host status, SCSI
// status). A kick handles every request the guest produced, bounded by the
// ring size, as long as the completion ring has room; each completion sets
// INTR_STATUS CMPL_0 (polled by SeaBIOS, which leaves the mask at zero)
// and INTA follows (status & mask). MSI/MSI-X are not offered (no
// capability list): Linux falls back to INTx.
//
// Targets 0..MAX_TARGETS-1 on bus 0; an absent target (or the adapter's
// own ID) completes with host status SELTIMEO, as a selection timeout.
// Guest memory only through MemoryMap::read_bytes/write_bytes: a request
// whose descriptor, scatter-gather list, data or sense buffer lies outside
// RAM completes with an error host status (INVPARAM for a bad list or
// length, HAHARDWARE for a failed transfer); a ring page outside RAM stops
// the kick. Without PCI bus mastering a kick does nothing.
//
// Not modelled: the I/O-space window VMware also offers, message ring
// (hot-plug events), out-of-band CDBs (longer than 16 bytes: INVPARAM),
// interrupt coalescing thresholds, LUNs other than 0 (the target reports
// them absent).
#pragma once

#include "hw/scsi_disk.h"
#include "hypervisor/io/memory_map.h"
#include "hypervisor/io/pci.h"

#include <array>
#include <vector>

namespace vsa {

class Pvscsi final : public PciDevice {
public:
    static constexpr u32 MEM_BYTES = 32 * KiB;
    static constexpr unsigned MAX_TARGETS = 16;
    static constexpr unsigned MAX_RING_PAGES = 32;
    static constexpr u32 PAGE = 4096;
    static constexpr u32 REQ_DESC_BYTES = 128;
    static constexpr u32 CMP_DESC_BYTES = 32;
    static constexpr u32 SG_ELEMENT_BYTES = 16;
    // Scatter-gather elements one request may use, chains included.
    static constexpr unsigned MAX_SG_ELEMENTS = 4096;

    // Register offsets.
    static constexpr u32 REG_COMMAND = 0x0;
    static constexpr u32 REG_COMMAND_DATA = 0x4;
    static constexpr u32 REG_COMMAND_STATUS = 0x8;
    static constexpr u32 REG_INTR_STATUS = 0x100C;
    static constexpr u32 REG_INTR_MASK = 0x2010;
    static constexpr u32 REG_KICK_NON_RW_IO = 0x3014;
    static constexpr u32 REG_KICK_RW_IO = 0x4018;
    // Commands.
    static constexpr u32 CMD_ADAPTER_RESET = 1;
    static constexpr u32 CMD_ISSUE_SCSI = 2;
    static constexpr u32 CMD_SETUP_RINGS = 3;
    static constexpr u32 CMD_RESET_BUS = 4;
    static constexpr u32 CMD_RESET_DEVICE = 5;
    static constexpr u32 CMD_ABORT_CMD = 6;
    static constexpr u32 CMD_CONFIG = 7;
    static constexpr u32 CMD_SETUP_MSG_RING = 8;
    static constexpr u32 CMD_DEVICE_UNPLUG = 9;
    static constexpr u32 CMD_SETUP_REQCALLTHRESHOLD = 10;
    static constexpr u32 STATUS_FAILED = 0xFFFF'FFFF;
    // Descriptor words of SETUP_RINGS: two counts, the state PPN, 2 x 32 PPNs.
    static constexpr unsigned SETUP_RINGS_DWORDS = (4 + 4 + 8 + 2 * 8 * MAX_RING_PAGES) / 4;
    // INTR_STATUS bits.
    static constexpr u32 INTR_CMPL_0 = 1u << 0;
    static constexpr u32 INTR_CMPL_MASK = 3;
    static constexpr u32 INTR_ALL = 0xF;
    // Request flags.
    static constexpr u32 FLAG_SG_LIST = 1u << 0;
    static constexpr u32 FLAG_OUT_OF_BAND_CDB = 1u << 1;
    static constexpr u32 FLAG_DIR_NONE = 1u << 2;
    static constexpr u32 FLAG_DIR_TOHOST = 1u << 3;
    static constexpr u32 FLAG_DIR_TODEVICE = 1u << 4;
    static constexpr u32 SGE_FLAG_CHAIN = 1u << 0;
    // Host (adapter) status.
    static constexpr u16 BTSTAT_SUCCESS = 0x00;
    static constexpr u16 BTSTAT_SELTIMEO = 0x11;
    static constexpr u16 BTSTAT_DATARUN = 0x12;
    static constexpr u16 BTSTAT_INVPARAM = 0x1A;
    static constexpr u16 BTSTAT_HAHARDWARE = 0x20;

    // `own_id`: the adapter's SCSI ID (Virtual Server's default is 7); a
    // disk may not sit there.
    Pvscsi(MemoryMap& memory, u8 own_id = 7);

    // Puts `disk` (kept by the caller; null removes) at `target`. False for
    // a target out of range or the adapter's own ID.
    bool attach(unsigned target, ScsiDisk* disk);
    ScsiDisk* disk(unsigned target) const { return target < MAX_TARGETS ? m_disks[target] : nullptr; }
    u8 own_id() const { return m_own_id; }

    std::string_view name() const override { return "pvscsi"; }
    void reset() override;
    void visit_state(StateVisitor& v) override;
    void post_load() override;
    u32 mmio_read(u64 offset, Width width) override;
    void mmio_write(u64 offset, Width width, u32 value) override;

    // Requests completed since power-on, and those that failed in the
    // adapter (bad descriptors, addresses): statistics for tests.
    u64 requests() const { return m_requests; }
    u64 adapter_errors() const { return m_adapter_errors; }
    bool rings_ready() const { return m_rings_ready; }

private:
    struct Request;
    void adapter_reset();
    static u32 descriptor_dwords(u32 command);
    void start_command(u32 command);
    void command_data(u32 value);
    void run_command();
    void setup_rings();
    void process_rings();
    bool handle_request(PhysAddr desc_addr, u32 cmp_index);
    void update_irq();
    PhysAddr req_addr(u32 index) const;
    PhysAddr cmp_addr(u32 index) const;
    bool read_state(u32 offset, u32& value) const;
    bool write_state(u32 offset, u32 value);

    MemoryMap& m_memory;
    u8 m_own_id;
    std::array<ScsiDisk*, MAX_TARGETS> m_disks{};

    // Command interface.
    u32 m_command{0};
    u32 m_command_status{0};
    bool m_collecting{false}; // descriptor dwords are still awaited
    std::vector<u32> m_command_data;
    // Interrupts.
    u32 m_intr_status{0};
    u32 m_intr_mask{0};
    // Rings (from SETUP_RINGS).
    bool m_rings_ready{false};
    u64 m_state_ppn{0};
    u32 m_req_pages{0};
    u32 m_cmp_pages{0};
    std::array<u64, MAX_RING_PAGES> m_req_ppn{};
    std::array<u64, MAX_RING_PAGES> m_cmp_ppn{};
    u32 m_req_cons{0};
    u32 m_cmp_prod{0};

    u64 m_requests{0};
    u64 m_adapter_errors{0};
};

} // namespace vsa
