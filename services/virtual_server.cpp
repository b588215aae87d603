// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/virtual_server.h"

#include "services/version.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <system_error>

namespace vsa::services {

namespace {

// A product ID in Microsoft's 5-5-5-5 shape, drawn once per installation so
// tools that key inventories by it see distinct appliances.
std::string make_product_id() {
    std::random_device random;
    std::string id;
    for (int group = 0; group < 4; ++group) {
        if (group) id += '-';
        char digits[8];
        std::snprintf(digits, sizeof digits, "%05u", static_cast<unsigned>(random() % 100000));
        id += digits;
    }
    return id;
}

bool valid_product_id(std::string const& id) {
    if (id.size() != 23) return false;
    for (std::size_t i = 0; i < id.size(); ++i) {
        bool dash = i % 6 == 5;
        if (dash ? id[i] != '-' : (id[i] < '0' || id[i] > '9')) return false;
    }
    return true;
}

} // namespace

ServiceResult<std::unique_ptr<VirtualServer>> VirtualServer::open(Options options) {
    std::error_code ec;
    std::filesystem::create_directories(options.data_dir, ec);
    if (ec)
        return service_error(hr::E_FAIL, "cannot create data directory " + options.data_dir.string() + ": " +
                                             ec.message());
    auto id_file = options.data_dir / "server.id";
    std::string product_id;
    if (std::filesystem::exists(id_file, ec)) {
        std::ifstream in(id_file);
        std::getline(in, product_id);
        if (!valid_product_id(product_id))
            return service_error(hr::E_FAIL, id_file.string() + " is corrupt (expected a product ID like "
                                                                "12345-12345-12345-12345); remove it to "
                                                                "draw a new one");
    } else {
        product_id = make_product_id();
        auto tmp = id_file;
        tmp += ".tmp";
        {
            std::ofstream out(tmp, std::ios::trunc);
            out << product_id << '\n';
            if (!out.flush()) return service_error(hr::E_FAIL, "cannot write " + tmp.string());
        }
        std::filesystem::rename(tmp, id_file, ec);
        if (ec) return service_error(hr::E_FAIL, "cannot write " + id_file.string() + ": " + ec.message());
    }
    std::error_code absolute_error;
    auto data_dir = std::filesystem::absolute(options.data_dir, absolute_error);
    if (absolute_error)
        return service_error(hr::E_FAIL,
                             "cannot resolve " + options.data_dir.string() + ": " + absolute_error.message());
    auto inventory = TRY(Inventory::open({data_dir, options.default_vm_path, options.default_vn_path, {}}));
    return std::unique_ptr<VirtualServer>(
        new VirtualServer(std::move(options), std::move(product_id), std::move(inventory)));
}

VirtualServer::VirtualServer(Options options, std::string product_id, std::unique_ptr<Inventory> inventory)
    : m_options(std::move(options)), m_product_id(std::move(product_id)), m_host(m_options.host_root),
      m_started(std::chrono::steady_clock::now()), m_tasks(std::make_unique<TaskRegistry>(m_options.tasks)),
      m_inventory(std::move(inventory)),
      m_runtime(std::make_unique<VmRuntime>(*m_inventory, *m_tasks, m_options.worker)),
      m_disk_tasks(std::make_unique<VhdTasks>(*m_inventory, *m_tasks)) {}

std::string VirtualServer::name() const {
    return std::string(PRODUCT_NAME);
}

std::string VirtualServer::version() const {
    return version_string();
}

std::int32_t VirtualServer::uptime_seconds() const {
    auto elapsed = std::chrono::steady_clock::now() - m_started;
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(elapsed).count();
    return static_cast<std::int32_t>(std::min<long long>(seconds, INT32_MAX));
}

std::int32_t VirtualServer::suggested_maximum_memory_mb() const {
    auto info = m_host.read();
    auto spare = static_cast<std::int64_t>(info.memory_avail_mb) - VmLimits::HOST_RESERVE_MB;
    return static_cast<std::int32_t>(
        std::clamp<std::int64_t>(spare, VmLimits::MIN_MEMORY_MB, VmLimits::MAX_MEMORY_MB));
}

} // namespace vsa::services
