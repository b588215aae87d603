// SPDX-License-Identifier: GPL-2.0-or-later
// Cpu: the architectural state of a P6-class core (the x87 FPU is in fpu.h)
// and the services instruction handlers use: register and flag access,
// segment-checked and paged memory access, the stack, segment loads,
// control transfers, port I/O and interrupt delivery. Interpreter
// (interpreter.h) adds the run loop and the CpuBackend face.
//
// Modes: real mode, 16/32-bit protected mode with paging (mmu.h) and
// privilege levels 0-3 (call gates, inner-stack switches, returns to outer
// levels: transfers.cpp, interrupts.cpp), hardware task switching
// (tasks.cpp) and virtual-8086 mode with the virtual-8086 mode extensions
// and protected-mode virtual interrupts (CR4.VME/PVI, v86.cpp); SDM vol. 3,
// chapters 3-7, 9, 20. Segment registers keep their hidden descriptor
// caches across mode switches ("big real mode"). Left out: PAE, SMM, the
// hardware breakpoints of DR0-DR7 (storage only; single-step works).
#pragma once

#include "hypervisor/cpu/cpu_backend.h"
#include "hypervisor/cpu/cpu_profile.h"
#include "hypervisor/cpu/cpu_types.h"
#include "hypervisor/cpu/decoder.h"
#include "hypervisor/cpu/flags.h"
#include "hypervisor/cpu/fpu.h"
#include "hypervisor/cpu/mmu.h"

#include <cstdio>
#include <type_traits>

namespace vsa {

template <typename T>
constexpr u8 bits_of() {
    return static_cast<u8>(sizeof(T) * 8);
}

class Cpu {
public:
    // CPUID signature (EDX after reset, CPUID.1:EAX): family 6, model 3,
    // stepping 3 (Pentium II class; see exec_p6.cpp for the profile).
    static constexpr u32 CPU_SIGNATURE = 0x0000'0633;
    // The time-stamp counter counts virtual nanoseconds (CPUID leaf 15h).
    static constexpr u32 TSC_HZ = cpu_profile::TSC_HZ;
    // Model-specific registers this CPU has (exec_p6.cpp).
    static constexpr u32 MSR_TSC = 0x10;
    static constexpr u32 MSR_APIC_BASE = 0x1B;
    static constexpr u32 MSR_BIOS_SIGN_ID = 0x8B;
    static constexpr u32 MSR_SYSENTER_CS = 0x174;
    static constexpr u32 MSR_SYSENTER_ESP = 0x175;
    static constexpr u32 MSR_SYSENTER_EIP = 0x176;
    static constexpr u32 MSR_MISC_ENABLE = 0x1A0;

    explicit Cpu(CpuEnvironment env);
    Cpu(Cpu const&) = delete;
    Cpu& operator=(Cpu const&) = delete;

    // ---- General registers ------------------------------------------------
    u32 eax() const { return m_regs[REG_EAX]; }
    u32 ecx() const { return m_regs[REG_ECX]; }
    u32 edx() const { return m_regs[REG_EDX]; }
    u32 ebx() const { return m_regs[REG_EBX]; }
    u32 esp() const { return m_regs[REG_ESP]; }
    u32 ebp() const { return m_regs[REG_EBP]; }
    u32 esi() const { return m_regs[REG_ESI]; }
    u32 edi() const { return m_regs[REG_EDI]; }
    void set_eax(u32 v) { m_regs[REG_EAX] = v; }
    void set_ecx(u32 v) { m_regs[REG_ECX] = v; }
    void set_edx(u32 v) { m_regs[REG_EDX] = v; }
    void set_ebx(u32 v) { m_regs[REG_EBX] = v; }
    void set_esp(u32 v) { m_regs[REG_ESP] = v; }
    void set_ebp(u32 v) { m_regs[REG_EBP] = v; }
    void set_esi(u32 v) { m_regs[REG_ESI] = v; }
    void set_edi(u32 v) { m_regs[REG_EDI] = v; }
    u32 reg32(unsigned r) const { return m_regs[r]; }
    void set_reg32(unsigned r, u32 v) { m_regs[r] = v; }

    // Register by ModRM number at width T: for u8, 0..3 are AL CL DL BL and
    // 4..7 are AH CH DH BH.
    template <typename T>
    T reg(unsigned r) const {
        if constexpr (sizeof(T) == 1)
            return static_cast<u8>(m_regs[r & 3] >> ((r & 4) ? 8 : 0));
        else
            return static_cast<T>(m_regs[r]);
    }
    template <typename T>
    void set_reg(unsigned r, T v) {
        if constexpr (sizeof(T) == 1) {
            unsigned shift = (r & 4) ? 8 : 0;
            m_regs[r & 3] = (m_regs[r & 3] & ~(0xFFu << shift)) | (u32(v) << shift);
        } else if constexpr (sizeof(T) == 2) {
            m_regs[r] = (m_regs[r] & 0xFFFF'0000u) | v;
        } else {
            m_regs[r] = v;
        }
    }

    u32 eip() const { return m_eip; }
    void set_eip(u32 v) { m_eip = v; }

    // ---- Flags ---------------------------------------------------------------
    u32 eflags() const { return (m_eflags & ~FLAGS_ARITH) | lazy_arith_flags(m_lf, m_eflags) | FLAG_FIXED1; }
    // Writes every EFLAGS bit the CPU holds (IRET, POPF after its own
    // masking, tests, state load).
    void set_eflags(u32 v);
    bool cf() const { return lazy_cf(m_lf, m_eflags); }
    bool zf() const { return lazy_zf(m_lf, m_eflags); }
    bool sf() const { return lazy_sf(m_lf, m_eflags); }
    bool of() const { return lazy_of(m_lf, m_eflags); }
    bool pf() const { return lazy_pf(m_lf, m_eflags); }
    bool af() const { return lazy_af(m_lf, m_eflags); }
    bool df() const { return (m_eflags & FLAG_DF) != 0; }
    bool interrupts_enabled() const { return (m_eflags & FLAG_IF) != 0; }
    u32 iopl() const { return (m_eflags >> 12) & 3; }
    // Condition code cc (the low nibble of Jcc/SETcc).
    bool condition(unsigned cc) const {
        bool r = false;
        switch ((cc >> 1) & 7) {
        case 0:
            r = of();
            break;
        case 1:
            r = cf();
            break;
        case 2:
            r = zf();
            break;
        case 3:
            r = cf() || zf();
            break;
        case 4:
            r = sf();
            break;
        case 5:
            r = pf();
            break;
        case 6:
            r = sf() != of();
            break;
        case 7:
            r = zf() || (sf() != of());
            break;
        }
        return r != ((cc & 1) != 0);
    }

    template <typename T>
    void flags_add(T a, T b, T r) {
        m_lf = LazyFlags{a, b, r, FlagOp::Add, bits_of<T>()};
    }
    template <typename T>
    void flags_sub(T a, T b, T r) {
        m_lf = LazyFlags{a, b, r, FlagOp::Sub, bits_of<T>()};
    }
    template <typename T>
    void flags_logic(T r) {
        m_lf = LazyFlags{0, 0, r, FlagOp::Logic, bits_of<T>()};
    }
    template <typename T>
    void flags_inc(T a, T r) {
        keep_cf();
        m_lf = LazyFlags{a, 1, r, FlagOp::Inc, bits_of<T>()};
    }
    template <typename T>
    void flags_dec(T a, T r) {
        keep_cf();
        m_lf = LazyFlags{a, 1, r, FlagOp::Dec, bits_of<T>()};
    }
    // SF/ZF/PF from `r`; CF, OF and AF given (any other bits ignored).
    template <typename T>
    void flags_szp(T r, u32 cf_of_af) {
        m_eflags = (m_eflags & ~(FLAG_CF | FLAG_OF | FLAG_AF)) | (cf_of_af & (FLAG_CF | FLAG_OF | FLAG_AF));
        m_lf = LazyFlags{0, 0, r, FlagOp::Szp, bits_of<T>()};
    }
    // Sets the six arithmetic flags outright.
    void set_arith_flags(u32 f) {
        m_eflags = (m_eflags & ~FLAGS_ARITH) | (f & FLAGS_ARITH);
        m_lf.op = FlagOp::None;
    }
    u32 arith_flags() const { return lazy_arith_flags(m_lf, m_eflags); }
    // Sets or clears one arithmetic flag, keeping the others.
    void set_arith_flag(u32 bit, bool on) {
        u32 f = arith_flags();
        set_arith_flags(on ? (f | bit) : (f & ~bit));
    }

    // ---- Segments and system registers ------------------------------------
    SegmentCache const& segment(SegReg s) const { return m_seg[s]; }
    u16 selector(SegReg s) const { return m_seg[s].selector; }
    u32 segment_base(SegReg s) const { return m_seg[s].base; }
    // Real-mode load: selector and base change, limit and attributes stay.
    void set_segment_real(SegReg s, u16 selector);
    void set_segment_cache(SegReg s, SegmentCache const& cache);
    bool protected_mode() const { return (m_cr0 & CR0_PE) != 0; }
    bool v86_mode() const { return (m_eflags & FLAG_VM) != 0 && protected_mode(); }
    // Segment registers hold paragraph numbers (real mode and V86 mode).
    bool real_addressing() const { return !protected_mode() || (m_eflags & FLAG_VM); }
    bool code32() const { return m_code32; }
    bool stack32() const { return m_stack32; }
    // The current privilege level (SDM 5.5): 0 in real mode and right
    // after CR0.PE is set (whatever the low bits of the real-mode CS are),
    // then the RPL of the code segment loaded.
    u8 cpl() const { return protected_mode() ? m_cpl : 0; }
    u32 cr0() const { return m_cr0; }
    u32 cr2() const { return m_cr2; }
    u32 cr3() const { return m_cr3; }
    u32 cr4() const { return m_cr4; }
    void set_cr0(u32 v);
    // CR4 bits this CPU implements; MOV CR4 with any other bit is #GP(0).
    static constexpr u32 CR4_VALID = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PGE | CR4_PCE;
    // CLI and STI act on VIF instead of IF (SDM vol. 3, 20.3.2 and 20.4):
    // at IOPL < 3 in V86 mode with CR4.VME, or at CPL 3 in protected mode
    // with CR4.PVI. In V86 mode PUSHF, POPF and IRET follow VME too.
    bool virtual_interrupts() const {
        if (!protected_mode() || iopl() == 3) return false;
        if (m_eflags & FLAG_VM) return (m_cr4 & CR4_VME) != 0;
        return m_cpl == 3 && (m_cr4 & CR4_PVI) != 0;
    }
    TableRegister const& gdtr() const { return m_gdtr; }
    TableRegister const& idtr() const { return m_idtr; }
    void set_gdtr(TableRegister t) { m_gdtr = t; }
    void set_idtr(TableRegister t) { m_idtr = t; }
    SegmentCache const& ldtr() const { return m_ldtr; }
    SegmentCache const& tr() const { return m_tr; }

    // ---- Memory through segments --------------------------------------------
    // Linear address of an N-byte access at seg:offset after the limit and
    // type checks, or #GP(0) (#SS(0) for SS).
    template <unsigned N>
    Result<u32, Fault> linear(u8 s, u32 offset, bool write) const {
        SegmentCache const& sc = m_seg[s];
        u8 need = write ? PERM_W : PERM_R;
        if (!(m_perm[s] & need) || offset < m_lim_lo[s] || offset > m_lim_hi[s] ||
            m_lim_hi[s] - offset < N - 1) [[unlikely]]
            return segment_fault(s);
        return sc.base + offset;
    }
    template <typename T>
    Loaded<T> read(u8 s, u32 offset) {
        u32 lin = TRY(linear<sizeof(T)>(s, offset, false));
        return m_mmu.read<T>(lin);
    }
    template <typename T>
    Exec write(u8 s, u32 offset, T value) {
        u32 lin = TRY(linear<sizeof(T)>(s, offset, true));
        return m_mmu.write<T>(lin, value);
    }
    // Checks a write without doing it (read-modify-write, multi-part
    // stores): segment rules and paging, so the instruction faults before
    // it changes anything (a copy-on-write #PF restarts it cleanly).
    template <unsigned N>
    Exec check_write(u8 s, u32 offset) {
        u32 lin = TRY(linear<N>(s, offset, true));
        return m_mmu.probe_write(lin, N);
    }
    Mmu& mmu() { return m_mmu; }

    // ---- Operands -----------------------------------------------------------
    u32 ea(DecodedInsn const& insn) const {
        u32 off = m_regs[insn.base] + (m_regs[insn.index] << insn.scale) + insn.disp;
        return insn.addr32 ? off : (off & 0xFFFF);
    }
    template <typename T>
    Loaded<T> read_rm(DecodedInsn const& insn) {
        if (insn.mod == 3) return reg<T>(insn.rm);
        return read<T>(insn.seg, ea(insn));
    }
    template <typename T>
    Exec write_rm(DecodedInsn const& insn, T value) {
        if (insn.mod == 3) {
            set_reg<T>(insn.rm, value);
            return {};
        }
        return write<T>(insn.seg, ea(insn), value);
    }
    // Read of a read-modify-write destination: a write-protected
    // destination faults before anything changes.
    template <typename T>
    Loaded<T> read_rm_for_write(DecodedInsn const& insn) {
        if (insn.mod == 3) return reg<T>(insn.rm);
        u32 off = ea(insn);
        TRY(check_write<sizeof(T)>(insn.seg, off));
        return read<T>(insn.seg, off);
    }

    // ---- Stack ---------------------------------------------------------------
    u32 stack_mask() const { return m_stack32 ? 0xFFFF'FFFFu : 0xFFFFu; }
    u32 stack_pointer() const { return m_regs[REG_ESP] & stack_mask(); }
    void set_stack_pointer(u32 v) {
        m_regs[REG_ESP] = m_stack32 ? v : ((m_regs[REG_ESP] & 0xFFFF'0000u) | (v & 0xFFFF));
    }
    template <typename T>
    Exec push(T v) {
        u32 sp = (m_regs[REG_ESP] - sizeof(T)) & stack_mask();
        TRY(write<T>(SEG_SS, sp, v));
        set_stack_pointer(sp);
        return {};
    }
    template <typename T>
    Loaded<T> pop() {
        u32 sp = stack_pointer();
        T v = TRY(read<T>(SEG_SS, sp));
        set_stack_pointer(sp + sizeof(T));
        return v;
    }
    // Multi-part stack operations work on a local stack pointer and commit
    // it only when every part succeeded (faults stay precise).
    template <typename T>
    Exec push_at(u32& sp, T v) {
        u32 next = (sp - sizeof(T)) & stack_mask();
        TRY(write<T>(SEG_SS, next, v));
        sp = next;
        return {};
    }
    template <typename T>
    Loaded<T> pop_at(u32& sp) {
        T v = TRY(read<T>(SEG_SS, sp));
        sp = (sp + sizeof(T)) & stack_mask();
        return v;
    }

    // ---- Segment loads and control transfers (cpu.cpp) --------------------
    // MOV/POP Sreg, LDS..LGS: real-mode or protected-mode rules.
    Exec load_segment(SegReg s, u16 selector);
    // Near transfer: #GP(0) outside the CS limit; 16-bit operand size
    // truncates the target.
    Exec jump_near(u32 target, bool op32) {
        if (!op32) target &= 0xFFFF;
        if (target > m_seg[SEG_CS].limit) [[unlikely]]
            return Fault::gp(0);
        m_eip = target;
        return {};
    }
    // JMP/CALL far: code segments, call gates, TSS and task gates
    // (transfers.cpp, tasks.cpp).
    Exec far_jump(u16 selector, u32 offset, bool op32);
    Exec far_call(u16 selector, u32 offset, bool op32);
    Exec far_return(bool op32, u16 release);
    Exec interrupt_return(bool op32);

    // ---- Interrupts (interrupts.cpp) ---------------------------------------
    // Delivers `vector` through the IVT or IDT. `return_eip` is pushed;
    // `software` applies INT n's gate DPL check. Returns the fault raised
    // during delivery, if any (the caller escalates).
    Exec deliver(u8 vector, bool has_error, u32 error, u32 return_eip, bool software);
    // INT n in V86 mode (v86.cpp): through the 8086 program's vector table
    // when CR4.VME and the TSS redirection bitmap say so, else to the IDT
    // at IOPL 3 and #GP(0) below (SDM vol. 3, 20.3.3, table 20-2).
    Exec v86_software_interrupt(u8 vector, u32 return_eip);
    // The EFLAGS that POPF or IRET with the 16-bit `image` loads in V86
    // mode under CR4.VME at IOPL < 3 (IF goes to VIF, IF and IOPL stay), or
    // #GP(0) for an image with TF, or with IF while VIP is set (v86.cpp).
    Loaded<u32> v86_virtual_flags(u16 image) const;
    // An exception raised by the instruction that started at `fault_eip`,
    // with the double-fault and triple-fault rules (SDM 6.15, table 6-5).
    void raise_exception(Fault fault, u32 fault_eip);
    bool shutdown_pending() const { return m_shutdown; }
    u8 shutdown_vector() const { return m_shutdown_vector; }

    // ---- Port I/O -------------------------------------------------------------
    Exec check_io(Port port, unsigned size);
    u32 io_in(Port port, Width w);
    void io_out(Port port, Width w, u32 value);

    // ---- State used by handlers ---------------------------------------------
    u32 insn_start() const { return m_insn_start; }
    void halt() {
        m_halted = true;
        m_events = true;
    }
    // Blocks interrupts (and debug traps) until the next instruction ends.
    void inhibit_interrupts() {
        m_inhibit = 1;
        m_events = true;
    }
    // MOV SS / POP SS: interrupts and the single-step trap wait.
    void inhibit_interrupts_and_traps() {
        inhibit_interrupts();
        m_inhibit_debug = true;
    }
    void note_event() { m_events = true; }
    // Debuggers and tests: leave (or enter) the HLT state explicitly.
    void set_halted(bool h) {
        m_halted = h;
        m_events = true;
    }
    void set_cr(unsigned n, u32 v);
    u32 cr(unsigned n) const;
    u32 dr(unsigned n) const { return m_dr[n & 7]; }
    void set_dr(unsigned n, u32 v) { m_dr[n & 7] = v; }
    Result<u64, Fault> read_descriptor(u16 selector);
    Result<u64, Fault> read_descriptor_in(u16 selector, SegmentCache const& ldt);
    // Task switch (tasks.cpp, SDM vol. 3, 7.3) to the TSS `selector`
    // (descriptor `d`, already checked); `ret_eip` is saved in the old TSS.
    enum class TaskEntry : u8 { Jmp, Call, Iret, Interrupt };
    Exec task_switch(u16 selector, u64 d, TaskEntry how, u32 ret_eip);
    CpuEnvironment& env() { return m_env; }
    // A local APIC is present and globally enabled (CPUID.1:EDX.APIC).
    bool apic_enabled() const { return m_env.apic && (m_env.apic->apic_base() & (1u << 11)); }
    void set_gdtr_value(TableRegister t) { m_gdtr = t; }
    void set_ldtr(SegmentCache const& c) { m_ldtr = c; }
    void set_tr(SegmentCache const& c) { m_tr = c; }
    void set_nmi_blocked(bool b) { m_nmi_blocked = b; }
    // Builds the cache of a descriptor.
    static SegmentCache cache_from_descriptor(u16 selector, u64 descriptor);
    // Sets the accessed bit of a descriptor in memory.
    void mark_accessed(u16 selector, u64 descriptor);
    u64 rdtsc_value() const;
    Result<u64, Fault> read_msr(u32 index);
    Exec write_msr(u32 index, u64 value);
    Exec sysenter();
    Exec sysexit();

    // ---- x87 (fpu.h, exec_fpu.cpp) -------------------------------------------
    Fpu& fpu() { return m_fpu; }
    Fpu const& fpu() const { return m_fpu; }

protected:
    static constexpr u8 PERM_R = 1;
    static constexpr u8 PERM_W = 2;

    void keep_cf() {
        u32 c = cf() ? FLAG_CF : 0;
        m_eflags = (m_eflags & ~FLAG_CF) | c;
    }
    Fault segment_fault(u8 s) const { return s == SEG_SS ? Fault::ss(0) : Fault::gp(0); }
    // Recomputes the derived limit window and permissions of a segment.
    void refresh_segment(u8 s);
    void refresh_all_segments();
    // The only writers of m_cpl: the MMU's user/supervisor TLB follows.
    void set_cpl(u8 cpl);
    // Hands CR0.PG/WP, CR4.PSE and CR3 to the MMU (flushes the TLB).
    void update_paging();
    Exec load_cs_protected(u16 selector, u64 descriptor);
    void load_null(SegReg s, u16 selector);
    // Sets or clears EFLAGS.VM and re-derives the segment permissions.
    void set_vm(bool on);

    // transfers.cpp: privilege-changing far transfers.
    struct StackSnapshot {
        SegmentCache ss;
        u32 esp;
        u8 cpl;
    };
    StackSnapshot snapshot_stack() const;
    void restore_stack(StackSnapshot const& s);
    Exec tss_stack(u8 level, u16& ss, u32& esp);
    Result<SegmentCache, Fault> inner_stack_segment(u16 ss, u8 level, u32 ext);
    // Loads SS:ESP of `level` from the TSS and makes `level` the CPL.
    Exec switch_to_inner_stack(u8 level, u32 ext);
    Result<SegmentCache, Fault> outer_stack_segment(u16 ss, u8 level);
    Result<SegmentCache, Fault> check_return_cs(u16 selector, u64 d);
    Exec return_to_outer_level(u16 selector, u64 d, u32 offset, u32& sp, u8 rpl, bool op32);
    void null_invisible_segments();
    Exec through_call_gate(u16 gate_sel, u64 gate, bool call);
    // tasks.cpp
    Exec task_transfer(u16 selector, u64 d, TaskEntry how);
    Exec task_return();
    // v86.cpp
    Exec v86_iret(bool op32);
    Exec iret_to_v86(u32 eip, u16 cs, u32 flags, u32 sp);
    Loaded<bool> redirection_bit(u8 vector);
    Exec redirect_to_v86_handler(u8 vector, u32 return_eip);
    void reset_state();
    void visit_cpu_state(StateVisitor& v);

    CpuEnvironment m_env;
    bool m_events{true}; // something needs the slow instruction-boundary check
    Mmu m_mmu;

    u32 m_regs[9]{}; // EAX..EDI, then the always-zero slot REG_NONE
    u32 m_eip{0};
    u32 m_eflags{FLAG_FIXED1};
    LazyFlags m_lf{};
    SegmentCache m_seg[SEG_COUNT]{};
    // Derived from m_seg and the mode: offset window [lo, hi] and R/W bits.
    u32 m_lim_lo[SEG_COUNT]{};
    u32 m_lim_hi[SEG_COUNT]{};
    u8 m_perm[SEG_COUNT]{};
    bool m_code32{false};
    bool m_stack32{false};
    u8 m_cpl{0};

    u32 m_cr0{0};
    u32 m_cr2{0};
    u32 m_cr3{0};
    u32 m_cr4{0};
    u32 m_dr[8]{};
    u32 m_sysenter_cs{0};
    u32 m_sysenter_esp{0};
    u32 m_sysenter_eip{0};
    u64 m_misc_enable{0};
    u64 m_tsc_offset{0}; // TSC = clock + offset (WRMSR 0x10 moves it)
    TableRegister m_gdtr{};
    TableRegister m_idtr{};
    SegmentCache m_ldtr{};
    SegmentCache m_tr{};

    u32 m_insn_start{0};
    u8 m_inhibit{0}; // 1: the next instruction boundary takes no interrupt
    // MOV SS / POP SS also hold debug traps (single-step) for one
    // instruction (SDM vol. 3, 6.8.3).
    bool m_inhibit_debug{false};
    bool m_halted{false};
    bool m_nmi_pending{false};
    bool m_nmi_blocked{false};
    bool m_shutdown{false};
    u8 m_shutdown_vector{0};
    u64 m_icount{0};
    Fpu m_fpu;
};

} // namespace vsa
