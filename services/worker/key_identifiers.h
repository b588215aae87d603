// SPDX-License-Identifier: GPL-2.0-or-later
// Virtual Server's key identifiers (vs-api.md 8.2, "Key Identifiers
// Reference": Key_A, KeyPad_Enter, ...) and the two string forms
// IVMKeyboard takes (TypeKeySequence's comma-separated sequence and
// TypeAsciiText's text), turned into key steps, and each key into the PS/2
// scan code set 2 bytes the worker's "key" command carries (the i8042
// converts them if the guest chose set 1).
//
// The keyboard is the reference's US 101-key AT keyboard plus the three
// Windows keys: 103 identifiers. Set 2 make codes are one byte, or E0 and
// one byte for the keys the 101-key keyboard added; the break code puts F0
// before the last byte. Two keys send what a real keyboard sends given the
// modifiers held:
//   Key_SysReq  the Print Screen/SysRq key: E0 7C, or 84 while an Alt key
//               is down (SysRq proper);
//   Key_Break   the Pause/Break key: E1 14 77 E1 F0 14 F0 77 on the press
//               and nothing on the release (Pause), or E0 7E / E0 F0 7E
//               while a Ctrl key is down (Break).
// Left out: the "fake shift" codes (E0 12 ...) real keyboards wrap around
// the navigation keys when NumLock or Shift is on; guests do not need them.
//
// Identifiers are matched without regard to case, and the reference's own
// example spelling "Key_Left_Shift" is accepted for Key_LeftShift (both
// Microsoft's TypeKeySequence examples end with it).
#pragma once

#include "hypervisor/base/result.h"
#include "hypervisor/base/types.h"

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::services::keys {

struct KeyDef {
    std::string_view name; // the reference's identifier
    bool extended;         // E0 prefix
    u8 code;               // set 2 make code (without E0)
};

// A key of the keyboard: its place in key_table().
struct Key {
    u8 index{0};
    friend bool operator==(Key, Key) = default;
    friend auto operator<=>(Key, Key) = default;
};

// Every key, in the reference's order.
std::span<KeyDef const> key_table();
std::string_view key_name(Key key);
// The key an identifier names, or nothing.
std::optional<Key> find_key(std::string_view identifier);

// The modifiers held that change what Key_SysReq and Key_Break send.
struct HeldModifiers {
    bool alt{false};
    bool ctrl{false};
};
// The set 2 bytes the keyboard sends when `key` goes down or up; empty for
// the release of Pause (the key has no break code).
std::vector<u8> scancodes(Key key, bool down, HeldModifiers held = {});
// Whether a key is one of the Alt or Ctrl keys (for HeldModifiers).
bool is_alt(Key key);
bool is_ctrl(Key key);

struct KeyStep {
    enum class Kind {
        Tap,     // press and release
        Press,   // DOWN
        Release, // UP
        Hold,    // HOLD: pause before the next step
    };
    Kind kind{Kind::Tap};
    Key key{};
    friend bool operator==(KeyStep const&, KeyStep const&) = default;
};

// HOLD's pause (the reference's 200 ms).
inline constexpr std::chrono::milliseconds HOLD_PAUSE{200};
// Bounds on one call, so a request cannot hold a server thread for long:
// at most this many steps (keys, modifiers' keys, holds) ...
inline constexpr std::size_t MAX_STEPS = 1024;
// ... and HOLDs (5 s of pauses).
inline constexpr std::size_t MAX_HOLDS = 25;

// TypeKeySequence: identifiers separated by commas (spaces around them are
// ignored), each alone (Tap) or after DOWN or UP (Press, Release); HOLD
// alone. An error names what is wrong (empty, an unknown identifier, a
// modifier without a key, too long).
Result<std::vector<KeyStep>, std::string> parse_key_sequence(std::string_view sequence);

// TypeAsciiText: each character as the US keyboard types it; the shifted
// ones ('A', '!', ...) inside Left Shift down and up. Printable ASCII, tab,
// and line ends ("\n", "\r" or "\r\n": Enter); anything else is an error
// naming the character's position.
Result<std::vector<KeyStep>, std::string> ascii_text_steps(std::string_view text);

} // namespace vsa::services::keys
