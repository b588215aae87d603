// SPDX-License-Identifier: GPL-2.0-or-later
// Event scripts (services/scripts/): the command-line splitter, the runner
// (real processes: output, exit status, timeout, a missing program,
// arguments with spaces, no leaked descriptors), the dispatcher on model
// events, and the raw keys and locale matching the configuration members
// use.
#include "services/persist/raw_keys.h"
#include "services/scripts/command_line.h"
#include "services/scripts/script_runner.h"
#include "services/server_preferences.h"
#include "services/virtual_server.h"
#include "services/vm_configuration.h"

#include "tests/appliance/test_support.h"
#include "tests/services/model_test_support.h"

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

using namespace vsa::services;
using namespace vsa::services::scripts;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> split(std::string_view line) {
    auto result = split_command_line(line);
    if (result.is_error()) BOOST_FAIL(std::string(line) + ": " + result.error().message);
    return result.release_value();
}

void refused(std::string_view line) {
    auto result = split_command_line(line);
    BOOST_TEST_INFO(line);
    BOOST_REQUIRE(result.is_error());
    BOOST_TEST(result.error().code == hr::E_INVALIDARG);
}

std::string read_all(std::string const& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace

BOOST_AUTO_TEST_SUITE(event_scripts)

BOOST_AUTO_TEST_CASE(the_splitter_follows_its_quoting_rules) {
    using V = std::vector<std::string>;
    BOOST_TEST(split("/bin/echo a b") == (V{"/bin/echo", "a", "b"}), boost::test_tools::per_element());
    BOOST_TEST(split("  /bin/echo\t a   b  ") == (V{"/bin/echo", "a", "b"}),
               boost::test_tools::per_element());
    BOOST_TEST(split("/bin/echo 'two words' \"and three words\"") ==
                   (V{"/bin/echo", "two words", "and three words"}),
               boost::test_tools::per_element());
    BOOST_TEST(split(R"(/bin/echo "say \"hi\" \\ \n")") == (V{"/bin/echo", R"(say "hi" \ \n)"}),
               boost::test_tools::per_element());
    BOOST_TEST(split(R"(/bin/echo 'it''s' a\ b \'x\')") == (V{"/bin/echo", "its", "a b", "'x'"}),
               boost::test_tools::per_element());
    BOOST_TEST(split(R"(/bin/echo a"b c"d "" '')") == (V{"/bin/echo", "ab cd", "", ""}),
               boost::test_tools::per_element());
    // Shell syntax is just text.
    BOOST_TEST(split("/bin/echo $HOME * ; rm -rf / | > x && y") ==
                   (V{"/bin/echo", "$HOME", "*", ";", "rm", "-rf", "/", "|", ">", "x", "&&", "y"}),
               boost::test_tools::per_element());
    BOOST_TEST(split("'/opt/my tools/run'") == (V{"/opt/my tools/run"}), boost::test_tools::per_element());

    refused("");
    refused("   ");
    refused("echo hi");  // no PATH search
    refused("./run.sh"); // relative
    refused("/bin/echo 'open");
    refused("/bin/echo \"open");
    refused("/bin/echo trailing\\");
    refused("/bin/echo a\nb");
    refused(std::string("/bin/echo a") + '\0' + "b");
    refused("/bin/echo" + std::string(MAX_COMMAND_LINE, 'x'));
    std::string many = "/bin/echo";
    for (std::size_t i = 0; i < MAX_ARGUMENTS; ++i)
        many += " x";
    refused(many);
}

BOOST_AUTO_TEST_CASE(the_runner_captures_output_and_status) {
    vsa::test::TempDir dir;
    ScriptSpec spec;
    spec.argv = {
        "/usr/bin/python3", "-c",
        "import os, sys; print(repr(sys.argv[1:])); print(os.getcwd()); print(os.environ.get('ONLY'));"
        "print(sorted(os.listdir('/proc/self/fd'))); sys.stderr.write('to stderr\\n'); sys.exit(3)",
        "two words", "a'b\"c"};
    spec.environment = {"ONLY=this", "PATH=/usr/bin:/bin"};
    spec.working_dir = dir.path().string();
    // A descriptor of ours without CLOEXEC must not reach the script.
    int leaked = ::open("/dev/null", O_RDONLY);
    auto outcome = run_script(spec);
    ::close(leaked);
    BOOST_TEST(outcome.started);
    BOOST_TEST(!outcome.timed_out);
    BOOST_TEST(outcome.exit_code == 3);
    BOOST_TEST(!outcome.succeeded());
    BOOST_TEST(outcome.describe() == "exit status 3");
    BOOST_TEST(outcome.output.find("['two words', 'a\\'b\"c']") != std::string::npos, outcome.output);
    BOOST_TEST(outcome.output.find(dir.path().string()) != std::string::npos, outcome.output);
    BOOST_TEST(outcome.output.find("this") != std::string::npos);
    // 0, 1, 2 and the one listdir opens itself.
    BOOST_TEST(outcome.output.find("['0', '1', '2', '3']") != std::string::npos, outcome.output);
    BOOST_TEST(outcome.output.find("to stderr") != std::string::npos);

    ScriptSpec ok;
    ok.argv = {"/usr/bin/touch", dir.file("marker with spaces")};
    BOOST_TEST(run_script(ok).succeeded());
    BOOST_TEST(std::filesystem::exists(dir.file("marker with spaces")));
}

BOOST_AUTO_TEST_CASE(the_runner_kills_a_script_at_its_deadline) {
    ScriptSpec spec;
    // A script that also leaves a child holding the pipe.
    spec.argv = {
        "/usr/bin/python3", "-c",
        "import os, time\nif os.fork() == 0: time.sleep(30)\nprint('waiting', flush=True)\ntime.sleep(30)"};
    spec.timeout = 700ms;
    auto began = std::chrono::steady_clock::now();
    auto outcome = run_script(spec);
    auto took = std::chrono::steady_clock::now() - began;
    BOOST_TEST(outcome.started);
    BOOST_TEST(outcome.timed_out);
    BOOST_TEST(outcome.signal == SIGKILL);
    BOOST_TEST(outcome.output.find("waiting") != std::string::npos);
    BOOST_TEST((took >= 700ms && took < 10s));
    BOOST_TEST(outcome.describe().find("timed out") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_runner_reports_a_missing_program) {
    ScriptSpec spec;
    spec.argv = {"/nonexistent/program", "arg"};
    auto outcome = run_script(spec);
    BOOST_TEST(!outcome.started);
    BOOST_TEST(outcome.spawn_error == "No such file or directory");
    BOOST_TEST(outcome.describe() == "could not start: No such file or directory");
    spec.argv = {"/etc/hostname"}; // not executable
    BOOST_TEST(!run_script(spec).started);
}

BOOST_AUTO_TEST_CASE(the_runner_caps_output_and_concurrency) {
    ScriptSpec spec;
    spec.argv = {"/usr/bin/python3", "-c", "import sys; sys.stdout.write('x' * 200000)"};
    spec.max_output = 1000;
    auto outcome = run_script(spec);
    BOOST_TEST(outcome.succeeded());
    BOOST_TEST(outcome.output.size() == 1000u);
    BOOST_TEST(outcome.output_truncated);

    ScriptRunner runner(1);
    ScriptSpec slow;
    slow.argv = {"/usr/bin/sleep", "0.5"};
    std::atomic<int> done{0};
    BOOST_TEST(runner.submit(slow, [&](ScriptOutcome const& o) { done += o.succeeded() ? 1 : 100; }));
    BOOST_TEST(!runner.submit(slow, [&](ScriptOutcome const&) { done += 1000; })); // one at a time
    runner.wait_idle();
    BOOST_TEST(done == 1);
    BOOST_TEST(runner.submit(slow, [&](ScriptOutcome const& o) { done += o.succeeded() ? 1 : 100; }));
    runner.wait_idle();
    BOOST_TEST(done == 2);
}

BOOST_AUTO_TEST_CASE(scripts_run_on_model_events_only_when_enabled) {
    vsa::test::TempDir dir;
    VirtualServer::Options options{dir.path(), "/"};
    std::vector<std::string> lines;
    std::mutex lines_mutex;
    options.scripts.log = [&](std::string const& line) {
        std::lock_guard lock(lines_mutex);
        lines.push_back(line);
    };
    auto server = VirtualServer::open(options).release_value();
    auto& inventory = server->inventory();
    auto vm = inventory.create_virtual_machine("web", "").release_value();
    auto marker = dir.file("marker");
    auto line =
        "/usr/bin/python3 -c \"import os, sys; open(sys.argv[1], 'a').write(os.environ['VSA_EVENT'] + ' ' + "
        "os.environ['VSA_SCRIPT_SCOPE'] + ' ' + os.environ.get('VSA_VM_NAME', '-') + '\\\\n')\" '" +
        marker + "'";
    BOOST_REQUIRE(server->preferences().attach_script(2, line).has_value());
    BOOST_TEST(server->preferences().attach_script(2, line).error().code == hr::VM_E_SCRIPT_ALREADY_EXISTS);
    BOOST_REQUIRE(attach_vm_script(inventory, vm.config_id(), 5, line).has_value());
    BOOST_TEST(attach_vm_script(inventory, vm.config_id(), 5, line).error().code ==
               hr::VM_E_SCRIPT_ALREADY_EXISTS);
    BOOST_TEST(vm_script(inventory, vm.config_id(), 5).value().value() == line);

    auto cycle = [&] {
        BOOST_REQUIRE(inventory.set_vm_state(vm.config_id(), VmState::TurningOn).has_value());
        BOOST_REQUIRE(inventory.set_vm_state(vm.config_id(), VmState::Running).has_value());
        BOOST_REQUIRE(inventory.set_vm_state(vm.config_id(), VmState::Paused).has_value());
        BOOST_REQUIRE(
            inventory.set_vm_state(vm.config_id(), VmState::Running).has_value()); // resume: nothing
        BOOST_REQUIRE(inventory.set_vm_state(vm.config_id(), VmState::TurnedOff).has_value());
        server->event_scripts().wait_idle();
    };
    cycle();
    BOOST_TEST(!std::filesystem::exists(marker)); // both switches off
    BOOST_REQUIRE(server->preferences().set_vs_scripts_enabled(true).has_value());
    cycle();
    BOOST_TEST(read_all(marker) == "2 server web\n");
    BOOST_REQUIRE(server->preferences().set_vm_scripts_enabled(true).has_value());
    cycle();
    // The scripts of one cycle run at the same time: compare in any order.
    auto sorted_lines = [](std::string text) {
        std::vector<std::string> lines;
        std::stringstream in(text);
        for (std::string line; std::getline(in, line);)
            lines.push_back(line);
        std::sort(lines.begin(), lines.end());
        return lines;
    };
    BOOST_TEST(sorted_lines(read_all(marker)) ==
                   (std::vector<std::string>{"2 server web", "2 server web", "5 vm web"}),
               boost::test_tools::per_element());

    // A failing script is an event and a log line.
    BOOST_REQUIRE(remove_vm_script(inventory, vm.config_id(), 5).has_value());
    BOOST_REQUIRE(attach_vm_script(inventory, vm.config_id(), 5, "/usr/bin/false").has_value());
    cycle();
    auto events = server->events().after(0, 1000);
    auto failed = std::count_if(events.begin(), events.end(),
                                [](Event const& e) { return e.kind == EventKind::ScriptFailed; });
    BOOST_TEST(failed == 1);
    std::lock_guard lock(lines_mutex);
    BOOST_TEST(std::any_of(lines.begin(), lines.end(), [](std::string const& l) {
        return l.find("failed: exit status 1") != std::string::npos;
    }));

    // The switches and the server's scripts survive a restart.
    server.reset();
    auto reopened = VirtualServer::open({dir.path(), "/"}).release_value();
    BOOST_TEST(reopened->preferences().vs_scripts_enabled());
    BOOST_TEST(reopened->preferences().vm_scripts_enabled());
    BOOST_TEST(reopened->preferences().script(2).value().value() == line);
}

BOOST_AUTO_TEST_CASE(raw_keys_round_trip_and_check_their_syntax) {
    persist::PreferencesXml xml("test");
    auto root = xml.root();
    using persist::PreferenceValue;
    BOOST_REQUIRE(
        persist::set_value(root, "a/b[@id=2]/c", PreferenceValue::of_integer(4000000000u)).has_value());
    BOOST_REQUIRE(persist::set_value(root, "a/s", PreferenceValue::of_string("x y")).has_value());
    BOOST_REQUIRE(persist::set_value(root, "a/f", PreferenceValue::of_boolean(true)).has_value());
    BOOST_REQUIRE(persist::set_value(root, "a/r", PreferenceValue::of_bytes({0, 255})).has_value());
    auto reparsed = persist::PreferencesXml::parse(xml.serialize(), "test").release_value();
    BOOST_TEST((persist::get_value(reparsed.root(), "a/b[@id=\"2\"]/c", "t").value() ==
                PreferenceValue::of_integer(4000000000u)));
    BOOST_TEST(
        (persist::get_value(reparsed.root(), "a/s", "t").value() == PreferenceValue::of_string("x y")));
    BOOST_TEST(
        (persist::get_value(reparsed.root(), "a/f", "t").value() == PreferenceValue::of_boolean(true)));
    BOOST_TEST(
        (persist::get_value(reparsed.root(), "a/r", "t").value() == PreferenceValue::of_bytes({0, 255})));
    BOOST_TEST(persist::get_value(reparsed.root(), "a", "t").error().code ==
               hr::VM_E_PREF_NOT_FOUND); // a key
    BOOST_TEST(persist::get_value(reparsed.root(), "a/zz", "t").error().code == hr::VM_E_PREF_NOT_FOUND);
    BOOST_TEST(persist::set_value(root, "a/s/below", PreferenceValue::of_string("x")).error().code ==
               hr::E_INVALIDARG);
    for (auto bad : {"", "/a", "a/", "a//b", "1a", "a[@id=]", "a[@name=1]", "a b", "a/<b>"})
        BOOST_TEST(persist::check_key(bad).is_error(), bad);
    BOOST_TEST(persist::remove_value(root, "a/b").has_value());
    BOOST_TEST(persist::remove_value(root, "a/b").error().code == hr::VM_E_PREF_NOT_FOUND);
}

BOOST_AUTO_TEST_CASE(query_locale_picks_the_best_supported_language) {
    BOOST_TEST(query_locale("en-US") == 1033u);
    BOOST_TEST(query_locale("da, en-gb;q=0.8, en;q=0.7") == 1033u);
    BOOST_TEST(query_locale("*") == 1033u);
    BOOST_TEST(query_locale("fr;q=1, de;q=0.5") == 1033u); // nothing matches: the default
    BOOST_TEST(query_locale(";;;q=,,") == 1033u);
    BOOST_TEST(query_locale("") == 1033u);
}

BOOST_AUTO_TEST_SUITE_END()
