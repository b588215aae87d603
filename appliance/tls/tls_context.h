// SPDX-License-Identifier: GPL-2.0-or-later
// The server TLS context: TLS 1.2 minimum, AEAD cipher suites only (ECDHE
// with AES-GCM or ChaCha20-Poly1305; TLS 1.3's suites are all AEAD), server
// cipher preference. Makes a self-signed certificate on first start.
#pragma once

#include "appliance/config.h"
#include "hypervisor/base/result.h"

#include <Poco/Net/Context.h>

#include <string>

namespace vsa::appliance {

inline constexpr char const* TLS12_CIPHERS = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                             "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                             "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

Result<Poco::Net::Context::Ptr, std::string> make_server_tls_context(DaemonConfig const& config);

} // namespace vsa::appliance
