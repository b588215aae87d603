// SPDX-License-Identifier: GPL-2.0-or-later
// The VMRC settings' checks and persistence (appliance/console/
// vmrc_settings.h) and the console certificate's request and checks
// (vmrc_certificate.h). What they change in the console is exercised end to
// end by integration.zeep_vmrc.
#include "appliance/console/vmrc_certificate.h"
#include "appliance/console/vmrc_settings.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>

using namespace vsa;
using namespace vsa::appliance;
using namespace vsa::appliance::console;

namespace {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char pattern[] = "/tmp/vmrc-test-XXXXXX";
        path = ::mkdtemp(pattern);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

bool invalid_arg(services::ServiceResult<void> const& result) {
    return result.is_error() && result.error().code == services::hr::E_INVALIDARG;
}

// A certificate for `key_pem`'s key, self-signed by `signer_pem` (Base-64 DER).
std::string certificate_for(std::string const& key_pem, std::string const& signer_pem, long days = 1) {
    BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    bio = BIO_new_mem_buf(signer_pem.data(), static_cast<int>(signer_pem.size()));
    EVP_PKEY* signer = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), days * 86400);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                               reinterpret_cast<unsigned char const*>("vmrc.test"), -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(cert));
    X509_set_pubkey(cert, key);
    X509_sign(cert, signer, EVP_sha256());
    int n = i2d_X509(cert, nullptr);
    std::vector<std::uint8_t> der(static_cast<std::size_t>(n));
    auto* p = der.data();
    i2d_X509(cert, &p);
    X509_free(cert);
    EVP_PKEY_free(key);
    EVP_PKEY_free(signer);
    return base64_encode(der);
}

} // namespace

BOOST_AUTO_TEST_SUITE(vmrc)

BOOST_AUTO_TEST_CASE(ranges_follow_the_reference) {
    BOOST_TEST(invalid_arg(check_admin_port(0)));
    BOOST_TEST(invalid_arg(check_admin_port(65536)));
    BOOST_TEST(!check_admin_port(1).is_error());
    BOOST_TEST(!check_admin_port(65535).is_error());
    BOOST_TEST(invalid_arg(check_idle_timeout(0)));
    BOOST_TEST(invalid_arg(check_idle_timeout(86401)));
    BOOST_TEST(!check_idle_timeout(1).is_error());
    BOOST_TEST(!check_idle_timeout(86400).is_error());
    BOOST_TEST(invalid_arg(check_resolution('X', 319)));
    BOOST_TEST(invalid_arg(check_resolution('Y', 2049)));
    BOOST_TEST(!check_resolution('X', 1024).is_error());
    BOOST_TEST(!check_authenticator(0).is_error());
    for (int type : {-1, 1, 2, 3, 4, 5, 1000})
        BOOST_TEST(invalid_arg(check_authenticator(type)));
    auto ntlm = check_authenticator(2);
    BOOST_TEST(ntlm.error().message.find("Windows domain") != std::string::npos);
    BOOST_TEST(vmrc_authenticators().size() == 1u);
    BOOST_TEST(find_vmrc_authenticator(0) != nullptr);
    BOOST_TEST(find_vmrc_authenticator(2) == nullptr);
}

BOOST_AUTO_TEST_CASE(admin_address_must_be_the_hosts) {
    std::vector<std::string> host{"127.0.0.1", "192.0.2.5", "::1"};
    BOOST_TEST(check_admin_address("", host).value() == "");
    BOOST_TEST(check_admin_address("192.0.2.5", host).value() == "192.0.2.5");
    BOOST_TEST(check_admin_address("0:0::1", host).value() == "::1");
    BOOST_TEST(check_admin_address("192.0.2.6", host).is_error());
    BOOST_TEST(check_admin_address("example.org", host).is_error());
    BOOST_TEST(check_admin_address("0.0.0.0", host).is_error());
    auto here = host_interface_addresses();
    BOOST_TEST((std::find(here.begin(), here.end(), "127.0.0.1") != here.end()));
}

BOOST_AUTO_TEST_CASE(port_range_keeps_its_length) {
    BOOST_TEST((moved_port_range(6000, 5900, 5999) == std::pair<std::uint16_t, std::uint16_t>{6000, 6099}));
    BOOST_TEST(
        (moved_port_range(65500, 5900, 5999) == std::pair<std::uint16_t, std::uint16_t>{65500, 65535}));
    BOOST_TEST((moved_port_range(7000, 5900, 5900) == std::pair<std::uint16_t, std::uint16_t>{7000, 7000}));
}

BOOST_AUTO_TEST_CASE(settings_survive_a_reopen_and_follow_the_configuration_until_set) {
    TempDir dir;
    ConsoleConfig config;
    config.vnc_enabled = true;
    config.vnc_port_first = 5910;
    config.vnc_port_last = 5919;
    auto store = VmrcSettingsStore::open(dir.path, config, "127.0.0.1").release_value();
    auto s = store->snapshot();
    BOOST_TEST(s.enabled);
    BOOST_TEST(s.admin_address == "127.0.0.1");
    BOOST_TEST(s.port_first == 5910);
    BOOST_TEST(!store
                    ->update([](VmrcSettings& next) {
                        next.idle_timeout_s = 5;
                        next.idle_timeout_enabled = true;
                        next.x_resolution = 800;
                    })
                    .is_error());
    // Not set through SOAP: the configuration still decides.
    config.vnc_enabled = false;
    auto reopened = VmrcSettingsStore::open(dir.path, config, "127.0.0.1").release_value();
    s = reopened->snapshot();
    BOOST_TEST(!s.enabled);
    BOOST_TEST(s.idle_timeout_s == 5);
    BOOST_TEST(s.idle_timeout_enabled);
    BOOST_TEST(s.x_resolution == 800);
    BOOST_TEST(!reopened
                    ->update([](VmrcSettings& next) {
                        next.enabled = true;
                        next.encryption_enabled = true;
                        next.port_first = 7000;
                        next.port_last = 7009;
                    })
                    .is_error());
    s = VmrcSettingsStore::open(dir.path, config, "127.0.0.1").release_value()->snapshot();
    BOOST_TEST(s.enabled);
    BOOST_TEST(s.encryption_enabled);
    BOOST_TEST(!s.plain_vnc_allowed());
    BOOST_TEST(s.port_first == 7000);
    BOOST_TEST(s.port_last == 7009);
    // A damaged file is an error naming it.
    std::ofstream(dir.path / "vmrc_settings.xml") << "<not-closed";
    auto damaged = VmrcSettingsStore::open(dir.path, config, "127.0.0.1");
    BOOST_TEST(damaged.is_error());
}

BOOST_AUTO_TEST_CASE(certificate_request_checks_and_parses) {
    BOOST_TEST(make_certificate_request("CN=host", 1024).is_error());
    BOOST_TEST(make_certificate_request("CN=host", 8192).is_error());
    BOOST_TEST(make_certificate_request("O=NoCn", 2048).is_error());
    BOOST_TEST(make_certificate_request("CN=host, XX=1", 2048).is_error());
    BOOST_TEST(make_certificate_request("CN=host, C=USA", 2048).is_error());
    BOOST_TEST(make_certificate_request("CN=host,,O=x", 2048).is_error());
    auto made = make_certificate_request("CN=vmrc.example, O=Acme\\, Inc., C=US", 2048);
    BOOST_REQUIRE(!made.is_error());
    auto request = made.value();
    BOOST_TEST(request.key_pem.find("PRIVATE KEY") != std::string::npos);
    // The request decodes, is signed by its key and carries the name.
    std::vector<std::uint8_t> der(request.request_base64.size());
    int n = EVP_DecodeBlock(der.data(), reinterpret_cast<unsigned char const*>(request.request_base64.data()),
                            static_cast<int>(request.request_base64.size()));
    BOOST_REQUIRE(n > 0);
    unsigned char const* p = der.data();
    X509_REQ* parsed = d2i_X509_REQ(nullptr, &p, n);
    BOOST_REQUIRE(parsed != nullptr);
    EVP_PKEY* public_key = X509_REQ_get0_pubkey(parsed);
    BOOST_TEST(X509_REQ_verify(parsed, public_key) == 1);
    BOOST_TEST(EVP_PKEY_bits(public_key) == 2048);
    char name[256];
    X509_NAME_oneline(X509_REQ_get_subject_name(parsed), name, sizeof name);
    BOOST_TEST(std::string(name) == "/CN=vmrc.example/O=Acme, Inc./C=US");
    X509_REQ_free(parsed);
}

BOOST_AUTO_TEST_CASE(installed_certificate_must_match_the_pending_key) {
    TempDir dir;
    auto https = dir.path / "server.crt";
    auto store = VmrcCertificates::open(dir.path, https).release_value();
    BOOST_TEST(store->pending_request().empty());
    auto other = make_certificate_request("CN=other", 2048).release_value();
    // No request outstanding.
    auto refused = store->install(certificate_for(other.key_pem, other.key_pem));
    BOOST_TEST(refused.is_error());
    BOOST_TEST(refused.error().message.find("no certificate request") != std::string::npos);
    auto request = store->create_request("CN=vmrc.test", 2048).release_value();
    BOOST_TEST(store->pending_request() == request);
    struct stat st {};
    BOOST_REQUIRE(::stat((dir.path / "vmrc" / "request.key").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600u);
    std::ifstream key_file(dir.path / "vmrc" / "request.key");
    std::string key_pem((std::istreambuf_iterator<char>(key_file)), std::istreambuf_iterator<char>());
    // A certificate for another key, garbage, an expired one: refused.
    refused = store->install(certificate_for(other.key_pem, other.key_pem));
    BOOST_TEST(refused.error().message.find("not the key of the outstanding") != std::string::npos);
    BOOST_TEST(store->install("bm90IGEgY2VydA==").is_error());
    BOOST_TEST(store->install(certificate_for(key_pem, other.key_pem, -1)).is_error());
    // The right one (signed by anyone: the issuer is the client's concern).
    auto good = certificate_for(key_pem, other.key_pem);
    BOOST_REQUIRE(!store->install(good).is_error());
    BOOST_TEST(store->certificate().value() == good);
    BOOST_TEST(store->pending_request().empty());
    // Kept across a reopen; "" goes back to the https certificate.
    auto reopened = VmrcCertificates::open(dir.path, https).release_value();
    BOOST_TEST(reopened->certificate().value() == good);
    BOOST_TEST(!reopened->install("").is_error());
    BOOST_TEST(reopened->certificate().is_error()); // server.crt does not exist here
}

BOOST_AUTO_TEST_SUITE_END()
