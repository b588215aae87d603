// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/user_tool.h"

#include "appliance/auth/account_store.h"

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <filesystem>
#include <iostream>
#include <termios.h>
#include <unistd.h>

namespace vsa::appliance {

namespace {

constexpr int USAGE_ERROR = 64; // EX_USAGE
constexpr int FAILURE = 1;

void usage() {
    std::cerr
        << "usage: vsad user add NAME [--admin] [--group=GROUP ...] [--password-stdin] [--data-dir=DIR | "
           "--config-file=FILE]\n"
           "       vsad user groups NAME [GROUP ...] [--data-dir=DIR | --config-file=FILE]\n"
           "       vsad user passwd NAME [--password-stdin] [--data-dir=DIR | --config-file=FILE]\n"
           "       vsad user remove NAME [--data-dir=DIR | --config-file=FILE]\n"
           "       vsad user list [--data-dir=DIR | --config-file=FILE]\n"
           "       vsad user check NAME [--password-stdin] [--data-dir=DIR | --config-file=FILE]\n"
           "         (exit status 0 if the password is NAME's, 1 if not)\n";
}

std::string read_line_noecho(char const* prompt) {
    std::cerr << prompt << std::flush;
    termios old{};
    bool tty = ::tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (tty) {
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        std::cerr << "\n";
    }
    return line;
}

bool read_password(bool from_stdin, std::string& password) {
    if (from_stdin || !::isatty(STDIN_FILENO)) {
        if (!std::getline(std::cin, password)) return false;
        if (!password.empty() && password.back() == '\r') password.pop_back();
        return true;
    }
    password = read_line_noecho("New password: ");
    if (read_line_noecho("Repeat password: ") != password) {
        std::cerr << "vsad user: the passwords differ\n";
        return false;
    }
    return true;
}

} // namespace

int run_user_tool(std::vector<std::string> const& args) {
    std::vector<std::string> words;
    std::filesystem::path data_dir = "/var/lib/vsa";
    bool admin = false, password_stdin = false;
    std::vector<std::string> groups;
    for (auto const& arg : args) {
        if (arg == "--help" || arg == "-h") {
            usage();
            return 0;
        } else if (arg == "--admin") {
            admin = true;
        } else if (arg.starts_with("--group=")) {
            groups.push_back(arg.substr(8));
        } else if (arg == "--password-stdin") {
            password_stdin = true;
        } else if (arg.starts_with("--data-dir=")) {
            data_dir = arg.substr(11);
        } else if (arg.starts_with("--config-file=")) {
            try {
                Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> file(
                    new Poco::Util::PropertyFileConfiguration(arg.substr(14)));
                data_dir = file->getString("vsa.data_dir", data_dir.string());
            } catch (Poco::Exception const& e) {
                std::cerr << "vsad user: cannot read " << arg.substr(14) << ": " << e.displayText() << "\n";
                return FAILURE;
            }
        } else if (arg.starts_with("-")) {
            std::cerr << "vsad user: unknown option " << arg << "\n";
            usage();
            return USAGE_ERROR;
        } else {
            words.push_back(arg);
        }
    }
    if (words.empty()) {
        usage();
        return USAGE_ERROR;
    }
    auto const& verb = words[0];
    bool needs_name = verb == "add" || verb == "passwd" || verb == "remove" || verb == "check";
    if ((needs_name && words.size() != 2) || (verb == "list" && words.size() != 1) ||
        (verb == "groups" && words.size() < 2) || (!needs_name && verb != "list" && verb != "groups") ||
        (!groups.empty() && verb != "add")) {
        usage();
        return USAGE_ERROR;
    }

    auto opened = AccountStore::open(data_dir / "accounts.json");
    if (opened.is_error()) {
        std::cerr << "vsad user: " << opened.error() << "\n";
        return FAILURE;
    }
    auto& store = *opened.value();

    if (verb == "list") {
        for (auto const& name : store.names()) {
            auto account = store.find(name);
            std::cout << name << (account && account->administrator ? "\tadministrator" : "\tuser");
            if (account && !account->groups.empty()) {
                std::cout << "\t";
                for (std::size_t i = 0; i < account->groups.size(); ++i)
                    std::cout << (i ? "," : "") << account->groups[i];
            }
            std::cout << "\n";
        }
        return 0;
    }
    auto const& name = words[1];
    if (verb == "check") {
        // For the appliance console: it shows the generated first password
        // only while it still opens the account.
        std::string password;
        if (!std::getline(std::cin, password)) return FAILURE;
        if (!password.empty() && password.back() == '\r') password.pop_back();
        return store.verify(name, password) ? 0 : FAILURE;
    }
    Result<void, std::string> result;
    if (verb == "remove") {
        result = store.remove(name);
    } else if (verb == "groups") {
        result = store.set_groups(name, std::vector<std::string>(words.begin() + 2, words.end()));
    } else {
        std::string password;
        if (!read_password(password_stdin, password)) return FAILURE;
        result =
            verb == "add" ? store.add(name, password, admin, groups) : store.set_password(name, password);
    }
    if (result.is_error()) {
        std::cerr << "vsad user: " << result.error() << "\n";
        return FAILURE;
    }
    std::cerr << "vsad user: " << verb << " " << name << ": done\n";
    return 0;
}

} // namespace vsa::appliance
