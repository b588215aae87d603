// SPDX-License-Identifier: GPL-2.0-or-later
// The console's TLS certificate (IVMVirtualServer.VMRCEncryptionCertificate,
// VMRCEncryptionCertificateRequest, VMRCCreateEncryptionCertificateRequest).
//
// The console that is encrypted is the browser console, a WebSocket on
// vsad's HTTPS listener; so the console's certificate is vsad's HTTPS
// certificate (the SOAP endpoint's too: they are one listener). The plain
// VNC listener has no TLS at all.
//
//   VMRCCreateEncryptionCertificateRequest(dn, bits) makes a new RSA key
//       (kept 0600 in <data_dir>/vmrc/request.key) and returns a PKCS#10
//       request for it, DER in Base-64 (also kept: request.csr), which
//       VMRCEncryptionCertificateRequest returns until a certificate for
//       that key is installed. A new request replaces an outstanding one.
//   VMRCEncryptionCertificate put: a certificate (Base-64 DER, or PEM) whose
//       public key is the outstanding request's key, or the installed
//       certificate's (a renewal): kept as <data_dir>/vmrc/certificate.pem
//       and certificate.key, and used for every new TLS connection at once
//       (and at each start); connections already open keep theirs. "" goes
//       back to the configured (or generated) https certificate.
//   VMRCEncryptionCertificate get: the certificate new TLS connections get,
//       Base-64 DER.
#pragma once

#include "services/service_error.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

struct ssl_ctx_st;
struct ssl_st;

namespace vsa::appliance::console {

// RSA key sizes VMRCCreateEncryptionCertificateRequest accepts: the
// reference gives no range; under 2048 bits is no longer safe, and over
// 4096 takes long enough to generate to tie up a request thread.
inline constexpr std::int32_t MIN_KEY_BITS = 2048;
inline constexpr std::int32_t MAX_KEY_BITS = 4096;
inline constexpr std::size_t MAX_DN_LENGTH = 1024;
inline constexpr std::size_t MAX_CERTIFICATE_TEXT = 64 * 1024;

struct CertificateRequest {
    std::string key_pem;        // PKCS#8 PEM
    std::string request_base64; // DER of the PKCS#10 request
};

// E_INVALIDARG for a bad DN ("CN=host, O=Org, C=US"; CN required; keys CN
// O OU L ST C DC emailAddress; "\," escapes a comma) or key length.
services::ServiceResult<CertificateRequest> make_certificate_request(std::string_view distinguished_name,
                                                                     std::int64_t key_bits);
// The certificate's DER when it is a valid certificate whose key is one of
// `key_pems` and it has not expired; E_INVALIDARG saying why otherwise.
services::ServiceResult<std::vector<std::uint8_t>>
check_certificate(std::string_view base64_or_pem, std::vector<std::string> const& key_pems);
std::string base64_encode(std::vector<std::uint8_t> const& bytes);

class VmrcCertificates {
public:
    // Reads <data_dir>/vmrc/ (a damaged installed certificate: an error
    // naming the file). `https_certificate` is vsad's configured one.
    static services::ServiceResult<std::unique_ptr<VmrcCertificates>>
    open(std::filesystem::path data_dir, std::filesystem::path https_certificate);
    ~VmrcCertificates();

    // From now on, new TLS connections on `context` get the installed
    // certificate (if any). Once; `context` must outlive this object or
    // detach() must run first.
    void attach(ssl_ctx_st* context);
    void detach();

    services::ServiceResult<std::string> create_request(std::string_view distinguished_name,
                                                        std::int64_t key_bits);
    std::string pending_request() const;
    services::ServiceResult<std::string> certificate() const;
    services::ServiceResult<void> install(std::string_view certificate);

private:
    struct Installed;
    VmrcCertificates() = default;
    static int on_certificate(ssl_st* ssl, void* self);

    std::filesystem::path m_folder;
    std::filesystem::path m_https_certificate;
    mutable std::mutex m_mutex;
    std::string m_request_key_pem; // "" when none is outstanding
    std::string m_request_base64;
    std::shared_ptr<Installed const> m_installed;
    ssl_ctx_st* m_context{nullptr};
};

} // namespace vsa::appliance::console
