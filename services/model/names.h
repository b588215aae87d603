// SPDX-License-Identifier: GPL-2.0-or-later
// Names of virtual machines and virtual networks.
//
// A VM's name is also the name of its .vmc file (and of its folder when
// vsad picks the folder), so it obeys Virtual Server's rules plus what a
// Linux file name needs: not empty (VM_E_CONFIG_NO_NAME), at most 256
// characters and short enough that "<name>.vmc" fits a 255-byte file name
// (VM_E_CONFIG_NAME_TOO_LONG), none of * ? : < > / | \ " nor control
// characters, valid UTF-8, and not "." or ".." (VM_E_CONFIG_NAME_INVALID_CHAR).
//
// Names are unique case-insensitively, as in Virtual Server. We fold ASCII
// letters only: two names that differ only in the case of non-ASCII letters
// are distinct here (Windows would fold them too). Deliberate: a full
// Unicode case fold needs ICU for a corner no client relies on.
#pragma once

#include "services/service_error.h"

#include <string>
#include <string_view>

namespace vsa::services {

inline constexpr std::size_t MAX_NAME_CHARACTERS = 256;
// 255-byte file names on Linux, less the ".vmc"/".vnc" extension.
inline constexpr std::size_t MAX_NAME_BYTES = 250;

ServiceResult<void> validate_object_name(std::string_view name);

// The key under which a name is unique: ASCII letters lowered.
std::string fold_name(std::string_view name);
bool names_equal(std::string_view a, std::string_view b);

// Decodes UTF-8; false for malformed or overlong sequences and surrogates.
bool is_valid_utf8(std::string_view text);

} // namespace vsa::services
