// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/parallel_port.h"

#include "services/model/hard_disk_connection.h"

namespace vsa::services {

ServiceResult<void> ParallelPort::set_name(std::string name) {
    if (!name.empty()) {
        if (auto valid = validate_stored_path(name, "parallel port device"); valid.is_error())
            return service_error(hr::E_INVALIDARG, valid.error().message);
    }
    m_name = std::move(name);
    return {};
}

} // namespace vsa::services
