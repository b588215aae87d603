// SPDX-License-Identifier: GPL-2.0-or-later
// ParallelPort: the VM's one LPT port (IVMParallelPort.Name). Virtual
// Server mapped it to the host's "LPT1"; an appliance has no printer port,
// so here the host's LPT1 is a file: what the guest prints is appended to
// "<vm folder>/<vm name>.lpt1.txt". A client may name another file by its
// absolute path (vsad confines it to its roots). "" leaves the port
// unconnected: the guest then has no LPT port at all. Configuration only;
// the worker gets it as --parallel append:FILE.
#pragma once

#include "services/service_error.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace vsa::services {

class ParallelPort {
public:
    std::int32_t id() const { return 0; }
    std::string const& name() const { return m_name; }
    // "", "LPT1" (any case, stored as "LPT1") or an absolute path;
    // E_INVALIDARG for anything else ("LPT2", a relative path).
    ServiceResult<void> set_name(std::string name);

    // The host file the port prints to (`folder`/`vm_name`.lpt1.txt for
    // "LPT1"); nullopt when unconnected.
    std::optional<std::filesystem::path> output_file(std::filesystem::path const& folder,
                                                     std::string const& vm_name) const;

    friend bool operator==(ParallelPort const&, ParallelPort const&) = default;

private:
    std::string m_name;
};

} // namespace vsa::services
