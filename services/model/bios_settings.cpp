// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/bios_settings.h"

#include "services/hresult.h"

#include <algorithm>

namespace vsa::services {

namespace {

constexpr std::string_view NAMES[] = {"disk", "cdrom", "floppy"}; // BootDevice order

std::string_view trim(std::string_view text) {
    while (!text.empty() && text.front() == ' ')
        text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ')
        text.remove_suffix(1);
    return text;
}

} // namespace

ServiceResult<std::vector<BootDevice>> parse_boot_order(std::string_view text) {
    std::vector<BootDevice> order;
    if (trim(text).empty())
        return service_error(hr::E_INVALIDARG, "the boot order is empty (want e.g. \"cdrom,disk,floppy\")");
    while (true) {
        auto comma = text.find(',');
        auto word = trim(text.substr(0, comma));
        auto known = std::find(std::begin(NAMES), std::end(NAMES), word);
        if (known == std::end(NAMES))
            return service_error(hr::E_INVALIDARG, "the boot order names \"" +
                                                       std::string(word.substr(0, 32)) +
                                                       "\": the kinds are disk, cdrom and floppy");
        auto device = static_cast<BootDevice>(known - std::begin(NAMES));
        if (std::find(order.begin(), order.end(), device) != order.end())
            return service_error(hr::E_INVALIDARG,
                                 "the boot order names \"" + std::string(word) + "\" twice");
        order.push_back(device);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return order;
}

std::string format_boot_order(std::span<BootDevice const> order) {
    std::string text;
    for (auto device : order) {
        if (!text.empty()) text += ',';
        text += NAMES[static_cast<std::size_t>(device)];
    }
    return text;
}

} // namespace vsa::services
