// SPDX-License-Identifier: GPL-2.0-or-later
// StaticAssets: the admin UI, read into memory once at start. Serving only
// what was loaded (a fixed map from URL path to bytes) means no request path
// ever reaches the file system, so there is no traversal to get wrong.
#pragma once

#include "hypervisor/base/result.h"

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace vsa::appliance {

struct Asset {
    std::string body;
    std::string content_type;
    std::string etag; // strong validator: a hash of the bytes
};

class StaticAssets {
public:
    // Loads every regular file below `root` (at most 4096 files, 64 MiB).
    static Result<StaticAssets, std::string> load(std::filesystem::path const& root);

    // "/" means "/index.html". nullptr if there is no such asset.
    Asset const* find(std::string_view path) const;
    std::size_t size() const { return m_assets.size(); }

    static std::string_view content_type_for(std::filesystem::path const& file);

private:
    std::map<std::string, Asset, std::less<>> m_assets;
};

} // namespace vsa::appliance
