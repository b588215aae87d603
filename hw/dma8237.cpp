// SPDX-License-Identifier: GPL-2.0-or-later
// ISA DMA controller pair. See dma8237.h.
#include "hw/dma8237.h"

#include "hypervisor/io/io_bus.h"

namespace vsa {

namespace {

// Controller registers (master: port = reg; slave: port = C0h + 2 * reg).
constexpr unsigned REG_STATUS_COMMAND = 8;
constexpr unsigned REG_REQUEST = 9;
constexpr unsigned REG_SINGLE_MASK = 0xA;
constexpr unsigned REG_MODE = 0xB;
constexpr unsigned REG_CLEAR_FLIP_FLOP = 0xC;
constexpr unsigned REG_MASTER_CLEAR = 0xD; // reads: the temporary register
constexpr unsigned REG_CLEAR_MASK = 0xE;
constexpr unsigned REG_ALL_MASK = 0xF;

constexpr u8 COMMAND_DISABLE = 0x04;
constexpr u8 MODE_AUTO_INIT = 0x10;
constexpr u8 MODE_DECREMENT = 0x20;

constexpr Port SLAVE_BASE = 0xC0;
constexpr unsigned SLAVE_PORTS = 0x20;

// Page register port of each channel (PC/AT layout; 8Fh is channel 4's,
// which only the refresh logic of old boards used).
constexpr std::array<Port, Dma8237::CHANNELS> PAGE_PORT{0x87, 0x83, 0x81, 0x82, 0x8F, 0x8B, 0x89, 0x8A};

// The passes run() makes when servicing a channel grants another one; a
// client that keeps its DREQ up without moving anything cannot spin.
constexpr unsigned MAX_RUN_PASSES = 16;

} // namespace

void Dma8237::reset() {
    // Reset (8237A datasheet, "Initialize"): command, status, request,
    // temporary and flip-flop cleared, all masks set. The address, count,
    // mode and page registers are not touched by RESET on the chip, but a
    // power-on leaves them undefined; zeros are as good as anything.
    for (auto& ch : m_ch) {
        bool dreq = ch.dreq; // the device's line, not ours to reset
        ch = Channel{};
        ch.dreq = dreq;
    }
    for (auto& c : m_ctl)
        c = Controller{};
}

bool Dma8237::map_ports(IoBus& io) {
    bool ok = io.map(0x00, 0x10, *this, WIDTH_8, 0x00);
    ok = io.map(SLAVE_BASE, SLAVE_PORTS, *this, WIDTH_8, SLAVE_BASE) && ok;
    for (Port p : PAGE_PORT)
        ok = io.map(p, 1, *this, WIDTH_8, p) && ok;
    return ok;
}

void Dma8237::attach(unsigned channel, DmaClient* client) {
    m_clients[channel & 7] = client;
}

PhysAddr Dma8237::current_address(unsigned channel) const {
    Channel const& ch = m_ch[channel & 7];
    if (channel < 4) return (PhysAddr(ch.page) << 16) | ch.address;
    // 16-bit channels: the address register counts words (A16-A1), the
    // page register gives A23-A17 (its bit 0 is not used).
    return (PhysAddr(ch.page & 0xFE) << 16) | (PhysAddr(ch.address) << 1);
}

u32 Dma8237::remaining(unsigned channel) const {
    u32 units = u32(m_ch[channel & 7].count) + 1;
    return channel < 4 ? units : units * 2;
}

bool Dma8237::granted(unsigned n) const {
    Channel const& ch = m_ch[n];
    Controller const& c = m_ctl[n >> 2];
    if (c.command & COMMAND_DISABLE) return false;
    if (masked(n)) return false;
    if (static_cast<Mode>(ch.mode >> 6) == Mode::Cascade) return false;
    return ch.dreq || ((c.request >> (n & 3)) & 1);
}

void Dma8237::run() {
    if (m_running) {
        // A client raised another DREQ (or the guest's write came from a
        // callback): the outer loop looks again.
        m_run_again = true;
        return;
    }
    m_running = true;
    for (unsigned pass = 0; pass < MAX_RUN_PASSES; ++pass) {
        m_run_again = false;
        for (unsigned n = 0; n < CHANNELS; ++n)
            if (m_clients[n] && granted(n)) m_clients[n]->dma_service(*this, n);
        if (!m_run_again) break;
    }
    m_running = false;
}

void Dma8237::set_dreq(unsigned channel, bool level) {
    Channel& ch = m_ch[channel & 7];
    if (ch.dreq == level) return;
    ch.dreq = level;
    if (level) run();
}

bool Dma8237::step(unsigned n) {
    Channel& ch = m_ch[n];
    Controller& c = m_ctl[n >> 2];
    ch.address = static_cast<u16>(ch.mode & MODE_DECREMENT ? ch.address - 1 : ch.address + 1);
    if (ch.count-- != 0) return false;
    // Terminal count: the count went from 0 to FFFFh.
    c.status |= static_cast<u8>(1u << (n & 3));
    c.request &= static_cast<u8>(~(1u << (n & 3)));
    if (ch.mode & MODE_AUTO_INIT) {
        ch.address = ch.base_address;
        ch.count = ch.base_count;
    } else {
        c.mask |= static_cast<u8>(1u << (n & 3));
    }
    return true;
}

template <typename Move>
Dma8237::Moved Dma8237::transfer(unsigned channel, std::size_t bytes, Move move) {
    Moved moved;
    unsigned n = channel & 7;
    if (!granted(n)) {
        count_ignored();
        return moved;
    }
    unsigned unit = n < 4 ? 1 : 2;
    while (moved.bytes + unit <= bytes) {
        move(current_address(n), moved.bytes, unit);
        moved.bytes += unit;
        if (step(n)) {
            moved.terminal_count = true;
            break;
        }
    }
    return moved;
}

Dma8237::Moved Dma8237::write_memory(unsigned channel, std::span<u8 const> data) {
    Transfer type = transfer_type(channel);
    return transfer(channel, data.size(), [&](PhysAddr addr, std::size_t at, unsigned unit) {
        if (type != Transfer::Write) return; // verify (or a device/mode mismatch): no MEMW
        if (!m_memory.write_bytes(addr, data.subspan(at, unit))) count_ignored();
    });
}

Dma8237::Moved Dma8237::read_memory(unsigned channel, std::span<u8> out) {
    Transfer type = transfer_type(channel);
    return transfer(channel, out.size(), [&](PhysAddr addr, std::size_t at, unsigned unit) {
        auto bytes = out.subspan(at, unit);
        if (type == Transfer::Read && m_memory.read_bytes(addr, bytes)) return;
        if (type == Transfer::Read) count_ignored();
        for (auto& b : bytes)
            b = 0xFF;
    });
}

u32 Dma8237::io_read(u16 port, Width width) {
    if (width != Width::Byte) {
        count_ignored();
        return width_mask(width);
    }
    for (unsigned n = 0; n < CHANNELS; ++n)
        if (port == PAGE_PORT[n]) return m_ch[n].page;
    if (port < 0x10) return read_controller(0, port);
    if (port >= SLAVE_BASE && port < SLAVE_BASE + SLAVE_PORTS)
        return read_controller(1, (port - SLAVE_BASE) >> 1);
    count_ignored();
    return 0xFF;
}

void Dma8237::io_write(u16 port, Width width, u32 value) {
    if (width != Width::Byte) {
        count_ignored();
        return;
    }
    for (unsigned n = 0; n < CHANNELS; ++n)
        if (port == PAGE_PORT[n]) {
            m_ch[n].page = static_cast<u8>(value);
            return;
        }
    if (port < 0x10) return write_controller(0, port, static_cast<u8>(value));
    if (port >= SLAVE_BASE && port < SLAVE_BASE + SLAVE_PORTS)
        return write_controller(1, (port - SLAVE_BASE) >> 1, static_cast<u8>(value));
    count_ignored();
}

u8 Dma8237::read_controller(unsigned c, unsigned reg) {
    Controller& ctl = m_ctl[c];
    if (reg < 8) {
        Channel& ch = m_ch[c * 4 + reg / 2];
        u16 v = reg & 1 ? ch.count : ch.address;
        bool high = ctl.flip_flop;
        ctl.flip_flop = !ctl.flip_flop;
        return static_cast<u8>(high ? v >> 8 : v);
    }
    switch (reg) {
    case REG_STATUS_COMMAND: {
        // Bits 4-7: a request pending (DREQ or software); reading clears
        // the terminal count bits.
        u8 requests = ctl.request;
        for (unsigned i = 0; i < 4; ++i)
            if (m_ch[c * 4 + i].dreq) requests |= static_cast<u8>(1u << i);
        u8 status = static_cast<u8>((ctl.status & 0x0F) | (requests << 4));
        ctl.status &= 0xF0;
        return status;
    }
    case REG_MASTER_CLEAR:
        return ctl.temporary;
    case REG_ALL_MASK:
        // The PIIX reads the mask bits back here (the 8237A does not);
        // Linux's DMA code never reads it, a guest that does gets them.
        return static_cast<u8>(0xF0 | ctl.mask);
    default:
        // Write-only registers.
        count_ignored();
        return 0xFF;
    }
}

void Dma8237::write_controller(unsigned c, unsigned reg, u8 value) {
    Controller& ctl = m_ctl[c];
    if (reg < 8) {
        // Programming a channel writes its base and current register, low
        // byte first (the flip-flop selects which).
        Channel& ch = m_ch[c * 4 + reg / 2];
        u16& base = reg & 1 ? ch.base_count : ch.base_address;
        u16& current = reg & 1 ? ch.count : ch.address;
        base = ctl.flip_flop ? static_cast<u16>((base & 0x00FF) | (value << 8))
                             : static_cast<u16>((base & 0xFF00) | value);
        current = base;
        ctl.flip_flop = !ctl.flip_flop;
        return;
    }
    unsigned n = c * 4 + (value & 3);
    u8 bit = static_cast<u8>(1u << (value & 3));
    switch (reg) {
    case REG_STATUS_COMMAND:
        ctl.command = value;
        break;
    case REG_REQUEST:
        ctl.request = value & 4 ? static_cast<u8>(ctl.request | bit) : static_cast<u8>(ctl.request & ~bit);
        break;
    case REG_SINGLE_MASK:
        ctl.mask = value & 4 ? static_cast<u8>(ctl.mask | bit) : static_cast<u8>(ctl.mask & ~bit);
        break;
    case REG_MODE:
        m_ch[n].mode = static_cast<u8>(value & 0xFC);
        break;
    case REG_CLEAR_FLIP_FLOP:
        ctl.flip_flop = false;
        return;
    case REG_MASTER_CLEAR:
        ctl.command = 0;
        ctl.status = 0;
        ctl.request = 0;
        ctl.temporary = 0;
        ctl.flip_flop = false;
        ctl.mask = 0x0F;
        return;
    case REG_CLEAR_MASK:
        ctl.mask = 0;
        break;
    case REG_ALL_MASK:
        ctl.mask = value & 0x0F;
        break;
    default:
        count_ignored();
        return;
    }
    // An unmask, a software request or an enabled controller may grant a
    // channel whose device is waiting.
    run();
}

void Dma8237::visit_state(StateVisitor& v) {
    v.section("dma8237", 1);
    for (auto& ch : m_ch) {
        v.field("base_address", ch.base_address);
        v.field("base_count", ch.base_count);
        v.field("address", ch.address);
        v.field("count", ch.count);
        v.field("mode", ch.mode);
        v.field("page", ch.page);
        // The device's DREQ line: saved here so a restore never has to
        // re-raise it (which would run a transfer before RAM is loaded).
        v.field("dreq", ch.dreq);
    }
    for (auto& c : m_ctl) {
        v.field("command", c.command);
        v.field("status", c.status);
        v.field("request", c.request);
        v.field("mask", c.mask);
        v.field("temporary", c.temporary);
        v.field("flip_flop", c.flip_flop);
    }
    if (!v.is_loading() || !v.ok()) return;
    for (auto& ch : m_ch)
        ch.mode &= 0xFC;
    for (auto& c : m_ctl) {
        c.request &= 0x0F;
        c.mask &= 0x0F;
    }
}

void Dma8237::post_load() {
    // Nothing derived: a request pending on a granted channel is serviced
    // at the next port write or DREQ change, not during the load (guest RAM
    // is restored after the devices).
}

} // namespace vsa
