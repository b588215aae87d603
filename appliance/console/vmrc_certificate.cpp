// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/console/vmrc_certificate.h"

#include "services/persist/atomic_file.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <system_error>

namespace vsa::appliance::console {

namespace hr = services::hr;
using services::ServiceResult;

namespace {

struct Free {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
    void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
    void operator()(X509* p) const { X509_free(p); }
    void operator()(X509_REQ* p) const { X509_REQ_free(p); }
    void operator()(BIO* p) const { BIO_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

std::string openssl_error() {
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "unknown error";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

ServiceResult<void> invalid(std::string message) {
    ERR_clear_error();
    return services::service_error(hr::E_INVALIDARG, std::move(message));
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.remove_suffix(1);
    return text;
}

std::string key_to_pem(EVP_PKEY* key) {
    Owned<BIO> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return {};
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

Owned<EVP_PKEY> key_from_pem(std::string const& pem) {
    Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return nullptr;
    return Owned<EVP_PKEY>(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

std::vector<std::uint8_t> certificate_der(X509* certificate) {
    int n = i2d_X509(certificate, nullptr);
    if (n <= 0) return {};
    std::vector<std::uint8_t> out(static_cast<std::size_t>(n));
    auto* p = out.data();
    i2d_X509(certificate, &p);
    return out;
}

ServiceResult<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
    std::string clean;
    for (char c : text)
        if (!std::isspace(static_cast<unsigned char>(c))) clean += c;
    if (clean.empty() || clean.size() % 4 != 0)
        return services::service_error(hr::E_INVALIDARG, "not Base-64");
    std::vector<std::uint8_t> out(clean.size() / 4 * 3);
    int n = EVP_DecodeBlock(out.data(), reinterpret_cast<unsigned char const*>(clean.data()),
                            static_cast<int>(clean.size()));
    if (n < 0) return services::service_error(hr::E_INVALIDARG, "not Base-64");
    std::size_t padding = 0;
    if (clean.ends_with("=="))
        padding = 2;
    else if (clean.ends_with("="))
        padding = 1;
    out.resize(static_cast<std::size_t>(n) - padding);
    return out;
}

Owned<X509> parse_certificate(std::string_view text) {
    if (text.find("-----BEGIN") != std::string_view::npos) {
        Owned<BIO> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
        if (!bio) return nullptr;
        return Owned<X509>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    }
    auto der = base64_decode(text);
    if (der.is_error()) return nullptr;
    auto const& bytes = der.value();
    unsigned char const* p = bytes.data();
    Owned<X509> certificate(d2i_X509(nullptr, &p, static_cast<long>(bytes.size())));
    if (certificate && p != bytes.data() + bytes.size()) return nullptr; // trailing bytes
    return certificate;
}

// Writes `contents` to `path` with mode 0600 (atomically; a new file is
// made 0600 first, and the atomic write keeps an existing file's mode).
ServiceResult<void> write_secret(std::filesystem::path const& path, std::string_view contents) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return services::service_error(hr::E_FAIL, "cannot create " + path.string() + ": " +
                                                       std::generic_category().message(errno));
    ::fchmod(fd, 0600);
    ::close(fd);
    return services::write_file_atomically(path, contents);
}

void remove_file(std::filesystem::path const& path) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
}

} // namespace

std::string base64_encode(std::vector<std::uint8_t> const& bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                            static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

ServiceResult<CertificateRequest> make_certificate_request(std::string_view distinguished_name,
                                                           std::int64_t key_bits) {
    if (key_bits < MIN_KEY_BITS || key_bits > MAX_KEY_BITS)
        return Err{services::ServiceError{hr::E_INVALIDARG, "keyLength " + std::to_string(key_bits) +
                                                                " is outside " +
                                                                std::to_string(MIN_KEY_BITS) + "-" +
                                                                std::to_string(MAX_KEY_BITS) + " bits"}};
    if (distinguished_name.size() > MAX_DN_LENGTH)
        return Err{services::ServiceError{hr::E_INVALIDARG, "distinguishedName is longer than " +
                                                                std::to_string(MAX_DN_LENGTH) +
                                                                " characters"}};
    Owned<X509_REQ> request(X509_REQ_new());
    if (!request) return Err{services::ServiceError{hr::E_OUTOFMEMORY, "out of memory"}};
    X509_NAME* name = X509_REQ_get_subject_name(request.get());
    // "KEY=VALUE" items separated by commas; "\," is a comma in a value.
    bool has_cn = false;
    std::string item;
    auto add = [&](std::string_view raw) -> ServiceResult<void> {
        auto text = trim(raw);
        if (text.empty()) return invalid("distinguishedName has an empty component");
        auto equals = text.find('=');
        if (equals == std::string_view::npos)
            return invalid("distinguishedName component '" + std::string(text.substr(0, 64)) +
                           "' has no '='");
        std::string key(trim(text.substr(0, equals)));
        std::string value(trim(text.substr(equals + 1)));
        static constexpr std::string_view KEYS[] = {"CN", "O", "OU", "L", "ST", "C", "DC", "emailAddress"};
        bool known = false;
        for (auto k : KEYS)
            known = known || k == key;
        if (key == "E" || key == "EMAIL") key = "emailAddress", known = true;
        if (!known)
            return invalid("distinguishedName attribute '" + key.substr(0, 32) +
                           "' is not one of CN, O, OU, L, ST, C, DC, emailAddress");
        if (value.empty()) return invalid("distinguishedName attribute " + key + " has no value");
        if (key == "C" && value.size() != 2)
            return invalid("distinguishedName attribute C must be a two-letter country code");
        if (X509_NAME_add_entry_by_txt(name, key.c_str(), MBSTRING_UTF8,
                                       reinterpret_cast<unsigned char const*>(value.c_str()), -1, -1, 0) != 1)
            return invalid("distinguishedName attribute " + key + ": " + openssl_error());
        if (key == "CN") has_cn = true;
        return {};
    };
    for (std::size_t i = 0; i < distinguished_name.size(); ++i) {
        char c = distinguished_name[i];
        if (c == '\\' && i + 1 < distinguished_name.size()) {
            item += distinguished_name[++i];
        } else if (c == ',') {
            TRY(add(item));
            item.clear();
        } else {
            item += c;
        }
    }
    TRY(add(item));
    if (!has_cn)
        return Err{services::ServiceError{hr::E_INVALIDARG, "distinguishedName needs a CN (the host name)"}};

    Owned<EVP_PKEY_CTX> context(EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr));
    EVP_PKEY* raw_key = nullptr;
    if (!context || EVP_PKEY_keygen_init(context.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_keygen_bits(context.get(), static_cast<int>(key_bits)) != 1 ||
        EVP_PKEY_keygen(context.get(), &raw_key) != 1)
        return Err{services::ServiceError{hr::E_FAIL, "cannot make an RSA key: " + openssl_error()}};
    Owned<EVP_PKEY> key(raw_key);
    if (X509_REQ_set_version(request.get(), 0) != 1 || X509_REQ_set_pubkey(request.get(), key.get()) != 1 ||
        X509_REQ_sign(request.get(), key.get(), EVP_sha256()) <= 0)
        return Err{
            services::ServiceError{hr::E_FAIL, "cannot sign the certificate request: " + openssl_error()}};
    int n = i2d_X509_REQ(request.get(), nullptr);
    if (n <= 0) return Err{services::ServiceError{hr::E_FAIL, "cannot encode the certificate request"}};
    std::vector<std::uint8_t> der(static_cast<std::size_t>(n));
    auto* p = der.data();
    i2d_X509_REQ(request.get(), &p);
    CertificateRequest out;
    out.key_pem = key_to_pem(key.get());
    out.request_base64 = base64_encode(der);
    if (out.key_pem.empty()) return Err{services::ServiceError{hr::E_FAIL, "cannot encode the key"}};
    return out;
}

ServiceResult<std::vector<std::uint8_t>> check_certificate(std::string_view text,
                                                           std::vector<std::string> const& key_pems) {
    if (text.size() > MAX_CERTIFICATE_TEXT)
        return Err{services::ServiceError{hr::E_INVALIDARG, "the certificate is longer than " +
                                                                std::to_string(MAX_CERTIFICATE_TEXT) +
                                                                " characters"}};
    auto certificate = parse_certificate(text);
    ERR_clear_error();
    if (!certificate)
        return Err{services::ServiceError{hr::E_INVALIDARG,
                                          "not an X.509 certificate (Base-64 DER or PEM expected)"}};
    if (X509_cmp_current_time(X509_get0_notAfter(certificate.get())) < 0)
        return Err{services::ServiceError{hr::E_INVALIDARG, "the certificate has expired"}};
    if (X509_cmp_current_time(X509_get0_notBefore(certificate.get())) > 0)
        return Err{services::ServiceError{hr::E_INVALIDARG, "the certificate is not valid yet"}};
    if (key_pems.empty())
        return Err{services::ServiceError{hr::E_INVALIDARG, "no certificate request is outstanding: call "
                                                            "VMRCCreateEncryptionCertificateRequest first, "
                                                            "and have its request signed"}};
    for (auto const& pem : key_pems) {
        auto key = key_from_pem(pem);
        if (key && X509_check_private_key(certificate.get(), key.get()) == 1) {
            ERR_clear_error();
            return certificate_der(certificate.get());
        }
        ERR_clear_error();
    }
    return Err{services::ServiceError{hr::E_INVALIDARG,
                                      "the certificate's public key is not the key of the outstanding "
                                      "certificate request (VMRCEncryptionCertificateRequest): it was not "
                                      "issued for this server's request"}};
}

// --- The store ---------------------------------------------------------------------

struct VmrcCertificates::Installed {
    Owned<X509> certificate;
    Owned<EVP_PKEY> key;
    std::string key_pem;
    std::vector<std::uint8_t> der;
};

ServiceResult<std::unique_ptr<VmrcCertificates>>
VmrcCertificates::open(std::filesystem::path data_dir, std::filesystem::path https_certificate) {
    std::unique_ptr<VmrcCertificates> store(new VmrcCertificates());
    store->m_folder = data_dir / "vmrc";
    store->m_https_certificate = std::move(https_certificate);
    std::error_code ec;
    std::filesystem::create_directories(store->m_folder, ec);
    if (ec)
        return services::service_error(hr::E_FAIL,
                                       "cannot create " + store->m_folder.string() + ": " + ec.message());
    std::filesystem::permissions(store->m_folder, std::filesystem::perms::owner_all, ec);
    auto read = [&](char const* name) -> ServiceResult<std::string> {
        auto path = store->m_folder / name;
        if (!std::filesystem::exists(path, ec)) return std::string();
        return services::read_file_capped(path, MAX_CERTIFICATE_TEXT);
    };
    store->m_request_key_pem = TRY(read("request.key"));
    store->m_request_base64 = std::string(trim(TRY(read("request.csr"))));
    if (store->m_request_key_pem.empty() || store->m_request_base64.empty()) {
        store->m_request_key_pem.clear();
        store->m_request_base64.clear();
    }
    auto certificate_pem = TRY(read("certificate.pem"));
    auto key_pem = TRY(read("certificate.key"));
    if (!certificate_pem.empty() && !key_pem.empty()) {
        auto installed = std::make_shared<Installed>();
        installed->certificate = parse_certificate(certificate_pem);
        installed->key = key_from_pem(key_pem);
        ERR_clear_error();
        if (!installed->certificate || !installed->key ||
            X509_check_private_key(installed->certificate.get(), installed->key.get()) != 1) {
            ERR_clear_error();
            return services::service_error(hr::E_FAIL, "the console certificate in " +
                                                           store->m_folder.string() +
                                                           " is damaged or does not match its key; remove "
                                                           "certificate.pem and certificate.key there");
        }
        installed->key_pem = key_pem;
        installed->der = certificate_der(installed->certificate.get());
        store->m_installed = std::move(installed);
    }
    return store;
}

VmrcCertificates::~VmrcCertificates() {
    detach();
}

void VmrcCertificates::attach(ssl_ctx_st* context) {
    m_context = context;
    SSL_CTX_set_cert_cb(context, &VmrcCertificates::on_certificate, this);
}

void VmrcCertificates::detach() {
    if (m_context) SSL_CTX_set_cert_cb(m_context, nullptr, nullptr);
    m_context = nullptr;
}

int VmrcCertificates::on_certificate(ssl_st* ssl, void* arg) {
    auto* self = static_cast<VmrcCertificates*>(arg);
    std::shared_ptr<Installed const> installed;
    {
        std::lock_guard lock(self->m_mutex);
        installed = self->m_installed;
    }
    if (!installed) return 1; // the context's own certificate
    // Per connection: SSL_use_* copy (reference) the objects into this SSL.
    // OpenSSL keeps one certificate per key type, so the context's own
    // (ECDSA when generated) must go first, or it would still be chosen.
    SSL_certs_clear(ssl);
    if (SSL_use_certificate(ssl, installed->certificate.get()) != 1 ||
        SSL_use_PrivateKey(ssl, installed->key.get()) != 1) {
        ERR_clear_error();
        return 0; // the handshake fails rather than use a mismatched pair
    }
    return 1;
}

ServiceResult<std::string> VmrcCertificates::create_request(std::string_view distinguished_name,
                                                            std::int64_t key_bits) {
    auto made = TRY(make_certificate_request(distinguished_name, key_bits));
    std::lock_guard lock(m_mutex);
    TRY(write_secret(m_folder / "request.key", made.key_pem));
    TRY(services::write_file_atomically(m_folder / "request.csr", made.request_base64 + "\n"));
    m_request_key_pem = made.key_pem;
    m_request_base64 = made.request_base64;
    return made.request_base64;
}

std::string VmrcCertificates::pending_request() const {
    std::lock_guard lock(m_mutex);
    return m_request_base64;
}

ServiceResult<std::string> VmrcCertificates::certificate() const {
    {
        std::lock_guard lock(m_mutex);
        if (m_installed) return base64_encode(m_installed->der);
    }
    auto pem = TRY(services::read_file_capped(m_https_certificate, MAX_CERTIFICATE_TEXT));
    auto certificate = parse_certificate(pem);
    ERR_clear_error();
    if (!certificate)
        return services::service_error(hr::E_FAIL,
                                       "cannot read the https certificate " + m_https_certificate.string());
    return base64_encode(certificate_der(certificate.get()));
}

ServiceResult<void> VmrcCertificates::install(std::string_view text) {
    std::lock_guard lock(m_mutex);
    if (trim(text).empty()) {
        remove_file(m_folder / "certificate.pem");
        remove_file(m_folder / "certificate.key");
        m_installed.reset();
        return {};
    }
    std::vector<std::string> keys;
    if (!m_request_key_pem.empty()) keys.push_back(m_request_key_pem);
    if (m_installed) keys.push_back(m_installed->key_pem);
    auto der = TRY(check_certificate(text, keys));
    auto installed = std::make_shared<Installed>();
    unsigned char const* p = der.data();
    installed->certificate.reset(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    for (auto const& pem : keys) {
        auto key = key_from_pem(pem);
        if (key && X509_check_private_key(installed->certificate.get(), key.get()) == 1) {
            installed->key = std::move(key);
            installed->key_pem = pem;
            break;
        }
    }
    ERR_clear_error();
    if (!installed->certificate || !installed->key)
        return services::service_error(hr::E_FAIL, "the certificate could not be paired with its key");
    installed->der = std::move(der);
    Owned<BIO> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), installed->certificate.get()) != 1)
        return services::service_error(hr::E_FAIL, "cannot encode the certificate");
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    // Key first: a crash between the two leaves the old certificate with a
    // key that does not match it, which open() reports rather than using.
    TRY(write_secret(m_folder / "certificate.key", installed->key_pem));
    TRY(services::write_file_atomically(m_folder / "certificate.pem",
                                        std::string(data, static_cast<std::size_t>(n))));
    if (installed->key_pem == m_request_key_pem) {
        remove_file(m_folder / "request.key");
        remove_file(m_folder / "request.csr");
        m_request_key_pem.clear();
        m_request_base64.clear();
    }
    m_installed = std::move(installed);
    return {};
}

} // namespace vsa::appliance::console
