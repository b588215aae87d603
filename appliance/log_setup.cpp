// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/log_setup.h"

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/PatternFormatter.h>
#include <Poco/SplitterChannel.h>

#include <cstdlib>
#include <mutex>

namespace vsa::appliance {

namespace {

// Hands warnings and worse to the ProblemSink. The mutex makes
// forward_problems({}) wait for a message in flight; a message logged by
// the sink itself (it must not log) would deadlock, so a thread already
// forwarding drops it.
class ProblemChannel : public Poco::Channel {
public:
    void log(Poco::Message const& message) override {
        if (message.getPriority() > Poco::Message::PRIO_WARNING) return;
        if (t_forwarding) return;
        std::lock_guard lock(m_mutex);
        if (!m_sink) return;
        t_forwarding = true;
        try {
            m_sink(message.getPriority() <= Poco::Message::PRIO_ERROR, message.getSource(),
                   message.getText());
        } catch (...) {
            // A full or broken event log must not take the logger down.
        }
        t_forwarding = false;
    }
    void set_sink(ProblemSink sink) {
        std::lock_guard lock(m_mutex);
        m_sink = std::move(sink);
    }

private:
    std::mutex m_mutex;
    ProblemSink m_sink;
    static thread_local bool t_forwarding;
};

thread_local bool ProblemChannel::t_forwarding = false;

// Poco's channels are reference-counted; this one lives as long as the
// process (loggers may log from static destructors).
Poco::AutoPtr<ProblemChannel>& problem_channel() {
    static Poco::AutoPtr<ProblemChannel> channel(new ProblemChannel);
    return channel;
}

} // namespace

void setup_logging(std::string const& level) {
    bool journald = std::getenv("JOURNAL_STREAM") != nullptr;
    // Poco's priorities 1..7 (fatal..debug) line up with syslog's 1..7
    // (alert..debug) closely enough for journald's filtering.
    Poco::AutoPtr<Poco::PatternFormatter> formatter(
        new Poco::PatternFormatter(journald ? "<%l>%s: %t" : "%Y-%m-%d %H:%M:%S.%i %p %s: %t"));
    formatter->setProperty("times", "local");
    Poco::AutoPtr<Poco::ConsoleChannel> console(new Poco::ConsoleChannel);
    Poco::AutoPtr<Poco::FormattingChannel> formatted(new Poco::FormattingChannel(formatter, console));
    Poco::AutoPtr<Poco::SplitterChannel> channel(new Poco::SplitterChannel);
    channel->addChannel(formatted);
    channel->addChannel(problem_channel());
    // The static forms reach every logger that already exists (Poco copies
    // the root's channel into a logger only when it is created).
    Poco::Logger::setChannel("", channel);
    Poco::Logger::setLevel("", Poco::Logger::parseLevel(level));
}

void forward_problems(ProblemSink sink) {
    problem_channel()->set_sink(std::move(sink));
}

} // namespace vsa::appliance
