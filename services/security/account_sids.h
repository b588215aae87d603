// SPDX-License-Identifier: GPL-2.0-or-later
// AccountSids: the SIDs of the appliance's accounts and groups.
//
// The accounts that appear in security descriptors are vsad's own
// (appliance/auth/account_store.h), not host accounts, so they get SIDs the
// way a stand-alone Windows machine gives its local accounts theirs: a
// machine domain SID S-1-5-21-x-y-z drawn once per appliance (three random
// 32-bit numbers, as Windows setup draws them) plus a relative identifier
// (RID) per account or group, from 1000 up as Windows numbers local
// accounts. A name's RID is assigned when its SID is first needed and kept
// for good, so a SID never changes across restarts and never passes to
// another name. (A removed account that is created again gets its old SID
// back; Windows would draw a new one. Descriptors name accounts, so an ACE
// for the old account then applies to the new one, as it did before SIDs.)
//
// The built-in groups keep their well-known SIDs: Everyone S-1-1-0,
// Administrators S-1-5-32-544.
//
// File (<data dir>/account-sids.txt), written whole (temp file, fsync,
// rename) on every new RID:
//   vsa-account-sids 1
//   domain S-1-5-21-<x>-<y>-<z>
//   <rid> <name>          one line per name (names may hold spaces)
#pragma once

#include "services/security/sid.h"
#include "services/service_error.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace vsa::services::security {

class AccountSids {
public:
    static constexpr std::uint32_t FIRST_RID = 1000;
    static constexpr std::size_t MAX_NAMES = 100'000;

    // Reads the file, or draws the domain and writes it when there is none.
    // A file that does not parse is an error (the SIDs in the descriptors
    // clients hold would silently change).
    static ServiceResult<std::unique_ptr<AccountSids>> open(std::filesystem::path file);

    Sid const& domain() const { return m_domain; }
    // The SID of a name (well-known, or domain + its RID, assigned now if
    // it has none). Names compare case-insensitively (names_equal).
    ServiceResult<Sid> sid_of(std::string_view name);
    // The name a SID stands for, or nullopt (an unknown or foreign SID).
    std::optional<std::string> name_of(Sid const& sid) const;

private:
    AccountSids(std::filesystem::path file, Sid domain)
        : m_file(std::move(file)), m_domain(std::move(domain)) {}
    ServiceResult<void> save_locked() const;
    static std::string key(std::string_view name);

    std::filesystem::path m_file;
    Sid m_domain;
    mutable std::mutex m_mutex;
    std::map<std::string, std::pair<std::uint32_t, std::string>> m_by_key; // folded name -> (rid, name)
    std::map<std::uint32_t, std::string> m_by_rid;
    std::uint32_t m_next{FIRST_RID};
};

} // namespace vsa::services::security
