// SPDX-License-Identifier: GPL-2.0-or-later
// AccountStore: JSON persistence with Poco::JSON (which throws, so every call
// into it sits inside a try), atomic replacement with plain POSIX calls
// (std::filesystem has no fsync and no way to create a file with a mode).
#include "appliance/auth/account_store.h"
#include "hypervisor/base/file_descriptor.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cerrno>
#include <fcntl.h>
#include <mutex>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace vsa::appliance {

namespace {

using Accounts = std::map<std::string, Account>;

constexpr std::size_t MAX_NAME_LENGTH = 64;
constexpr std::size_t MIN_PASSWORD_LENGTH = 8;
constexpr std::size_t MAX_PASSWORD_LENGTH = 1024;
// Ten thousand accounts are well under 4 MiB; anything far larger is not a
// file we wrote, and reading it whole would just waste memory.
constexpr off_t MAX_FILE_SIZE = off_t(16) << 20;
constexpr int FILE_VERSION = 1;
// Hashed once at open() to give unknown users something to verify against;
// its value does not matter because an unknown user never succeeds.
constexpr std::string_view DUMMY_PASSWORD = "vsa-unknown-user-timing-equaliser";

std::string errno_text(int error) {
    return std::error_code(error, std::generic_category()).message();
}

using vsa::FileDescriptor;

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}

std::string lower_name(std::string_view name) {
    std::string key(name);
    for (char& c : key)
        c = ascii_lower(c);
    return key;
}

bool is_ascii_alnum(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_valid_name(std::string_view name) {
    if (name.empty() || name.size() > MAX_NAME_LENGTH || !is_ascii_alnum(name[0])) return false;
    for (char c : name.substr(1))
        if (!is_ascii_alnum(c) && c != '.' && c != '_' && c != '-') return false;
    return true;
}

Result<void, std::string> check_new_password(std::string_view password) {
    if (password.size() < MIN_PASSWORD_LENGTH) return Err{"password is shorter than 8 bytes"};
    if (password.size() > MAX_PASSWORD_LENGTH) return Err{"password is longer than 1024 bytes"};
    return Ok{};
}

// The whole file, or nullopt if it does not exist.
Result<std::optional<std::string>, std::string> read_file(std::filesystem::path const& file) {
    FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.is_open()) {
        if (errno == ENOENT) return std::optional<std::string>{};
        return Err{"cannot open: " + errno_text(errno)};
    }
    struct stat info {};
    if (::fstat(fd.fd(), &info) != 0) return Err{"cannot stat: " + errno_text(errno)};
    if (!S_ISREG(info.st_mode)) return Err{std::string("not a regular file")};
    if (info.st_size > MAX_FILE_SIZE) return Err{std::string("larger than 16 MiB")};

    std::string text;
    char buffer[16384];
    for (;;) {
        ssize_t count = ::read(fd.fd(), buffer, sizeof buffer);
        if (count < 0) {
            if (errno == EINTR) continue;
            return Err{"cannot read: " + errno_text(errno)};
        }
        if (count == 0) break;
        text.append(buffer, std::size_t(count));
        // The file may grow after fstat; the cap holds either way.
        if (text.size() > std::size_t(MAX_FILE_SIZE)) return Err{std::string("larger than 16 MiB")};
    }
    return std::optional<std::string>{std::move(text)};
}

// Group names follow the account name rules; the built-in groups cannot be
// joined this way (Administrators is the administrator flag, Everyone is
// every account).
Result<void, std::string> check_groups(std::vector<std::string> const& groups) {
    if (groups.size() > MAX_GROUPS_PER_ACCOUNT)
        return Err{"more than " + std::to_string(MAX_GROUPS_PER_ACCOUNT) + " groups"};
    for (std::size_t i = 0; i < groups.size(); ++i) {
        auto const& group = groups[i];
        if (!is_valid_name(group))
            return Err{std::string(
                "invalid group name (allowed: [A-Za-z0-9][A-Za-z0-9._-]*, at most 64 characters)")};
        auto key = lower_name(group);
        if (key == "administrators" || key == "everyone")
            return Err{"\"" + group +
                       "\" is a built-in group (Administrators is the administrator flag, --admin)"};
        for (std::size_t j = 0; j < i; ++j)
            if (lower_name(groups[j]) == key) return Err{"group \"" + group + "\" is listed twice"};
    }
    return Ok{};
}

Result<Accounts, std::string> parse_document(std::string const& text) {
    try {
        Poco::JSON::Parser parser;
        Poco::Dynamic::Var root = parser.parse(text);
        if (root.type() != typeid(Poco::JSON::Object::Ptr))
            return Err{std::string("top level is not an object")};
        auto document = root.extract<Poco::JSON::Object::Ptr>();

        Poco::Dynamic::Var version = document->get("version");
        // Poco counts a bool as an integer (numeric_limits<bool>::is_integer).
        if (!version.isInteger() || version.isBoolean())
            return Err{std::string("\"version\" is missing or not an integer")};
        if (version.convert<Poco::Int64>() != FILE_VERSION)
            return Err{"unsupported version " + version.convert<std::string>()};

        if (!document->isArray("accounts"))
            return Err{std::string("\"accounts\" is missing or not an array")};
        auto list = document->getArray("accounts");

        Accounts accounts;
        for (unsigned i = 0; i < list->size(); ++i) {
            std::string where = "account #" + std::to_string(i) + ": ";
            if (!list->isObject(i)) return Err{where + "not an object"};
            auto entry = list->getObject(i);

            Poco::Dynamic::Var name = entry->get("name");
            Poco::Dynamic::Var hash = entry->get("hash");
            Poco::Dynamic::Var administrator = entry->get("administrator");
            if (!name.isString()) return Err{where + "\"name\" is missing or not a string"};
            if (!hash.isString()) return Err{where + "\"hash\" is missing or not a string"};
            if (!administrator.isBoolean())
                return Err{where + "\"administrator\" is missing or not a boolean"};

            Account account{
                name.extract<std::string>(), hash.extract<std::string>(), administrator.extract<bool>(), {}};
            // The name is only echoed once it is known to be printable.
            if (!is_valid_name(account.name)) return Err{where + "invalid name"};
            if (entry->has("groups")) {
                if (!entry->isArray("groups")) return Err{where + "\"groups\" is not an array"};
                auto groups = entry->getArray("groups");
                for (unsigned g = 0; g < groups->size(); ++g) {
                    Poco::Dynamic::Var group = groups->get(g);
                    if (!group.isString()) return Err{where + "a group is not a string"};
                    account.groups.push_back(group.extract<std::string>());
                }
                if (auto valid = check_groups(account.groups); valid.is_error())
                    return Err{where + valid.error()};
            }
            if (!is_well_formed_password_hash(account.password_hash))
                return Err{where + "malformed password hash for \"" + account.name + "\""};
            auto key = lower_name(account.name);
            if (accounts.contains(key)) return Err{where + "duplicate name \"" + account.name + "\""};
            accounts.emplace(std::move(key), std::move(account));
        }
        return accounts;
    } catch (Poco::Exception const& e) {
        return Err{"not valid JSON: " + e.displayText()};
    } catch (std::exception const& e) {
        return Err{std::string("cannot parse: ") + e.what()};
    }
}

Result<std::string, std::string> serialize(Accounts const& accounts) {
    try {
        Poco::JSON::Array list;
        for (auto const& [key, account] : accounts) {
            Poco::JSON::Object entry(Poco::JSON_PRESERVE_KEY_ORDER);
            entry.set("name", account.name);
            entry.set("hash", account.password_hash);
            entry.set("administrator", account.administrator);
            if (!account.groups.empty()) {
                Poco::JSON::Array groups;
                for (auto const& group : account.groups)
                    groups.add(group);
                entry.set("groups", groups);
            }
            list.add(entry);
        }
        Poco::JSON::Object document(Poco::JSON_PRESERVE_KEY_ORDER);
        document.set("version", FILE_VERSION);
        document.set("accounts", list);
        std::ostringstream out;
        document.stringify(out);
        out << '\n';
        return out.str();
    } catch (Poco::Exception const& e) {
        return Err{"cannot serialise accounts: " + e.displayText()};
    } catch (std::exception const& e) {
        return Err{std::string("cannot serialise accounts: ") + e.what()};
    }
}

// Creates missing directories one level at a time with mode 0700: the
// directory holds credential material and nobody else needs to list it.
Result<void, std::string> ensure_directory(std::filesystem::path const& directory) {
    std::error_code ec;
    if (std::filesystem::is_directory(directory, ec)) return Ok{};
    auto parent = directory.parent_path();
    if (!parent.empty() && parent != directory) TRY(ensure_directory(parent));
    if (::mkdir(directory.c_str(), 0700) != 0) {
        if (errno == EEXIST && std::filesystem::is_directory(directory, ec)) return Ok{};
        return Err{"cannot create directory " + directory.string() + ": " + errno_text(errno)};
    }
    // mkdir's mode is filtered through the umask; state the mode we mean.
    if (::chmod(directory.c_str(), 0700) != 0)
        return Err{"cannot set mode of " + directory.string() + ": " + errno_text(errno)};
    return Ok{};
}

Result<void, std::string> write_all(int fd, std::string_view content) {
    while (!content.empty()) {
        ssize_t written = ::write(fd, content.data(), content.size());
        if (written < 0) {
            if (errno == EINTR) continue;
            return Err{"cannot write: " + errno_text(errno)};
        }
        content.remove_prefix(std::size_t(written));
    }
    return Ok{};
}

Result<void, std::string> write_temp_file(std::filesystem::path const& temp,
                                          std::filesystem::path const& file, std::string_view content) {
    // A leftover temp file (crash mid-save) or anything planted there is
    // removed first; O_EXCL|O_NOFOLLOW then guarantees we write a new file of
    // our own and never through a symlink.
    if (::unlink(temp.c_str()) != 0 && errno != ENOENT)
        return Err{"cannot remove stale " + temp.string() + ": " + errno_text(errno)};
    FileDescriptor fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.is_open()) return Err{"cannot create " + temp.string() + ": " + errno_text(errno)};
    if (::fchmod(fd.fd(), 0600) != 0)
        return Err{"cannot set mode of " + temp.string() + ": " + errno_text(errno)};
    // root (`vsad user` on the appliance) writes the file for vsad's own
    // user: the new file gets the owner of the one it replaces, or of the
    // directory, or vsad could no longer read its accounts.
    if (::geteuid() == 0) {
        struct stat owner {};
        auto directory = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
        if (::stat(file.c_str(), &owner) != 0 && ::stat(directory.c_str(), &owner) != 0)
            return Err{"cannot stat the owner of " + file.string() + ": " + errno_text(errno)};
        if ((owner.st_uid != 0 || owner.st_gid != 0) && ::fchown(fd.fd(), owner.st_uid, owner.st_gid) != 0)
            return Err{"cannot give " + temp.string() + " its owner: " + errno_text(errno)};
    }
    TRY(write_all(fd.fd(), content));
    if (::fsync(fd.fd()) != 0) return Err{"cannot fsync " + temp.string() + ": " + errno_text(errno)};
    if (fd.close() != 0) return Err{"cannot close " + temp.string() + ": " + errno_text(errno)};
    return Ok{};
}

Result<void, std::string> replace_file(std::filesystem::path const& file, std::string_view content) {
    auto directory = file.parent_path();
    if (directory.empty()) directory = ".";
    TRY(ensure_directory(directory));

    auto temp = file;
    temp += ".tmp";
    auto written = write_temp_file(temp, file, content);
    if (written.is_error()) {
        ::unlink(temp.c_str());
        return written;
    }
    if (::rename(temp.c_str(), file.c_str()) != 0) {
        int error = errno;
        ::unlink(temp.c_str());
        return Err{"cannot rename " + temp.string() + ": " + errno_text(error)};
    }
    // Without this the rename itself may be lost on a power cut, leaving the
    // old file. If it fails, the new content is most likely on disk anyway
    // but we cannot promise it; the caller rolls back and the next
    // successful save rewrites the whole file from memory.
    FileDescriptor dir_fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd.is_open() || ::fsync(dir_fd.fd()) != 0)
        return Err{"cannot fsync directory " + directory.string() + ": " + errno_text(errno)};
    return Ok{};
}

} // namespace

Result<std::unique_ptr<AccountStore>, std::string> AccountStore::open(std::filesystem::path file,
                                                                      PasswordHashParams params) {
    auto text = read_file(file);
    if (text.is_error()) return Err{"account file " + file.string() + ": " + text.error()};
    Accounts accounts;
    if (text.value()) {
        auto parsed = parse_document(*text.value());
        if (parsed.is_error()) return Err{"account file " + file.string() + ": " + parsed.error()};
        accounts = parsed.release_value();
    }

    auto dummy_hash = hash_password(DUMMY_PASSWORD, params);
    if (dummy_hash.is_error()) return Err{"account store: " + dummy_hash.error()};

    auto seen = identity_of(file);
    auto store = std::unique_ptr<AccountStore>(
        new AccountStore(std::move(file), params, dummy_hash.release_value(), std::move(accounts)));
    store->m_seen = seen;
    return store;
}

AccountStore::FileIdentity AccountStore::identity_of(std::filesystem::path const& file) {
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0) return {};
    return {std::uint64_t(info.st_dev), std::uint64_t(info.st_ino), std::uint64_t(info.st_size),
            std::uint64_t(info.st_mtim.tv_sec) * 1'000'000'000u + std::uint64_t(info.st_mtim.tv_nsec), true};
}

Result<void, std::string> AccountStore::reload_if_changed_locked() {
    auto now = identity_of(m_file);
    if (now == m_seen) return Ok{};
    auto text = read_file(m_file);
    if (text.is_error()) return Err{"account file " + m_file.string() + ": " + text.error()};
    // Deleted behind our back: keep what memory holds (the next change
    // writes it again) rather than lock everybody out.
    if (!text.value()) return Ok{};
    auto parsed = parse_document(*text.value());
    if (parsed.is_error()) return Err{"account file " + m_file.string() + ": " + parsed.error()};
    auto accounts = parsed.release_value();
    for (auto const& [key, old] : m_accounts) {
        auto it = accounts.find(key);
        if (it == accounts.end() || it->second.password_hash != old.password_hash ||
            it->second.administrator != old.administrator)
            m_stale.push_back(old.name);
    }
    m_accounts = std::move(accounts);
    m_seen = now;
    ++m_generation;
    return Ok{};
}

Result<FileDescriptor, AccountError> AccountStore::lock_file_and_reload_locked() {
    auto directory = m_file.parent_path();
    if (directory.empty()) directory = ".";
    if (auto made = ensure_directory(directory); made.is_error())
        return Err{AccountError{AccountErrorKind::Storage, made.release_error()}};
    FileDescriptor lock(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!lock.is_open() || ::flock(lock.fd(), LOCK_EX) != 0)
        return Err{AccountError{AccountErrorKind::Storage,
                                "cannot lock " + directory.string() + ": " + errno_text(errno)}};
    if (auto reloaded = reload_if_changed_locked(); reloaded.is_error())
        return Err{AccountError{AccountErrorKind::Storage, reloaded.release_error()}};
    return lock;
}

Result<std::vector<std::string>, std::string> AccountStore::refresh() {
    // No flock: the file is only ever replaced by rename, so a read sees
    // one whole version or the other.
    std::unique_lock lock(m_mutex);
    TRY(reload_if_changed_locked());
    return std::exchange(m_stale, {});
}

AccountStore::AccountStore(std::filesystem::path file, PasswordHashParams params, std::string dummy_hash,
                           AccountMap accounts)
    : m_file(std::move(file)), m_params(params), m_dummy_hash(std::move(dummy_hash)),
      m_accounts(std::move(accounts)) {}

Result<void, std::string> AccountStore::save_locked() const {
    auto content = TRY(serialize(m_accounts));
    auto saved = replace_file(m_file, content);
    if (saved.is_error()) return Err{"account file " + m_file.string() + ": " + saved.error()};
    m_seen = identity_of(m_file);
    return Ok{};
}

namespace {

Result<void, std::string> plain(Result<void, AccountError> result) {
    if (result.is_error()) return Err{result.release_error().message};
    return Ok{};
}

AccountError invalid(std::string message) {
    return {AccountErrorKind::Invalid, std::move(message)};
}

AccountError not_found() {
    return {AccountErrorKind::NotFound, "no such account"};
}

constexpr std::string_view NAME_RULE = "[A-Za-z0-9][A-Za-z0-9._-]*, at most 64 characters";

} // namespace

std::optional<std::string> AccountStore::name_problem(std::string_view name) {
    if (is_valid_name(name)) return std::nullopt;
    return "invalid account name (allowed: " + std::string(NAME_RULE) + ")";
}

std::optional<std::string> AccountStore::password_problem(std::string_view password) {
    auto checked = check_new_password(password);
    if (checked.has_value()) return std::nullopt;
    return checked.release_error();
}

std::optional<std::string> AccountStore::groups_problem(std::vector<std::string> const& groups) {
    auto checked = check_groups(groups);
    if (checked.has_value()) return std::nullopt;
    return checked.release_error();
}

Result<void, AccountError> AccountStore::save_locked_or_error() const {
    auto saved = save_locked();
    if (saved.is_error()) return Err{AccountError{AccountErrorKind::Storage, saved.release_error()}};
    return Ok{};
}

std::size_t AccountStore::other_administrators_locked(std::string const& key) const {
    std::size_t count = 0;
    for (auto const& [account_key, account] : m_accounts)
        if (account.administrator && account_key != key) ++count;
    return count;
}

Result<void, std::string> AccountStore::add(std::string const& name, std::string_view password,
                                            bool administrator, std::vector<std::string> groups) {
    return plain(try_add(name, password, administrator, std::move(groups)));
}

Result<void, AccountError> AccountStore::try_add(std::string const& name, std::string_view password,
                                                 bool administrator, std::vector<std::string> groups) {
    if (auto problem = name_problem(name)) return Err{invalid(*problem)};
    if (auto problem = password_problem(password)) return Err{invalid(*problem)};
    if (auto problem = groups_problem(groups)) return Err{invalid(*problem)};
    auto key = lower_name(name);
    auto duplicate = [&] {
        return Err{AccountError{AccountErrorKind::Exists, "account \"" + name + "\" already exists"}};
    };
    {
        // Cheap early answer before spending a scrypt run; checked again below.
        std::shared_lock lock(m_mutex);
        if (m_accounts.contains(key)) return duplicate();
    }

    auto hash = hash_password(password, m_params);
    if (hash.is_error()) return Err{AccountError{AccountErrorKind::Storage, hash.release_error()}};

    std::unique_lock lock(m_mutex);
    auto file_lock = lock_file_and_reload_locked();
    if (file_lock.is_error()) return Err{file_lock.release_error()};
    auto [it, inserted] =
        m_accounts.try_emplace(key, Account{name, hash.release_value(), administrator, std::move(groups)});
    if (!inserted) return duplicate();
    if (auto saved = save_locked_or_error(); saved.is_error()) {
        m_accounts.erase(it);
        return saved;
    }
    ++m_generation;
    return Ok{};
}

Result<void, std::string> AccountStore::set_password(std::string const& name, std::string_view password) {
    return plain(try_set_password(name, password));
}

Result<void, AccountError> AccountStore::try_set_password(std::string const& name,
                                                          std::string_view password) {
    if (auto problem = password_problem(password)) return Err{invalid(*problem)};
    auto key = lower_name(name);
    {
        std::shared_lock lock(m_mutex);
        if (!m_accounts.contains(key)) return Err{not_found()};
    }

    auto hash = hash_password(password, m_params);
    if (hash.is_error()) return Err{AccountError{AccountErrorKind::Storage, hash.release_error()}};
    auto new_hash = hash.release_value();

    std::unique_lock lock(m_mutex);
    auto file_lock = lock_file_and_reload_locked();
    if (file_lock.is_error()) return Err{file_lock.release_error()};
    auto it = m_accounts.find(key);
    // Removed while we were hashing.
    if (it == m_accounts.end()) return Err{not_found()};
    std::swap(it->second.password_hash, new_hash);
    if (auto saved = save_locked_or_error(); saved.is_error()) {
        std::swap(it->second.password_hash, new_hash);
        return saved;
    }
    ++m_generation;
    return Ok{};
}

Result<void, std::string> AccountStore::set_groups(std::string const& name, std::vector<std::string> groups) {
    return plain(try_set_groups(name, std::move(groups)));
}

Result<void, AccountError> AccountStore::try_set_groups(std::string const& name,
                                                        std::vector<std::string> groups) {
    if (auto problem = groups_problem(groups)) return Err{invalid(*problem)};
    std::unique_lock lock(m_mutex);
    auto file_lock = lock_file_and_reload_locked();
    if (file_lock.is_error()) return Err{file_lock.release_error()};
    auto it = m_accounts.find(lower_name(name));
    if (it == m_accounts.end()) return Err{not_found()};
    std::swap(it->second.groups, groups);
    if (auto saved = save_locked_or_error(); saved.is_error()) {
        std::swap(it->second.groups, groups);
        return saved;
    }
    ++m_generation;
    return Ok{};
}

Result<void, AccountError> AccountStore::try_set_administrator(std::string const& name, bool administrator) {
    auto key = lower_name(name);
    std::unique_lock lock(m_mutex);
    auto file_lock = lock_file_and_reload_locked();
    if (file_lock.is_error()) return Err{file_lock.release_error()};
    auto it = m_accounts.find(key);
    if (it == m_accounts.end()) return Err{not_found()};
    if (it->second.administrator == administrator) return Ok{};
    if (!administrator && other_administrators_locked(key) == 0)
        return Err{AccountError{AccountErrorKind::LastAdministrator,
                                "\"" + it->second.name +
                                    "\" is the last administrator; make another "
                                    "account an administrator first"}};
    it->second.administrator = administrator;
    if (auto saved = save_locked_or_error(); saved.is_error()) {
        it->second.administrator = !administrator;
        return saved;
    }
    ++m_generation;
    return Ok{};
}

std::optional<std::string> AccountStore::find_group(std::string_view name) const {
    auto key = lower_name(name);
    std::shared_lock lock(m_mutex);
    for (auto const& [account_key, account] : m_accounts)
        for (auto const& group : account.groups)
            if (lower_name(group) == key) return group;
    return std::nullopt;
}

Result<void, std::string> AccountStore::remove(std::string const& name) {
    return plain(try_remove(name, false));
}

Result<void, AccountError> AccountStore::try_remove(std::string const& name, bool keep_an_administrator) {
    auto key = lower_name(name);
    std::unique_lock lock(m_mutex);
    auto file_lock = lock_file_and_reload_locked();
    if (file_lock.is_error()) return Err{file_lock.release_error()};
    auto it = m_accounts.find(key);
    if (it == m_accounts.end()) return Err{not_found()};
    if (keep_an_administrator && it->second.administrator && other_administrators_locked(key) == 0)
        return Err{
            AccountError{AccountErrorKind::LastAdministrator,
                         "\"" + it->second.name + "\" is the last administrator and cannot be removed"}};
    auto node = m_accounts.extract(it);
    if (auto saved = save_locked_or_error(); saved.is_error()) {
        m_accounts.insert(std::move(node));
        return saved;
    }
    ++m_generation;
    return Ok{};
}

std::optional<Account> AccountStore::find(std::string_view name) const {
    if (name.size() > MAX_NAME_LENGTH) return std::nullopt;
    std::shared_lock lock(m_mutex);
    auto it = m_accounts.find(lower_name(name));
    if (it == m_accounts.end()) return std::nullopt;
    return it->second;
}

bool AccountStore::verify(std::string_view name, std::string_view password) const {
    // Independent of the name, so this early exit reveals nothing about which
    // users exist; it only stops a client from feeding scrypt megabytes.
    if (password.size() > MAX_PASSWORD_LENGTH) return false;

    std::optional<std::string> hash;
    if (name.size() <= MAX_NAME_LENGTH) {
        std::shared_lock lock(m_mutex);
        if (auto it = m_accounts.find(lower_name(name)); it != m_accounts.end())
            hash = it->second.password_hash;
    }
    // scrypt runs outside the lock so logins do not queue behind each other.
    if (!hash) {
        (void)verify_password(password, m_dummy_hash);
        return false;
    }
    return verify_password(password, *hash);
}

std::vector<std::string> AccountStore::names() const {
    std::shared_lock lock(m_mutex);
    std::vector<std::string> result;
    result.reserve(m_accounts.size());
    for (auto const& [key, account] : m_accounts)
        result.push_back(account.name);
    return result;
}

std::size_t AccountStore::size() const {
    std::shared_lock lock(m_mutex);
    return m_accounts.size();
}

std::uint64_t AccountStore::generation() const {
    std::shared_lock lock(m_mutex);
    return m_generation;
}

} // namespace vsa::appliance
