// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/storage/vhd_relink.h"

#include "services/storage/host_file.h"
#include "services/storage/vhd_format.h"
#include "services/storage/vhd_image.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include <sys/stat.h>

namespace vsa::storage {

namespace fs = std::filesystem;
using vhd::SECTOR_SIZE;

namespace {

struct FileId {
    std::uint64_t device{0};
    std::uint64_t inode{0};
    friend bool operator==(FileId const&, FileId const&) = default;
};

std::optional<FileId> file_id(std::string const& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return FileId{std::uint64_t(st.st_dev), std::uint64_t(st.st_ino)};
}

// What the child's locators will say, as create_differencing writes them.
struct LocatorTexts {
    std::string absolute; // W2ku
    std::string relative; // W2ru
    std::string file_name;
};

StorageResult<LocatorTexts> locator_texts(std::string const& child, fs::path const& parent_abs) {
    std::error_code error;
    fs::path const child_dir = fs::absolute(fs::path(child), error).parent_path().lexically_normal();
    if (error) return storage_error(StorageErrorKind::InvalidRequest, "cannot resolve '" + child + "'");
    fs::path relative = parent_abs.lexically_relative(child_dir);
    if (relative.empty()) relative = parent_abs;
    std::string relative_text = relative.string();
    if (relative.is_relative() && !relative_text.starts_with("..")) relative_text = "./" + relative_text;
    std::replace(relative_text.begin(), relative_text.end(), '/', '\\');
    return LocatorTexts{parent_abs.string(), relative_text, parent_abs.filename().string()};
}

// The child as it is on disk, checked as VhdImage::open checks it (without
// the recovery of a lost trailing footer, and without opening its parent,
// which is what the caller is about to fix).
struct Child {
    HostFile file;
    std::uint64_t file_size{0};
    vhd::Footer footer;
    vhd::DynamicHeader header;
};

StorageResult<Child> open_child(std::string const& path) {
    Child child;
    child.file = TRY(HostFile::open(path, HostFile::Mode::ReadWrite));
    child.file_size = TRY(child.file.size());
    if (child.file_size < vhd::FOOTER_SIZE) return corrupt_vhd(path, "the file is smaller than a VHD footer");
    vhd::FooterBytes footer_bytes{};
    TRY(child.file.read_at(child.file_size - vhd::FOOTER_SIZE, footer_bytes));
    auto footer = vhd::parse_footer(footer_bytes);
    if (footer.is_error())
        return corrupt_vhd(
            path, footer.error().message +
                      " (if only the footer at the end is damaged, opening the disk for writing once "
                      "repairs it)");
    child.footer = footer.release_value();
    if (child.footer.disk_type != vhd::DiskType::Differencing)
        return storage_error(StorageErrorKind::WrongType,
                             "'" + path + "' is a " +
                                 std::string(vhd::disk_type_name(child.footer.disk_type)) +
                                 " disk, not a differencing disk: it has no parent to re-link");
    if (child.footer.data_offset > child.file_size ||
        child.file_size - child.footer.data_offset < vhd::DYNAMIC_HEADER_SIZE)
        return corrupt_vhd(path, "the dynamic disk header offset lies outside the file");
    vhd::DynamicHeaderBytes header_bytes{};
    TRY(child.file.read_at(child.footer.data_offset, header_bytes));
    auto header = vhd::parse_dynamic_header(header_bytes);
    if (header.is_error()) return corrupt_vhd(path, header.error().message);
    child.header = header.release_value();
    auto layout = vhd::validate_dynamic_layout(child.footer, child.header, child.file_size);
    if (layout.is_error()) return corrupt_vhd(path, layout.error().message);
    std::vector<std::byte> bat_bytes(std::size_t(child.header.max_table_entries) * 4);
    TRY(child.file.read_at(child.header.table_offset, bat_bytes));
    auto const bat = vhd::parse_bat(bat_bytes, child.header.max_table_entries);
    auto problems =
        vhd::find_bat_problems(bat, child.header, layout.value(), child.file_size - vhd::FOOTER_SIZE, 1);
    if (!problems.empty()) return corrupt_vhd(path, problems.front());
    return child;
}

} // namespace

Result<void, StorageError> relink_parent(std::string const& child_path, std::string const& new_parent) {
    // The parent first, read-only with its whole chain (it must be usable as
    // a parent), and closed again before the child is opened for writing:
    // OFD locks of one process conflict, and the chain might include the
    // child.
    std::error_code error;
    fs::path const parent_abs = fs::canonical(new_parent, error);
    if (error)
        return storage_error(StorageErrorKind::NotFound,
                             "the new parent '" + new_parent + "' does not exist");
    vhd::Uuid parent_id{};
    std::vector<FileId> parent_chain;
    {
        auto parent = VhdImage::open(parent_abs.string(), true);
        if (parent.is_error()) {
            StorageError failure = parent.release_error();
            failure.message = "the new parent: " + failure.message;
            return failure;
        }
        parent_id = parent.value()->footer().unique_id;
        for (VhdImage const* image = parent.value().get(); image; image = image->parent())
            if (auto id = file_id(image->path())) parent_chain.push_back(*id);
    }
    if (auto child_id = file_id(child_path)) {
        if (std::find(parent_chain.begin(), parent_chain.end(), *child_id) != parent_chain.end())
            return storage_error(
                StorageErrorKind::InvalidRequest,
                "'" + parent_abs.string() + "' is '" + child_path +
                    "' or has it in its differencing chain: a disk cannot be its own parent");
    } else {
        return storage_error(StorageErrorKind::NotFound, "'" + child_path + "' does not exist");
    }

    Child child = TRY(open_child(child_path));
    if (child.header.parent_unique_id != parent_id)
        return storage_error(StorageErrorKind::ParentMismatch,
                             "'" + child_path + "' was made from parent " +
                                 vhd::uuid_string(child.header.parent_unique_id) + " but '" +
                                 parent_abs.string() + "' is " + vhd::uuid_string(parent_id));

    LocatorTexts const texts = TRY(locator_texts(child_path, parent_abs));
    std::vector<std::byte> const absolute = vhd::utf8_to_utf16le(texts.absolute);
    std::vector<std::byte> const relative = vhd::utf8_to_utf16le(texts.relative);
    for (auto const* data : {&absolute, &relative})
        if (data->empty() || data->size() > vhd::MAX_LOCATOR_BYTES)
            return storage_error(StorageErrorKind::InvalidRequest, "the path of '" + parent_abs.string() +
                                                                       "' is too long for a parent locator");

    // The new header: W2ku and W2ru in their old slots (or free ones), in
    // new sectors where the trailing footer is now.
    vhd::DynamicHeader header = child.header;
    header.parent_unicode_name = vhd::utf8_to_utf16(texts.file_name);
    std::uint64_t const region = child.file_size - vhd::FOOTER_SIZE;
    std::uint64_t offset = region;
    std::vector<std::byte> region_bytes;
    for (auto const& [code, data] :
         {std::pair{vhd::PLATFORM_W2KU, &absolute}, std::pair{vhd::PLATFORM_W2RU, &relative}}) {
        std::optional<std::size_t> slot;
        for (std::size_t i = 0; i < vhd::MAX_PARENT_LOCATORS; ++i) {
            if (header.parent_locators[i].platform_code != code) continue;
            if (!slot)
                slot = i;
            else
                header.parent_locators[i] = {}; // a second one would keep the old path alive
        }
        for (std::size_t i = 0; !slot && i < vhd::MAX_PARENT_LOCATORS; ++i)
            if (header.parent_locators[i].platform_code == vhd::PLATFORM_NONE) slot = i;
        if (!slot)
            return storage_error(StorageErrorKind::Unsupported,
                                 "'" + child_path + "' has no free parent locator entry for the new path");
        std::uint32_t const sectors = std::uint32_t((data->size() + SECTOR_SIZE - 1) / SECTOR_SIZE);
        vhd::ParentLocator& locator = header.parent_locators[*slot];
        locator.platform_code = code;
        locator.platform_data_space = sectors; // sectors, as the specification says
        locator.platform_data_length = std::uint32_t(data->size());
        locator.platform_data_offset = offset;
        region_bytes.insert(region_bytes.end(), data->begin(), data->end());
        region_bytes.resize(std::size_t(offset - region) + std::size_t(sectors) * SECTOR_SIZE, std::byte{0});
        offset += std::uint64_t(sectors) * SECTOR_SIZE;
    }
    std::uint64_t const new_size = offset + vhd::FOOTER_SIZE;
    if (new_size / SECTOR_SIZE > vhd::UNUSED_BAT_ENTRY - 1)
        return storage_error(StorageErrorKind::TooLarge, "'" + child_path + "' cannot grow past 2 TiB");
    // The result must be what open() accepts; this cannot fail for a child
    // that passed open_child, but a file is not worth the risk.
    auto layout = vhd::validate_dynamic_layout(child.footer, header, new_size);
    if (layout.is_error())
        return storage_error(StorageErrorKind::Corrupt,
                             "re-linking '" + child_path +
                                 "' would make an invalid layout: " + layout.error().message);

    // The steps of the header comment.
    vhd::FooterBytes const footer = vhd::serialize_footer(child.footer);
    TRY(child.file.write_at(offset, footer));
    TRY(child.file.write_at(region, region_bytes));
    TRY(child.file.sync_data());
    TRY(child.file.write_at(child.footer.data_offset, vhd::serialize_dynamic_header(header)));
    return child.file.sync();
}

} // namespace vsa::storage
