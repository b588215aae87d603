// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/parallel_port.h"

#include "services/model/hard_disk_connection.h"

namespace vsa::services {

ServiceResult<void> ParallelPort::set_name(std::string name) {
    if (name.size() == 4 && (name[0] | 0x20) == 'l' && (name[1] | 0x20) == 'p' && (name[2] | 0x20) == 't' &&
        name[3] == '1') {
        name = "LPT1";
    } else if (!name.empty()) {
        if (!name.starts_with('/'))
            return service_error(hr::E_INVALIDARG,
                                 "a parallel port is \"LPT1\" (the file <vm name>.lpt1.txt in the VM's "
                                 "folder), an absolute file path or \"\" (none), not \"" +
                                     name.substr(0, 64) + "\"");
        if (auto valid = validate_stored_path(name, "parallel port file"); valid.is_error())
            return service_error(hr::E_INVALIDARG, valid.error().message);
    }
    m_name = std::move(name);
    return {};
}

std::optional<std::filesystem::path> ParallelPort::output_file(std::filesystem::path const& folder,
                                                               std::string const& vm_name) const {
    if (m_name.empty()) return std::nullopt;
    if (m_name == "LPT1") return folder / (vm_name + ".lpt1.txt");
    return std::filesystem::path(m_name);
}

} // namespace vsa::services
