// SPDX-License-Identifier: GPL-2.0-or-later
// Key identifiers to set 2 scan codes (see key_identifiers.h). Codes from
// the IBM PS/2 keyboard technical reference's set 2 table.
#include "services/worker/key_identifiers.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace vsa::services::keys {

namespace {

// The reference's list, in its order (vs-api.md 8.2).
constexpr std::array<KeyDef, 103> KEYS{{
    {"Key_Escape", false, 0x76},
    {"Key_F1", false, 0x05},
    {"Key_F2", false, 0x06},
    {"Key_F3", false, 0x04},
    {"Key_F4", false, 0x0C},
    {"Key_F5", false, 0x03},
    {"Key_F6", false, 0x0B},
    {"Key_F7", false, 0x83},
    {"Key_F8", false, 0x0A},
    {"Key_F9", false, 0x01},
    {"Key_F10", false, 0x09},
    {"Key_F11", false, 0x78},
    {"Key_F12", false, 0x07},
    {"Key_SysReq", true, 0x7C}, // special: see scancodes()
    {"Key_ScrollLock", false, 0x7E},
    {"Key_Break", false, 0x00}, // special: see scancodes()
    {"Key_LeftApostrophe", false, 0x0E},
    {"Key_1", false, 0x16},
    {"Key_2", false, 0x1E},
    {"Key_3", false, 0x26},
    {"Key_4", false, 0x25},
    {"Key_5", false, 0x2E},
    {"Key_6", false, 0x36},
    {"Key_7", false, 0x3D},
    {"Key_8", false, 0x3E},
    {"Key_9", false, 0x46},
    {"Key_0", false, 0x45},
    {"Key_Hyphen", false, 0x4E},
    {"Key_Equals", false, 0x55},
    {"Key_Backspace", false, 0x66},
    {"Key_Insert", true, 0x70},
    {"Key_Home", true, 0x6C},
    {"Key_PageUp", true, 0x7D},
    {"Key_NumLock", false, 0x77},
    {"KeyPad_Divide", true, 0x4A},
    {"KeyPad_Multiply", false, 0x7C},
    {"KeyPad_Minus", false, 0x7B},
    {"Key_Tab", false, 0x0D},
    {"Key_Q", false, 0x15},
    {"Key_W", false, 0x1D},
    {"Key_E", false, 0x24},
    {"Key_R", false, 0x2D},
    {"Key_T", false, 0x2C},
    {"Key_Y", false, 0x35},
    {"Key_U", false, 0x3C},
    {"Key_I", false, 0x43},
    {"Key_O", false, 0x44},
    {"Key_P", false, 0x4D},
    {"Key_LeftBracket", false, 0x54},
    {"Key_RightBracket", false, 0x5B},
    {"Key_Backslash", false, 0x5D},
    {"Key_Delete", true, 0x71},
    {"Key_End", true, 0x69},
    {"Key_PageDown", true, 0x7A},
    {"KeyPad_7", false, 0x6C},
    {"KeyPad_8", false, 0x75},
    {"KeyPad_9", false, 0x7D},
    {"KeyPad_Plus", false, 0x79},
    {"Key_A", false, 0x1C},
    {"Key_S", false, 0x1B},
    {"Key_D", false, 0x23},
    {"Key_F", false, 0x2B},
    {"Key_G", false, 0x34},
    {"Key_H", false, 0x33},
    {"Key_J", false, 0x3B},
    {"Key_K", false, 0x42},
    {"Key_L", false, 0x4B},
    {"Key_SemiColon", false, 0x4C},
    {"Key_SingleQuote", false, 0x52},
    {"Key_Enter", false, 0x5A},
    {"KeyPad_4", false, 0x6B},
    {"KeyPad_5", false, 0x73},
    {"KeyPad_6", false, 0x74},
    {"Key_LeftShift", false, 0x12},
    {"Key_Z", false, 0x1A},
    {"Key_X", false, 0x22},
    {"Key_C", false, 0x21},
    {"Key_V", false, 0x2A},
    {"Key_B", false, 0x32},
    {"Key_N", false, 0x31},
    {"Key_M", false, 0x3A},
    {"Key_Comma", false, 0x41},
    {"Key_Period", false, 0x49},
    {"Key_Slash", false, 0x4A},
    {"Key_RightShift", false, 0x59},
    {"Key_Up", true, 0x75},
    {"KeyPad_1", false, 0x69},
    {"KeyPad_2", false, 0x72},
    {"KeyPad_3", false, 0x7A},
    {"KeyPad_Enter", true, 0x5A},
    {"Key_LeftCtrl", false, 0x14},
    {"Key_LeftWindows", true, 0x1F},
    {"Key_LeftAlt", false, 0x11},
    {"Key_Space", false, 0x29},
    {"Key_RightAlt", true, 0x11},
    {"Key_RightWindows", true, 0x27},
    {"Key_RightCtrl", true, 0x14},
    {"Key_Application", true, 0x2F},
    {"Key_Left", true, 0x6B},
    {"Key_Down", true, 0x72},
    {"Key_Right", true, 0x74},
    {"KeyPad_0", false, 0x70},
    {"KeyPad_DecimalPoint", false, 0x71},
}};

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

Key must_find(std::string_view name) {
    // Only called with names from KEYS.
    return *find_key(name);
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    return text;
}

// Quoted for an error message, cut short.
std::string quoted(std::string_view text) {
    std::string out = "'";
    for (char c : text.substr(0, 40))
        out += (c >= 0x20 && c < 0x7F) ? c : '?';
    return out + (text.size() > 40 ? "...'" : "'");
}

// How the US keyboard types a character: the key and whether Shift is down.
struct Typed {
    std::string_view key;
    bool shift;
};

std::optional<Typed> typed_char(char c) {
    static constexpr std::string_view LETTERS[26] = {
        "Key_A", "Key_B", "Key_C", "Key_D", "Key_E", "Key_F", "Key_G", "Key_H", "Key_I",
        "Key_J", "Key_K", "Key_L", "Key_M", "Key_N", "Key_O", "Key_P", "Key_Q", "Key_R",
        "Key_S", "Key_T", "Key_U", "Key_V", "Key_W", "Key_X", "Key_Y", "Key_Z"};
    static constexpr std::string_view DIGITS[10] = {"Key_0", "Key_1", "Key_2", "Key_3", "Key_4",
                                                    "Key_5", "Key_6", "Key_7", "Key_8", "Key_9"};
    if (c >= 'a' && c <= 'z') return Typed{LETTERS[c - 'a'], false};
    if (c >= 'A' && c <= 'Z') return Typed{LETTERS[c - 'A'], true};
    if (c >= '0' && c <= '9') return Typed{DIGITS[c - '0'], false};
    // The symbols, unshifted then shifted, on the key they share.
    struct Symbol {
        char plain, shifted;
        std::string_view key;
    };
    static constexpr Symbol SYMBOLS[] = {
        {'`', '~', "Key_LeftApostrophe"}, {'-', '_', "Key_Hyphen"},       {'=', '+', "Key_Equals"},
        {'[', '{', "Key_LeftBracket"},    {']', '}', "Key_RightBracket"}, {'\\', '|', "Key_Backslash"},
        {';', ':', "Key_SemiColon"},      {'\'', '"', "Key_SingleQuote"}, {',', '<', "Key_Comma"},
        {'.', '>', "Key_Period"},         {'/', '?', "Key_Slash"},
    };
    for (auto const& symbol : SYMBOLS) {
        if (c == symbol.plain) return Typed{symbol.key, false};
        if (c == symbol.shifted) return Typed{symbol.key, true};
    }
    static constexpr std::string_view SHIFTED_DIGITS = ")!@#$%^&*(";
    if (auto at = SHIFTED_DIGITS.find(c); at != std::string_view::npos) return Typed{DIGITS[at], true};
    switch (c) {
    case ' ':
        return Typed{"Key_Space", false};
    case '\t':
        return Typed{"Key_Tab", false};
    case '\n':
    case '\r':
        return Typed{"Key_Enter", false};
    default:
        return std::nullopt;
    }
}

} // namespace

std::span<KeyDef const> key_table() {
    return KEYS;
}

std::string_view key_name(Key key) {
    return key.index < KEYS.size() ? KEYS[key.index].name : std::string_view("?");
}

std::optional<Key> find_key(std::string_view identifier) {
    if (equal_ignoring_case(identifier, "Key_Left_Shift")) identifier = "Key_LeftShift";
    for (std::size_t i = 0; i < KEYS.size(); ++i)
        if (equal_ignoring_case(identifier, KEYS[i].name)) return Key{static_cast<u8>(i)};
    return std::nullopt;
}

bool is_alt(Key key) {
    auto name = key_name(key);
    return name == "Key_LeftAlt" || name == "Key_RightAlt";
}

bool is_ctrl(Key key) {
    auto name = key_name(key);
    return name == "Key_LeftCtrl" || name == "Key_RightCtrl";
}

std::vector<u8> scancodes(Key key, bool down, HeldModifiers held) {
    if (key.index >= KEYS.size()) return {};
    auto const& def = KEYS[key.index];
    if (def.name == "Key_Break") {
        if (held.ctrl) return down ? std::vector<u8>{0xE0, 0x7E} : std::vector<u8>{0xE0, 0xF0, 0x7E};
        // Pause: the whole sequence on the press, nothing on the release.
        if (down) return {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};
        return {};
    }
    if (def.name == "Key_SysReq" && held.alt)
        return down ? std::vector<u8>{0x84} : std::vector<u8>{0xF0, 0x84};
    std::vector<u8> bytes;
    if (def.extended) bytes.push_back(0xE0);
    if (!down) bytes.push_back(0xF0);
    bytes.push_back(def.code);
    return bytes;
}

Result<std::vector<KeyStep>, std::string> parse_key_sequence(std::string_view sequence) {
    if (trim(sequence).empty()) return Err{std::string("the key sequence is empty")};
    std::vector<KeyStep> steps;
    std::optional<KeyStep::Kind> modifier;
    std::size_t holds = 0;
    std::size_t position = 0;
    for (;;) {
        auto comma = sequence.find(',');
        auto token = trim(sequence.substr(0, comma));
        ++position;
        if (token.empty())
            return Err{"item " + std::to_string(position) +
                       " of the key sequence is empty (two commas in a row?)"};
        if (equal_ignoring_case(token, "DOWN") || equal_ignoring_case(token, "UP")) {
            if (modifier)
                return Err{"item " + std::to_string(position) + ": " + quoted(token) +
                           " follows another modifier; DOWN and UP must be followed by a key identifier"};
            modifier = equal_ignoring_case(token, "DOWN") ? KeyStep::Kind::Press : KeyStep::Kind::Release;
        } else if (equal_ignoring_case(token, "HOLD")) {
            if (modifier)
                return Err{"item " + std::to_string(position) +
                           ": HOLD follows DOWN or UP, which must be followed by a key identifier"};
            if (++holds > MAX_HOLDS)
                return Err{"the key sequence has more than " + std::to_string(MAX_HOLDS) + " HOLDs"};
            steps.push_back(KeyStep{KeyStep::Kind::Hold, {}});
        } else {
            auto key = find_key(token);
            if (!key)
                return Err{"item " + std::to_string(position) + ": " + quoted(token) +
                           " is not a key identifier (Key_A, Key_Enter, KeyPad_0, ...) or DOWN, UP, HOLD"};
            steps.push_back(KeyStep{modifier.value_or(KeyStep::Kind::Tap), *key});
            modifier.reset();
        }
        if (steps.size() > MAX_STEPS)
            return Err{"the key sequence has more than " + std::to_string(MAX_STEPS) + " items"};
        if (comma == std::string_view::npos) break;
        sequence.remove_prefix(comma + 1);
    }
    if (modifier) return Err{std::string("the key sequence ends with DOWN or UP, without a key identifier")};
    return steps;
}

Result<std::vector<KeyStep>, std::string> ascii_text_steps(std::string_view text) {
    if (text.empty()) return Err{std::string("the text is empty")};
    Key const shift = must_find("Key_LeftShift");
    std::vector<KeyStep> steps;
    bool shifted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue; // "\r\n": one Enter
        auto typed = typed_char(c);
        if (!typed)
            return Err{"character " + std::to_string(i + 1) + " of the text (byte 0x" +
                       std::string(1, "0123456789abcdef"[(static_cast<unsigned char>(c) >> 4) & 0xF]) +
                       std::string(1, "0123456789abcdef"[static_cast<unsigned char>(c) & 0xF]) +
                       ") cannot be typed: only printable ASCII, tab and line ends"};
        // Shift stays down across a run of shifted characters, as a typist's.
        if (typed->shift != shifted) {
            steps.push_back(KeyStep{typed->shift ? KeyStep::Kind::Press : KeyStep::Kind::Release, shift});
            shifted = typed->shift;
        }
        steps.push_back(KeyStep{KeyStep::Kind::Tap, must_find(typed->key)});
        if (steps.size() > MAX_STEPS)
            return Err{"the text needs more than " + std::to_string(MAX_STEPS) + " key strokes"};
    }
    if (shifted) steps.push_back(KeyStep{KeyStep::Kind::Release, shift});
    return steps;
}

} // namespace vsa::services::keys
