// SPDX-License-Identifier: GPL-2.0-or-later
// Logging to stderr. Under systemd (JOURNAL_STREAM is set) each line starts
// with a <N> syslog priority and carries no timestamp, so journald files it
// at the right level; elsewhere lines carry a timestamp for people.
#pragma once

#include <string>

namespace vsa::appliance {

// level: fatal, critical, error, warning, notice, information, debug, trace.
void setup_logging(std::string const& level);

} // namespace vsa::appliance
