// SPDX-License-Identifier: GPL-2.0-or-later
// Every limit on what a network peer may send, in one place (as ClickHouse's
// HTTPContext). The HTTP layer and the SOAP decoder read only from here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace vsa::appliance {

struct RequestLimits {
    std::size_t max_body_bytes{16u << 20}; // larger bodies: 413 before reading them
    int max_header_fields{64};             // Poco also caps each name at 256 and value at 8 KiB
    std::size_t max_uri_length{4096};
    std::chrono::milliseconds receive_timeout{30'000}; // also bounds the TLS handshake
    std::chrono::milliseconds send_timeout{30'000};
    std::chrono::milliseconds keepalive_timeout{15'000};
    // Whole-phase deadlines, enforced by ConnectionTracker: a new connection
    // must finish TLS and send its first request's headers within
    // receive_timeout, a kept-alive one its next request's headers within
    // keepalive_timeout + receive_timeout; a request must be read, served and
    // answered within request_timeout. Slow clients cannot hold workers.
    std::chrono::milliseconds request_timeout{60'000};
    int max_keepalive_requests{10'000};
    // gSOAP decoder limits: element nesting depth, length of one string,
    // number of repeated elements.
    int soap_max_depth{32};
    std::size_t soap_max_string{1u << 20};
    std::size_t soap_max_occurs{100'000};
};

} // namespace vsa::appliance
