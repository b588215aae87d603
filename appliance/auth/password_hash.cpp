// SPDX-License-Identifier: GPL-2.0-or-later
// scrypt via EVP_PBE_scrypt. The base64 codec is our own rather than
// EVP_DecodeBlock: that one skips whitespace, wants padding and accepts
// non-canonical trailing bits, and the parser here must be strict.
#include "appliance/auth/password_hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <optional>
#include <span>

namespace vsa::appliance {

namespace {

constexpr std::size_t SALT_BYTES = 16;
constexpr std::size_t KEY_BYTES = 32;
constexpr unsigned MIN_LOG2_N = 10;
constexpr unsigned MAX_LOG2_N = 20;
constexpr std::uint32_t MAX_R = 32;
constexpr std::uint32_t MAX_P = 16;
// scrypt's V array is 128*r*N bytes; the bounds above allow up to 4 GiB. An
// appliance daemon verifying logins must not go near that, so anything
// needing more than this is refused outright.
constexpr std::uint64_t MAX_SCRYPT_MEMORY = std::uint64_t(1) << 30;
constexpr std::string_view SCHEME_PREFIX = "$scrypt$";

constexpr char BASE64_ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct ParsedHash {
    PasswordHashParams params;
    std::array<unsigned char, SALT_BYTES> salt{};
    std::array<unsigned char, KEY_BYTES> key{};
};

constexpr std::size_t unpadded_base64_length(std::size_t bytes) {
    return (bytes * 4 + 2) / 3;
}

std::string encode_base64_unpadded(std::span<unsigned char const> bytes) {
    std::string out;
    out.reserve(unpadded_base64_length(bytes.size()));
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        std::uint32_t v = (std::uint32_t(bytes[i]) << 16) | (std::uint32_t(bytes[i + 1]) << 8) | bytes[i + 2];
        out += BASE64_ALPHABET[(v >> 18) & 63];
        out += BASE64_ALPHABET[(v >> 12) & 63];
        out += BASE64_ALPHABET[(v >> 6) & 63];
        out += BASE64_ALPHABET[v & 63];
    }
    std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        std::uint32_t v = std::uint32_t(bytes[i]) << 16;
        out += BASE64_ALPHABET[(v >> 18) & 63];
        out += BASE64_ALPHABET[(v >> 12) & 63];
    } else if (rest == 2) {
        std::uint32_t v = (std::uint32_t(bytes[i]) << 16) | (std::uint32_t(bytes[i + 1]) << 8);
        out += BASE64_ALPHABET[(v >> 18) & 63];
        out += BASE64_ALPHABET[(v >> 12) & 63];
        out += BASE64_ALPHABET[(v >> 6) & 63];
    }
    return out;
}

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

// Decodes exactly out.size() bytes. Rejects a wrong length, padding, any
// character outside the alphabet and non-zero leftover bits, so each byte
// string has exactly one accepted spelling.
bool decode_base64_unpadded(std::string_view text, std::span<unsigned char> out) {
    if (text.size() != unpadded_base64_length(out.size())) return false;
    std::uint32_t accumulator = 0;
    unsigned bits = 0;
    std::size_t written = 0;
    for (char c : text) {
        int v = base64_value(c);
        if (v < 0) return false;
        accumulator = (accumulator << 6) | std::uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[written++] = static_cast<unsigned char>((accumulator >> bits) & 0xFF);
        }
        accumulator &= (1u << bits) - 1;
    }
    return written == out.size() && accumulator == 0;
}

// A canonical decimal: digits only, no sign, no leading zero, short.
std::optional<std::uint32_t> parse_small_decimal(std::string_view text) {
    if (text.empty() || text.size() > 3) return std::nullopt;
    if (text.size() > 1 && text[0] == '0') return std::nullopt;
    for (char c : text)
        if (c < '0' || c > '9') return std::nullopt;
    std::uint32_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// Expects "<name>=<decimal>" and returns the decimal.
std::optional<std::uint32_t> parse_field(std::string_view field, std::string_view name) {
    if (field.size() <= name.size() + 1 || field.substr(0, name.size()) != name || field[name.size()] != '=')
        return std::nullopt;
    return parse_small_decimal(field.substr(name.size() + 1));
}

std::optional<unsigned> log2_exact(std::uint64_t n) {
    if (n == 0 || (n & (n - 1)) != 0) return std::nullopt;
    unsigned log = 0;
    while ((n >> log) != 1)
        ++log;
    return log;
}

// OpenSSL needs B (128*r*p) plus V (128*r*(N+2)) within maxmem; the slack
// covers its XY scratch area and rounding. Without an explicit maxmem it
// uses a 32 MiB default, which our own default parameters already exceed.
std::uint64_t scrypt_memory(PasswordHashParams const& params) {
    return 128 * std::uint64_t(params.r) * (params.n + 2) + 128 * std::uint64_t(params.r) * params.p +
           (std::uint64_t(1) << 20);
}

std::optional<std::string> check_params(PasswordHashParams const& params) {
    auto log_n = log2_exact(params.n);
    if (!log_n || *log_n < MIN_LOG2_N || *log_n > MAX_LOG2_N)
        return "scrypt N must be a power of two 2^10..2^20";
    if (params.r < 1 || params.r > MAX_R) return "scrypt r must be 1..32";
    if (params.p < 1 || params.p > MAX_P) return "scrypt p must be 1..16";
    if (scrypt_memory(params) > MAX_SCRYPT_MEMORY) return "scrypt parameters need more than 1 GiB of memory";
    return std::nullopt;
}

bool derive(std::string_view password, PasswordHashParams const& params,
            std::span<unsigned char const, SALT_BYTES> salt, std::span<unsigned char, KEY_BYTES> key) {
    // string_view::data() may be null for an empty password; OpenSSL wants a
    // valid pointer even with length 0.
    char const* pass = password.empty() ? "" : password.data();
    return EVP_PBE_scrypt(pass, password.size(), salt.data(), salt.size(), params.n, params.r, params.p,
                          scrypt_memory(params), key.data(), key.size()) == 1;
}

std::optional<ParsedHash> parse(std::string_view encoded) {
    if (encoded.substr(0, SCHEME_PREFIX.size()) != SCHEME_PREFIX) return std::nullopt;
    std::string_view rest = encoded.substr(SCHEME_PREFIX.size());

    auto params_end = rest.find('$');
    if (params_end == std::string_view::npos) return std::nullopt;
    std::string_view params_text = rest.substr(0, params_end);
    rest.remove_prefix(params_end + 1);

    auto salt_end = rest.find('$');
    if (salt_end == std::string_view::npos) return std::nullopt;
    std::string_view salt_text = rest.substr(0, salt_end);
    std::string_view key_text = rest.substr(salt_end + 1);
    if (key_text.find('$') != std::string_view::npos) return std::nullopt;

    // Exactly "ln=..,r=..,p=.." in that order.
    auto first_comma = params_text.find(',');
    if (first_comma == std::string_view::npos) return std::nullopt;
    auto second_comma = params_text.find(',', first_comma + 1);
    if (second_comma == std::string_view::npos) return std::nullopt;
    auto ln = parse_field(params_text.substr(0, first_comma), "ln");
    auto r = parse_field(params_text.substr(first_comma + 1, second_comma - first_comma - 1), "r");
    auto p = parse_field(params_text.substr(second_comma + 1), "p");
    if (!ln || !r || !p) return std::nullopt;
    if (*ln < MIN_LOG2_N || *ln > MAX_LOG2_N) return std::nullopt;

    ParsedHash parsed;
    parsed.params = PasswordHashParams{std::uint64_t(1) << *ln, *r, *p};
    if (check_params(parsed.params)) return std::nullopt;
    if (!decode_base64_unpadded(salt_text, parsed.salt)) return std::nullopt;
    if (!decode_base64_unpadded(key_text, parsed.key)) return std::nullopt;
    return parsed;
}

} // namespace

Result<std::string, std::string> hash_password(std::string_view password, PasswordHashParams params) {
    if (auto problem = check_params(params)) return Err{std::move(*problem)};

    std::array<unsigned char, SALT_BYTES> salt{};
    if (RAND_bytes(salt.data(), int(salt.size())) != 1) return Err{"no random bytes for the password salt"};

    std::array<unsigned char, KEY_BYTES> key{};
    if (!derive(password, params, salt, key)) {
        OPENSSL_cleanse(key.data(), key.size());
        return Err{"scrypt failed (out of memory?)"};
    }

    std::string encoded = std::string(SCHEME_PREFIX) + "ln=" + std::to_string(*log2_exact(params.n)) +
                          ",r=" + std::to_string(params.r) + ",p=" + std::to_string(params.p) + "$" +
                          encode_base64_unpadded(salt) + "$" + encode_base64_unpadded(key);
    OPENSSL_cleanse(key.data(), key.size());
    return encoded;
}

bool verify_password(std::string_view password, std::string_view encoded) {
    auto parsed = parse(encoded);
    if (!parsed) return false;

    std::array<unsigned char, KEY_BYTES> key{};
    bool matches = derive(password, parsed->params, parsed->salt, key) &&
                   CRYPTO_memcmp(key.data(), parsed->key.data(), key.size()) == 0;
    OPENSSL_cleanse(key.data(), key.size());
    return matches;
}

bool is_well_formed_password_hash(std::string_view encoded) {
    return parse(encoded).has_value();
}

} // namespace vsa::appliance
