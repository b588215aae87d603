// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/http/static_assets.h"

#include <openssl/evp.h>

#include <fstream>
#include <iterator>

namespace vsa::appliance {

namespace {

constexpr std::size_t MAX_FILES = 4096;
constexpr std::size_t MAX_TOTAL_BYTES = 64u << 20;

std::string etag_of(std::string const& bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
    static char const HEX[] = "0123456789abcdef";
    std::string out = "\"";
    for (unsigned i = 0; i < 12 && i < length; ++i) {
        out += HEX[digest[i] >> 4];
        out += HEX[digest[i] & 15];
    }
    return out + "\"";
}

} // namespace

std::string_view StaticAssets::content_type_for(std::filesystem::path const& file) {
    auto ext = file.extension().string();
    if (ext == ".html") return "text/html; charset=utf-8";
    if (ext == ".js" || ext == ".mjs") return "application/javascript; charset=utf-8";
    if (ext == ".css") return "text/css; charset=utf-8";
    if (ext == ".svg") return "image/svg+xml";
    if (ext == ".png") return "image/png";
    if (ext == ".ico") return "image/x-icon";
    if (ext == ".json") return "application/json";
    if (ext == ".txt") return "text/plain; charset=utf-8";
    if (ext == ".woff2") return "font/woff2";
    return "application/octet-stream";
}

Result<StaticAssets, std::string> StaticAssets::load(std::filesystem::path const& root) {
    StaticAssets assets;
    std::error_code ec;
    if (!std::filesystem::is_directory(root, ec))
        return Err{"web root " + root.string() + " is not a folder"};
    std::size_t total = 0;
    for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        auto relative = std::filesystem::relative(it->path(), root, ec).generic_string();
        if (ec) break;
        if (relative.starts_with('.') || relative.find("/.") != std::string::npos) continue; // dotfiles
        std::ifstream in(it->path(), std::ios::binary);
        std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) return Err{"cannot read " + it->path().string()};
        total += body.size();
        if (assets.m_assets.size() >= MAX_FILES || total > MAX_TOTAL_BYTES)
            return Err{"web root " + root.string() + " is larger than 4096 files or 64 MiB"};
        Asset asset{std::move(body), std::string(content_type_for(it->path())), {}};
        asset.etag = etag_of(asset.body);
        assets.m_assets.emplace("/" + relative, std::move(asset));
    }
    if (ec) return Err{"cannot list " + root.string() + ": " + ec.message()};
    return assets;
}

Asset const* StaticAssets::find(std::string_view path) const {
    if (path == "/") path = "/index.html";
    auto it = m_assets.find(path);
    return it == m_assets.end() ? nullptr : &it->second;
}

} // namespace vsa::appliance
