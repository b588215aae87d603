// SPDX-License-Identifier: GPL-2.0-or-later
// The x87 register file (SDM vol. 1, 8.1): registers, TOP, tag, control
// and status words, the last-instruction pointers, FERR#/IGNNE# and the
// saved state. The arithmetic is in fpu.cpp.
#include "hypervisor/cpu/fpu.h"

#include "hypervisor/io/irq.h"
#include "hypervisor/io/state_visitor.h"

namespace vsa {

using namespace x87;

void Fpu::reset() {
    for (auto& r : m_regs)
        r = ZERO;
    m_cw = 0x0040;
    m_sw = 0;
    m_top = 0;
    m_empty = 0;
    fip = fdp = 0;
    fcs = fds = fop = 0;
    m_ignne = false;
    if (m_ferr && m_ferr_line) m_ferr_line->set_level(false);
    m_ferr = false;
}

void Fpu::init() {
    m_cw = 0x037F;
    m_sw = 0;
    m_top = 0;
    m_empty = 0xFF;
    fip = fdp = 0;
    fcs = fds = fop = 0;
    error_cleared();
}

void Fpu::set_control(u16 cw) {
    // Bit 6 reads as 1 and bits 7, 13-15 as 0 on the 387 and later.
    m_cw = static_cast<u16>((cw & 0x1F3F) | 0x0040);
    set_status(status());
}

u16 Fpu::status() const {
    return static_cast<u16>((m_sw & ~SW_TOP) | (u16(m_top) << 11));
}

void Fpu::set_status(u16 sw) {
    m_top = (sw >> 11) & 7;
    m_sw = static_cast<u16>(sw & ~(SW_TOP | SW_ES | SW_B));
    // ES (and B) summarize the unmasked exception flags.
    if (m_sw & SW_EXC & ~masks())
        m_sw |= SW_ES | SW_B;
    else
        error_cleared();
}

u16 Fpu::tag_word() const {
    u16 t = 0;
    for (unsigned p = 0; p < 8; ++p) {
        u16 tag = 3;
        if (!reg_empty(p)) {
            Class c = classify(m_regs[p]);
            tag = c == Class::Normal ? 0 : c == Class::Zero ? 1 : 2;
        }
        t |= static_cast<u16>(tag << (2 * p));
    }
    return t;
}

void Fpu::set_tag_word(u16 tags) {
    m_empty = 0;
    for (unsigned p = 0; p < 8; ++p)
        if (((tags >> (2 * p)) & 3) == 3) m_empty |= static_cast<u8>(1u << p);
}

Env Fpu::env(bool reg_dest) const {
    static constexpr u8 PRECISION[4] = {24, 64, 53, 64}; // 01 is reserved: treated as 64
    return Env{rounding(), PRECISION[(m_cw >> 8) & 3], masks(), reg_dest};
}

bool Fpu::raise(u16 exc) {
    m_sw |= exc & (SW_EXC | SW_SF);
    if (exc & SW_EXC & ~masks()) {
        m_sw |= SW_ES | SW_B;
        return true;
    }
    return false;
}

bool Fpu::stack_overflow() {
    set_c1(true);
    return !raise(SW_IE | SW_SF);
}

bool Fpu::stack_underflow() {
    set_c1(false);
    return !raise(SW_IE | SW_SF);
}

void Fpu::assert_ferr() {
    if (m_ferr) return;
    m_ferr = true;
    if (m_ferr_line) m_ferr_line->set_level(true);
}

void Fpu::port_f0_write() {
    // The PC's FERR# latch: a write to F0h clears IRQ13 and asserts
    // IGNNE#, so the waiting instruction proceeds despite ES.
    if (m_ferr && m_ferr_line) m_ferr_line->set_level(false);
    m_ferr = false;
    if (error_pending()) m_ignne = true;
}

void Fpu::error_cleared() {
    m_sw &= static_cast<u16>(~(SW_ES | SW_B));
    m_ignne = false;
}

void Fpu::visit_state(StateVisitor& v) {
    for (unsigned p = 0; p < 8; ++p) {
        std::string n = "st" + std::to_string(p);
        v.field(n + ".sig", m_regs[p].sig);
        v.field(n + ".se", m_regs[p].se);
    }
    v.field("fcw", m_cw);
    v.field("fsw", m_sw);
    v.field("ftop", m_top);
    v.field("fempty", m_empty);
    v.field("fip", fip);
    v.field("fcs", fcs);
    v.field("fop", fop);
    v.field("fdp", fdp);
    v.field("fds", fds);
    v.field("ferr", m_ferr);
    v.field("ignne", m_ignne);
    if (v.is_loading() && v.ok()) {
        m_top &= 7;
        m_cw = static_cast<u16>((m_cw & 0x1F3F) | 0x0040);
        fop &= 0x7FF;
    }
}

} // namespace vsa
