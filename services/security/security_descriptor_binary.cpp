// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/security/security_descriptor_binary.h"

namespace vsa::services::security {

namespace {

void put16(std::vector<std::uint8_t>& out, std::size_t at, std::uint16_t value) {
    out[at] = static_cast<std::uint8_t>(value);
    out[at + 1] = static_cast<std::uint8_t>(value >> 8);
}

void put32(std::vector<std::uint8_t>& out, std::size_t at, std::uint32_t value) {
    put16(out, at, static_cast<std::uint16_t>(value));
    put16(out, at + 2, static_cast<std::uint16_t>(value >> 16));
}

void append(std::vector<std::uint8_t>& out, std::vector<std::uint8_t> const& bytes) {
    out.insert(out.end(), bytes.begin(), bytes.end());
}

} // namespace

std::uint32_t access_mask(RightMask rights, std::uint32_t special, GenericMapping const* mapping) {
    std::uint32_t mask = special & ~MAPPED_BITS;
    if (rights & security::mask(Right::Read)) mask |= GENERIC_READ;
    if (rights & security::mask(Right::Write)) mask |= GENERIC_WRITE;
    if (rights & security::mask(Right::Execute)) mask |= GENERIC_EXECUTE;
    if (rights & security::mask(Right::Delete)) mask |= DELETE_RIGHT;
    if (rights & security::mask(Right::ReadPermissions)) mask |= READ_CONTROL;
    if (rights & security::mask(Right::ChangePermissions)) mask |= WRITE_DAC;
    if (!mapping) return mask;
    // MapGenericMask: each generic bit becomes the mapping's rights.
    if (mask & GENERIC_READ) mask |= mapping->read;
    if (mask & GENERIC_WRITE) mask |= mapping->write;
    if (mask & GENERIC_EXECUTE) mask |= mapping->execute;
    if (mask & GENERIC_ALL) mask |= mapping->all;
    return mask & ~(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL);
}

RightMask rights_of_mask(std::uint32_t mask) {
    RightMask rights = NO_RIGHTS;
    if (mask & GENERIC_READ) rights |= security::mask(Right::Read);
    if (mask & GENERIC_WRITE) rights |= security::mask(Right::Write);
    if (mask & GENERIC_EXECUTE) rights |= security::mask(Right::Execute);
    if (mask & DELETE_RIGHT) rights |= security::mask(Right::Delete);
    if (mask & READ_CONTROL) rights |= security::mask(Right::ReadPermissions);
    if (mask & WRITE_DAC) rights |= security::mask(Right::ChangePermissions);
    return rights;
}

std::vector<std::uint8_t> self_relative_descriptor(Sid const& owner, Sid const& group,
                                                   std::vector<DescriptorAce> const& aces) {
    std::vector<std::uint8_t> out(20, 0);
    out[0] = 1; // revision
    put16(out, 2, SE_DACL_PRESENT | SE_SELF_RELATIVE);
    put32(out, 4, static_cast<std::uint32_t>(out.size()));
    append(out, owner.bytes());
    put32(out, 8, static_cast<std::uint32_t>(out.size()));
    append(out, group.bytes());
    // OffsetSacl stays 0: no SACL.
    std::size_t acl = out.size();
    put32(out, 16, static_cast<std::uint32_t>(acl));
    out.resize(acl + 8, 0);
    out[acl] = ACL_REVISION;
    std::uint16_t count = 0;
    for (AceType pass : {AceType::Denied, AceType::Allowed}) {
        for (auto const& ace : aces) {
            if (ace.type != pass) continue;
            std::size_t at = out.size();
            auto sid = ace.sid.bytes();
            out.resize(at + 8, 0);
            out[at] = ace.type == AceType::Allowed ? 0 : 1;
            out[at + 1] = ace.flags;
            put16(out, at + 2, static_cast<std::uint16_t>(8 + sid.size()));
            put32(out, at + 4, ace.mask);
            append(out, sid);
            ++count;
        }
    }
    put16(out, acl + 2, static_cast<std::uint16_t>(out.size() - acl));
    put16(out, acl + 4, count);
    return out;
}

} // namespace vsa::services::security
