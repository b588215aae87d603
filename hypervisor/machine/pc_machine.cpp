// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/machine/pc_machine.h"

#include "hw/apm_shutdown_port.h"
#include "hw/ata_disk.h"
#include "hw/atapi_cdrom.h"
#include "hw/debug_console.h"
#include "hw/dec21140.h"
#include "hw/dma8237.h"
#include "hw/fdc82077.h"
#include "hw/fw_cfg.h"
#include "hw/i440fx.h"
#include "hw/i8042.h"
#include "hw/io_apic.h"
#include "hw/local_apic.h"
#include "hw/parallel_port.h"
#include "hw/pic8259.h"
#include "hw/piix3_ide.h"
#include "hw/piix3_isa.h"
#include "hw/piix4_pm.h"
#include "hw/pit8254.h"
#include "hw/port92.h"
#include "hw/post_port.h"
#include "hw/ps2_keyboard.h"
#include "hw/ps2_mouse.h"
#include "hw/pvscsi.h"
#include "hw/rtc_mc146818.h"
#include "hw/scsi_disk.h"
#include "hw/smbios_tables.h"
#include "hw/system_control_b.h"
#include "hw/uart16550.h"
#include "hw/vga.h"
#include "hypervisor/cpu/interpreter.h"
#include "hypervisor/io/io_bus.h"
#include "hypervisor/io/memory_map.h"
#include "hypervisor/io/pci.h"
#include "hypervisor/machine/idle_coalescer.h"
#include "hypervisor/machine/machine_state.h"
#include "services/storage/disk_image.h"
#include "services/storage/raw_image.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>

namespace vsa {

namespace {

// How long the CPU runs before the loop looks at posted work, stop
// requests and host input, in virtual time. Short enough that a console
// keystroke or a stop is handled within a few milliseconds.
constexpr u64 SLICE_NS = 2'000'000;

// A restored device stream may be this much longer than the machine's own
// (transfers and FIFOs in flight; the largest, an IDE block, is 8 KiB per
// channel): the bound that keeps a hostile .vsv from allocating more.
constexpr u64 DEVICE_STATE_SLACK = 1 * MiB;

constexpr Port COM1_BASE = 0x3F8;
constexpr Port COM2_BASE = 0x2F8;
constexpr unsigned COM1_IRQ = 4;
constexpr unsigned COM2_IRQ = 3;
constexpr Port AGENT_BASE = 0x3E8; // COM3's legacy address, shares COM1's IRQ
constexpr Port LPT1_BASE = 0x378;
constexpr unsigned LPT1_IRQ = 7;
// The PIIX4 PM function's SCI (and SMBus interrupt) is hardwired to IRQ 9.
constexpr unsigned SCI_IRQ = 9;

// CMOS layout the BIOS reads (IBM AT, extended by Phoenix/Award/QEMU).
constexpr u8 CMOS_SHUTDOWN_STATUS = 0x0F;
constexpr u8 CMOS_FLOPPY_TYPES = 0x10;
constexpr u8 CMOS_EQUIPMENT = 0x14;
constexpr u8 CMOS_BASE_MEMORY_LOW = 0x15;
constexpr u8 CMOS_EXT_MEMORY_LOW = 0x17;
constexpr u8 CMOS_CHECKSUM_HIGH = 0x2E;
constexpr u8 CMOS_EXT_MEMORY_LOW_2 = 0x30;
constexpr u8 CMOS_MEMORY_ABOVE_16M_LOW = 0x34;
constexpr u8 CMOS_BOOT_FLAGS = 0x38;
constexpr u8 CMOS_BOOT_ORDER = 0x3D;
constexpr u8 CMOS_MEMORY_ABOVE_4G = 0x5B;
constexpr u8 CMOS_EXTRA_CPUS = 0x5F;
// Boot order nibbles, first device lowest: 1 = floppy, 2 = hard disk,
// 3 = CD-ROM.
constexpr u8 CMOS_BOOT_FLOPPY = 0x01;
constexpr u8 CMOS_BOOT_HARD_DISK = 0x02;
constexpr u8 CMOS_BOOT_CDROM = 0x03;

// The configured order with the kinds it leaves out appended in the
// default order (disks, CD drives, floppy drives); duplicates dropped.
std::vector<PcMachineConfig::BootDevice>
full_boot_order(std::vector<PcMachineConfig::BootDevice> const& wanted) {
    using B = PcMachineConfig::BootDevice;
    std::vector<B> order;
    for (B d : wanted)
        if (std::find(order.begin(), order.end(), d) == order.end()) order.push_back(d);
    for (B d : {B::Disk, B::Cdrom, B::Floppy})
        if (std::find(order.begin(), order.end(), d) == order.end()) order.push_back(d);
    return order;
}

// The Num Lock option ROM (PcMachineConfig::num_lock): one 512-byte block
// whose init entry, which SeaBIOS far-calls at POST after its keyboard
// set-up, sets the Num Lock bit of the BDA keyboard flags and returns.
std::vector<u8> num_lock_rom() {
    std::vector<u8> rom{
        0x55, 0xAA, 0x01,             // signature, 1 x 512 bytes
        0x1E,                         // push ds
        0x50,                         // push ax
        0x31, 0xC0,                   // xor ax, ax
        0x8E, 0xD8,                   // mov ds, ax
        0x80, 0x0E, 0x17, 0x04, 0x20, // or byte [0417h], 20h  (Num Lock active)
        0x58,                         // pop ax
        0x1F,                         // pop ds
        0xCB,                         // retf
    };
    rom.resize(512, 0);
    u8 sum = 0;
    for (u8 b : rom)
        sum = static_cast<u8>(sum + b);
    rom.back() = static_cast<u8>(-sum); // the bytes add up to 0
    return rom;
}
constexpr unsigned IDE_SLOTS = 4;

Result<std::vector<u8>, std::string> read_file(std::string const& path, std::size_t max_size) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "cannot read " + path + ": " + std::strerror(errno);
    std::vector<u8> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (data.size() > max_size) return path + " is too large";
    return data;
}

// A backend for an unconnected serial port or debug console.
NullCharBackend s_null_backend;
NullNetBackend s_null_net;

} // namespace

struct PcMachine::Impl {
    explicit Impl(PcMachineConfig const& c)
        : config(c), clock(c.clock_mode), coalescer(c.idle_timer_slack_ns) {}

    PcMachineConfig config;
    Clock clock;
    IdleCoalescer coalescer;
    std::unique_ptr<MemoryMap> memory;
    IoBus io;
    std::unique_ptr<PciBus> pci;
    std::vector<std::unique_ptr<storage::BlockDevice>> disk_images;
    std::vector<std::string> disk_paths; // parallel to disk_images

    // The CPU's INTR pin, driven by the local APIC: a rising level makes
    // the CPU look at its interrupt controller at the next instruction
    // boundary (an EOI or an unmask inside a guest OUT or MMIO write can
    // raise it mid-slice).
    CallbackIrqLine intr_line{[this](bool high) {
        if (high && cpu) cpu->note_event();
    }};
    // The 8259 pair's INTR output goes to the local APIC's LINT0 (virtual
    // wire: ExtINT), which passes it on to the CPU.
    CallbackIrqLine pic_intr{[this](bool high) {
        if (lapic) lapic->lint0().set_level(high);
    }};
    std::unique_ptr<Pic8259> pic;
    std::unique_ptr<LocalApic> lapic;
    std::unique_ptr<IoApic> ioapic;
    // ISA IRQ n goes to the 8259 input n and to the I/O APIC input n
    // (IRQ 0, the PIT, to input 2: timer_tick, io_apic.h).
    std::array<std::unique_ptr<CallbackIrqLine>, 16> isa_irq_lines;
    IrqLine& isa_irq(unsigned irq) { return *isa_irq_lines.at(irq); }
    static constexpr unsigned IOAPIC_TIMER_PIN = 2;
    std::unique_ptr<Pit8254> pit;
    std::unique_ptr<SystemControlB> port61;
    std::unique_ptr<RtcMc146818> rtc;
    std::unique_ptr<Ps2Keyboard> keyboard;
    std::unique_ptr<Ps2Mouse> mouse;
    std::unique_ptr<I8042> kbc;
    std::unique_ptr<Uart16550> com1;
    std::unique_ptr<Uart16550> com2;
    std::unique_ptr<Uart16550> agent_port; // only with config.agent
    // IRQ 4 is the OR of COM1's and the agent port's outputs.
    bool com1_irq_level{false};
    bool agent_irq_level{false};
    CallbackIrqLine com1_irq{[this](bool high) {
        com1_irq_level = high;
        isa_irq(COM1_IRQ).set_level(com1_irq_level || agent_irq_level);
    }};
    CallbackIrqLine agent_irq{[this](bool high) {
        agent_irq_level = high;
        isa_irq(COM1_IRQ).set_level(com1_irq_level || agent_irq_level);
    }};
    std::unique_ptr<ParallelPort> lpt1; // only with config.lpt1
    std::unique_ptr<Port92> port92;
    std::unique_ptr<PostPort> post;
    std::unique_ptr<DebugConsole> debugcon;
    std::unique_ptr<ApmShutdownPort> apm;
    std::unique_ptr<FwCfg> fw_cfg;
    std::unique_ptr<I440fx> host_bridge;
    std::unique_ptr<Piix3Isa> isa_bridge;
    std::unique_ptr<Piix3Ide> ide;
    std::unique_ptr<Piix4Pm> pm;
    std::vector<std::unique_ptr<AtaDisk>> disks;
    std::vector<std::unique_ptr<AtapiCdrom>> cdroms;
    std::array<AtapiCdrom*, IDE_SLOTS> cdrom_in_slot{};
    std::unique_ptr<Vga> vga;
    std::unique_ptr<Dma8237> dma;
    std::unique_ptr<Fdc82077> fdc;
    std::vector<std::unique_ptr<Dec21140>> nics;
    static constexpr u8 FIRST_NIC_SLOT = 3;
    std::vector<std::unique_ptr<Pvscsi>> scsi_hbas;
    std::vector<std::unique_ptr<ScsiDisk>> scsi_disks;
    static constexpr u8 FIRST_SCSI_SLOT = 7;
    std::unique_ptr<Interpreter> cpu;

    // IRQ 0 with a "delay" lost-tick policy. An interpreted CPU can run
    // with interrupts off for longer than a PIT period (4 ms at Linux's
    // HZ=250), and an 8259 input holds one pending edge: further ticks
    // would vanish, the guest's jiffies would fall behind its TSC (both
    // run on the one virtual clock) and Linux would call the TSC unstable.
    // So a tick that arrives while the previous one is still latched is
    // counted and delivered right after that one is acknowledged. The
    // backlog is bounded (a guest that masks IRQ 0 for good, or leaves it
    // unserviced, only ever gets MAX_BACKLOG late ticks).
    class TimerTickLine final : public IrqLine {
    public:
        static constexpr unsigned MAX_BACKLOG = 50; // 200 ms at 250 Hz, as the PIT replays
        explicit TimerTickLine(Impl& m) : m_machine(m) {}
        void set_level(bool high) override {
            if (m_loading) return;
            bool rising = high && !m_level;
            m_level = high;
            // The I/O APIC path has its own backlog: a tick whose vector
            // still waits in the local APIC's IRR is owed, and given when
            // the local APIC hands that vector to the CPU (apic_acknowledged).
            if (rising) {
                u64 entry = m_machine.ioapic->entry(IOAPIC_TIMER_PIN);
                if (!(entry & IoApic::ENTRY_MASKED) && m_machine.lapic->irr(static_cast<u8>(entry & 0xFF)) &&
                    m_io_backlog < MAX_BACKLOG)
                    ++m_io_backlog;
            }
            m_machine.ioapic->input(IOAPIC_TIMER_PIN).set_level(high);
            Pic8259& pic = *m_machine.pic;
            if (rising && (pic.irr(0) & 1)) {
                if (m_backlog < MAX_BACKLOG) ++m_backlog;
                return;
            }
            pic.input(0).set_level(high);
        }
        void acknowledged() {
            if (m_backlog == 0 || !m_level) return;
            --m_backlog;
            m_machine.pic->input(0).set_level(false);
            m_machine.pic->input(0).set_level(true);
        }
        void apic_acknowledged(u8 vector) {
            if (m_io_backlog == 0) return;
            u64 entry = m_machine.ioapic->entry(IOAPIC_TIMER_PIN);
            if ((entry & IoApic::ENTRY_MASKED) || static_cast<u8>(entry & 0xFF) != vector) return;
            --m_io_backlog;
            m_machine.lapic->deliver(vector, false);
        }
        void reset() {
            m_backlog = 0;
            m_io_backlog = 0;
        }

        // Saved state. The PIC holds its own pin level, which can differ
        // from m_level while ticks are backlogged: during a load the PIT's
        // post_load() re-drives this line, and forwarding that would latch
        // a tick the saved machine never saw. So the line is quiet from
        // begin_load() until end_load() puts the saved values back.
        bool level() const { return m_level; }
        unsigned backlog() const { return m_backlog; }
        unsigned io_backlog() const { return m_io_backlog; }
        void begin_load() { m_loading = true; }
        void end_load(bool level, unsigned backlog, unsigned io_backlog) {
            m_loading = false;
            m_level = level;
            m_backlog = std::min(backlog, MAX_BACKLOG);
            m_io_backlog = std::min(io_backlog, MAX_BACKLOG);
        }

    private:
        Impl& m_machine;
        bool m_level{false};
        unsigned m_backlog{0};
        unsigned m_io_backlog{0};
        bool m_loading{false};
    };
    TimerTickLine timer_tick{*this};

    // Port 0xF0: the PC/AT's "clear math coprocessor busy" latch. A write
    // drops FERR#'s IRQ 13 and lets the FPU go on (IGNNE#); the BIOS's
    // IRQ 13 handler writes it (DOS-era x87 error reporting, CR0.NE=0).
    class FpuBusyLatch final : public Device {
    public:
        explicit FpuBusyLatch(Impl& m) : m_machine(m) {}
        std::string_view name() const override { return "fpu-busy-latch"; }
        void reset() override {}
        u32 io_read(u16, Width width) override { return width_mask(width); }
        void io_write(u16, Width, u32) override { m_machine.cpu->fpu().port_f0_write(); }
        void visit_state(StateVisitor&) override {}

    private:
        Impl& m_machine;
    };
    std::unique_ptr<FpuBusyLatch> fpu_latch;

    // IRQ 9 is the OR of the SCI and whatever PCI interrupt the PIIX3 may
    // route there (the BIOS routes PIRQs to 10/11, an OS may move them).
    bool sci_level{false};
    void set_pci_isa_irq(unsigned irq, bool level) {
        if (irq >= isa_irq_lines.size()) return;
        isa_irq(irq).set_level(level || (irq == SCI_IRQ && sci_level));
    }
    CallbackIrqLine sci_line{[this](bool high) {
        sci_level = high;
        set_pci_isa_irq(SCI_IRQ, isa_bridge->isa_irq_level(SCI_IRQ));
    }};

    // The A20 line is the OR of the 8042 output port and port 92 (PIIX).
    bool a20_kbc{true};
    bool a20_port92{false};

    // Requests from device callbacks (inside a guest port write) and
    // other threads; acted on between CPU slices.
    bool reset_pending{false};
    bool power_off_pending{false};
    std::atomic<bool> stop_pending{false};
    std::atomic<bool> save_pending{false};
    // save_state() succeeded and the CPU has not run since: the UART
    // FIFOs' bytes belong to the saved state, not to this host.
    bool output_in_saved_state{false};

    // What a saved state must match (machine_state.h), from build().
    MachineIdentity identity;
    FileDescriptor wake;
    std::mutex posted_mutex;
    std::vector<std::function<void()>> posted;

    Result<void, std::string> build();
    std::vector<Device*> devices();
    void hard_reset();
    void update_a20() { memory->set_a20(a20_kbc || a20_port92); }
    void request_reset() {
        reset_pending = true;
        cpu->request_exit();
    }
    void fill_cmos();
    Result<void, std::string> fill_fw_cfg();
    // Opens a floppy image and puts it into `drive` (build and insert_floppy);
    // with `or_protected`, a file that cannot be opened for writing goes in
    // write-protected.
    Result<void, std::string> insert_floppy(unsigned drive, std::string const& path, bool read_only,
                                            bool or_protected = false);
    struct MachineFields {
        u64 clock_ns{0};
        bool tick_level{false};
        u32 tick_backlog{0};
        u32 tick_io_backlog{0};
    };
    void visit_machine_state(StateVisitor& v, MachineFields& fields);
    StateVisitor save_device_state();
    Result<void, std::string> load_device_state(std::vector<u8> const& stream, std::span<u8 const> undo);
    // The longest device stream a .vsv may bring (0: not measured yet).
    u64 device_state_bound{0};
    void run_posted();
    void flush_serial_output() {
        com1->flush_output();
        com2->flush_output();
        if (agent_port) agent_port->flush_output();
    }
    void idle();
    u64 halts{0};
    u64 sleeps{0};
    void kick() {
        u64 one = 1;
        // Async-signal-safe; a full counter already means "wake up".
        [[maybe_unused]] auto n = ::write(wake.fd(), &one, sizeof one);
    }
};

Result<void, std::string> PcMachine::Impl::build() {
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return std::string("eventfd: ") + std::strerror(errno);
    wake = FileDescriptor(fd);

    memory = TRY(MemoryMap::create(config.ram_bytes));
    // Debian's 128 KiB bios.bin is SeaBIOS without the PVSCSI driver; the
    // 256 KiB build beside it has it. A machine with a SCSI controller and
    // the default BIOS gets that one (it is the same SeaBIOS otherwise).
    std::string bios_path = config.bios_path;
    bool has_scsi =
        std::any_of(config.scsi.begin(), config.scsi.end(), [](auto const& c) { return c.present; });
    if (has_scsi && bios_path == PcMachineConfig{}.bios_path) bios_path = PcMachineConfig::SCSI_BIOS_PATH;
    auto bios = TRY(read_file(bios_path, 16 * MiB));
    identity.ram_bytes = memory->ram_size();
    identity.bios_size = bios.size();
    identity.bios_hash = fnv1a64(bios);
    if (auto r = memory->set_bios(std::move(bios)); r.is_error()) return bios_path + ": " + r.error();
    std::vector<u8> vgabios;
    if (!config.vgabios_path.empty()) vgabios = TRY(read_file(config.vgabios_path, 16 * MiB));
    identity.vgabios_size = vgabios.size();
    identity.vgabios_hash = vgabios.empty() ? 0 : fnv1a64(vgabios);

    CharBackend& com1_backend = config.com1 ? *config.com1 : s_null_backend;
    CharBackend& com2_backend = config.com2 ? *config.com2 : s_null_backend;
    CharBackend& debug_backend = config.debugcon ? *config.debugcon : s_null_backend;

    // ISA platform devices.
    pic = std::make_unique<Pic8259>(pic_intr);
    io.map(0x20, 2, *pic, WIDTH_8, 0x20);
    io.map(0xA0, 2, *pic, WIDTH_8, 0xA0);
    // The local APIC and the I/O APIC that SeaBIOS's MP table and MADT
    // describe (fill_fw_cfg: the IRQ 0 override).
    lapic = std::make_unique<LocalApic>(*memory, clock, *pic, intr_line);
    lapic->lint0().set_level(pic->intr_pending());
    ioapic = std::make_unique<IoApic>(*lapic);
    if (!memory->map_mmio(IoApic::DEFAULT_BASE, IoApic::MMIO_SIZE, *ioapic))
        return std::string("I/O APIC: address taken");
    lapic->set_eoi_listener([this](u8 vector) { ioapic->eoi(vector); });
    lapic->set_ack_listener([this](u8 vector) { timer_tick.apic_acknowledged(vector); });
    for (unsigned irq = 0; irq < isa_irq_lines.size(); ++irq)
        isa_irq_lines[irq] = std::make_unique<CallbackIrqLine>([this, irq](bool high) {
            pic->input(irq).set_level(high);
            ioapic->input(irq).set_level(high);
        });
    pic->set_ack_listener([this](unsigned irq) {
        if (irq == 0) timer_tick.acknowledged();
    });
    pit = std::make_unique<Pit8254>(timer_tick, clock);
    io.map(0x40, 4, *pit, WIDTH_8);
    port61 = std::make_unique<SystemControlB>(*pit, clock);
    io.map(0x61, 1, *port61, WIDTH_8);
    i64 start = config.rtc_start ? config.rtc_start : static_cast<i64>(std::time(nullptr));
    rtc = std::make_unique<RtcMc146818>(isa_irq(8), clock, start);
    io.map(0x70, 2, *rtc, WIDTH_8);
    keyboard = std::make_unique<Ps2Keyboard>();
    kbc = std::make_unique<I8042>(
        isa_irq(1), isa_irq(12), *keyboard,
        [this](bool on) {
            a20_kbc = on;
            update_a20();
        },
        [this] { request_reset(); });
    mouse = std::make_unique<Ps2Mouse>();
    kbc->attach_aux(*mouse);
    io.map(0x60, 1, *kbc, WIDTH_8, I8042::DATA);
    io.map(0x64, 1, *kbc, WIDTH_8, I8042::STATUS);
    com1 = std::make_unique<Uart16550>(com1_irq, clock, com1_backend);
    io.map(COM1_BASE, Uart16550::PORT_COUNT, *com1, WIDTH_8);
    com2 = std::make_unique<Uart16550>(isa_irq(COM2_IRQ), clock, com2_backend);
    io.map(COM2_BASE, Uart16550::PORT_COUNT, *com2, WIDTH_8);
    if (config.agent) {
        agent_port = std::make_unique<Uart16550>(agent_irq, clock, *config.agent);
        io.map(AGENT_BASE, Uart16550::PORT_COUNT, *agent_port, WIDTH_8);
    }
    // SeaBIOS finds LPT ports by probing (writes AAh to the data port and
    // reads it back) and lists what it found in the BDA.
    if (config.lpt1) {
        lpt1 = std::make_unique<ParallelPort>(isa_irq(LPT1_IRQ), clock, *config.lpt1);
        io.map(LPT1_BASE, ParallelPort::PORT_COUNT, *lpt1, WIDTH_8);
    }
    port92 = std::make_unique<Port92>(
        [this](bool on) {
            a20_port92 = on;
            update_a20();
        },
        [this] { request_reset(); });
    io.map(0x92, 1, *port92, WIDTH_8);
    post = std::make_unique<PostPort>();
    io.map(0x80, 1, *post, WIDTH_8);
    debugcon = std::make_unique<DebugConsole>(debug_backend);
    io.map(DebugConsole::SEABIOS_PORT, 1, *debugcon, WIDTH_8);
    apm = std::make_unique<ApmShutdownPort>([this] {
        power_off_pending = true;
        cpu->request_exit();
    });
    io.map(ApmShutdownPort::PORT, 1, *apm, WIDTH_8);
    fw_cfg = std::make_unique<FwCfg>(*memory, io);

    // PCI: the host bridge and the PIIX3 functions in their usual slots.
    pci = std::make_unique<PciBus>(io, *memory);
    io.map(PciBus::CONFIG_ADDRESS, 8, *pci, WIDTH_ANY);
    host_bridge = std::make_unique<I440fx>(*memory);
    pci->attach(0, 0, *host_bridge);
    isa_bridge = std::make_unique<Piix3Isa>(
        *pci, [this](unsigned irq, bool level) { set_pci_isa_irq(irq, level); },
        [this](u16 elcr) { pic->set_elcr(elcr); }, [this](bool) { request_reset(); });
    pci->attach(1, 0, *isa_bridge);
    isa_bridge->map_ports(io);
    pci->set_reset_control(isa_bridge.get());
    ide = std::make_unique<Piix3Ide>(isa_irq(14), isa_irq(15), *memory);
    pci->attach(1, 1, *ide);
    ide->map_ports(io);
    // ACPI: SeaBIOS builds its tables only when it finds this function.
    pm = std::make_unique<Piix4Pm>(
        sci_line, clock,
        [this] {
            // Tells an ACPI soft off from the 8900h port's (tests check it).
            std::cerr << "vsa-vm: ACPI power off (PM1a_CNT SLP_EN, S5)\n";
            power_off_pending = true;
            cpu->request_exit();
        },
        Piix4Pm::LegacyDevices{.com1 = true, .com2 = true, .lpt = config.lpt1 != nullptr});
    pci->attach(1, 3, *pm);
    pm->map_fixed_ports(io);
    vga = std::make_unique<Vga>(*memory, io, clock, std::move(vgabios));
    pci->attach(2, 0, *vga);
    // Ethernet adapters, one PCI slot each after the VGA.
    if (config.nics.size() > PcMachineConfig::MAX_NICS) return std::string("at most four network adapters");
    for (std::size_t i = 0; i < config.nics.size(); ++i) {
        NetBackend* backend = config.nics[i].backend ? config.nics[i].backend : &s_null_net;
        nics.push_back(std::make_unique<Dec21140>(*memory, clock, *backend, config.nics[i].mac));
        pci->attach(static_cast<u8>(FIRST_NIC_SLOT + i), 0, *nics.back());
    }

    // SCSI controllers, PCI slot 7 + controller number.
    if (config.scsi.size() > PcMachineConfig::MAX_SCSI_CONTROLLERS)
        return std::string("at most four SCSI controllers");
    scsi_hbas.resize(config.scsi.size());
    for (std::size_t c = 0; c < config.scsi.size(); ++c) {
        auto const& sc = config.scsi[c];
        std::string where = "SCSI controller " + std::to_string(c);
        if (!sc.present) {
            if (!sc.disks.empty()) return where + ": disks on a controller that is not there";
            continue;
        }
        if (sc.scsi_id > PcMachineConfig::SCSI_TARGETS) return where + ": SCSI ID past 7";
        scsi_hbas[c] = std::make_unique<Pvscsi>(*memory, sc.scsi_id);
        pci->attach(static_cast<u8>(FIRST_SCSI_SLOT + c), 0, *scsi_hbas[c]);
        for (auto const& d : sc.disks) {
            if (d.path.empty()) continue;
            std::string at = where + " target " + std::to_string(d.target);
            if (d.target >= PcMachineConfig::SCSI_TARGETS || d.target == sc.scsi_id)
                return at + ": not a device ID (0-6, not the controller's own)";
            if (scsi_hbas[c]->disk(d.target)) return at + ": the ID is taken";
            auto image = storage::open_disk_image(d.path, config.disks_read_only);
            if (image.is_error()) return d.path + ": " + image.error().message;
            disk_images.push_back(image.release_value());
            disk_paths.push_back(d.path);
            scsi_disks.push_back(std::make_unique<ScsiDisk>(
                *disk_images.back(), "VSASCSI" + std::to_string(c) + std::to_string(d.target)));
            scsi_hbas[c]->attach(d.target, scsi_disks.back().get());
        }
    }

    // The ISA DMA pair and the floppy controller (IRQ 6, DMA channel 2).
    dma = std::make_unique<Dma8237>(*memory);
    dma->map_ports(io);
    if (config.floppies.size() > Fdc82077::DRIVES) return std::string("at most two floppy drives");
    fdc = std::make_unique<Fdc82077>(isa_irq(Fdc82077::IRQ), *dma,
                                     static_cast<unsigned>(config.floppies.size()));
    fdc->map_ports(io);
    for (unsigned i = 0; i < config.floppies.size(); ++i)
        if (!config.floppies[i].path.empty())
            TRY(insert_floppy(i, config.floppies[i].path, config.floppies[i].read_only));

    // Disks: primary master, primary slave, secondary master, secondary slave.
    for (std::size_t i = 0; i < config.disks.size() && i < 4; ++i) {
        if (config.disks[i].empty()) continue;
        auto image = storage::open_disk_image(config.disks[i], config.disks_read_only);
        if (image.is_error()) return config.disks[i] + ": " + image.error().message;
        disk_images.push_back(image.release_value());
        disk_paths.push_back(config.disks[i]);
        identity.disk_bytes[i] = disk_images.back()->size_bytes();
        disks.push_back(std::make_unique<AtaDisk>(*disk_images.back(), "VSA" + std::to_string(1000 + i)));
        ide->channel(static_cast<unsigned>(i / 2)).attach(static_cast<unsigned>(i % 2), disks.back().get());
    }

    // CD/DVD drives in the slots the disks left.
    for (auto const& cd : config.cdroms) {
        std::string where = "CD drive in IDE slot " + std::to_string(cd.slot);
        if (cd.slot >= IDE_SLOTS) return where + ": there are only " + std::to_string(IDE_SLOTS) + " slots";
        if (cdrom_in_slot[cd.slot] || (cd.slot < config.disks.size() && !config.disks[cd.slot].empty()))
            return where + ": the slot is taken";
        cdroms.push_back(std::make_unique<AtapiCdrom>("VSACD" + std::to_string(1000 + cd.slot)));
        if (!cd.path.empty()) {
            auto image = storage::open_iso_image(cd.path);
            if (image.is_error()) return cd.path + ": " + image.error().message;
            if (!cdroms.back()->insert(image.release_value(), cd.path))
                return cd.path + ": not an image with 2048-byte sectors";
        }
        cdrom_in_slot[cd.slot] = cdroms.back().get();
        ide->channel(cd.slot / 2).attach(cd.slot % 2, cdroms.back().get());
    }

    cpu = std::make_unique<Interpreter>(CpuEnvironment{*memory, io, clock, *lapic, lapic.get()});
    if (config.clock_mode == Clock::Mode::Deterministic)
        clock.set_instruction_counter(cpu->instruction_counter(), config.ns_per_instruction);
    if (config.trace) cpu->set_trace(config.trace);
    cpu->fpu().set_ferr_line(&isa_irq(13));
    fpu_latch = std::make_unique<FpuBusyLatch>(*this);
    io.map(0xF0, 1, *fpu_latch, WIDTH_8);

    fill_cmos();
    TRY(fill_fw_cfg());
    update_a20();
    return Ok{};
}

std::vector<Device*> PcMachine::Impl::devices() {
    std::vector<Device*> list{pic.get(),        pit.get(),  port61.get(), rtc.get(),    keyboard.get(),
                              kbc.get(),        com1.get(), com2.get(),   port92.get(), post.get(),
                              debugcon.get(),   apm.get(),  fw_cfg.get(), pci.get(),    host_bridge.get(),
                              isa_bridge.get(), ide.get(),  vga.get(),    pm.get()};
    // Last and only when present: a machine without LPT1 keeps the saved
    // state layout it always had.
    if (lpt1) list.push_back(lpt1.get());
    if (agent_port) list.push_back(agent_port.get()); // the same, for the agent port
    return list;
}

void PcMachine::Impl::fill_cmos() {
    u64 low = memory->low_ram_size();
    u64 high = memory->high_ram_size();
    // Base memory: 640 KiB.
    rtc->set_cmos(CMOS_BASE_MEMORY_LOW, 0x80);
    rtc->set_cmos(CMOS_BASE_MEMORY_LOW + 1, 0x02);
    // Extended memory above 1 MiB in KiB, capped at 0xFFFF (old BIOS calls).
    u64 ext_kib = std::min<u64>(low > MiB ? (low - MiB) / KiB : 0, 0xFFFF);
    for (u8 reg : {CMOS_EXT_MEMORY_LOW, CMOS_EXT_MEMORY_LOW_2}) {
        rtc->set_cmos(reg, static_cast<u8>(ext_kib));
        rtc->set_cmos(static_cast<u8>(reg + 1), static_cast<u8>(ext_kib >> 8));
    }
    // Memory above 16 MiB in 64 KiB units; above 4 GiB in 64 KiB units.
    u64 above_16m = std::min<u64>(low > 16 * MiB ? (low - 16 * MiB) / (64 * KiB) : 0, 0xFFFF);
    rtc->set_cmos(CMOS_MEMORY_ABOVE_16M_LOW, static_cast<u8>(above_16m));
    rtc->set_cmos(CMOS_MEMORY_ABOVE_16M_LOW + 1, static_cast<u8>(above_16m >> 8));
    u64 above_4g = high / (64 * KiB);
    for (unsigned i = 0; i < 3; ++i)
        rtc->set_cmos(static_cast<u8>(CMOS_MEMORY_ABOVE_4G + i), static_cast<u8>(above_4g >> (8 * i)));
    rtc->set_cmos(CMOS_EXTRA_CPUS, 0);
    // Floppy drive types, A: in the high nibble: the type made for the
    // disk in the drive at power-on (SeaBIOS takes the INT 13h geometry
    // from it), a 1.44M drive when it is empty.
    u8 floppy_types = 0;
    unsigned floppies = fdc->drive_count();
    for (unsigned i = 0; i < floppies; ++i) {
        u8 type = fdc->has_media(i) ? fdc->media_geometry(i).cmos_type : 4;
        floppy_types |= static_cast<u8>(type << (i == 0 ? 4 : 0));
    }
    rtc->set_cmos(CMOS_FLOPPY_TYPES, floppy_types);
    // Equipment: bit 0 floppy drives present, bits 7-6 their count - 1; no
    // FPU bit, VGA/EGA display (bits 5-4 zero).
    rtc->set_cmos(CMOS_EQUIPMENT, floppies ? static_cast<u8>(0x01 | (floppies - 1) << 6) : 0x00);
    // SeaBIOS reads CMOS 3Dh only without a "bootorder" file (an empty
    // machine): the first two kinds, one nibble each, first lowest.
    auto const order = full_boot_order(config.boot_order);
    auto nibble = [](PcMachineConfig::BootDevice d) -> u8 {
        return d == PcMachineConfig::BootDevice::Floppy  ? CMOS_BOOT_FLOPPY
               : d == PcMachineConfig::BootDevice::Cdrom ? CMOS_BOOT_CDROM
                                                         : CMOS_BOOT_HARD_DISK;
    };
    rtc->set_cmos(CMOS_BOOT_ORDER, static_cast<u8>(nibble(order[0]) | nibble(order[1]) << 4));
    rtc->set_cmos(CMOS_BOOT_FLAGS, 0x00);
    rtc->set_cmos(CMOS_SHUTDOWN_STATUS, 0);
    // The AT checksum over 0x10..0x2D, big-endian at 0x2E.
    u16 sum = 0;
    for (u8 reg = 0x10; reg <= 0x2D; ++reg)
        sum = static_cast<u16>(sum + rtc->cmos(reg));
    rtc->set_cmos(CMOS_CHECKSUM_HIGH, static_cast<u8>(sum >> 8));
    rtc->set_cmos(CMOS_CHECKSUM_HIGH + 1, static_cast<u8>(sum));
}

Result<void, std::string> PcMachine::Impl::fill_fw_cfg() {
    fw_cfg->set_ram_size(memory->ram_size());
    fw_cfg->set_cpus(1, 1);
    fw_cfg->set_nographic(false);
    fw_cfg->set_boot_menu(false);
    // The BIOS adds its own reservations (EBDA, its code, ACPI) to these.
    std::vector<FwCfg::E820Entry> e820{{0, memory->low_ram_size(), FwCfg::E820Type::Ram}};
    if (memory->high_ram_size())
        e820.push_back({MemoryMap::FOUR_GIB, memory->high_ram_size(), FwCfg::E820Type::Ram});
    auto added = fw_cfg->add_file("etc/e820", FwCfg::e820_file(e820));
    if (added.is_error()) return added.error();
    // ACPI sleep states, one byte per S0..S5 (bit 7 = offered, low bits =
    // SLP_TYP): only S0 and soft off. Without this SeaBIOS offers \_S3 and
    // \_S4, which the PM function cannot do (it refuses them).
    added = fw_cfg->add_file("etc/system-states", std::vector<u8>{0x80, 0, 0, 0, 0, 0x80});
    if (added.is_error()) return added.error();
    // The PIT drives I/O APIC input 2 (io_apic.h): SeaBIOS then writes the
    // IRQ 0 -> INTIN2 override into its MP table and MADT.
    added = fw_cfg->add_file("etc/irq0-override", std::vector<u8>{1, 0, 0, 0});
    if (added.is_error()) return added.error();
    // Boot from the first disk (or CD drive, with BootDevice::Cdrom), in
    // the OpenFirmware path SeaBIOS builds for a drive on the PIIX3 IDE
    // function (00:01.1); ATA and ATAPI drives have the same form.
    auto ide_path = [](std::size_t slot) {
        return "/pci@i0cf8/ide@1,1/drive@" + std::to_string(slot / 2) + "/disk@" + std::to_string(slot % 2);
    };
    std::vector<std::string> disk_paths_boot, cd_paths_boot;
    for (std::size_t i = 0; i < config.disks.size() && i < IDE_SLOTS; ++i)
        if (!config.disks[i].empty()) disk_paths_boot.push_back(ide_path(i));
    for (std::size_t i = 0; i < IDE_SLOTS; ++i)
        if (cdrom_in_slot[i]) cd_paths_boot.push_back(ide_path(i));
    auto hex_slot = [](std::size_t slot) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "%zx", slot);
        return std::string(buf);
    };
    // SCSI disks after the IDE ones, in the path SeaBIOS matches for a
    // PVSCSI target ("/pci@i0cf8/*@7/*@0/*@T,L").
    for (std::size_t c = 0; c < scsi_hbas.size(); ++c)
        for (unsigned t = 0; t < PcMachineConfig::SCSI_TARGETS; ++t)
            if (scsi_hbas[c] && scsi_hbas[c]->disk(t))
                disk_paths_boot.push_back("/pci@i0cf8/scsi@" + hex_slot(FIRST_SCSI_SLOT + c) +
                                          "/channel@0/disk@" + std::to_string(t) + ",0");
    // Floppy drives: the path SeaBIOS builds for drive N of the controller
    // at 3F0h behind the PIIX3 ISA bridge (00:01.0).
    std::vector<std::string> fd_paths_boot;
    for (unsigned i = 0; i < fdc->drive_count(); ++i)
        fd_paths_boot.push_back("/pci@i0cf8/isa@1/fdc@03f0/floppy@" + std::to_string(i));
    std::vector<std::string> boot;
    for (auto kind : full_boot_order(config.boot_order)) {
        auto const& paths = kind == PcMachineConfig::BootDevice::Floppy  ? fd_paths_boot
                            : kind == PcMachineConfig::BootDevice::Cdrom ? cd_paths_boot
                                                                         : disk_paths_boot;
        boot.insert(boot.end(), paths.begin(), paths.end());
    }
    if (!boot.empty()) {
        added = fw_cfg->add_file("bootorder", FwCfg::bootorder_file(boot));
        if (added.is_error()) return added.error();
    }
    if (config.num_lock) {
        added = fw_cfg->add_file("genroms/vsa-numlock.rom", num_lock_rom());
        if (added.is_error()) return added.error();
    }
    if (config.smbios) {
        auto smbios = build_smbios_files(*config.smbios);
        added = fw_cfg->add_file(std::string(SMBIOS_ANCHOR_FILE), std::move(smbios.anchor));
        if (added.is_error()) return added.error();
        added = fw_cfg->add_file(std::string(SMBIOS_TABLES_FILE), std::move(smbios.tables));
        if (added.is_error()) return added.error();
    }
    u64 files_hash = FNV1A_OFFSET;
    for (auto const& [name, path] : config.fw_cfg_files) {
        auto data = TRY(read_file(path, 16 * MiB));
        u64 size = data.size();
        files_hash =
            fnv1a64(std::span(reinterpret_cast<u8 const*>(name.c_str()), name.size() + 1), files_hash);
        files_hash = fnv1a64(std::span(reinterpret_cast<u8 const*>(&size), sizeof size), files_hash);
        files_hash = fnv1a64(data, files_hash);
        added = fw_cfg->add_file(name, std::move(data));
        if (added.is_error()) return "fw_cfg file " + name + ": " + added.error();
    }
    identity.fw_cfg_files_hash = config.fw_cfg_files.empty() ? 0 : files_hash;
    return Ok{};
}

void PcMachine::Impl::run_posted() {
    std::vector<std::function<void()>> work;
    {
        std::lock_guard lock(posted_mutex);
        work.swap(posted);
    }
    for (auto& w : work)
        w();
    // Host input may have arrived with the post.
    com1->pull_input();
    com2->pull_input();
    if (agent_port) agent_port->pull_input();
}

void PcMachine::Impl::idle() {
    // HLT with nothing to do: sleep until the next timer is due or another
    // thread kicks us. An idle guest costs no host CPU.
    ++halts;
    u64 next = clock.next_deadline();
    if (clock.mode() != Clock::Mode::RealTime && next != Clock::NEVER) {
        // Virtual time: nothing can happen before the next deadline, so
        // jump there (deterministic runs never wait for the host).
        clock.skip_to(next);
        return;
    }
    u64 now = clock.now();
    Clock::Deadlines due = clock.next_deadlines();
    u64 wake_at = coalescer.wake_time(now, due.precise, due.coalescable);
    // At most a second: nothing is lost by looking again.
    u64 wait_ns = std::min<u64>(wake_at > now ? wake_at - now : 0, 1'000'000'000);
    if (wait_ns == 0) return;
    ++sleeps;
    timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000),
                     static_cast<long>(wait_ns % 1'000'000'000)};
    pollfd p{wake.fd(), POLLIN, 0};
    if (::ppoll(&p, 1, &timeout, nullptr) > 0) {
        u64 value = 0;
        [[maybe_unused]] auto n = ::read(wake.fd(), &value, sizeof value);
    }
    coalescer.slept(now, clock.now());
}

Result<std::unique_ptr<PcMachine>, std::string> PcMachine::create(PcMachineConfig const& config) {
    auto impl = std::make_unique<Impl>(config);
    TRY(impl->build());
    return std::unique_ptr<PcMachine>(new PcMachine(std::move(impl)));
}

PcMachine::PcMachine(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {
    hard_reset();
}

PcMachine::~PcMachine() {
    // Output still in the UART FIFOs goes out: nothing the guest wrote is
    // lost. Unless it was saved with the state: the restored machine sends
    // it, and sending it here too would print it twice.
    if (m_impl->output_in_saved_state) return;
    m_impl->com1->flush_output();
    m_impl->com2->flush_output();
    if (m_impl->agent_port) m_impl->agent_port->flush_output();
}

void PcMachine::hard_reset() {
    m_impl->hard_reset();
}

bool PcMachine::receive_frame(unsigned index, std::span<u8 const> frame) {
    if (index >= m_impl->nics.size()) return false;
    return m_impl->nics[index]->receive(frame);
}

bool PcMachine::set_nic_link(unsigned index, bool up) {
    if (index >= m_impl->nics.size()) return false;
    m_impl->nics[index]->set_link(up);
    return true;
}

void PcMachine::Impl::hard_reset() {
    for (Device* d : devices())
        d->reset();
    mouse->reset();
    dma->reset();
    fdc->reset();
    lapic->reset();
    ioapic->reset();
    for (auto& nic : nics)
        nic->reset();
    for (auto& hba : scsi_hbas)
        if (hba) hba->reset();
    timer_tick.reset();
    for (auto& disk : disks)
        disk->reset();
    for (auto& cd : cdroms)
        cd->reset();
    a20_kbc = kbc->a20();
    a20_port92 = false;
    update_a20();
    cpu->reset();
    reset_pending = false;
}

// ---- saved state ---------------------------------------------------------

// The one walk that saves and loads the machine. The order is the stream's
// layout: the machine's own fields, every device of devices() (the IDE
// function carries its channels and drives), then the CPU with its FPU.
// What is not here is configuration (ROMs, fw_cfg files, the memory map's
// layout) or derived from what is (A20 from the 8042 and port 92, PAM from
// the i440FX, BAR mappings from PCI config space), recomputed by post_load,
// or host-side (serial input a backend holds, not yet taken by a UART), or
// a cache (the CPU's TLB and decoded instructions; a guest that relies on
// a stale TLB entry surviving would see it refilled after a restore, as
// after any TLB flush).
//
// Version 2 added the PS/2 mouse. It is visited after the devices and
// outside devices() so a version 1 stream (no mouse) still loads: the
// mouse then keeps its reset state, as if unplugged and plugged in again.
// Version 3 added the DMA controllers and the floppy controller, after the
// mouse for the same reason (an older stream leaves them reset). Version 4
// added the local APIC and the I/O APIC: an older stream ran without them,
// and their reset state (LINT0 in virtual wire mode, every I/O APIC input
// masked) passes the 8259 through exactly as that machine did. Version 5
// added the network adapters, with their count first: an older stream
// (a machine without NICs) leaves them reset, as if just plugged in.
// Version 6 added the SCSI controllers (with their disks' sense data), the
// same way.
void PcMachine::Impl::visit_machine_state(StateVisitor& v, MachineFields& fields) {
    v.section("pc-machine", 6);
    u32 version = v.version();
    v.field("clock_ns", fields.clock_ns);
    v.field("tick_level", fields.tick_level);
    v.field("tick_backlog", fields.tick_backlog);
    if (version >= 4) v.field("tick_io_backlog", fields.tick_io_backlog);
    if (v.is_loading() && v.ok() &&
        (fields.tick_backlog > TimerTickLine::MAX_BACKLOG ||
         fields.tick_io_backlog > TimerTickLine::MAX_BACKLOG))
        v.fail("pc-machine: timer tick backlog past its bound");
    for (Device* d : devices())
        d->visit_state(v);
    if (version >= 2)
        mouse->visit_state(v);
    else if (v.is_loading())
        mouse->reset();
    if (version >= 3) {
        dma->visit_state(v);
        fdc->visit_state(v);
    } else if (v.is_loading()) {
        dma->reset();
        fdc->reset();
    }
    if (version >= 4) {
        lapic->visit_state(v);
        ioapic->visit_state(v);
    } else if (v.is_loading()) {
        lapic->reset();
        ioapic->reset();
    }
    if (version >= 5) {
        u32 count = static_cast<u32>(nics.size());
        v.field("nic_count", count);
        if (v.is_loading() && v.ok() && count != nics.size())
            v.fail("pc-machine: the saved state has " + std::to_string(count) +
                   " network adapters, this machine " + std::to_string(nics.size()));
        for (auto& nic : nics)
            if (v.ok()) nic->visit_state(v);
    } else if (v.is_loading()) {
        for (auto& nic : nics)
            nic->reset();
    }
    if (version >= 6) {
        // A bit per controller present.
        u32 present = 0;
        for (std::size_t c = 0; c < scsi_hbas.size(); ++c)
            if (scsi_hbas[c]) present |= 1u << c;
        u32 saved = present;
        v.field("scsi_present", saved);
        if (v.is_loading() && v.ok() && saved != present)
            v.fail("pc-machine: the saved state has other SCSI controllers than this machine");
        for (auto& hba : scsi_hbas)
            if (hba && v.ok()) hba->visit_state(v);
    } else if (v.is_loading()) {
        for (auto& hba : scsi_hbas)
            if (hba) hba->reset();
    }
    cpu->visit_state(v);
}

StateVisitor PcMachine::Impl::save_device_state() {
    MachineFields fields{clock.now(), timer_tick.level(), timer_tick.backlog(), timer_tick.io_backlog()};
    auto saver = StateVisitor::saver();
    visit_machine_state(saver, fields);
    return saver;
}

// Devices load field by field, so a stream refused half-way has already
// changed the devices before it: `undo` (this machine's own stream, taken
// just before) puts every field back. Derived state (IRQ lines, timers,
// mappings, the clock) is only touched once the whole stream was accepted.
Result<void, std::string> PcMachine::Impl::load_device_state(std::vector<u8> const& stream,
                                                             std::span<u8 const> undo) {
    MachineFields fields;
    auto loader = StateVisitor::loader(stream);
    visit_machine_state(loader, fields);
    if (loader.ok() && !loader.at_end()) loader.fail("saved state: unexpected bytes after the CPU state");
    if (!loader.ok()) {
        MachineFields ignored;
        auto back = StateVisitor::loader(undo);
        visit_machine_state(back, ignored);
        if (!back.ok() || !back.at_end()) {
            // Cannot happen (the machine wrote `undo` itself), but if it
            // did, a reset machine is better than a half-loaded one.
            hard_reset();
            return loader.error() + " (and the machine could not be put back: it was reset)";
        }
        return loader.error();
    }
    // The clock before post_load: the PIT and RTC evaluate their outputs
    // and arm their timers at "now", which must be the saved time.
    timer_tick.begin_load();
    clock.set_now(fields.clock_ns);
    for (Device* d : devices())
        d->post_load();
    mouse->post_load();
    dma->post_load();
    fdc->post_load();
    lapic->post_load();
    ioapic->post_load();
    for (auto& nic : nics)
        nic->post_load();
    for (auto& hba : scsi_hbas)
        if (hba) hba->post_load();
    timer_tick.end_load(fields.tick_level, fields.tick_backlog, fields.tick_io_backlog);
    update_a20();
    // A save happens between slices, after pending resets were handled.
    reset_pending = false;
    power_off_pending = false;
    return Ok{};
}

Result<void, std::string> PcMachine::save_state(std::string const& path) {
    Impl& m = *m_impl;
    // Writes the guest completed must be on the host disk before a state
    // that assumes them exists.
    for (std::size_t i = 0; i < m.disk_images.size(); ++i) {
        auto flushed = m.disk_images[i]->flush();
        if (flushed.is_error())
            return "cannot flush disk " + m.disk_paths[i] + ": " + flushed.error().message;
    }
    StateVisitor devices = m.save_device_state();
    TRY(write_saved_state(path, m.identity, devices.bytes(),
                          std::span<u8 const>(m.memory->ram(), m.memory->ram_size())));
    m.output_in_saved_state = true;
    return Ok{};
}

Result<void, std::string> PcMachine::restore_state(std::string const& path) {
    Impl& m = *m_impl;
    // The machine's own stream size bounds the one a file may bring (it
    // only varies by transfers in flight).
    if (!m.device_state_bound)
        m.device_state_bound = m.save_device_state().bytes().size() + DEVICE_STATE_SLACK;
    auto file = TRY(SavedStateFile::read(path, m.identity, m.device_state_bound));
    // The file is sound: now the undo record, then the devices.
    StateVisitor undo = m.save_device_state();
    if (auto loaded = m.load_device_state(file.device_state(), undo.bytes()); loaded.is_error())
        return path + ": " + loaded.error();
    // Guest RAM is one private anonymous mapping (MemoryMap): dropping its
    // pages zeroes it and frees what the old state used, and then only the
    // saved non-zero pages are written (no page fault per untouched page).
    bool zeroed = ::madvise(m.memory->ram(), m.memory->ram_size(), MADV_DONTNEED) == 0;
    file.copy_ram(std::span<u8>(m.memory->ram(), m.memory->ram_size()), zeroed);
    m.output_in_saved_state = false;
    return Ok{};
}

MachineExit PcMachine::run() {
    Impl& m = *m_impl;
    for (;;) {
        m.run_posted();
        if (m.stop_pending.exchange(false)) return MachineExit::Stopped;
        if (m.power_off_pending) {
            m.power_off_pending = false;
            m.flush_serial_output();
            return MachineExit::PoweredOff;
        }
        if (m.reset_pending) {
            // A keyboard-controller, port 92 or CF9 reset: the CPU and the
            // chipset restart, RAM and CMOS (the shutdown byte) survive.
            m.reset_pending = false;
            hard_reset();
        }
        m.clock.run_expired();
        // The save point: between instructions, nothing due left unfired,
        // so a restored machine goes on exactly as this one would.
        if (m.save_pending.exchange(false)) return MachineExit::SaveRequested;
        u64 now = m.clock.now();
        u64 deadline = std::min(m.clock.next_deadline(), now + SLICE_NS);
        // The guest runs on from a saved state (a save from post()ed work
        // included): its FIFO bytes are this host's to send again.
        m.output_in_saved_state = false;
        CpuExit exit = m.cpu->run(deadline);
        switch (exit.reason) {
        case ExitReason::Halted:
            m.idle();
            break;
        case ExitReason::Shutdown:
            m.flush_serial_output();
            return MachineExit::TripleFault;
        case ExitReason::Breakpoint:
            return MachineExit::Stopped;
        case ExitReason::Deadline:
        case ExitReason::ExitRequested:
        case ExitReason::Io:
        case ExitReason::Mmio:
            break;
        }
    }
}

void PcMachine::post(std::function<void()> work) {
    {
        std::lock_guard lock(m_impl->posted_mutex);
        m_impl->posted.push_back(std::move(work));
    }
    m_impl->cpu->request_exit();
    m_impl->kick();
}

void PcMachine::request_stop() {
    m_impl->stop_pending.store(true);
    m_impl->cpu->request_exit();
    m_impl->kick();
}

void PcMachine::request_save() {
    m_impl->save_pending.store(true);
    m_impl->cpu->request_exit();
    m_impl->kick();
}

std::string PcMachine::text_screen() const {
    return m_impl->vga->text_screen();
}
Vga const& PcMachine::vga() const {
    return *m_impl->vga;
}
Ps2Keyboard& PcMachine::keyboard() {
    return *m_impl->keyboard;
}
Ps2Mouse& PcMachine::mouse() {
    return *m_impl->mouse;
}
u64 PcMachine::instructions_retired() const {
    return m_impl->cpu->instructions_retired();
}
PcMachine::DiskTraffic PcMachine::disk_traffic() const {
    DiskTraffic traffic;
    for (auto const& disk : m_impl->disks) {
        traffic.read += disk->bytes_read();
        traffic.written += disk->bytes_written();
    }
    for (auto const& cdrom : m_impl->cdroms)
        traffic.read += cdrom->bytes_read();
    for (auto const& disk : m_impl->scsi_disks) {
        traffic.read += disk->bytes_read();
        traffic.written += disk->bytes_written();
    }
    return traffic;
}
MachineRunStats PcMachine::run_stats() const {
    Impl const& m = *m_impl;
    return MachineRunStats{m.cpu->instructions_retired(), m.cpu->decodes(), m.cpu->tlb_flushes(),
                           m.cpu->page_walks(),           m.halts,          m.sleeps};
}
Clock& PcMachine::clock() {
    return m_impl->clock;
}
u8 PcMachine::last_post_code() const {
    return m_impl->post->last();
}

void PcMachine::insert_media(unsigned slot, std::string path, MediaDone done) {
    post([impl = m_impl.get(), slot, path = std::move(path), done = std::move(done)] {
        auto finish = [&](Result<void, std::string> result) {
            if (done) done(std::move(result));
        };
        AtapiCdrom* cd = slot < IDE_SLOTS ? impl->cdrom_in_slot[slot] : nullptr;
        if (!cd) return finish("no CD drive in IDE slot " + std::to_string(slot));
        auto image = storage::open_iso_image(path);
        if (image.is_error()) return finish(path + ": " + image.error().message);
        bool was_locked = cd->locked() && cd->has_media();
        if (!cd->insert(image.release_value(), path))
            return finish(was_locked ? std::string("the guest has locked the drive; it was asked to eject")
                                     : path + ": not an image with 2048-byte sectors");
        finish(Ok{});
    });
}

void PcMachine::eject_media(unsigned slot, bool force, MediaDone done) {
    post([impl = m_impl.get(), slot, force, done = std::move(done)] {
        auto finish = [&](Result<void, std::string> result) {
            if (done) done(std::move(result));
        };
        AtapiCdrom* cd = slot < IDE_SLOTS ? impl->cdrom_in_slot[slot] : nullptr;
        if (!cd) return finish("no CD drive in IDE slot " + std::to_string(slot));
        if (!cd->eject(force))
            return finish(std::string("the guest has locked the drive; it was asked to eject"));
        finish(Ok{});
    });
}

Result<void, std::string> PcMachine::Impl::insert_floppy(unsigned drive, std::string const& path,
                                                         bool read_only, bool or_protected) {
    std::string where = "floppy drive " + std::to_string(drive);
    if (drive >= fdc->drive_count()) return "no " + where;
    auto image = storage::open_floppy_image(path, read_only);
    // A file the host may not write (or another VM has open) goes in
    // write-protected, as a disk with its tab set.
    if (image.is_error() && !read_only && or_protected &&
        !storage::open_floppy_image(path, true).is_error()) {
        image = storage::open_floppy_image(path, true);
        read_only = true;
    }
    if (image.is_error()) return path + ": " + image.error().message;
    if (!fdc->insert(drive, image.release_value(), path, read_only))
        return path + ": not a floppy image for " + where;
    return Ok{};
}

void PcMachine::insert_floppy(unsigned drive, std::string path, bool read_only, MediaDone done) {
    post([impl = m_impl.get(), drive, path = std::move(path), read_only, done = std::move(done)] {
        auto result = impl->insert_floppy(drive, path, read_only, true);
        if (done) done(std::move(result));
    });
}

void PcMachine::eject_floppy(unsigned drive, MediaDone done) {
    post([impl = m_impl.get(), drive, done = std::move(done)] {
        Result<void, std::string> result = Ok{};
        if (!impl->fdc->eject(drive)) result = "no floppy drive " + std::to_string(drive);
        if (done) done(std::move(result));
    });
}

void PcMachine::run_posted_work() {
    m_impl->run_posted();
}

void PcMachine::press_power_button() {
    post([impl = m_impl.get()] { impl->pm->press_power_button(); });
}

std::vector<PcMachineConfig::BootDevice> PcMachineConfig::boot_first(BootDevice first) {
    return full_boot_order({first});
}

} // namespace vsa
