// SPDX-License-Identifier: GPL-2.0-or-later
// `vsad user ...`: manage the local accounts without a running daemon.
//   vsad user add NAME [--admin] [--group=GROUP ...] [--password-stdin] [--data-dir=DIR | --config-file=FILE]
//   vsad user groups NAME [GROUP ...] [...]   (replaces the groups; none: no groups)
//   vsad user passwd NAME [--password-stdin] [...]
//   vsad user remove NAME [...]
//   vsad user list [...]
// Passwords are read from the terminal with echo off (asked twice), or as
// one line from standard input with --password-stdin, never from the command
// line, where other users could read them in the process list.
#pragma once

#include <string>
#include <vector>

namespace vsa::appliance {

int run_user_tool(std::vector<std::string> const& args);

} // namespace vsa::appliance
