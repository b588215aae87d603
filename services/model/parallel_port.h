// SPDX-License-Identifier: GPL-2.0-or-later
// ParallelPort: the VM's one LPT port (IVMParallelPort), mapped to a host
// parallel port device ("" = not connected). Configuration only.
#pragma once

#include "services/service_error.h"

#include <cstdint>
#include <string>

namespace vsa::services {

class ParallelPort {
public:
    std::int32_t id() const { return 0; }
    std::string const& name() const { return m_name; }
    // "" disconnects; otherwise an absolute device path (E_INVALIDARG).
    ServiceResult<void> set_name(std::string name);

    friend bool operator==(ParallelPort const&, ParallelPort const&) = default;

private:
    std::string m_name;
};

} // namespace vsa::services
