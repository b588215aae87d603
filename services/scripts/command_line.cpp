// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/scripts/command_line.h"

namespace vsa::services::scripts {

namespace {

ServiceError invalid(std::string why) {
    return service_error(hr::E_INVALIDARG, "script command line: " + std::move(why));
}

} // namespace

ServiceResult<std::vector<std::string>> split_command_line(std::string_view line) {
    if (line.size() > MAX_COMMAND_LINE)
        return invalid("longer than " + std::to_string(MAX_COMMAND_LINE) + " bytes");
    for (unsigned char c : line)
        if (c < 0x20 && c != '\t') return invalid("control characters are not allowed");
    std::vector<std::string> argv;
    std::string current;
    bool in_argument = false; // "" makes an (empty) argument, blanks do not
    std::size_t i = 0;
    while (i < line.size()) {
        char c = line[i];
        if (c == ' ' || c == '\t') {
            if (in_argument) {
                if (argv.size() == MAX_ARGUMENTS)
                    return invalid("more than " + std::to_string(MAX_ARGUMENTS) + " arguments");
                argv.push_back(std::move(current));
                current.clear();
                in_argument = false;
            }
            ++i;
            continue;
        }
        in_argument = true;
        if (c == '\'') {
            auto end = line.find('\'', i + 1);
            if (end == std::string_view::npos) return invalid("unterminated ' quote");
            current.append(line.substr(i + 1, end - i - 1));
            i = end + 1;
        } else if (c == '"') {
            ++i;
            bool closed = false;
            while (i < line.size()) {
                char d = line[i];
                if (d == '"') {
                    closed = true;
                    ++i;
                    break;
                }
                if (d == '\\' && i + 1 < line.size() && (line[i + 1] == '"' || line[i + 1] == '\\')) {
                    current += line[i + 1];
                    i += 2;
                    continue;
                }
                current += d;
                ++i;
            }
            if (!closed) return invalid("unterminated \" quote");
        } else if (c == '\\') {
            if (i + 1 >= line.size()) return invalid("a lone backslash at the end");
            current += line[i + 1];
            i += 2;
        } else {
            current += c;
            ++i;
        }
    }
    if (in_argument) {
        if (argv.size() == MAX_ARGUMENTS)
            return invalid("more than " + std::to_string(MAX_ARGUMENTS) + " arguments");
        argv.push_back(std::move(current));
    }
    if (argv.empty()) return invalid("empty");
    if (argv.front().empty() || argv.front().front() != '/')
        return invalid("the program \"" + argv.front().substr(0, 200) +
                       "\" is not an absolute path (no PATH search is done)");
    return argv;
}

} // namespace vsa::services::scripts
