// SPDX-License-Identifier: GPL-2.0-or-later
// First-start TLS material: when no certificate is configured, vsad makes a
// self-signed one (ECDSA P-256, SHA-256) so HTTPS works out of the box. An
// operator replaces it by pointing https.certificate/private_key elsewhere.
#pragma once

#include "hypervisor/base/result.h"

#include <filesystem>
#include <string>
#include <vector>

namespace vsa::appliance {

// Creates key and certificate if either file is missing; leaves existing
// ones alone. The key file is written with mode 0600. `names` become the
// subjectAltName entries (DNS names or IP addresses).
Result<bool, std::string> ensure_self_signed_certificate(std::filesystem::path const& certificate,
                                                         std::filesystem::path const& private_key,
                                                         std::vector<std::string> const& names);

} // namespace vsa::appliance
