// SPDX-License-Identifier: GPL-2.0-or-later
// PcMachine: one PC, assembled. The only file that knows the concrete
// devices (STYLE.md): it builds the memory map, the buses and the chipset,
// wires IRQ lines and callbacks, fills CMOS and fw_cfg for the BIOS, and
// runs the CPU on the virtual clock.
//
// The machine, like Virtual Server's, is an i440FX/PIIX3 PC (the file
// header of hw/i440fx.h says why not the 440BX):
//
//   00.0 i440FX host bridge (PAM shadowing)     ISA: 8259 pair, 8254 + port 61,
//   01.0 PIIX3 ISA bridge (PIRQ, ELCR, CF9)          MC146818 RTC/CMOS, 8042 + PS/2
//   01.1 PIIX3 IDE (ATA disks, ATAPI CD/DVD)         keyboard and mouse, COM1/COM2 16550A,
//   01.3 PIIX4 power management (ACPI, SCI=IRQ 9)    ports 80, 92, 402, 8900, fw_cfg,
//                                                    8237 DMA pair, 82077AA floppy (IRQ 6)
//   02.0 VGA 1234:1111 with Bochs VBE, ROM BAR
//   03.0 .. 06.0 DEC 21140A Ethernet 1011:0009, one per configured NIC
//        (INTA; the swizzle puts slots 3, 4, 5, 6 on PIRQ D, A, B, C)
//   07.0 .. 0A.0 VMware PVSCSI 15ad:07c0, one per configured SCSI
//        controller (hw/pvscsi.h says why not Virtual Server's Adaptec)
//
// Threading: everything here runs on the thread that calls run(), the VM
// thread. Other threads talk to it only through post(), request_stop() and
// request_save(), which wake it from a halt (an eventfd) and stop the CPU
// slice.
//
// Saved state (.vsv, hypervisor/machine/machine_state.h): save_state()
// flushes the disks and writes the clock, the CPU, every device (the
// chipset, VGA registers and VRAM, IDE transfers in flight, FIFOs) and
// guest RAM; restore_state() puts a machine built with the same
// configuration into that state. Virtual Server's semantics: a saved state
// goes with disks left as they were at the save.
#pragma once

#include "hw/char_backend.h"
#include "hw/net_backend.h"
#include "hw/smbios_tables.h"
#include "hypervisor/base/file_descriptor.h"
#include "hypervisor/base/result.h"
#include "hypervisor/base/types.h"
#include "hypervisor/io/clock.h"

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vsa {

class Vga;
class Ps2Keyboard;
class Ps2Mouse;

struct PcMachineConfig {
    u64 ram_bytes{64 * MiB};
    // With a SCSI controller, the default becomes SCSI_BIOS_PATH: the
    // 128 KiB build has no PVSCSI driver.
    std::string bios_path{"/usr/share/seabios/bios.bin"};
    static constexpr char const* SCSI_BIOS_PATH = "/usr/share/seabios/bios-256k.bin";
    // Empty: no VGA option ROM (the VGA still decodes; BIOS text output
    // then goes nowhere, but serial and debugcon work).
    std::string vgabios_path{"/usr/share/seabios/vgabios-stdvga.bin"};
    // Up to four ATA disks: primary master, primary slave, secondary
    // master, secondary slave. Empty strings leave a slot free.
    std::vector<std::string> disks;
    bool disks_read_only{false};
    // ATAPI CD/DVD-ROM drives: an IDE slot (numbered as for `disks`; it
    // must not hold a disk) and the ISO image in the drive ("" = empty).
    // The media can change at run time (insert_media / eject_media).
    struct Cdrom {
        unsigned slot{0};
        std::string path;
    };
    std::vector<Cdrom> cdroms;
    // Floppy drives A: and B: on the 82077AA controller (at most two):
    // each entry is a drive; an empty path is a drive without a disk. The
    // image's size gives the media type and the drive type in CMOS 10h.
    // The disk can change at run time (insert_floppy / eject_floppy).
    struct Floppy {
        std::string path;
        bool read_only{false}; // write-protected (also if the file is read-only)
    };
    std::vector<Floppy> floppies;
    // The order SeaBIOS tries the kinds of drive in (each kind once; the
    // kinds left out follow in the default order: disks, CD drives,
    // floppy drives). Through fw_cfg "bootorder" (every drive, in that
    // order) and CMOS 3Dh (the first two kinds).
    enum class BootDevice : u8 { Disk, Cdrom, Floppy };
    std::vector<BootDevice> boot_order{BootDevice::Disk, BootDevice::Cdrom, BootDevice::Floppy};
    // `first`, then the others in the default order.
    static std::vector<BootDevice> boot_first(BootDevice first);
    // Num Lock on when the operating system starts: the BIOS keyboard flag
    // (BDA 417h bit 5) that DOS and Linux read at boot, set by a tiny
    // option ROM SeaBIOS runs at POST (its own keyboard code leaves Num
    // Lock off and has no setting for it).
    bool num_lock{false};
    // Extra firmware files for the BIOS through fw_cfg, as (name, host
    // path): "genroms/NAME" option ROMs SeaBIOS runs at POST, "vgaroms/NAME"
    // for a VGA BIOS not on a PCI ROM BAR, or any other fw_cfg file.
    std::vector<std::pair<std::string, std::string>> fw_cfg_files;
    // The SMBIOS identity (system UUID, serial numbers, asset tag) through
    // the fw_cfg files hw/smbios_tables.h builds; none = SeaBIOS's own
    // default tables.
    std::optional<SmbiosIdentity> smbios;
    Clock::Mode clock_mode{Clock::Mode::RealTime};
    // Deterministic mode: virtual nanoseconds per retired instruction.
    u32 ns_per_instruction{10};
    // While the guest idles (halted 90 % of the time), its timer ticks may
    // come this much late so that they share host wakeups; 0 = always on
    // time. See idle_coalescer.h. RealTime mode only.
    u64 idle_timer_slack_ns{32'000'000};
    // Seconds since the Unix epoch the RTC starts at (0 = host time now).
    i64 rtc_start{0};
    // Host side of COM1/COM2 and the debug console (null = unconnected).
    // Input a backend gets on another thread reaches the guest after a
    // post() (any posted work makes the VM thread poll the UARTs).
    CharBackend* com1{nullptr};
    CharBackend* com2{nullptr};
    // The guest agent's port: a third 16550A at 0x3E8 (the legacy COM3
    // address, Linux's ttyS2) sharing IRQ 4 with COM1 (a wired OR, which
    // Linux's 8250 driver handles with its IRQ chain). vsad's guest agent
    // client (qemu-guest-agent's protocol) talks through it; the user's
    // COM1/COM2 settings never touch it. Null: no such port at all (the
    // saved state then has no section for it).
    CharBackend* agent{nullptr};
    CharBackend* debugcon{nullptr};
    // The printer on LPT1 (0x378, IRQ 7); null = no parallel port at all
    // (the BIOS then finds none). Output only.
    CharBackend* lpt1{nullptr};
    // Ethernet adapters (at most MAX_NICS), DEC 21140A in PCI slots 3, 4,
    // ... in this order. The backend gets the frames the guest sends (on
    // the VM thread); frames for the guest go in through
    // PcMachine::receive_frame.
    struct Nic {
        MacAddress mac{};
        NetBackend* backend{nullptr}; // null: a cable to nowhere
    };
    static constexpr std::size_t MAX_NICS = 4;
    std::vector<Nic> nics;
    // SCSI controllers 0..MAX_SCSI_CONTROLLERS-1: controller C, when
    // present, is a PVSCSI function in PCI slot 7 + C (a removed controller
    // leaves its slot empty, so the others keep their boot paths). Each has
    // its own SCSI ID (no disk there) and disks at targets 0..6 (an empty
    // path leaves a target free). The disks share disks_read_only; SeaBIOS
    // boots them after the IDE disks (see bios_path).
    struct ScsiController {
        bool present{true};
        u8 scsi_id{7};
        struct Disk {
            unsigned target{0};
            std::string path;
        };
        std::vector<Disk> disks;
    };
    static constexpr std::size_t MAX_SCSI_CONTROLLERS = 4;
    static constexpr unsigned SCSI_TARGETS = 7; // IDs 0..6 on a narrow bus
    std::vector<ScsiController> scsi;
    // One line per executed instruction (slow), or null.
    std::FILE* trace{nullptr};
};

// Counters since the machine was created (vsa-vm --stats): what an idle
// or a busy guest costs, in the units the host pays in.
struct MachineRunStats {
    u64 instructions{0}; // retired
    u64 decodes{0};      // instructions decoded (decoded-instruction cache misses)
    u64 tlb_flushes{0};  // full software-TLB flushes (CR3 loads, INVLPG on a large page ...)
    u64 page_walks{0};   // page-table walks (software-TLB misses)
    u64 halts{0};        // HLTs with nothing to do
    u64 sleeps{0};       // of which the VM thread slept on the host
};

enum class MachineExit {
    PoweredOff,  // the guest asked for power off (APM port, ACPI S5)
    TripleFault, // the CPU shut down
    Stopped,     // request_stop() (a signal, a timeout, the controller)
    // request_save(): the machine stopped between slices, with the timers
    // that were due fired. The caller save_state()s and then either stops
    // (save and turn off, as Virtual Server's "Save State") or run()s on.
    SaveRequested,
};

class PcMachine {
public:
    static Result<std::unique_ptr<PcMachine>, std::string> create(PcMachineConfig const& config);
    ~PcMachine();
    PcMachine(PcMachine const&) = delete;
    PcMachine& operator=(PcMachine const&) = delete;

    // Runs the guest until it powers off, triple-faults, is stopped or a
    // save is requested.
    MachineExit run();

    // Thread-safe. The function runs on the VM thread between CPU slices.
    void post(std::function<void()> work);
    // Thread-safe and async-signal-safe: makes run() return Stopped.
    void request_stop();
    // Thread-safe and async-signal-safe: makes run() return SaveRequested.
    void request_save();

    // VM thread only, between slices: while run() is not running, or from
    // a post()ed function. The disks are flushed first, so the file and the
    // disks as they are now belong together. The output the guest left in
    // the UART FIFOs belongs to the saved state: if the machine is then
    // destroyed without running again, it is not flushed to the host (the
    // restored machine sends it).
    Result<void, std::string> save_state(std::string const& path);
    // Replaces this machine's state with the file's. The file is read and
    // checked whole first (config match, checksum, every bound), and the
    // device walk is undone if any device refuses its part: on any error
    // the machine is as it was. Allocates the file (refused unread if
    // larger than the configured RAM plus the device state can make it)
    // and a few copies of the device stream (mostly VRAM).
    Result<void, std::string> restore_state(std::string const& path);
    // Thread-safe: change the media of the CD drive in IDE slot `slot`, on
    // the VM thread between slices (posted work: it happens once run() is
    // running or next runs). `done`, if given, runs there with the
    // outcome. insert_media opens `path` as an ISO image and replaces what
    // the drive holds; the guest sees a media change (UNIT ATTENTION, a
    // "new media" event). eject_media leaves the drive empty. Both are
    // refused while the guest has locked the tray with media in it (the
    // guest is told of the request and may eject itself); eject_media
    // with `force` breaks the lock. A saved state
    // records the drive's media: the restoring machine must be configured
    // with that image in that drive (or an empty drive).
    using MediaDone = std::function<void(Result<void, std::string>)>;
    void insert_media(unsigned slot, std::string path, MediaDone done = {});
    void eject_media(unsigned slot, bool force = false, MediaDone done = {});
    // Thread-safe, posted like insert_media: the floppy disk in drive
    // `drive` (0 = A:, 1 = B:). insert_floppy opens `path` as a raw floppy
    // image (one of the PC floppy sizes) and replaces the disk; a file the
    // host may not write (or another VM has open) goes in write-protected,
    // as does any with `read_only`. (A configured floppy does not: there a
    // file that cannot be written is an error, as for a disk.) The guest sees the disk-change line. A floppy
    // drive has no lock: both always succeed for a configured drive. A saved state records the disks as the
    // CD drive's media.
    void insert_floppy(unsigned drive, std::string path, bool read_only = false, MediaDone done = {});
    void eject_floppy(unsigned drive, MediaDone done = {});
    // Thread-safe: a press of the ACPI power button (PM1 PWRBTN_STS and an
    // SCI, between CPU slices). An ACPI OS with a button driver shuts down
    // and powers off through S5; otherwise the press is only latched.
    void press_power_button();

    // VM thread only, while run() is not running: runs the post()ed work
    // now. A paused worker uses it so a media change completes without the
    // guest running.
    void run_posted_work();

    // VM thread only (between slices, or from a post()ed function): a
    // frame from the wire for NIC `index` (false: the NIC did not take it:
    // no such NIC, receiver stopped, filtered, or no room in its ring), and
    // plugging or unplugging that NIC's cable (false: no such NIC).
    bool receive_frame(unsigned index, std::span<u8 const> frame);
    bool set_nic_link(unsigned index, bool up);

    // VM thread only (or after run() returned).
    void hard_reset();
    std::string text_screen() const;
    // The display adapter, for rendering the screen (screen_render.h).
    Vga const& vga() const;
    // The console's input devices (host side: send_scancodes(), input()).
    // VM thread only, like the rest of the machine; their output reaches
    // the guest through the 8042 at once.
    Ps2Keyboard& keyboard();
    Ps2Mouse& mouse();
    u64 instructions_retired() const;
    MachineRunStats run_stats() const;
    // Bytes the guest moved through its IDE drives (ATA disks and ATAPI
    // media) since power-on or the last hard reset (IVMAccountant).
    struct DiskTraffic {
        u64 read{0};
        u64 written{0};
    };
    DiskTraffic disk_traffic() const;
    Clock& clock();
    u8 last_post_code() const;

    struct Impl;

private:
    explicit PcMachine(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace vsa
