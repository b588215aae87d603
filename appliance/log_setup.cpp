// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/log_setup.h"

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/PatternFormatter.h>

#include <cstdlib>

namespace vsa::appliance {

void setup_logging(std::string const& level) {
    bool journald = std::getenv("JOURNAL_STREAM") != nullptr;
    // Poco's priorities 1..7 (fatal..debug) line up with syslog's 1..7
    // (alert..debug) closely enough for journald's filtering.
    Poco::AutoPtr<Poco::PatternFormatter> formatter(
        new Poco::PatternFormatter(journald ? "<%l>%s: %t" : "%Y-%m-%d %H:%M:%S.%i %p %s: %t"));
    formatter->setProperty("times", "local");
    Poco::AutoPtr<Poco::ConsoleChannel> console(new Poco::ConsoleChannel);
    Poco::AutoPtr<Poco::FormattingChannel> channel(new Poco::FormattingChannel(formatter, console));
    // The static forms reach every logger that already exists (Poco copies
    // the root's channel into a logger only when it is created).
    Poco::Logger::setChannel("", channel);
    Poco::Logger::setLevel("", Poco::Logger::parseLevel(level));
}

} // namespace vsa::appliance
