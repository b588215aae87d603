// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/password_generator.h"

#include <openssl/rand.h>

#include <stdexcept>
#include <string_view>

namespace vsa::appliance {

std::string generate_password(std::size_t length) {
    static constexpr std::string_view ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    // Rejection sampling: bytes at or above the largest multiple of the
    // alphabet size would bias the first characters.
    constexpr unsigned LIMIT = 256 - 256 % ALPHABET.size();
    std::string out;
    while (out.size() < length) {
        unsigned char bytes[64];
        if (RAND_bytes(bytes, sizeof bytes) != 1)
            throw std::runtime_error("the system random generator failed");
        for (unsigned char b : bytes)
            if (b < LIMIT && out.size() < length) out += ALPHABET[b % ALPHABET.size()];
    }
    return out;
}

} // namespace vsa::appliance
