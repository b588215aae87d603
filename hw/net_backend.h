// SPDX-License-Identifier: GPL-2.0-or-later
// NetBackend: the host end of an Ethernet adapter's cable (a socket to a
// virtual switch, a test's recorder).
//
// Guest -> host: the NIC calls send() once per transmitted frame, on the
// VM thread, with the frame as it goes on the wire without its FCS
// (destination MAC first, no preamble, no CRC). The span is valid only
// during the call: a backend that queues copies it. send() must not block
// the VM thread for long; a backend that cannot take the frame drops it,
// as a congested wire would.
//
// Host -> guest has no method here: whoever owns the backend hands frames
// to the NIC on the VM thread (Dec21140::receive), so the NIC never calls
// back into a backend from another thread.
#pragma once

#include "hypervisor/base/types.h"

#include <array>
#include <span>

namespace vsa {

using MacAddress = std::array<u8, 6>;

class NetBackend {
public:
    virtual ~NetBackend() = default;
    virtual void send(std::span<u8 const> frame) = 0;
};

// A cable to nowhere: frames vanish.
class NullNetBackend final : public NetBackend {
public:
    void send(std::span<u8 const>) override {}
};

} // namespace vsa
