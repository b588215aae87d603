// SPDX-License-Identifier: GPL-2.0-or-later
// Virtual Server key identifiers to PS/2 set 2 (services/worker/
// key_identifiers.h): the whole table against the reference's list and
// against the console's keysym table (an independent source for the keys
// both know), the special keys, and the two string forms with their errors.
#include "appliance/console/keysym_scancode.h"
#include "services/worker/key_identifiers.h"

#include <boost/test/unit_test.hpp>

#include <random>
#include <set>
#include <string>
#include <vector>

using namespace vsa;
using namespace vsa::services::keys;
using Bytes = std::vector<u8>;

namespace {

Key key(std::string_view name) {
    auto found = find_key(name);
    BOOST_TEST_REQUIRE(found.has_value(), name);
    return *found;
}

KeyStep tap(std::string_view name) {
    return {KeyStep::Kind::Tap, key(name)};
}
KeyStep press(std::string_view name) {
    return {KeyStep::Kind::Press, key(name)};
}
KeyStep release(std::string_view name) {
    return {KeyStep::Kind::Release, key(name)};
}

} // namespace

BOOST_AUTO_TEST_SUITE(key_identifiers)

BOOST_AUTO_TEST_CASE(the_reference_list) {
    // vs-api.md 8.2, in its order: 103 identifiers, each a different key.
    std::string const reference =
        "Key_Escape Key_F1 Key_F2 Key_F3 Key_F4 Key_F5 Key_F6 Key_F7 Key_F8 Key_F9 Key_F10 Key_F11 Key_F12 "
        "Key_SysReq Key_ScrollLock Key_Break Key_LeftApostrophe Key_1 Key_2 Key_3 Key_4 Key_5 Key_6 Key_7 "
        "Key_8 Key_9 Key_0 Key_Hyphen Key_Equals Key_Backspace Key_Insert Key_Home Key_PageUp Key_NumLock "
        "KeyPad_Divide KeyPad_Multiply KeyPad_Minus Key_Tab Key_Q Key_W Key_E Key_R Key_T Key_Y Key_U Key_I "
        "Key_O Key_P Key_LeftBracket Key_RightBracket Key_Backslash Key_Delete Key_End Key_PageDown KeyPad_7 "
        "KeyPad_8 KeyPad_9 KeyPad_Plus Key_A Key_S Key_D Key_F Key_G Key_H Key_J Key_K Key_L Key_SemiColon "
        "Key_SingleQuote Key_Enter KeyPad_4 KeyPad_5 KeyPad_6 Key_LeftShift Key_Z Key_X Key_C Key_V Key_B "
        "Key_N Key_M Key_Comma Key_Period Key_Slash Key_RightShift Key_Up KeyPad_1 KeyPad_2 KeyPad_3 "
        "KeyPad_Enter Key_LeftCtrl Key_LeftWindows Key_LeftAlt Key_Space Key_RightAlt Key_RightWindows "
        "Key_RightCtrl Key_Application Key_Left Key_Down Key_Right KeyPad_0 KeyPad_DecimalPoint";
    std::vector<std::string> names;
    for (std::size_t at = 0; at < reference.size();) {
        auto space = reference.find(' ', at);
        if (space == std::string::npos) space = reference.size();
        names.push_back(reference.substr(at, space - at));
        at = space + 1;
    }
    BOOST_TEST(names.size() == 103u);
    BOOST_TEST_REQUIRE(key_table().size() == names.size());
    std::set<Bytes> makes;
    for (std::size_t i = 0; i < names.size(); ++i) {
        BOOST_TEST(key_table()[i].name == names[i]);
        Key k = key(names[i]);
        BOOST_TEST(k.index == i);
        BOOST_TEST(key_name(k) == names[i]);
        BOOST_TEST(makes.insert(scancodes(k, true)).second, names[i] << " shares its make code");
    }
}

BOOST_AUTO_TEST_CASE(lookup_ignores_case_and_takes_the_examples_spelling) {
    BOOST_TEST(key("key_a").index == key("Key_A").index);
    BOOST_TEST(key("KEYPAD_ENTER").index == key("KeyPad_Enter").index);
    BOOST_TEST(key("Key_Left_Shift").index == key("Key_LeftShift").index);
    for (std::string_view bad :
         {"", "A", "Key_", "Key_AA", "Key_F13", " Key_A", "Key_A\n", "DOWN", "Key_Left_Ctrl"})
        BOOST_TEST(!find_key(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(make_and_break_codes) {
    BOOST_TEST(scancodes(key("Key_A"), true) == (Bytes{0x1C}));
    BOOST_TEST(scancodes(key("Key_A"), false) == (Bytes{0xF0, 0x1C}));
    BOOST_TEST(scancodes(key("Key_Escape"), true) == (Bytes{0x76}));
    BOOST_TEST(scancodes(key("Key_F7"), true) == (Bytes{0x83}));
    BOOST_TEST(scancodes(key("Key_Enter"), false) == (Bytes{0xF0, 0x5A}));
    BOOST_TEST(scancodes(key("KeyPad_Enter"), true) == (Bytes{0xE0, 0x5A}));
    BOOST_TEST(scancodes(key("KeyPad_Enter"), false) == (Bytes{0xE0, 0xF0, 0x5A}));
    BOOST_TEST(scancodes(key("Key_Up"), true) == (Bytes{0xE0, 0x75}));
    BOOST_TEST(scancodes(key("KeyPad_8"), true) == (Bytes{0x75}));
    BOOST_TEST(scancodes(key("Key_RightCtrl"), false) == (Bytes{0xE0, 0xF0, 0x14}));
    BOOST_TEST(scancodes(key("KeyPad_Divide"), true) == (Bytes{0xE0, 0x4A}));
    BOOST_TEST(scancodes(key("Key_Slash"), true) == (Bytes{0x4A}));
    // Every break code is its make code with F0 before the last byte.
    for (std::size_t i = 0; i < key_table().size(); ++i) {
        Key k{static_cast<u8>(i)};
        if (key_name(k) == "Key_Break") continue;
        Bytes make = scancodes(k, true), brk = scancodes(k, false);
        BOOST_TEST_REQUIRE(!make.empty());
        Bytes expected = make;
        expected.insert(expected.end() - 1, 0xF0);
        BOOST_TEST(brk == expected, key_name(k));
    }
}

BOOST_AUTO_TEST_CASE(sysreq_and_break_follow_the_modifiers) {
    Key sysreq = key("Key_SysReq"), pause = key("Key_Break");
    BOOST_TEST(scancodes(sysreq, true) == (Bytes{0xE0, 0x7C}));
    BOOST_TEST(scancodes(sysreq, false) == (Bytes{0xE0, 0xF0, 0x7C}));
    BOOST_TEST(scancodes(sysreq, true, {.alt = true}) == (Bytes{0x84}));
    BOOST_TEST(scancodes(sysreq, false, {.alt = true}) == (Bytes{0xF0, 0x84}));
    BOOST_TEST(scancodes(pause, true) == (Bytes{0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77}));
    BOOST_TEST(scancodes(pause, false).empty());
    BOOST_TEST(scancodes(pause, true, {.ctrl = true}) == (Bytes{0xE0, 0x7E}));
    BOOST_TEST(scancodes(pause, false, {.ctrl = true}) == (Bytes{0xE0, 0xF0, 0x7E}));
    BOOST_TEST(is_alt(key("Key_LeftAlt")));
    BOOST_TEST(is_alt(key("Key_RightAlt")));
    BOOST_TEST(!is_alt(key("Key_LeftCtrl")));
    BOOST_TEST(is_ctrl(key("Key_RightCtrl")));
    BOOST_TEST(!is_ctrl(key("Key_LeftShift")));
    // Out of the table: nothing, never a crash.
    BOOST_TEST(scancodes(Key{200}, true).empty());
    BOOST_TEST(key_name(Key{200}) == "?");
}

// The console's keysym table is an independent transcription of set 2:
// every key both name must agree.
BOOST_AUTO_TEST_CASE(agrees_with_the_consoles_keysym_table) {
    struct Pair {
        u32 keysym;
        std::string_view name;
    };
    Pair const pairs[] = {
        {'a', "Key_A"},
        {'z', "Key_Z"},
        {'q', "Key_Q"},
        {'m', "Key_M"},
        {'0', "Key_0"},
        {'1', "Key_1"},
        {'9', "Key_9"},
        {' ', "Key_Space"},
        {'`', "Key_LeftApostrophe"},
        {'-', "Key_Hyphen"},
        {'=', "Key_Equals"},
        {'[', "Key_LeftBracket"},
        {']', "Key_RightBracket"},
        {'\\', "Key_Backslash"},
        {';', "Key_SemiColon"},
        {'\'', "Key_SingleQuote"},
        {',', "Key_Comma"},
        {'.', "Key_Period"},
        {'/', "Key_Slash"},
        {0xFF0D, "Key_Enter"},
        {0xFF1B, "Key_Escape"},
        {0xFF08, "Key_Backspace"},
        {0xFF09, "Key_Tab"},
        {0xFFE1, "Key_LeftShift"},
        {0xFFE2, "Key_RightShift"},
        {0xFFE3, "Key_LeftCtrl"},
        {0xFFE4, "Key_RightCtrl"},
        {0xFFE9, "Key_LeftAlt"},
        {0xFFEA, "Key_RightAlt"},
        {0xFF52, "Key_Up"},
        {0xFF54, "Key_Down"},
        {0xFF51, "Key_Left"},
        {0xFF53, "Key_Right"},
        {0xFF63, "Key_Insert"},
        {0xFFFF, "Key_Delete"},
        {0xFF50, "Key_Home"},
        {0xFF57, "Key_End"},
        {0xFF55, "Key_PageUp"},
        {0xFF56, "Key_PageDown"},
        {0xFFBE, "Key_F1"},
        {0xFFC4, "Key_F7"},
        {0xFFC9, "Key_F12"},
        {0xFF7F, "Key_NumLock"},
        {0xFF14, "Key_ScrollLock"},
        {0xFF8D, "KeyPad_Enter"},
        {0xFFAF, "KeyPad_Divide"},
        {0xFFAA, "KeyPad_Multiply"},
        {0xFFAD, "KeyPad_Minus"},
        {0xFFAB, "KeyPad_Plus"},
        {0xFFB0, "KeyPad_0"},
        {0xFFB7, "KeyPad_7"},
        {0xFFAE, "KeyPad_DecimalPoint"},
        {0xFFEB, "Key_LeftWindows"},
        {0xFFEC, "Key_RightWindows"},
        {0xFF67, "Key_Application"},
    };
    for (auto const& pair : pairs) {
        auto console = appliance::console::set2_key(pair.keysym);
        BOOST_TEST_REQUIRE(console.has_value(), pair.name);
        for (bool down : {true, false})
            BOOST_TEST(appliance::console::set2_bytes(*console, down) == scancodes(key(pair.name), down),
                       pair.name << (down ? " make" : " break"));
    }
}

BOOST_AUTO_TEST_CASE(key_sequences) {
    // The reference's "Hello World!" example, ending in Key_Left_Shift.
    auto hello =
        parse_key_sequence("DOWN,Key_LeftShift,Key_H,UP,Key_LeftShift,Key_E,Key_L,Key_L,Key_O,Key_Space,"
                           "DOWN,Key_LeftShift,Key_W,UP,Key_LeftShift,Key_O,Key_R,Key_L,Key_D,DOWN,"
                           "Key_LeftShift,Key_1,UP,Key_Left_Shift");
    BOOST_TEST_REQUIRE(!hello.is_error());
    BOOST_TEST(hello.value().size() == 18u);
    BOOST_TEST((hello.value().front() == press("Key_LeftShift")));
    BOOST_TEST((hello.value()[1] == tap("Key_H")));
    BOOST_TEST((hello.value().back() == release("Key_LeftShift")));
    // The interface page's example: spaces after the commas.
    auto ms = parse_key_sequence("DOWN, Key_LeftShift, Key_M, UP, Key_LeftShift, Key_I, Key_C, Key_Space");
    BOOST_TEST_REQUIRE(!ms.is_error());
    BOOST_TEST(ms.value().size() == 6u);
    auto hold = parse_key_sequence("Key_A,HOLD,down,key_b,hold,up,KEY_B");
    BOOST_TEST_REQUIRE(!hold.is_error());
    std::vector<KeyStep> expected{
        tap("Key_A"), {KeyStep::Kind::Hold, {}}, press("Key_B"), {KeyStep::Kind::Hold, {}}, release("Key_B")};
    BOOST_TEST((hold.value() == expected));

    struct Bad {
        std::string_view sequence, says;
    };
    Bad const bad[] = {
        {"", "empty"},
        {"   ", "empty"},
        {"Key_A,,Key_B", "item 2"},
        {"Key_A,", "item 2"},
        {"Key_A,Key_Foo", "'Key_Foo' is not a key identifier"},
        {"DOWN", "ends with DOWN or UP"},
        {"Key_A,UP", "ends with DOWN or UP"},
        {"DOWN,UP,Key_A", "follows another modifier"},
        {"DOWN,HOLD,Key_A", "HOLD follows"},
        {"Key_\x01", "'Key_?'"},
    };
    for (auto const& [sequence, says] : bad) {
        auto parsed = parse_key_sequence(sequence);
        BOOST_TEST_REQUIRE(parsed.is_error(), sequence);
        BOOST_TEST(parsed.error().find(says) != std::string::npos, parsed.error());
    }
    std::string many_holds = "HOLD";
    for (std::size_t i = 0; i < MAX_HOLDS; ++i)
        many_holds += ",HOLD";
    BOOST_TEST(parse_key_sequence(many_holds).is_error());
    std::string many_keys = "Key_A";
    for (std::size_t i = 0; i < MAX_STEPS; ++i)
        many_keys += ",Key_A";
    BOOST_TEST(parse_key_sequence(many_keys).is_error());
}

BOOST_AUTO_TEST_CASE(ascii_text) {
    auto hi = ascii_text_steps("Hi, WORLD!\r\n");
    BOOST_TEST_REQUIRE(!hi.is_error());
    std::vector<KeyStep> expected{
        press("Key_LeftShift"),
        tap("Key_H"),
        release("Key_LeftShift"),
        tap("Key_I"),
        tap("Key_Comma"),
        tap("Key_Space"),
        press("Key_LeftShift"),
        tap("Key_W"),
        tap("Key_O"),
        tap("Key_R"),
        tap("Key_L"),
        tap("Key_D"),
        tap("Key_1"),
        release("Key_LeftShift"),
        tap("Key_Enter"),
    };
    BOOST_TEST((hi.value() == expected));
    // Every printable character has a key; the shifted ones end with Shift up.
    for (int c = 0x20; c < 0x7F; ++c) {
        auto steps = ascii_text_steps(std::string(1, static_cast<char>(c)));
        BOOST_TEST_REQUIRE(!steps.is_error(), c);
        bool const shifted = steps.value().size() == 3;
        BOOST_TEST((steps.value().size() == 1 || shifted), c);
        if (shifted) BOOST_TEST((steps.value().back() == release("Key_LeftShift")));
    }
    BOOST_TEST((ascii_text_steps("\t\n\r").value() ==
                std::vector<KeyStep>{tap("Key_Tab"), tap("Key_Enter"), tap("Key_Enter")}));
    for (std::string_view bad : {std::string_view(""), std::string_view("a\x01"), std::string_view("\x7F"),
                                 std::string_view("caf\xC3\xA9"), std::string_view("a\0b", 3)}) {
        auto steps = ascii_text_steps(bad);
        BOOST_TEST(steps.is_error(), bad.size());
    }
    BOOST_TEST(ascii_text_steps("a\x01").error().find("character 2") != std::string::npos);
    BOOST_TEST(ascii_text_steps(std::string(MAX_STEPS + 1, 'a')).is_error());
    BOOST_TEST(!ascii_text_steps(std::string(MAX_STEPS / 2, 'a')).is_error());
}

// Random bytes: an answer or an error, never a crash.
BOOST_AUTO_TEST_CASE(random_input_never_crashes) {
    std::mt19937 random(11);
    char const alphabet[] = "Key_ADOWNUPHOLD,, \t\x01\xFFPad0123456789LeftShift";
    for (int round = 0; round < 2000; ++round) {
        std::string text(random() % 64, ' ');
        for (char& c : text)
            c = alphabet[random() % (sizeof alphabet - 1)];
        // What parses is within bounds and names keys of the table.
        for (auto const& parsed : {parse_key_sequence(text), ascii_text_steps(text)}) {
            if (parsed.is_error()) continue;
            BOOST_TEST(parsed.value().size() <= MAX_STEPS);
            for (auto const& step : parsed.value())
                BOOST_TEST(step.key.index < key_table().size());
        }
        if (auto found = find_key(text)) BOOST_TEST(key_name(*found).size() == text.size());
    }
}

BOOST_AUTO_TEST_SUITE_END()
