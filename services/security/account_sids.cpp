// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/security/account_sids.h"

#include "services/persist/atomic_file.h"
#include "services/security/access_control.h"

#include <charconv>
#include <fstream>
#include <random>
#include <sstream>

namespace vsa::services::security {

namespace {

constexpr std::string_view MAGIC = "vsa-account-sids 1";
constexpr std::uintmax_t MAX_FILE_BYTES = 8 * 1024 * 1024;

ServiceError corrupt(std::filesystem::path const& file, std::string const& why) {
    return {hr::E_FAIL,
            file.string() + " is corrupt (" + why +
                "); the SIDs of the appliance's accounts are kept there, restore it from a backup"};
}

} // namespace

std::string AccountSids::key(std::string_view name) {
    std::string folded(name);
    for (auto& c : folded)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return folded;
}

ServiceResult<std::unique_ptr<AccountSids>> AccountSids::open(std::filesystem::path file) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
        std::random_device seed;
        std::vector<std::uint32_t> sub{21};
        for (int i = 0; i < 3; ++i)
            sub.push_back(static_cast<std::uint32_t>(seed()));
        std::unique_ptr<AccountSids> sids(new AccountSids(file, Sid(5, std::move(sub))));
        std::lock_guard lock(sids->m_mutex);
        TRY(sids->save_locked());
        return sids;
    }
    if (std::filesystem::file_size(file, ec) > MAX_FILE_BYTES || ec) return Err{corrupt(file, "too large")};
    std::ifstream in(file);
    std::string line;
    if (!std::getline(in, line) || line != MAGIC) return Err{corrupt(file, "no header")};
    if (!std::getline(in, line) || !line.starts_with("domain ")) return Err{corrupt(file, "no domain line")};
    auto domain = Sid::parse(line.substr(7));
    if (!domain || domain->authority() != 5 || domain->sub_authorities().size() != 4 ||
        domain->sub_authorities()[0] != 21)
        return Err{corrupt(file, "the domain is no S-1-5-21-x-y-z")};
    std::unique_ptr<AccountSids> sids(new AccountSids(file, *domain));
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        auto space = line.find(' ');
        std::uint32_t rid = 0;
        auto [end, err] = std::from_chars(line.data(), line.data() + std::min(space, line.size()), rid);
        if (space == std::string::npos || err != std::errc{} || end != line.data() + space || rid < FIRST_RID)
            return Err{corrupt(file, "bad line '" + line.substr(0, 80) + "'")};
        std::string name = line.substr(space + 1);
        if (validate_name(name).is_error() || sids->m_by_rid.count(rid) || sids->m_by_key.count(key(name)) ||
            sids->m_by_rid.size() >= MAX_NAMES)
            return Err{corrupt(file, "bad or repeated entry '" + line.substr(0, 80) + "'")};
        sids->m_by_key[key(name)] = {rid, name};
        sids->m_by_rid[rid] = name;
        sids->m_next = std::max(sids->m_next, rid + 1);
    }
    return sids;
}

ServiceResult<void> AccountSids::save_locked() const {
    std::ostringstream out;
    out << MAGIC << "\ndomain " << m_domain.to_string() << "\n";
    for (auto const& [rid, name] : m_by_rid)
        out << rid << ' ' << name << '\n';
    return write_file_atomically(m_file, out.str());
}

ServiceResult<Sid> AccountSids::sid_of(std::string_view name) {
    if (names_equal(name, EVERYONE)) return everyone_sid();
    if (names_equal(name, ADMINISTRATORS)) return builtin_administrators_sid();
    TRY(validate_name(name));
    std::lock_guard lock(m_mutex);
    auto folded = key(name);
    if (auto it = m_by_key.find(folded); it != m_by_key.end()) return m_domain.with_rid(it->second.first);
    if (m_by_rid.size() >= MAX_NAMES || m_next == 0xFFFF'FFFF)
        return Err{ServiceError{hr::E_OUTOFMEMORY, "no more account SIDs"}};
    std::uint32_t rid = m_next++;
    m_by_key[folded] = {rid, std::string(name)};
    m_by_rid[rid] = std::string(name);
    if (auto saved = save_locked(); saved.is_error()) {
        m_by_key.erase(folded);
        m_by_rid.erase(rid);
        --m_next;
        return Err{saved.error()};
    }
    return m_domain.with_rid(rid);
}

std::optional<std::string> AccountSids::name_of(Sid const& sid) const {
    if (sid == everyone_sid()) return std::string(EVERYONE);
    if (sid == builtin_administrators_sid()) return std::string(ADMINISTRATORS);
    auto rid = sid.rid_in(m_domain);
    if (!rid) return std::nullopt;
    std::lock_guard lock(m_mutex);
    auto it = m_by_rid.find(*rid);
    if (it == m_by_rid.end()) return std::nullopt;
    return it->second;
}

} // namespace vsa::services::security
