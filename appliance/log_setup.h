// SPDX-License-Identifier: GPL-2.0-or-later
// Logging to stderr. Under systemd (JOURNAL_STREAM is set) each line starts
// with a <N> syslog priority and carries no timestamp, so journald files it
// at the right level; elsewhere lines carry a timestamp for people.
#pragma once

#include <functional>
#include <string>

namespace vsa::appliance {

// level: fatal, critical, error, warning, notice, information, debug, trace.
void setup_logging(std::string const& level);

// Every warning or worse that a logger writes (and the log level lets
// through) also goes to `sink`: vsad records them in the event log
// (IVMVirtualServerEvents.OnEventLogged). An empty function stops it; the
// call returns once no message is being forwarded any more, so the sink's
// captures may then go away.
using ProblemSink = std::function<void(bool error, std::string const& source, std::string const& text)>;
void forward_problems(ProblemSink sink);

} // namespace vsa::appliance
