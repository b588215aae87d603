// SPDX-License-Identifier: GPL-2.0-or-later
// The 16550 driven through its ports on a manual clock: loopback, FIFO
// trigger levels, the character timeout, THRE interrupt rules, priorities,
// overrun, transmit timing and host-side flow control.
#include "hw/uart16550.h"

#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace vsa;
using vsa::test::FakeIrqLine;

namespace {

using U = Uart16550;

struct Rig {
    Clock clock{Clock::Mode::Manual};
    FakeIrqLine irq;
    BufferCharBackend host;
    Uart16550 uart{irq, clock, host};

    u8 in(u16 reg) { return static_cast<u8>(uart.io_read(reg, Width::Byte)); }
    void out(u16 reg, u8 value) { uart.io_write(reg, Width::Byte, value); }
    u8 iir() { return in(U::IIR_FCR)&0x0F; }
    // 115200 8N1: one character = 10 bits = 86805 ns.
    void set_115200_8n1() {
        out(U::LCR, U::LCR_DLAB);
        out(U::RBR_THR, 1);
        out(U::IER, 0);
        out(U::LCR, 0x03);
    }
    void feed(std::string const& text) {
        auto n = uart.receive({reinterpret_cast<u8 const*>(text.data()), text.size()});
        BOOST_REQUIRE_EQUAL(n, text.size());
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(uart16550)

BOOST_AUTO_TEST_CASE(reset_state) {
    Rig r;
    BOOST_TEST(r.in(U::IIR_FCR) == 0x01);
    BOOST_TEST(r.in(U::LSR) == 0x60);
    BOOST_TEST(r.in(U::IER) == 0);
    BOOST_TEST(r.in(U::LCR) == 0);
    BOOST_TEST(r.in(U::MCR) == 0);
    BOOST_TEST(!r.irq.level());
}

BOOST_AUTO_TEST_CASE(divisor_latch) {
    Rig r;
    r.out(U::IER, 0x05);
    r.out(U::LCR, 0x83);
    r.out(U::RBR_THR, 0x34);
    r.out(U::IER, 0x12);
    BOOST_TEST(r.in(U::RBR_THR) == 0x34);
    BOOST_TEST(r.in(U::IER) == 0x12);
    BOOST_TEST(r.uart.divisor() == 0x1234);
    r.out(U::LCR, 0x03);
    // DLAB off: offset 1 is IER again, unchanged by the DLM write.
    BOOST_TEST(r.in(U::IER) == 0x05);
    BOOST_TEST(r.in(U::LCR) == 0x03);
    // Divisor 1 at 8N1 is 115200 baud: 10 bits of 8.68 us.
    r.out(U::LCR, 0x83);
    r.out(U::RBR_THR, 1);
    r.out(U::IER, 0);
    r.out(U::LCR, 0x03);
    BOOST_TEST(r.uart.char_time_ns() == 86805u);
    // 7E2 at 9600: 1 + 7 + 1 + 2 = 11 bits.
    r.out(U::LCR, 0x83);
    r.out(U::RBR_THR, 12);
    r.out(U::LCR, 0x1E);
    BOOST_TEST(r.uart.char_time_ns() == 11ull * 12 * 16 * 1'000'000'000ull / 1'843'200);
}

BOOST_AUTO_TEST_CASE(scratch_register) {
    Rig r;
    r.out(U::SCR, 0xA5);
    BOOST_TEST(r.in(U::SCR) == 0xA5);
}

BOOST_AUTO_TEST_CASE(output_reaches_backend_after_char_time) {
    Rig r;
    r.set_115200_8n1();
    r.out(U::RBR_THR, 'H');
    // The byte moved into the shift register: THR empty, transmitter busy.
    BOOST_TEST((r.in(U::LSR) & (U::LSR_THRE | U::LSR_TEMT)) == U::LSR_THRE);
    r.out(U::RBR_THR, 'i');
    BOOST_TEST((r.in(U::LSR) & (U::LSR_THRE | U::LSR_TEMT)) == 0);
    BOOST_TEST(r.host.output().empty());
    r.clock.advance(86'804);
    BOOST_TEST(r.host.output().empty());
    r.clock.advance(1);
    BOOST_TEST(r.host.output() == "H");
    BOOST_TEST((r.in(U::LSR) & (U::LSR_THRE | U::LSR_TEMT)) == U::LSR_THRE);
    r.clock.advance(86'805);
    BOOST_TEST(r.host.output() == "Hi");
    BOOST_TEST((r.in(U::LSR) & (U::LSR_THRE | U::LSR_TEMT)) == (U::LSR_THRE | U::LSR_TEMT));
}

BOOST_AUTO_TEST_CASE(fifo_transmit_paced_and_never_lost) {
    Rig r;
    r.set_115200_8n1();
    r.out(U::IIR_FCR, 0x07);
    std::string text = "The quick brown fox jumps over the lazy dog"; // > 17 bytes
    for (char c : text)
        r.out(U::RBR_THR, static_cast<u8>(c));
    // Writing past the full FIFO pushed bytes out early instead of losing them.
    BOOST_TEST(r.uart.tx_overruns() > 0u);
    BOOST_TEST(r.host.output().size() == text.size() - 17);
    r.clock.advance(17 * 86'805);
    BOOST_TEST(r.host.output() == text);
    BOOST_TEST((r.in(U::LSR)&U::LSR_TEMT) != 0);
}

BOOST_AUTO_TEST_CASE(reset_flushes_pending_output) {
    Rig r;
    r.set_115200_8n1();
    r.out(U::IIR_FCR, 0x01);
    for (char c : std::string("bye"))
        r.out(U::RBR_THR, static_cast<u8>(c));
    r.uart.reset();
    BOOST_TEST(r.host.output() == "bye");
    BOOST_TEST(r.in(U::LSR) == 0x60);
}

BOOST_AUTO_TEST_CASE(loopback_round_trip) {
    Rig r;
    r.set_115200_8n1();
    r.out(U::IIR_FCR, 0x07);
    r.out(U::MCR, U::MCR_LOOP);
    for (char c : std::string("ping"))
        r.out(U::RBR_THR, static_cast<u8>(c));
    r.clock.advance(4 * 86'805);
    BOOST_TEST(r.host.output().empty()); // SOUT is held marking in loopback
    std::string got;
    while (r.in(U::LSR)&U::LSR_DR)
        got.push_back(static_cast<char>(r.in(U::RBR_THR)));
    BOOST_TEST(got == "ping");
    // Host input is refused while the serial input is disconnected.
    u8 const x = 'x';
    BOOST_TEST(r.uart.receive({&x, 1}) == 0u);
}

BOOST_AUTO_TEST_CASE(loopback_modem_lines) {
    Rig r;
    // What Linux's 8250 autoconfig checks: RTS|OUT2 in loopback reads back
    // as CTS|DCD.
    r.out(U::MCR, U::MCR_LOOP | U::MCR_RTS | U::MCR_OUT2);
    BOOST_TEST((r.in(U::MSR)&0xF0) == 0x90);
    r.out(U::MCR, U::MCR_LOOP | U::MCR_DTR | U::MCR_OUT1);
    u8 msr = r.in(U::MSR);
    BOOST_TEST((msr & 0xF0) == (U::MSR_DSR | U::MSR_RI));
    BOOST_TEST((msr & 0x0F) == (U::MSR_DCTS | U::MSR_DDSR | U::MSR_DDCD));
    BOOST_TEST((r.in(U::MSR)&0x0F) == 0); // deltas clear on read
    r.out(U::MCR, U::MCR_LOOP | U::MCR_DTR);
    BOOST_TEST((r.in(U::MSR)&0x0F) == U::MSR_TERI); // RI fell
}

BOOST_AUTO_TEST_CASE(out2_gates_irq) {
    Rig r;
    r.out(U::IER, U::IER_THRE);
    BOOST_TEST(!r.irq.level()); // INTRPT is up, but OUT2 keeps it off the bus
    r.out(U::MCR, U::MCR_OUT2);
    BOOST_TEST(r.irq.level());
    r.out(U::MCR, U::MCR_OUT2 | U::MCR_LOOP);
    BOOST_TEST(!r.irq.level());
}

BOOST_AUTO_TEST_CASE(thre_interrupt_sequence) {
    Rig r;
    r.set_115200_8n1();
    r.out(U::MCR, U::MCR_OUT2);
    BOOST_TEST(!r.irq.level());
    // Enabling ETBEI with THR empty raises THRE at once.
    r.out(U::IER, U::IER_THRE);
    BOOST_TEST(r.irq.level());
    // Reading IIR while it reports THRE acknowledges it.
    BOOST_TEST(r.iir() == U::IIR_THRE);
    BOOST_TEST(r.iir() == U::IIR_NONE);
    BOOST_TEST(!r.irq.level());
    // Writing the same IER again does not re-arm it; toggling does.
    r.out(U::IER, U::IER_THRE);
    BOOST_TEST(r.iir() == U::IIR_NONE);
    r.out(U::IER, 0);
    r.out(U::IER, U::IER_THRE);
    BOOST_TEST(r.iir() == U::IIR_THRE);
    // First byte goes straight to the shifter: THR is empty again.
    r.out(U::RBR_THR, 'a');
    BOOST_TEST(r.iir() == U::IIR_THRE);
    // A second byte waits in THR: no THRE until the first has left.
    r.out(U::RBR_THR, 'b');
    BOOST_TEST(r.iir() == U::IIR_NONE);
    BOOST_TEST(!r.irq.level());
    r.irq.clear_edges();
    r.clock.advance(86'805);
    BOOST_TEST(r.host.output() == "a");
    BOOST_TEST(r.irq.rising_edges() == 1u);
    BOOST_TEST(r.iir() == U::IIR_THRE);
    // Writing THR also clears it.
    r.out(U::RBR_THR, 'c');
    BOOST_TEST(r.iir() == U::IIR_NONE);
}

BOOST_AUTO_TEST_CASE(fifo_trigger_level_irq) {
    Rig r;
    r.set_115200_8n1();
    r.out(U::MCR, U::MCR_OUT2);
    r.out(U::IIR_FCR, 0x81); // FIFO on, trigger 8
    r.out(U::IER, U::IER_RDA);
    BOOST_TEST((r.in(U::IIR_FCR)&0xC0) == 0xC0);
    r.feed("1234567");
    BOOST_TEST(r.iir() == U::IIR_NONE);
    BOOST_TEST(!r.irq.level());
    r.feed("8");
    BOOST_TEST(r.iir() == U::IIR_RDA);
    BOOST_TEST(r.irq.level());
    (void)r.in(U::RBR_THR); // 7 left: below the trigger
    BOOST_TEST(r.iir() == U::IIR_NONE);
    BOOST_TEST(!r.irq.level());
    for (u8 trig : {0x01, 0x41, 0xC1}) {
        r.out(U::IIR_FCR, static_cast<u8>(trig | U::FCR_RX_RESET));
        unsigned level = trig == 0x01 ? 1 : trig == 0x41 ? 4 : 14;
        for (unsigned i = 1; i <= level; ++i) {
            BOOST_TEST(r.iir() == U::IIR_NONE);
            r.feed("x");
        }
        BOOST_TEST(r.iir() == U::IIR_RDA);
    }
}

BOOST_AUTO_TEST_CASE(character_timeout_irq) {
    Rig r;
    r.set_115200_8n1();
    r.out(U::MCR, U::MCR_OUT2);
    r.out(U::IIR_FCR, 0xC1); // trigger 14
    r.out(U::IER, U::IER_RDA);
    r.feed("ab");
    BOOST_TEST(r.iir() == U::IIR_NONE);
    r.clock.advance(4 * 86'805 - 1);
    BOOST_TEST(r.iir() == U::IIR_NONE);
    r.clock.advance(1);
    BOOST_TEST(r.iir() == U::IIR_TIMEOUT);
    BOOST_TEST(r.irq.level());
    // A read clears the timeout and restarts it for the byte still there.
    BOOST_TEST(r.in(U::RBR_THR) == 'a');
    BOOST_TEST(r.iir() == U::IIR_NONE);
    r.clock.advance(4 * 86'805);
    BOOST_TEST(r.iir() == U::IIR_TIMEOUT);
    BOOST_TEST(r.in(U::RBR_THR) == 'b');
    BOOST_TEST(r.iir() == U::IIR_NONE);
    r.clock.advance(10 * 86'805); // empty FIFO: no timeout
    BOOST_TEST(r.iir() == U::IIR_NONE);
    BOOST_TEST(!r.irq.level());
}

BOOST_AUTO_TEST_CASE(overrun_in_loopback) {
    Rig r;
    r.set_115200_8n1();
    r.out(U::IIR_FCR, 0x07);
    r.out(U::MCR, U::MCR_LOOP);
    for (int i = 0; i < 17; ++i)
        r.out(U::RBR_THR, static_cast<u8>('A' + i));
    r.clock.advance(17 * 86'805);
    u8 lsr = r.in(U::LSR);
    BOOST_TEST((lsr & U::LSR_OE) != 0);
    BOOST_TEST((lsr & U::LSR_DR) != 0);
    BOOST_TEST((r.in(U::LSR)&U::LSR_OE) == 0); // cleared by the read
    // The FIFO kept the first 16; the 17th was lost.
    std::string got;
    while (r.in(U::LSR)&U::LSR_DR)
        got.push_back(static_cast<char>(r.in(U::RBR_THR)));
    BOOST_TEST(got == "ABCDEFGHIJKLMNOP");

    // Without FIFO, the new byte overwrites RBR.
    r.out(U::IIR_FCR, 0);
    r.out(U::RBR_THR, '1');
    r.clock.advance(86'805);
    r.out(U::RBR_THR, '2');
    r.clock.advance(86'805);
    BOOST_TEST((r.in(U::LSR)&U::LSR_OE) != 0);
    BOOST_TEST(r.in(U::RBR_THR) == '2');
}

BOOST_AUTO_TEST_CASE(iir_priorities) {
    Rig r;
    r.set_115200_8n1();
    r.out(U::IIR_FCR, 0x07);
    r.out(U::MCR, U::MCR_LOOP);
    r.out(U::IER, 0x0F);
    // THRE (enabled with THR empty) and a modem status change pending:
    r.out(U::MCR, U::MCR_LOOP | U::MCR_RTS);
    BOOST_TEST(r.iir() == U::IIR_THRE);
    BOOST_TEST(r.iir() == U::IIR_MSI); // THRE acknowledged, MSI next
    // Fill past the FIFO: RX data and line status (overrun) both pending.
    for (int i = 0; i < 17; ++i)
        r.out(U::RBR_THR, 'z');
    r.clock.advance(17 * 86'805);
    BOOST_TEST(r.iir() == U::IIR_RLS);
    (void)r.in(U::LSR);
    BOOST_TEST(r.iir() == U::IIR_RDA);
    while (r.in(U::LSR)&U::LSR_DR)
        (void)r.in(U::RBR_THR);
    // The transmitter emptied meanwhile: THRE again, then the modem status.
    BOOST_TEST(r.iir() == U::IIR_THRE);
    BOOST_TEST(r.iir() == U::IIR_MSI);
    (void)r.in(U::MSR);
    BOOST_TEST(r.iir() == U::IIR_NONE);
}

BOOST_AUTO_TEST_CASE(break_reported_with_its_character) {
    Rig r;
    r.set_115200_8n1();
    r.out(U::IIR_FCR, 0x01);
    r.out(U::IER, U::IER_RLS);
    r.feed("a");
    BOOST_TEST(r.uart.receive_break());
    u8 lsr = r.in(U::LSR);
    BOOST_TEST((lsr & U::LSR_BI) == 0);         // the break is not at the top yet
    BOOST_TEST((lsr & U::LSR_FIFO_ERROR) != 0); // but it is in the FIFO
    BOOST_TEST(r.in(U::RBR_THR) == 'a');
    BOOST_TEST(r.iir() == U::IIR_RLS);
    lsr = r.in(U::LSR);
    BOOST_TEST((lsr & U::LSR_BI) != 0);
    BOOST_TEST(r.in(U::RBR_THR) == 0);
    BOOST_TEST((r.in(U::LSR) & (U::LSR_BI | U::LSR_FIFO_ERROR | U::LSR_DR)) == 0);
}

BOOST_AUTO_TEST_CASE(receive_flow_control) {
    Rig r;
    // Without FIFO only RBR: one byte at a time.
    std::vector<u8> data(40);
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<u8>(i);
    BOOST_TEST(r.uart.receive(data) == 1u);
    BOOST_TEST(r.uart.receive(data) == 0u);
    BOOST_TEST((r.in(U::LSR)&U::LSR_OE) == 0); // host input never overruns
    BOOST_TEST(r.in(U::RBR_THR) == 0);
    r.out(U::IIR_FCR, 0x01);
    BOOST_TEST(r.uart.receive(data) == 16u);
    BOOST_TEST(r.uart.rx_space() == 0u);
    BOOST_TEST(r.uart.receive(std::span(data).subspan(16)) == 0u);
    (void)r.in(U::RBR_THR);
    BOOST_TEST(r.uart.receive(std::span(data).subspan(16)) == 1u);
}

BOOST_AUTO_TEST_CASE(pull_input_from_backend) {
    Rig r;
    r.out(U::IIR_FCR, 0x01);
    std::string text = "hello, serial world: more than sixteen bytes";
    r.host.push_input(text);
    r.uart.pull_input();
    BOOST_TEST(r.host.input_waiting() == text.size() - 16);
    // Reading makes room, and the UART refills itself from the backend.
    std::string got;
    while (r.in(U::LSR)&U::LSR_DR)
        got.push_back(static_cast<char>(r.in(U::RBR_THR)));
    BOOST_TEST(got == text);
    BOOST_TEST(r.host.input_waiting() == 0u);
}

BOOST_AUTO_TEST_CASE(modem_status_interrupt) {
    Rig r;
    r.out(U::MCR, U::MCR_OUT2);
    r.out(U::IER, U::IER_MSI);
    BOOST_TEST(!r.irq.level());
    r.uart.set_modem_inputs(U::MSR_DSR | U::MSR_DCD); // CTS dropped
    BOOST_TEST(r.irq.level());
    BOOST_TEST(r.iir() == U::IIR_MSI);
    BOOST_TEST(r.in(U::MSR) == (U::MSR_DSR | U::MSR_DCD | U::MSR_DCTS));
    BOOST_TEST(!r.irq.level());
}

BOOST_AUTO_TEST_CASE(non_byte_access_ignored) {
    Rig r;
    r.out(U::SCR, 0x11);
    r.uart.io_write(U::SCR, Width::Word, 0xFFFF);
    BOOST_TEST(r.uart.io_read(U::SCR, Width::Dword) == 0xFFFF'FFFFu);
    BOOST_TEST(r.in(U::SCR) == 0x11);
    BOOST_TEST(r.uart.ignored_accesses() == 2u);
}

BOOST_AUTO_TEST_CASE(random_registers) {
    Rig r;
    for (u32 seed = 1; seed <= 4; ++seed) {
        test::random_register_loop(r.uart, 8, 5000, seed);
        r.clock.advance(1'000'000);
        u8 const junk[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18};
        (void)r.uart.receive(junk);
        (void)r.uart.receive_break();
        r.uart.set_modem_inputs(static_cast<u8>(seed << 4));
    }
}

BOOST_AUTO_TEST_CASE(save_load_save) {
    Rig a;
    a.set_115200_8n1();
    a.out(U::IIR_FCR, 0x87);
    a.out(U::IER, 0x0F);
    a.out(U::MCR, U::MCR_OUT2 | U::MCR_DTR);
    a.out(U::SCR, 0x5A);
    a.feed("abcdefgh"); // at the trigger level: RX data interrupt
    (void)a.uart.receive_break();
    for (char c : std::string("xyz"))
        a.out(U::RBR_THR, static_cast<u8>(c));
    BOOST_TEST(a.irq.level());

    Rig b;
    test::check_save_load_save(a.uart, b.uart);
    BOOST_TEST(b.irq.level());
    BOOST_TEST(b.in(U::SCR) == 0x5A);
    // The restored transmitter keeps going on its own timer.
    b.clock.advance(10 * 86'805);
    BOOST_TEST(b.host.output() == "xyz");
    BOOST_TEST(b.in(U::RBR_THR) == 'a');

    Rig c;
    test::check_bad_streams_fail(a.uart, c.uart);
    test::random_register_loop(c.uart, 8, 2000);
    c.clock.advance(100'000'000);
}

BOOST_AUTO_TEST_CASE(inconsistent_stream_rejected) {
    // A FIFO longer than the mode allows: saved with FIFO on, fcr patched off.
    Rig a;
    a.out(U::IIR_FCR, 0x01);
    a.feed("abcd");
    auto bytes = test::save_state(a.uart);
    // Find the "fcr" field value: tag, len 3, "fcr", u32 size 1, value.
    std::string const needle = "fcr";
    auto it = std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end());
    BOOST_REQUIRE(it != bytes.end());
    auto value_at = (it - bytes.begin()) + 3 + 4;
    bytes[static_cast<std::size_t>(value_at)] = 0;
    Rig b;
    auto loader = StateVisitor::loader(bytes);
    b.uart.visit_state(loader);
    BOOST_TEST(!loader.ok());
    BOOST_TEST((b.in(U::LSR)&U::LSR_DR) == 0); // the FIFOs were not replaced
}

BOOST_AUTO_TEST_SUITE_END()
