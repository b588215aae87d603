// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/tls/tls_context.h"

#include "appliance/tls/self_signed.h"

#include <Poco/Net/SSLManager.h>

#include <unistd.h>

namespace vsa::appliance {

Result<Poco::Net::Context::Ptr, std::string> make_server_tls_context(DaemonConfig const& config) {
    std::vector<std::string> names{"localhost", "127.0.0.1", "::1"};
    char hostname[256] = {};
    if (::gethostname(hostname, sizeof hostname - 1) == 0 && hostname[0] &&
        std::string(hostname) != "localhost")
        names.insert(names.begin(), hostname);
    if (config.listen.bind_address != "127.0.0.1" && config.listen.bind_address != "0.0.0.0" &&
        config.listen.bind_address != "::")
        names.push_back(config.listen.bind_address);
    auto made = ensure_self_signed_certificate(config.certificate, config.private_key, names);
    if (made.is_error()) return Err{made.error()};

    try {
        Poco::Net::Context::Ptr context = new Poco::Net::Context(
            Poco::Net::Context::TLS_SERVER_USE, config.private_key.string(), config.certificate.string(), "",
            Poco::Net::Context::VERIFY_NONE, 9, false, TLS12_CIPHERS);
        context->disableProtocols(Poco::Net::Context::PROTO_SSLV2 | Poco::Net::Context::PROTO_SSLV3 |
                                  Poco::Net::Context::PROTO_TLSV1 | Poco::Net::Context::PROTO_TLSV1_1);
        context->preferServerCiphers();
        context->enableSessionCache(true, "vsad");
        return context;
    } catch (Poco::Exception const& e) {
        return Err{"cannot set up TLS with " + config.certificate.string() + " and " +
                   config.private_key.string() + ": " + e.displayText()};
    }
}

} // namespace vsa::appliance
