// SPDX-License-Identifier: GPL-2.0-or-later
// Security identifiers (SIDs) in Windows' two forms, for the SID members of
// IVMSecurity / IVMAccessRights and the binary SECURITY_DESCRIPTOR
// (security_descriptor_binary.h). [MS-DTYP] 2.4.2: the string form
// "S-1-<authority>-<sub>-<sub>...", the binary form revision (1), the
// number of sub-authorities (at most 15), the 48-bit identifier authority
// big-endian, then each sub-authority as a little-endian 32-bit number.
//
// Which account has which SID is the appliance's business (its accounts
// are its own, not host accounts): appliance/auth/account_sids.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::services::security {

class Sid {
public:
    static constexpr std::size_t MAX_SUB_AUTHORITIES = 15;

    Sid() = default;
    Sid(std::uint64_t authority, std::vector<std::uint32_t> sub_authorities);

    // "S-1-5-32-544" (case-insensitive "s-"); decimal or 0x-hex authority
    // as Windows accepts. Nothing else: no spaces, no empty parts.
    static std::optional<Sid> parse(std::string_view text);
    // From the binary form; the number of bytes used in `used`.
    static std::optional<Sid> from_bytes(std::vector<std::uint8_t> const& bytes, std::size_t offset,
                                         std::size_t* used = nullptr);

    std::string to_string() const;
    std::vector<std::uint8_t> bytes() const;
    std::size_t byte_size() const { return 8 + 4 * m_sub.size(); }

    std::uint64_t authority() const { return m_authority; }
    std::vector<std::uint32_t> const& sub_authorities() const { return m_sub; }
    // This SID plus one more sub-authority (a domain SID plus a RID).
    Sid with_rid(std::uint32_t rid) const;
    // Whether `this` is `domain` plus exactly one RID (the RID), or nullopt.
    std::optional<std::uint32_t> rid_in(Sid const& domain) const;

    friend bool operator==(Sid const&, Sid const&) = default;

private:
    std::uint64_t m_authority{0};
    std::vector<std::uint32_t> m_sub;
};

// Well-known SIDs ([MS-DTYP] 2.4.2.4).
Sid everyone_sid();               // S-1-1-0
Sid builtin_administrators_sid(); // S-1-5-32-544
Sid builtin_users_sid();          // S-1-5-32-545
Sid local_system_sid();           // S-1-5-18

} // namespace vsa::services::security
