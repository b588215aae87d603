// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/cpu/interpreter.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace vsa {

namespace {
// Byte masks for an instruction of length 0..15 over its two 64-bit words.
constexpr auto MASKS = [] {
    struct {
        u64 lo[16];
        u64 hi[16];
    } m{};
    for (unsigned n = 0; n < 16; ++n) {
        m.lo[n] = n >= 8 ? ~u64(0) : (u64(1) << (8 * n)) - 1;
        m.hi[n] = n <= 8 ? 0 : (u64(1) << (8 * (n - 8))) - 1;
    }
    return m;
}();
constexpr u64 const* MASK_LO = MASKS.lo;
constexpr u64 const* MASK_HI = MASKS.hi;
} // namespace

Interpreter::Interpreter(CpuEnvironment env)
    : Cpu(env), m_arena(std::make_unique<CachedInsn[]>(ARENA_ENTRIES)),
      m_lookup(std::make_unique<u16[]>(LOOKUP_SLOTS)) {}

void Interpreter::reset() {
    // The retired-instruction count is time for a deterministic clock: a
    // reset must not move it back.
    reset_state();
    m_fetch_page = ~0u;
    m_skip_breakpoint = false;
    m_single_step = false;
}

void Interpreter::raise_nmi() {
    m_nmi_pending = true;
    m_events = true;
}

void Interpreter::add_breakpoint(u32 linear) {
    if (std::find(m_breakpoints.begin(), m_breakpoints.end(), linear) == m_breakpoints.end())
        m_breakpoints.push_back(linear);
    m_events = true;
}

void Interpreter::remove_breakpoint(u32 linear) {
    std::erase(m_breakpoints, linear);
}

void Interpreter::visit_state(StateVisitor& v) {
    visit_cpu_state(v);
    // Boundary state between two instructions: a single-step trap owed for
    // the instruction that just ran with TF=1 (a save between slices must
    // not lose a #DB a guest debugger waits for).
    v.section("interpreter", 1);
    v.field("single_step", m_single_step);
    v.field("faulted", m_faulted);
    if (v.is_loading()) {
        m_fetch_page = ~0u;
        m_events = true;
    }
}

CpuExit Interpreter::run(u64 deadline_ns) {
    m_events = true;
    m_mmu.check_generation();
    for (;;) {
        if (take_exit_request()) return CpuExit{ExitReason::ExitRequested, 0};
        if (m_env.clock.now() >= deadline_ns) return CpuExit{ExitReason::Deadline, 0};
        for (unsigned n = 0; n < BATCH; ++n) {
            if (m_events) [[unlikely]] {
                if (auto exit = boundary()) return *exit;
            }
            execute_one();
        }
    }
}

// The slow instruction boundary: single-step trap of the previous
// instruction, NMI, INTR, halt, shutdown, breakpoints, trace.
std::optional<CpuExit> Interpreter::boundary() {
    m_events = false;
    if (m_shutdown) {
        m_events = true;
        return CpuExit{ExitReason::Shutdown, m_shutdown_vector};
    }
    // The single-step trap comes after the instruction that ran with TF=1
    // (SDM 17.3.1.4), before any external interrupt.
    // After MOV SS / POP SS the trap waits one more instruction (the TF
    // check below re-arms it).
    if (m_single_step && !m_inhibit_debug) {
        m_single_step = false;
        if (!m_faulted) {
            m_dr[6] |= DR6_BS;
            auto r = deliver(VEC_DB, false, 0, m_eip, false);
            if (!r) raise_exception(r.error(), m_eip);
        }
    }
    m_single_step = false;
    m_inhibit_debug = false;
    bool shadowed = m_inhibit != 0;
    if (shadowed) {
        m_inhibit = 0;
        m_events = true;
    }
    if (!shadowed && m_nmi_pending && !m_nmi_blocked) {
        m_nmi_pending = false;
        m_nmi_blocked = true;
        auto r = deliver(VEC_NMI, false, 0, m_eip, false);
        if (!r) raise_exception(r.error(), m_eip);
        m_halted = false;
        m_events = true;
    } else if (!shadowed && (m_eflags & FLAG_IF) && m_env.interrupts.intr_pending()) {
        u8 vector = m_env.interrupts.acknowledge();
        auto r = deliver(vector, false, 0, m_eip, false);
        if (!r) raise_exception(r.error(), m_eip);
        m_halted = false;
        m_events = true; // another one may be pending
    } else if (m_nmi_pending) {
        m_events = true;
    }
    if (m_shutdown) {
        m_events = true;
        return CpuExit{ExitReason::Shutdown, m_shutdown_vector};
    }
    if (m_halted) {
        m_events = true;
        return CpuExit{ExitReason::Halted, 0};
    }
    if (!m_breakpoints.empty()) {
        m_events = true;
        u32 lin = m_seg[SEG_CS].base + m_eip;
        if (std::find(m_breakpoints.begin(), m_breakpoints.end(), lin) != m_breakpoints.end()) {
            if (!m_skip_breakpoint) {
                m_skip_breakpoint = true;
                return CpuExit{ExitReason::Breakpoint, lin};
            }
        }
        m_skip_breakpoint = false;
    }
    if (m_eflags & FLAG_TF) {
        m_single_step = true;
        m_faulted = false;
        m_events = true;
    }
    if (m_trace) {
        m_events = true;
        trace_line(m_trace);
    }
    return std::nullopt;
}

void Interpreter::fetch_fault_or_decode(u32 start, DecodedInsn& insn, bool& ok) {
    // Slow fetch: near the end of the segment or of a page, or from a page
    // without a host pointer. Gather what the segment limit allows.
    SegmentCache const& cs = m_seg[SEG_CS];
    u8 buf[15];
    std::size_t n = 0;
    std::optional<Fault> fetch_fault;
    for (; n < sizeof buf; ++n) {
        u32 off = start + static_cast<u32>(n);
        if (off < start || off > cs.limit) break;
        auto b = m_mmu.read<u8>(cs.base + off);
        if (!b) {
            fetch_fault = b.error();
            break;
        }
        buf[n] = b.value();
    }
    DecodeStatus status = decode(buf, n, m_code32, insn);
    ok = status == DecodeStatus::Ok;
    if (ok) return;
    Fault f = Fault::gp(0);
    if (status == DecodeStatus::NeedMore && fetch_fault) f = *fetch_fault;
    m_eip = start;
    m_faulted = true;
    raise_exception(f, start);
}

void Interpreter::execute_one() {
    u32 start = m_eip;
    m_insn_start = start;
    SegmentCache const& cs = m_seg[SEG_CS];
    u32 lin = cs.base + start;
    u32 page = lin >> 12;
    if (page != m_fetch_page || m_fetch_flushes != m_mmu.epoch()) [[unlikely]] {
        m_fetch_host = m_mmu.code_page(lin);
        m_fetch_page = page;
        m_fetch_flushes = m_mmu.epoch();
    }
    DecodedInsn const* insn;
    if (m_fetch_host && (lin & 0xFFF) <= 0x1000 - DECODE_WINDOW && cs.limit >= 14 && start <= cs.limit - 14)
        [[likely]] {
        u8 const* p = m_fetch_host + (lin & 0xFFF);
        u64 lo, hi;
        std::memcpy(&lo, p, 8);
        std::memcpy(&hi, p + 8, 8);
        auto key = reinterpret_cast<std::uintptr_t>(p);
        std::uintptr_t tag = key | (m_code32 ? CODE32_TAG : 0);
        CachedInsn* e = &m_arena[m_predicted];
        if (e->tag != tag) [[unlikely]] {
            u16& slot = m_lookup[lookup_slot(key)];
            e = &m_arena[slot];
            if (e->tag != tag) {
                slot = m_alloc;
                e = &m_arena[m_alloc];
                m_alloc = static_cast<u16>((m_alloc + 1) & (ARENA_ENTRIES - 1));
                e->tag = 0; // decoded below
            }
            if (m_link_key == key) m_link_from->insn.cache_next = static_cast<u16>(e - m_arena.get());
        }
        unsigned cached_length = e->insn.length & 15u;
        if (e->tag != tag || (lo & MASK_LO[cached_length]) != e->bytes_lo ||
            (hi & MASK_HI[cached_length]) != e->bytes_hi) [[unlikely]] {
            ++m_decodes;
            unsigned length = decode_window(p, m_code32, e->insn);
            if (length > 15) [[unlikely]] {
                e->tag = 0;
                m_link_key = 0;
                m_eip = start;
                m_faulted = true;
                raise_exception(Fault::gp(0), start); // longer than 15 bytes
                ++m_icount;
                return;
            }
            e->tag = tag;
            e->bytes_lo = lo & MASK_LO[length];
            e->bytes_hi = hi & MASK_HI[length];
        }
        insn = &e->insn;
        m_predicted = insn->cache_next;
        m_link_from = e;
        m_link_key = key + insn->length;
        // The next entry is most likely the next line, but a line the
        // host evicted since: start loading it while this one runs.
        __builtin_prefetch(&m_arena[m_predicted]);
    } else {
        m_link_key = 0;
        bool ok = false;
        ++m_decodes;
        fetch_fault_or_decode(start, m_slow_insn, ok);
        if (!ok) {
            ++m_icount;
            return;
        }
        insn = &m_slow_insn;
    }
    m_eip = start + insn->length;
    Exec r = insn->handler(*this, *insn);
    ++m_icount;
    if (!r) [[unlikely]] {
        m_eip = start;
        m_faulted = true;
        raise_exception(r.error(), start);
    }
}

void Interpreter::trace_line(FILE* out) {
    SegmentCache const& cs = m_seg[SEG_CS];
    u8 buf[15];
    std::size_t n = 0;
    for (; n < sizeof buf; ++n) {
        u32 off = m_eip + static_cast<u32>(n);
        if (off > cs.limit) break;
        // A trace must not set accessed bits or touch MMIO.
        PhysAddr phys = 0;
        u8 const* page = m_mmu.peek_translate(cs.base + off, phys)
                             ? m_mmu.memory().host_read_page(phys & ~PhysAddr(0xFFF))
                             : nullptr;
        if (!page) break;
        buf[n] = page[phys & 0xFFF];
    }
    DecodedInsn insn;
    bool ok = decode(buf, n, m_code32, insn) == DecodeStatus::Ok;
    std::fprintf(out, "%04x:%08x ", cs.selector, m_eip);
    std::size_t shown = ok ? insn.length : std::min<std::size_t>(n, 4);
    for (std::size_t i = 0; i < 8; ++i) {
        if (i < shown)
            std::fprintf(out, "%02x", buf[i]);
        else
            std::fputs("  ", out);
    }
    std::fprintf(
        out, "%s %-9s eax=%08x ebx=%08x ecx=%08x edx=%08x esi=%08x edi=%08x ebp=%08x esp=%08x fl=%08x\n",
        shown > 8 ? "+" : " ", ok ? mnemonic(insn) : "??", m_regs[REG_EAX], m_regs[REG_EBX], m_regs[REG_ECX],
        m_regs[REG_EDX], m_regs[REG_ESI], m_regs[REG_EDI], m_regs[REG_EBP], m_regs[REG_ESP], eflags());
}

} // namespace vsa
