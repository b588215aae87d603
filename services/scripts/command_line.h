// SPDX-License-Identifier: GPL-2.0-or-later
// Event-script command lines (AttachScriptToEvent) split into an argv,
// without a shell: vsad runs the program itself (script_runner.h), so no
// shell ever interprets a string a client sent.
//
// The rules, a small subset of the POSIX shell's quoting and nothing else:
//   - spaces and tabs separate arguments; leading/trailing blanks are ignored
//   - '...' quotes literally: everything up to the next ' (no escapes inside)
//   - "..." quotes, and inside it \" and \\ stand for " and \ (any other
//     backslash is kept as written)
//   - outside quotes a backslash takes the next character literally
//     (\<space>, \', \", \\)
//   - quoted and unquoted pieces next to each other form one argument
//     (a"b c"d is the one argument "ab cd"); "" is an empty argument
// No variables, globbing, redirection, pipes, ';' or '&': "$HOME", '*', '>'
// and '|' are ordinary characters handed to the program as they are.
// Refused (E_INVALIDARG): an empty line, an unterminated quote, a trailing
// lone backslash, control characters (newline, NUL, ...), more than
// MAX_ARGUMENTS arguments or MAX_COMMAND_LINE bytes, and a program that is
// not an absolute path (no PATH search: the line names exactly what runs).
#pragma once

#include "services/service_error.h"

#include <string>
#include <string_view>
#include <vector>

namespace vsa::services::scripts {

inline constexpr std::size_t MAX_COMMAND_LINE = 4096;
inline constexpr std::size_t MAX_ARGUMENTS = 64;

ServiceResult<std::vector<std::string>> split_command_line(std::string_view line);

} // namespace vsa::services::scripts
