// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/virtual_network.h"

#include "services/model/names.h"
#include "services/model/virtual_machine.h"

#include <algorithm>

namespace vsa::services {

VirtualNetwork::VirtualNetwork(std::string name, std::filesystem::path file, Guid id)
    : m_id(id), m_name(std::move(name)), m_file(std::move(file)) {}

ServiceResult<void> VirtualNetwork::set_name(std::string name) {
    TRY(validate_object_name(name));
    m_name = std::move(name);
    return {};
}

ServiceResult<void> VirtualNetwork::set_notes(std::string notes) {
    if (!is_valid_utf8(notes)) return service_error(hr::E_INVALIDARG, "the notes are not valid UTF-8");
    std::size_t characters = 0;
    for (char c : notes)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++characters;
    if (characters > MAX_NOTES_CHARACTERS)
        return service_error(hr::E_INVALIDARG,
                             "notes are limited to " + std::to_string(MAX_NOTES_CHARACTERS) + " characters");
    m_notes = std::move(notes);
    return {};
}

ServiceResult<void> VirtualNetwork::set_host_adapter(std::string adapter) {
    // Linux interface names: IFNAMSIZ - 1 bytes, no '/' or whitespace.
    if (adapter.size() > 15 || adapter == "." || adapter == ".." ||
        std::any_of(adapter.begin(), adapter.end(), [](char c) {
            auto byte = static_cast<unsigned char>(c);
            return byte <= 0x20 || byte == 0x7F || c == '/' || c == ':';
        }))
        return service_error(hr::E_INVALIDARG,
                             "\"" + adapter.substr(0, 40) + "\" is not a host adapter name");
    m_host_adapter = std::move(adapter);
    return {};
}

} // namespace vsa::services
