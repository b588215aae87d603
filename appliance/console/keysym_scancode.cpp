// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/console/keysym_scancode.h"

#include <algorithm>
#include <array>

namespace vsa::appliance::console {

namespace {

constexpr Set2Key K(u8 code) {
    return {false, code};
}
constexpr Set2Key E(u8 code) {
    return {true, code};
}

// Keysym values from X11's keysymdef.h; set 2 codes from the PS/2
// keyboard's scan code tables (IBM Technical Reference, Keyboard).
constexpr KeysymEntry TABLE[] = {
    // Letters, both cases: one key each.
    {'a', K(0x1C), "a"},
    {'b', K(0x32), "b"},
    {'c', K(0x21), "c"},
    {'d', K(0x23), "d"},
    {'e', K(0x24), "e"},
    {'f', K(0x2B), "f"},
    {'g', K(0x34), "g"},
    {'h', K(0x33), "h"},
    {'i', K(0x43), "i"},
    {'j', K(0x3B), "j"},
    {'k', K(0x42), "k"},
    {'l', K(0x4B), "l"},
    {'m', K(0x3A), "m"},
    {'n', K(0x31), "n"},
    {'o', K(0x44), "o"},
    {'p', K(0x4D), "p"},
    {'q', K(0x15), "q"},
    {'r', K(0x2D), "r"},
    {'s', K(0x1B), "s"},
    {'t', K(0x2C), "t"},
    {'u', K(0x3C), "u"},
    {'v', K(0x2A), "v"},
    {'w', K(0x1D), "w"},
    {'x', K(0x22), "x"},
    {'y', K(0x35), "y"},
    {'z', K(0x1A), "z"},
    {'A', K(0x1C), "A"},
    {'B', K(0x32), "B"},
    {'C', K(0x21), "C"},
    {'D', K(0x23), "D"},
    {'E', K(0x24), "E"},
    {'F', K(0x2B), "F"},
    {'G', K(0x34), "G"},
    {'H', K(0x33), "H"},
    {'I', K(0x43), "I"},
    {'J', K(0x3B), "J"},
    {'K', K(0x42), "K"},
    {'L', K(0x4B), "L"},
    {'M', K(0x3A), "M"},
    {'N', K(0x31), "N"},
    {'O', K(0x44), "O"},
    {'P', K(0x4D), "P"},
    {'Q', K(0x15), "Q"},
    {'R', K(0x2D), "R"},
    {'S', K(0x1B), "S"},
    {'T', K(0x2C), "T"},
    {'U', K(0x3C), "U"},
    {'V', K(0x2A), "V"},
    {'W', K(0x1D), "W"},
    {'X', K(0x22), "X"},
    {'Y', K(0x35), "Y"},
    {'Z', K(0x1A), "Z"},
    // Digits and their shifted symbols.
    {'1', K(0x16), "1"},
    {'!', K(0x16), "exclam"},
    {'2', K(0x1E), "2"},
    {'@', K(0x1E), "at"},
    {'3', K(0x26), "3"},
    {'#', K(0x26), "numbersign"},
    {'4', K(0x25), "4"},
    {'$', K(0x25), "dollar"},
    {'5', K(0x2E), "5"},
    {'%', K(0x2E), "percent"},
    {'6', K(0x36), "6"},
    {'^', K(0x36), "asciicircum"},
    {'7', K(0x3D), "7"},
    {'&', K(0x3D), "ampersand"},
    {'8', K(0x3E), "8"},
    {'*', K(0x3E), "asterisk"},
    {'9', K(0x46), "9"},
    {'(', K(0x46), "parenleft"},
    {'0', K(0x45), "0"},
    {')', K(0x45), "parenright"},
    // Punctuation and its shifted symbols.
    {'`', K(0x0E), "grave"},
    {'~', K(0x0E), "asciitilde"},
    {'-', K(0x4E), "minus"},
    {'_', K(0x4E), "underscore"},
    {'=', K(0x55), "equal"},
    {'+', K(0x55), "plus"},
    {'[', K(0x54), "bracketleft"},
    {'{', K(0x54), "braceleft"},
    {']', K(0x5B), "bracketright"},
    {'}', K(0x5B), "braceright"},
    {'\\', K(0x5D), "backslash"},
    {'|', K(0x5D), "bar"},
    {';', K(0x4C), "semicolon"},
    {':', K(0x4C), "colon"},
    {'\'', K(0x52), "apostrophe"},
    {'"', K(0x52), "quotedbl"},
    {',', K(0x41), "comma"},
    {'<', K(0x41), "less"},
    {'.', K(0x49), "period"},
    {'>', K(0x49), "greater"},
    {'/', K(0x4A), "slash"},
    {'?', K(0x4A), "question"},
    {' ', K(0x29), "space"},
    // Editing and control keys.
    {0xFF08, K(0x66), "BackSpace"},
    {0xFF09, K(0x0D), "Tab"},
    {0xFE20, K(0x0D), "ISO_Left_Tab"},
    {0xFF0D, K(0x5A), "Return"},
    {0xFF1B, K(0x76), "Escape"},
    {0xFF14, K(0x7E), "Scroll_Lock"},
    // The navigation block (E0: not the keypad's keys).
    {0xFF50, E(0x6C), "Home"},
    {0xFF51, E(0x6B), "Left"},
    {0xFF52, E(0x75), "Up"},
    {0xFF53, E(0x74), "Right"},
    {0xFF54, E(0x72), "Down"},
    {0xFF55, E(0x7D), "Page_Up"},
    {0xFF56, E(0x7A), "Page_Down"},
    {0xFF57, E(0x69), "End"},
    {0xFF63, E(0x70), "Insert"},
    {0xFFFF, E(0x71), "Delete"},
    {0xFF67, E(0x2F), "Menu"},
    // Function keys.
    {0xFFBE, K(0x05), "F1"},
    {0xFFBF, K(0x06), "F2"},
    {0xFFC0, K(0x04), "F3"},
    {0xFFC1, K(0x0C), "F4"},
    {0xFFC2, K(0x03), "F5"},
    {0xFFC3, K(0x0B), "F6"},
    {0xFFC4, K(0x83), "F7"},
    {0xFFC5, K(0x0A), "F8"},
    {0xFFC6, K(0x01), "F9"},
    {0xFFC7, K(0x09), "F10"},
    {0xFFC8, K(0x78), "F11"},
    {0xFFC9, K(0x07), "F12"},
    // Modifiers and locks.
    {0xFFE1, K(0x12), "Shift_L"},
    {0xFFE2, K(0x59), "Shift_R"},
    {0xFFE3, K(0x14), "Control_L"},
    {0xFFE4, E(0x14), "Control_R"},
    {0xFFE9, K(0x11), "Alt_L"},
    {0xFFEA, E(0x11), "Alt_R"},
    {0xFE03, E(0x11), "ISO_Level3_Shift"}, // AltGr
    {0xFFE7, K(0x11), "Meta_L"},
    {0xFFE8, E(0x11), "Meta_R"},
    {0xFFEB, E(0x1F), "Super_L"},
    {0xFFEC, E(0x27), "Super_R"},
    {0xFFE5, K(0x58), "Caps_Lock"},
    {0xFF7F, K(0x77), "Num_Lock"},
    // The keypad: digits, and the navigation keysyms clients send for the
    // same keys with Num Lock off.
    {0xFFB0, K(0x70), "KP_0"},
    {0xFFB1, K(0x69), "KP_1"},
    {0xFFB2, K(0x72), "KP_2"},
    {0xFFB3, K(0x7A), "KP_3"},
    {0xFFB4, K(0x6B), "KP_4"},
    {0xFFB5, K(0x73), "KP_5"},
    {0xFFB6, K(0x74), "KP_6"},
    {0xFFB7, K(0x6C), "KP_7"},
    {0xFFB8, K(0x75), "KP_8"},
    {0xFFB9, K(0x7D), "KP_9"},
    {0xFF9E, K(0x70), "KP_Insert"},
    {0xFF9C, K(0x69), "KP_End"},
    {0xFF99, K(0x72), "KP_Down"},
    {0xFF9B, K(0x7A), "KP_Next"},
    {0xFF96, K(0x6B), "KP_Left"},
    {0xFF9D, K(0x73), "KP_Begin"},
    {0xFF98, K(0x74), "KP_Right"},
    {0xFF95, K(0x6C), "KP_Home"},
    {0xFF97, K(0x75), "KP_Up"},
    {0xFF9A, K(0x7D), "KP_Prior"},
    {0xFFAE, K(0x71), "KP_Decimal"},
    {0xFF9F, K(0x71), "KP_Delete"},
    {0xFFAB, K(0x79), "KP_Add"},
    {0xFFAD, K(0x7B), "KP_Subtract"},
    {0xFFAA, K(0x7C), "KP_Multiply"},
    {0xFFAF, E(0x4A), "KP_Divide"},
    {0xFF8D, E(0x5A), "KP_Enter"},
};

} // namespace

std::optional<Set2Key> set2_key(u32 keysym) {
    // ~200 rows, looked up per key press: a scan is cheaper than an index.
    auto it = std::find_if(std::begin(TABLE), std::end(TABLE),
                           [&](KeysymEntry const& entry) { return entry.keysym == keysym; });
    if (it == std::end(TABLE)) return std::nullopt;
    return it->key;
}

std::vector<u8> set2_bytes(Set2Key key, bool down) {
    std::vector<u8> bytes;
    if (key.extended) bytes.push_back(0xE0);
    if (!down) bytes.push_back(0xF0);
    bytes.push_back(key.code);
    return bytes;
}

std::span<KeysymEntry const> keysym_table() {
    return TABLE;
}

} // namespace vsa::appliance::console
