// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/tls/self_signed.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <cstdio>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace vsa::appliance {

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::string openssl_error(char const* what) {
    char buffer[256] = "unknown error";
    if (auto code = ERR_get_error()) ERR_error_string_n(code, buffer, sizeof buffer);
    return std::string(what) + ": " + buffer;
}

bool is_ip_address(std::string const& name) {
    unsigned char buffer[16];
    return inet_pton(AF_INET, name.c_str(), buffer) == 1 || inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

// Writes PEM through a file descriptor opened with the final mode, so the
// private key is never readable by others, not even for a moment.
Result<bool, std::string> write_pem(std::filesystem::path const& path, mode_t mode,
                                    std::function<int(BIO*)> const& write) {
    auto tmp = path.string() + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return Err{std::string("cannot create ") + tmp};
    BioPtr bio(BIO_new_fd(fd, BIO_CLOSE));
    if (!bio || !write(bio.get()) || BIO_flush(bio.get()) != 1) {
        ::unlink(tmp.c_str());
        return Err{openssl_error(("cannot write " + tmp).c_str())};
    }
    ::fsync(fd);
    bio.reset();
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
        return Err{"cannot rename " + tmp + " to " + path.string()};
    return true;
}

} // namespace

Result<bool, std::string> ensure_self_signed_certificate(std::filesystem::path const& certificate,
                                                         std::filesystem::path const& private_key,
                                                         std::vector<std::string> const& names) {
    std::error_code ec;
    if (std::filesystem::exists(certificate, ec) && std::filesystem::exists(private_key, ec)) return false;
    for (auto const& dir : {certificate.parent_path(), private_key.parent_path()}) {
        if (dir.empty()) continue;
        std::filesystem::create_directories(dir, ec);
        if (ec) return Err{"cannot create " + dir.string() + ": " + ec.message()};
        ::chmod(dir.c_str(), 0700);
    }

    PkeyPtr key(EVP_EC_gen("P-256"));
    if (!key) return Err{openssl_error("cannot generate an EC key")};

    X509Ptr cert(X509_new());
    if (!cert) return Err{openssl_error("X509_new")};
    X509_set_version(cert.get(), 2); // v3
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f; // a positive INTEGER
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 86400);
    X509_set_pubkey(cert.get(), key.get());

    X509_NAME* subject = X509_get_subject_name(cert.get());
    std::string common_name = names.empty() ? std::string("localhost") : names.front();
    X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8,
                               reinterpret_cast<unsigned char const*>("VSA Virtual Server Appliance"), -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                               reinterpret_cast<unsigned char const*>(common_name.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), subject);

    std::string san;
    for (auto const& name : names) {
        if (!san.empty()) san += ',';
        san += (is_ip_address(name) ? "IP:" : "DNS:") + name;
    }
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    std::pair<int, std::string> extensions[] = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature"},
        {NID_ext_key_usage, "serverAuth"},
        {NID_subject_key_identifier, "hash"},
        {NID_subject_alt_name, san},
    };
    for (auto const& [nid, value] : extensions) {
        if (value.empty()) continue;
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
        if (!ext) return Err{openssl_error("cannot build a certificate extension")};
        X509_add_ext(cert.get(), ext, -1);
        X509_EXTENSION_free(ext);
    }
    if (!X509_sign(cert.get(), key.get(), EVP_sha256()))
        return Err{openssl_error("cannot sign the certificate")};

    TRY(write_pem(private_key, 0600, [&](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    }));
    TRY(write_pem(certificate, 0644, [&](BIO* bio) { return PEM_write_bio_X509(bio, cert.get()); }));
    return true;
}

} // namespace vsa::appliance
