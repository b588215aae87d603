// SPDX-License-Identifier: GPL-2.0-or-later
// Password hashing for the appliance's local accounts: scrypt (RFC 7914)
// through OpenSSL, with a fresh 16-byte salt per hash and a 32-byte key.
//
// The encoding follows the PHC string format so a hash carries its own cost
// parameters and can be re-verified after the defaults change:
//
//     $scrypt$ln=15,r=8,p=1$<salt, base64 without padding>$<key, base64 without padding>
//
// ln is log2(N). verify_password() treats the encoded string as untrusted and
// only accepts parameters inside fixed bounds, so a doctored account file
// cannot make one verification allocate gigabytes or run for hours.
#pragma once

#include "hypervisor/base/result.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace vsa::appliance {

struct PasswordHashParams {
    std::uint64_t n = 1u << 15; // CPU/memory cost; a power of two, 2^10..2^20
    std::uint32_t r = 8;        // block size, 1..32
    std::uint32_t p = 1;        // parallelism, 1..16
};

// Hashes a password with a fresh random salt. Fails only on parameters
// outside the bounds above (or needing more than the memory cap) and on an
// OpenSSL failure (no randomness, out of memory).
Result<std::string, std::string> hash_password(std::string_view password, PasswordHashParams params = {});

// True if the password matches. Any malformed or out-of-bounds encoding is
// simply false. The final comparison is constant time.
bool verify_password(std::string_view password, std::string_view encoded);

// True if the encoding parses and its parameters are inside the bounds, i.e.
// verify_password() would actually compute something. The account store uses
// it to reject a corrupt file at load instead of at the first login.
bool is_well_formed_password_hash(std::string_view encoded);

} // namespace vsa::appliance
