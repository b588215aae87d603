// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/security/access_control.h"

#include <algorithm>

namespace vsa::services::security {

namespace {

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

} // namespace

std::string_view right_name(Right right) {
    switch (right) {
    case Right::Read:
        return "read";
    case Right::Write:
        return "write";
    case Right::Execute:
        return "execute";
    case Right::Delete:
        return "delete";
    case Right::ReadPermissions:
        return "read-permissions";
    case Right::ChangePermissions:
        return "change-permissions";
    }
    return "unknown";
}

std::optional<AceType> ace_type_from(std::int64_t value) {
    if (value == 0) return AceType::Allowed;
    if (value == 1) return AceType::Denied;
    return std::nullopt;
}

bool names_equal(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

ServiceResult<void> validate_name(std::string_view name) {
    auto ok_char = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '_' || c == '-' || c == ' ';
    };
    if (name.empty() || name.size() > MAX_NAME_BYTES || !std::all_of(name.begin(), name.end(), ok_char) ||
        name.front() == ' ' || name.back() == ' ')
        return Err{ServiceError{hr::E_INVALIDARG,
                                "'" + std::string(name.substr(0, MAX_NAME_BYTES)) +
                                    "' is not an account or group name (1-64 of A-Z a-z 0-9 . _ - space)"}};
    return {};
}

ServiceResult<AccessEntry> AccessControlList::add(std::string_view name, AceType type) {
    AccessEntry entry{std::string(name), type, NO_RIGHTS};
    TRY(append(entry));
    return entry;
}

ServiceResult<void> AccessControlList::append(AccessEntry entry) {
    TRY(validate_name(entry.name));
    if (entry.rights > ALL_RIGHTS)
        return Err{
            ServiceError{hr::E_INVALIDARG, "access entry for '" + entry.name + "' has unknown rights"}};
    if (find(entry.name, entry.type))
        return Err{ServiceError{hr::VM_E_SECURITY_DUPLICATE_USER,
                                "'" + entry.name + "' already has an " +
                                    (entry.type == AceType::Allowed ? "allow" : "deny") + " entry"}};
    if (m_entries.size() >= MAX_ENTRIES)
        return Err{ServiceError{hr::E_OUTOFMEMORY, "an access control list holds at most " +
                                                       std::to_string(MAX_ENTRIES) + " entries"}};
    m_entries.push_back(std::move(entry));
    return {};
}

AccessEntry const* AccessControlList::find(std::string_view name, AceType type) const {
    for (auto const& entry : m_entries)
        if (entry.type == type && names_equal(entry.name, name)) return &entry;
    return nullptr;
}

AccessEntry* AccessControlList::find(std::string_view name, AceType type) {
    for (auto& entry : m_entries)
        if (entry.type == type && names_equal(entry.name, name)) return &entry;
    return nullptr;
}

bool AccessControlList::remove(std::string_view name, AceType type) {
    auto it = std::find_if(m_entries.begin(), m_entries.end(), [&](AccessEntry const& entry) {
        return entry.type == type && names_equal(entry.name, name);
    });
    if (it == m_entries.end()) return false;
    m_entries.erase(it);
    return true;
}

SecurityDescriptor SecurityDescriptor::default_for(std::string_view creator) {
    SecurityDescriptor descriptor;
    descriptor.owner = creator.empty() ? std::string(ADMINISTRATORS) : std::string(creator);
    (void)descriptor.acl.append({std::string(ADMINISTRATORS), AceType::Allowed, ALL_RIGHTS});
    if (!names_equal(descriptor.owner, ADMINISTRATORS))
        (void)descriptor.acl.append({descriptor.owner, AceType::Allowed, ALL_RIGHTS});
    return descriptor;
}

bool Identity::is(std::string_view name) const {
    if (names_equal(name, user) || names_equal(name, EVERYONE)) return true;
    if (administrator && names_equal(name, ADMINISTRATORS)) return true;
    return std::any_of(groups.begin(), groups.end(),
                       [&](std::string const& g) { return names_equal(g, name); });
}

RightMask effective_rights(SecurityDescriptor const& descriptor, Identity const& who) {
    if (who.administrator) return ALL_RIGHTS;
    RightMask allowed = NO_RIGHTS;
    RightMask denied = NO_RIGHTS;
    for (auto const& entry : descriptor.acl.entries()) {
        if (!who.is(entry.name)) continue;
        (entry.type == AceType::Allowed ? allowed : denied) |= entry.rights;
    }
    if (!descriptor.owner.empty() && who.is(descriptor.owner))
        allowed |= mask(Right::ReadPermissions) | mask(Right::ChangePermissions);
    return static_cast<RightMask>(allowed & ~denied);
}

} // namespace vsa::services::security
