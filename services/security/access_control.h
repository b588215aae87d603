// SPDX-License-Identifier: GPL-2.0-or-later
// The security model of Virtual Server objects (IVMSecurity, IVMAccessRights,
// vs-api.md 8.4): every protected object (the server, each VM, each virtual
// network, each virtual hard disk) has a SecurityDescriptor, an owner plus a
// discretionary ACL of AccessEntry values. An entry allows or denies, for one
// account or group name, any of the six rights Virtual Server exposes:
// Read, Write, Execute (generic), Delete, ReadPermissions, ChangePermissions.
//
// Evaluation (effective_rights) follows the Windows rules Virtual Server
// relied on, simplified to what the API can express:
//   - members of the Administrators group have every right on every object,
//     whatever the ACL says (vsad's administrators own the appliance; a deny
//     entry must not be able to lock them out of their own server);
//   - otherwise the rights are the union of the allow entries that name the
//     user or one of the user's groups, minus the union of the deny entries
//     that do: a deny always wins, whatever the entry order;
//   - the owner implicitly has ReadPermissions and ChangePermissions (as
//     READ_CONTROL and WRITE_DAC in Windows), so an owner can always repair
//     the ACL, unless a deny entry removes them.
// Names compare case-insensitively, like Windows account names. Every
// authenticated user belongs to the group "Everyone"; an account flagged
// administrator to "Administrators".
//
// Accounts are named here; their SIDs come from account_sids.h and the
// Windows binary form from security_descriptor_binary.h. Besides the owner
// a descriptor has a primary group (GroupName; Administrators unless set),
// and each entry keeps its ACE flags byte (inheritance flags, Flags) and
// any access-mask bits outside the six rights (SpecialAccess): neither
// takes part in evaluation (the objects have no children to inherit, and
// no operation checks a special right), both are kept as they are, so a
// descriptor read from a Virtual Server file keeps them.
#pragma once

#include "services/service_error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::services::security {

enum class Right : std::uint8_t {
    Read = 1,
    Write = 2,
    Execute = 4,
    Delete = 8,
    ReadPermissions = 16,
    ChangePermissions = 32,
};

using RightMask = std::uint8_t;
inline constexpr RightMask NO_RIGHTS = 0;
inline constexpr RightMask ALL_RIGHTS = 63;

constexpr RightMask mask(Right right) {
    return static_cast<RightMask>(right);
}
// "read", "write", "execute", "delete", "read-permissions", "change-permissions".
std::string_view right_name(Right right);

// VMAccessRightsType.
enum class AceType : std::uint8_t { Allowed = 0, Denied = 1 };
std::optional<AceType> ace_type_from(std::int64_t value);

inline constexpr std::string_view ADMINISTRATORS = "Administrators";
inline constexpr std::string_view EVERYONE = "Everyone";
// Account names are at most 64 bytes (appliance/auth/account_store.h);
// group names the same, and neither may hold '/', '#' or control bytes
// (they appear in SOAP references).
inline constexpr std::size_t MAX_NAME_BYTES = 64;
// Enough for any real ACL; bounds the .vmc and every evaluation.
inline constexpr std::size_t MAX_ENTRIES = 256;

bool names_equal(std::string_view a, std::string_view b);
// E_INVALIDARG unless 1..64 bytes of [A-Za-z0-9._ -] (the account name
// alphabet plus the space of "Domain Users"-like group names).
ServiceResult<void> validate_name(std::string_view name);

struct AccessEntry {
    std::string name;
    AceType type{AceType::Allowed};
    RightMask rights{NO_RIGHTS};
    std::uint8_t flags{0};    // ACE flags (OBJECT_INHERIT_ACE 0x01, CONTAINER_INHERIT_ACE 0x02, ...)
    std::uint32_t special{0}; // ACCESS_MASK bits outside the six rights

    bool has(Right right) const { return (rights & mask(right)) != 0; }
    void set(Right right, bool on) {
        rights = static_cast<RightMask>(on ? (rights | mask(right)) : (rights & ~mask(right)));
    }
    friend bool operator==(AccessEntry const&, AccessEntry const&) = default;
};

class AccessControlList {
public:
    std::vector<AccessEntry> const& entries() const { return m_entries; }
    std::size_t size() const { return m_entries.size(); }

    // AddEntry: a new entry with no rights. VM_E_SECURITY_DUPLICATE_USER when
    // the name already has an entry of that type; E_OUTOFMEMORY beyond
    // MAX_ENTRIES; E_INVALIDARG for a bad name.
    ServiceResult<AccessEntry> add(std::string_view name, AceType type);
    // FindEntry.
    AccessEntry const* find(std::string_view name, AceType type) const;
    AccessEntry* find(std::string_view name, AceType type);
    // RemoveEntry: false when there was none (S_FALSE).
    bool remove(std::string_view name, AceType type);
    // Loading: appends as is, refusing what add() refuses.
    ServiceResult<void> append(AccessEntry entry);

    friend bool operator==(AccessControlList const&, AccessControlList const&) = default;

private:
    std::vector<AccessEntry> m_entries;
};

struct SecurityDescriptor {
    std::string owner;
    std::string group{ADMINISTRATORS}; // the primary group (GroupName)
    AccessControlList acl;

    // The descriptor of an object that has none stored, or one just
    // created by `creator` ("" or an administrator: Administrators): the
    // owner plus Administrators with every right, plus the creator with every
    // right when the creator is not Administrators.
    static SecurityDescriptor default_for(std::string_view creator);

    friend bool operator==(SecurityDescriptor const&, SecurityDescriptor const&) = default;
};

// Who asks: the authenticated user and the groups the user belongs to.
struct Identity {
    std::string user;
    std::vector<std::string> groups; // besides Everyone (always) and Administrators (below)
    bool administrator{false};

    bool is(std::string_view name) const;
};

RightMask effective_rights(SecurityDescriptor const& descriptor, Identity const& who);
inline bool allows(SecurityDescriptor const& descriptor, Identity const& who, Right right) {
    return (effective_rights(descriptor, who) & mask(right)) != 0;
}

} // namespace vsa::services::security
