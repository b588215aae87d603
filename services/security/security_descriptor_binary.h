// SPDX-License-Identifier: GPL-2.0-or-later
// The Windows binary form of a security descriptor, for
// IVMSecurity._ToSecurityDescriptor and IVMAccessRights._GetAccessMask
// (COM clients got a self-relative SECURITY_DESCRIPTOR; SOAP clients get
// the same bytes as xsd:base64Binary).
//
// [MS-DTYP] 2.4.6 SECURITY_DESCRIPTOR, self-relative:
//   0  Revision 1, Sbz1 0, Control (u16 LE): SE_DACL_PRESENT (0x0004) |
//      SE_SELF_RELATIVE (0x8000)
//   4  OffsetOwner, OffsetGroup, OffsetSacl (0: none), OffsetDacl (u32 LE)
//   20 the owner SID, the group SID, then the DACL, in that order
// [MS-DTYP] 2.4.5 ACL: AclRevision 2, Sbz1, AclSize (u16), AceCount (u16),
// Sbz2; then the ACEs. 2.4.4.2/2.4.4.4 ACCESS_ALLOWED_ACE / ACCESS_DENIED_ACE:
// AceType (0 allowed, 1 denied), AceFlags (the entry's Flags byte), AceSize
// (u16), Mask (u32), the SID.
//
// The ACEs are written in canonical order, the deny entries first, each
// group in the ACL's order: Virtual Server's rule (and ours,
// access_control.h) is that a deny wins wherever it stands, and Windows'
// AccessCheck only gives that result for canonical order.
//
// Access masks: Read, Write and Execute are GENERIC_READ / GENERIC_WRITE /
// GENERIC_EXECUTE, Delete DELETE, ReadPermissions READ_CONTROL,
// ChangePermissions WRITE_DAC; the entry's special bits (rights outside
// those, SpecialAccess) are added as they are. With a GENERIC_MAPPING, the
// generic bits are replaced by the mapping's (MapGenericMask), as
// _GetAccessMask and _ToSecurityDescriptor did for the caller's mapping.
#pragma once

#include "services/security/access_control.h"
#include "services/security/sid.h"

#include <cstdint>
#include <vector>

namespace vsa::services::security {

inline constexpr std::uint32_t GENERIC_READ = 0x8000'0000;
inline constexpr std::uint32_t GENERIC_WRITE = 0x4000'0000;
inline constexpr std::uint32_t GENERIC_EXECUTE = 0x2000'0000;
inline constexpr std::uint32_t GENERIC_ALL = 0x1000'0000;
inline constexpr std::uint32_t DELETE_RIGHT = 0x0001'0000;
inline constexpr std::uint32_t READ_CONTROL = 0x0002'0000;
inline constexpr std::uint32_t WRITE_DAC = 0x0004'0000;
// The bits the six rights use; everything else in a mask is special.
inline constexpr std::uint32_t MAPPED_BITS =
    GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | DELETE_RIGHT | READ_CONTROL | WRITE_DAC;

inline constexpr std::uint16_t SE_DACL_PRESENT = 0x0004;
inline constexpr std::uint16_t SE_SELF_RELATIVE = 0x8000;
inline constexpr std::uint8_t ACL_REVISION = 2;

struct GenericMapping {
    std::uint32_t read{0};
    std::uint32_t write{0};
    std::uint32_t execute{0};
    std::uint32_t all{0};
};

// The ACCESS_MASK of `rights` plus `special`, mapped through `mapping`
// when there is one.
std::uint32_t access_mask(RightMask rights, std::uint32_t special, GenericMapping const* mapping);
// The other way: the six rights a mask holds, and the rest (special).
RightMask rights_of_mask(std::uint32_t mask);

struct DescriptorAce {
    AceType type{AceType::Allowed};
    std::uint8_t flags{0};
    std::uint32_t mask{0};
    Sid sid;
};

std::vector<std::uint8_t> self_relative_descriptor(Sid const& owner, Sid const& group,
                                                   std::vector<DescriptorAce> const& aces);

} // namespace vsa::services::security
