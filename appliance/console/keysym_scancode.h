// SPDX-License-Identifier: GPL-2.0-or-later
// X11 keysyms (what RFB KeyEvent messages carry) to PS/2 scan code set 2
// (what the emulated i8042 keyboard sends the guest; the worker's "key"
// command takes set 2 bytes).
//
// The layout is a US 101/104-key keyboard: a keysym names the key that
// produces it there. Shifted symbols ('!', '{', 'A') map to the unshifted
// key ('1', '[', 'a'): RFB clients send Shift as a key event of its own, so
// the guest sees Shift down, the key, Shift up, exactly as from a real
// keyboard. The console therefore forwards key events one for one, without
// synthesising modifiers.
//
// Set 2 make codes are one byte, or E0 and one byte for the keys added
// with the 101-key keyboard (right Ctrl/Alt, the arrow block, the Windows
// keys, keypad Enter and '/'); the break code inserts F0 before the last
// byte (E0 F0 xx).
//
// Left out: Print Screen and Pause/Break (multi-byte sequences with fake
// shifts that guests rarely need from a remote console), the multimedia
// and ACPI keys, and non-US layouts (a client on another layout sends the
// keysyms its layout produces; a symbol the US layout has no key for is
// dropped and counted by the caller).
#pragma once

#include "hypervisor/base/types.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace vsa::appliance::console {

struct Set2Key {
    bool extended{false}; // E0 prefix
    u8 code{0};
};

struct KeysymEntry {
    u32 keysym;
    Set2Key key;
    std::string_view name; // for tests and logs
};

// The key for `keysym`, or nothing when the US layout has none.
std::optional<Set2Key> set2_key(u32 keysym);
// The bytes the keyboard sends when `key` goes down (make) or up (break).
std::vector<u8> set2_bytes(Set2Key key, bool down);
// Every keysym the table knows (letters and shifted symbols included).
std::span<KeysymEntry const> keysym_table();

} // namespace vsa::appliance::console
