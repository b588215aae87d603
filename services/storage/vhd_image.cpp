// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/storage/vhd_image.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <optional>

#include <sys/stat.h>
#include <unistd.h>

namespace vsa::storage {

namespace fs = std::filesystem;
using vhd::SECTOR_SIZE;

namespace {

bool bit_set(std::vector<std::uint8_t> const& bitmap, std::uint64_t index) {
    // Sector 0 of the block is the most significant bit of byte 0.
    return (bitmap[index / 8] >> (7 - index % 8)) & 1;
}

void set_bit(std::vector<std::uint8_t>& bitmap, std::uint64_t index) {
    bitmap[index / 8] = std::uint8_t(bitmap[index / 8] | (0x80 >> (index % 8)));
}

std::span<std::byte const> as_bytes(std::vector<std::uint8_t> const& v) {
    return std::as_bytes(std::span<std::uint8_t const>(v));
}

// Windows locators use backslashes; we store and resolve POSIX paths. (A
// Linux file name with a backslash in it does not survive this; acceptable.)
std::string to_posix_path(std::string text) {
    std::replace(text.begin(), text.end(), '\\', '/');
    return text;
}

std::string to_windows_path(std::string text) {
    std::replace(text.begin(), text.end(), '/', '\\');
    return text;
}

std::string platform_name(std::uint32_t code) {
    std::string name;
    for (int shift = 24; shift >= 0; shift -= 8) {
        char c = char((code >> shift) & 0xFF);
        name += (c >= 0x20 && c < 0x7F) ? c : '?';
    }
    return name;
}

Result<void, StorageError> validate_create_size(std::uint64_t size_bytes) {
    if (size_bytes % SECTOR_SIZE != 0)
        return storage_error(StorageErrorKind::InvalidRequest,
                             "disk size " + std::to_string(size_bytes) + " is not a multiple of 512 bytes");
    if (size_bytes < vhd::MIN_CREATE_SIZE)
        return storage_error(StorageErrorKind::TooSmall,
                             "disk size " + std::to_string(size_bytes) + " is below the minimum of 3 MB");
    if (size_bytes > vhd::MAX_DISK_SIZE)
        return storage_error(StorageErrorKind::TooLarge, "disk size " + std::to_string(size_bytes) +
                                                             " exceeds the maximum of 2,088,960 MB");
    return {};
}

vhd::Footer new_footer(vhd::DiskType type, std::uint64_t size_bytes) {
    vhd::Footer footer;
    footer.disk_type = type;
    footer.timestamp = vhd::to_vhd_timestamp(std::chrono::system_clock::now());
    footer.original_size = size_bytes;
    footer.current_size = size_bytes;
    footer.geometry = vhd::chs_geometry(size_bytes / SECTOR_SIZE);
    footer.unique_id = vhd::random_uuid();
    footer.data_offset = type == vhd::DiskType::Fixed ? vhd::NO_DATA_OFFSET : SECTOR_SIZE;
    return footer;
}

// Writes a new image through `fill`; on any failure the half-made file goes.
template <typename Fill>
Result<void, StorageError> create_file(std::string const& path, Fill fill) {
    HostFile file = TRY(HostFile::open(path, HostFile::Mode::CreateNew));
    auto result = fill(file);
    if (result.is_error()) {
        ::unlink(path.c_str());
        return result;
    }
    auto synced = file.sync();
    if (synced.is_error()) ::unlink(path.c_str());
    return synced;
}

Result<void, StorageError>
write_dynamic_layout(HostFile& file, vhd::Footer const& footer, vhd::DynamicHeader const& header,
                     std::vector<std::pair<vhd::ParentLocator, std::vector<std::byte>>> const& locator_data,
                     std::uint64_t data_start) {
    vhd::FooterBytes const footer_bytes = vhd::serialize_footer(footer);
    TRY(file.write_at(0, footer_bytes));
    TRY(file.write_at(footer.data_offset, vhd::serialize_dynamic_header(header)));
    std::vector<std::byte> bat(vhd::bat_bytes(header), std::byte{0xFF});
    TRY(file.write_at(header.table_offset, bat));
    for (auto const& [locator, data] : locator_data) {
        std::vector<std::byte> padded(vhd::locator_space_bytes(locator), std::byte{0});
        std::memcpy(padded.data(), data.data(), data.size());
        TRY(file.write_at(locator.platform_data_offset, padded));
    }
    TRY(file.write_at(data_start, footer_bytes));
    return {};
}

} // namespace

VhdImage::~VhdImage() {
    // A close without flush() still leaves every allocated block reachable.
    if (!m_pending_bat.empty() || !m_pending_bitmaps.empty()) (void)flush();
}

StorageResult<std::unique_ptr<VhdImage>> VhdImage::open(std::string const& path, bool read_only) {
    std::vector<ChainEntry> chain;
    return open_in_chain(path, read_only ? HostFile::Mode::ReadOnly : HostFile::Mode::ReadWrite, chain);
}

StorageResult<std::unique_ptr<VhdImage>> VhdImage::open_to_inspect(std::string const& path) {
    std::vector<ChainEntry> chain;
    return open_in_chain(path, HostFile::Mode::Inspect, chain);
}

StorageResult<std::unique_ptr<VhdImage>> VhdImage::open_in_chain(std::string const& path, HostFile::Mode mode,
                                                                 std::vector<ChainEntry>& chain) {
    std::unique_ptr<VhdImage> image(new VhdImage);
    image->m_read_only = mode != HostFile::Mode::ReadWrite;
    image->m_inspecting = mode == HostFile::Mode::Inspect;
    image->m_file = TRY(HostFile::open(path, mode));

    std::uint64_t const file_size = TRY(image->m_file.size());
    if (file_size < vhd::FOOTER_SIZE) return corrupt_vhd(path, "the file is smaller than a VHD footer");
    vhd::FooterBytes bytes{};
    TRY(image->m_file.read_at(file_size - vhd::FOOTER_SIZE, bytes));
    auto footer = vhd::parse_footer(bytes);
    if (footer.is_error()) {
        // A crash during block allocation leaves data where the footer was;
        // dynamic disks keep a copy at offset 0 for exactly this.
        vhd::FooterBytes copy{};
        TRY(image->m_file.read_at(0, copy));
        auto from_copy = vhd::parse_footer(copy);
        if (from_copy.is_error() || from_copy.value().disk_type == vhd::DiskType::Fixed) {
            StorageError error = footer.release_error();
            if (error.kind == StorageErrorKind::Corrupt) return corrupt_vhd(path, error.message);
            return error;
        }
        image->m_footer = from_copy.release_value();
        image->m_footer_recovered = true;
    } else {
        image->m_footer = footer.release_value();
    }

    if (image->m_footer.disk_type == vhd::DiskType::Fixed) {
        image->m_data_end = file_size - vhd::FOOTER_SIZE;
        if (image->m_footer.current_size > image->m_data_end)
            return corrupt_vhd(path, "the footer says " + std::to_string(image->m_footer.current_size) +
                                         " bytes but the file holds only " +
                                         std::to_string(image->m_data_end));
        return image;
    }

    TRY(image->load_dynamic(file_size));
    if (image->m_footer.disk_type == vhd::DiskType::Differencing) {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0)
            chain.push_back({std::uint64_t(st.st_dev), std::uint64_t(st.st_ino)});
        TRY(image->open_parent(chain));
    }
    return image;
}

Result<void, StorageError> VhdImage::load_dynamic(std::uint64_t file_size) {
    std::string const& path = m_file.path();
    if (m_footer.data_offset > file_size || file_size - m_footer.data_offset < vhd::DYNAMIC_HEADER_SIZE)
        return corrupt_vhd(path, "the dynamic disk header offset lies outside the file");
    vhd::DynamicHeaderBytes header_bytes{};
    TRY(m_file.read_at(m_footer.data_offset, header_bytes));
    auto header = vhd::parse_dynamic_header(header_bytes);
    if (header.is_error()) return corrupt_vhd(path, header.error().message);
    m_header = header.release_value();

    // Recovering, the whole file is candidate data: the real end is after
    // the last metadata or block, computed below.
    std::uint64_t const layout_size = m_footer_recovered ? file_size + vhd::FOOTER_SIZE : file_size;
    auto layout = vhd::validate_dynamic_layout(m_footer, m_header, layout_size);
    if (layout.is_error()) return corrupt_vhd(path, layout.error().message);
    m_metadata = layout.release_value();
    std::uint64_t const data_end = layout_size - vhd::FOOTER_SIZE;

    std::vector<std::byte> bat_bytes(std::size_t(m_header.max_table_entries) * 4);
    TRY(m_file.read_at(m_header.table_offset, bat_bytes));
    m_bat = vhd::parse_bat(bat_bytes, m_header.max_table_entries);
    auto problems = vhd::find_bat_problems(m_bat, m_header, m_metadata, data_end, 1);
    if (!problems.empty()) return corrupt_vhd(path, problems.front());

    // The real end of the data: after the last metadata or block. A crash
    // before the BAT entries of new blocks were committed leaves those
    // blocks behind it, unreferenced; without a trailing footer (recovery)
    // the whole file is a candidate.
    std::uint64_t end = 0;
    for (auto const& extent : m_metadata)
        end = std::max(end, extent.offset + extent.length);
    std::uint64_t const block_bytes = std::uint64_t(vhd::bitmap_bytes(m_header)) + m_header.block_size;
    for (std::uint32_t entry : m_bat)
        if (entry != vhd::UNUSED_BAT_ENTRY)
            end = std::max(end, std::uint64_t(entry) * SECTOR_SIZE + block_bytes);
    end = (end + SECTOR_SIZE - 1) / SECTOR_SIZE * SECTOR_SIZE;
    if (!m_footer_recovered && (m_read_only || end >= data_end)) {
        // Read-only, unreferenced space is harmless: every reader allocates
        // after the last block, and QEMU's does it without looking at the
        // trailing footer at all.
        m_data_end = data_end;
        return {};
    }
    m_data_end = end;
    if (!m_read_only) {
        // The footer first: until the truncation lands, the old trailing
        // footer (or the copy at offset 0) still describes the disk.
        TRY(m_file.write_at(m_data_end, vhd::serialize_footer(m_footer)));
        TRY(m_file.truncate(m_data_end + vhd::FOOTER_SIZE));
        TRY(m_file.sync());
    }
    return {};
}

std::vector<std::pair<std::string, std::string>> VhdImage::parent_candidates() const {
    // (what, path) in the order we try them.
    std::vector<std::pair<std::string, std::string>> candidates;
    fs::path const child_dir = fs::path(m_file.path()).parent_path();
    auto relative_to_child = [&](std::string const& relative) {
        return (child_dir.empty() ? fs::path(relative) : child_dir / relative).lexically_normal().string();
    };
    for (std::uint32_t wanted : {vhd::PLATFORM_W2KU, vhd::PLATFORM_W2RU}) {
        for (auto const& locator : m_header.parent_locators) {
            if (locator.platform_code != wanted || locator.platform_data_length == 0) continue;
            std::vector<std::byte> data(locator.platform_data_length);
            if (m_file.read_at(locator.platform_data_offset, data).is_error()) continue;
            std::string const text = to_posix_path(vhd::utf16le_to_utf8(data));
            if (text.empty()) continue;
            if (wanted == vhd::PLATFORM_W2KU) {
                if (text.front() == '/') candidates.emplace_back("W2ku", text);
            } else {
                candidates.emplace_back("W2ru", text.front() == '/' ? text : relative_to_child(text));
            }
        }
    }
    if (!m_header.parent_unicode_name.empty()) {
        std::string const name = to_posix_path(vhd::utf16_to_utf8(m_header.parent_unicode_name));
        if (name.front() == '/') candidates.emplace_back("parent name", name);
        std::string const base = fs::path(name).filename().string();
        if (!base.empty()) candidates.emplace_back("parent name", relative_to_child(base));
    }
    return candidates;
}

Result<void, StorageError> VhdImage::open_parent(std::vector<ChainEntry>& chain) {
    std::string const& path = m_file.path();
    if (chain.size() > std::size_t(MAX_PARENT_DEPTH))
        return storage_error(StorageErrorKind::Unsupported, "'" + path +
                                                                "': the differencing chain is deeper than " +
                                                                std::to_string(MAX_PARENT_DEPTH) + " disks");
    auto const candidates = parent_candidates();
    std::optional<StorageError> mismatch;
    std::string tried;
    for (auto const& [what, candidate] : candidates) {
        tried += (tried.empty() ? "" : ", ") + what + " '" + candidate + "'";
        struct stat st {};
        if (::stat(candidate.c_str(), &st) != 0) continue;
        for (auto const& entry : chain)
            if (entry.device == std::uint64_t(st.st_dev) && entry.inode == std::uint64_t(st.st_ino))
                return corrupt_vhd(path,
                                   "parent loop: '" + candidate + "' is already in this differencing chain");
        std::vector<ChainEntry> parent_chain = chain;
        auto parent = open_in_chain(
            candidate, m_inspecting ? HostFile::Mode::Inspect : HostFile::Mode::ReadOnly, parent_chain);
        if (parent.is_error()) {
            StorageError error = parent.release_error();
            error.message = "parent of '" + path + "': " + error.message;
            return error;
        }
        if (parent.value()->footer().unique_id != m_header.parent_unique_id) {
            mismatch = storage_error(StorageErrorKind::ParentMismatch,
                                     "'" + path + "' was made from parent " +
                                         vhd::uuid_string(m_header.parent_unique_id) + " but '" + candidate +
                                         "' is " + vhd::uuid_string(parent.value()->footer().unique_id));
            continue;
        }
        m_parent = parent.release_value();
        return {};
    }
    if (mismatch) return *mismatch;
    return storage_error(StorageErrorKind::ParentNotFound, "'" + path + "': parent disk not found (tried " +
                                                               (tried.empty() ? "nothing" : tried) + ")");
}

std::uint64_t VhdImage::block_data_offset(std::uint32_t bat_entry) const {
    return std::uint64_t(bat_entry) * SECTOR_SIZE + vhd::bitmap_bytes(m_header);
}

StorageResult<std::vector<std::uint8_t>*> VhdImage::bitmap(std::uint32_t block) {
    auto it = m_bitmaps.find(block);
    if (it != m_bitmaps.end()) return &it->second;
    std::vector<std::uint8_t> bits(vhd::bitmap_bytes(m_header));
    TRY(m_file.read_at(std::uint64_t(m_bat[block]) * SECTOR_SIZE,
                       std::as_writable_bytes(std::span<std::uint8_t>(bits))));
    return &m_bitmaps.emplace(block, std::move(bits)).first->second;
}

StorageResult<std::vector<std::uint8_t>> VhdImage::block_bitmap(std::uint32_t block) {
    if (block >= m_bat.size() || m_bat[block] == vhd::UNUSED_BAT_ENTRY) return std::vector<std::uint8_t>{};
    return *TRY(bitmap(block));
}

Result<void, StorageError> VhdImage::read_unallocated(std::uint64_t sector, std::span<std::byte> out) {
    if (!m_parent) {
        std::memset(out.data(), 0, out.size());
        return {};
    }
    // A parent smaller than its child (the specification forbids it, but it
    // costs nothing to survive) reads as zeros past its end.
    std::uint64_t const parent_sectors = m_parent->sector_count();
    std::uint64_t const count = out.size() / SECTOR_SIZE;
    std::uint64_t const inside = sector >= parent_sectors ? 0 : std::min(count, parent_sectors - sector);
    if (inside > 0) TRY(m_parent->read_sectors(sector, out.first(inside * SECTOR_SIZE)));
    std::memset(out.data() + inside * SECTOR_SIZE, 0, out.size() - inside * SECTOR_SIZE);
    return {};
}

Result<void, StorageError> VhdImage::read(std::uint64_t first_sector, std::span<std::byte> out) {
    TRY(check_request(first_sector, out.size(), false));
    return read_sectors(first_sector, out);
}

Result<void, StorageError> VhdImage::read_sectors(std::uint64_t sector, std::span<std::byte> out) {
    if (m_footer.disk_type == vhd::DiskType::Fixed) return m_file.read_at(sector * SECTOR_SIZE, out);
    std::uint32_t const per_block = vhd::sectors_per_block(m_header);
    while (!out.empty()) {
        std::uint32_t const block = std::uint32_t(sector / per_block);
        std::uint32_t const in_block = std::uint32_t(sector % per_block);
        std::uint64_t const count = std::min<std::uint64_t>(out.size() / SECTOR_SIZE, per_block - in_block);
        std::span<std::byte> chunk = out.first(count * SECTOR_SIZE);
        if (block >= m_bat.size() || m_bat[block] == vhd::UNUSED_BAT_ENTRY) {
            TRY(read_unallocated(sector, chunk));
        } else {
            std::vector<std::uint8_t> const& bits = *TRY(bitmap(block));
            std::uint64_t i = 0;
            while (i < count) {
                bool const present = bit_set(bits, in_block + i);
                std::uint64_t j = i + 1;
                while (j < count && bit_set(bits, in_block + j) == present)
                    ++j;
                std::span<std::byte> run = chunk.subspan(i * SECTOR_SIZE, (j - i) * SECTOR_SIZE);
                if (present)
                    TRY(m_file.read_at(block_data_offset(m_bat[block]) + (in_block + i) * SECTOR_SIZE, run));
                else
                    TRY(read_unallocated(sector + i, run));
                i = j;
            }
        }
        sector += count;
        out = out.subspan(chunk.size());
    }
    return {};
}

Result<void, StorageError> VhdImage::write(std::uint64_t first_sector, std::span<std::byte const> data) {
    TRY(check_request(first_sector, data.size(), true));
    if (m_footer.disk_type == vhd::DiskType::Fixed) return m_file.write_at(first_sector * SECTOR_SIZE, data);
    std::uint32_t const per_block = vhd::sectors_per_block(m_header);
    std::uint64_t sector = first_sector;
    while (!data.empty()) {
        std::uint32_t const block = std::uint32_t(sector / per_block);
        std::uint32_t const in_block = std::uint32_t(sector % per_block);
        std::uint64_t const count = std::min<std::uint64_t>(data.size() / SECTOR_SIZE, per_block - in_block);
        TRY(write_block_chunk(block, in_block, data.first(count * SECTOR_SIZE)));
        sector += count;
        data = data.subspan(count * SECTOR_SIZE);
    }
    return {};
}

Result<void, StorageError> VhdImage::write_block_chunk(std::uint32_t block, std::uint32_t first_in_block,
                                                       std::span<std::byte const> data) {
    if (m_bat[block] == vhd::UNUSED_BAT_ENTRY) {
        TRY(allocate_block(block, first_in_block, data));
    } else {
        TRY(m_file.write_at(block_data_offset(m_bat[block]) + std::uint64_t(first_in_block) * SECTOR_SIZE,
                            data));
        std::vector<std::uint8_t>& bits = *TRY(bitmap(block));
        std::uint64_t const count = data.size() / SECTOR_SIZE;
        bool changed = false;
        for (std::uint64_t i = 0; i < count; ++i) {
            if (bit_set(bits, first_in_block + i)) continue;
            set_bit(bits, first_in_block + i);
            changed = true;
        }
        if (changed) {
            if (bat_pending(block)) {
                // Nothing on disk reaches this bitmap yet; the commit's sync
                // covers it before the BAT entry does.
                TRY(m_file.write_at(std::uint64_t(m_bat[block]) * SECTOR_SIZE, as_bytes(bits)));
            } else if (std::find(m_pending_bitmaps.begin(), m_pending_bitmaps.end(), block) ==
                       m_pending_bitmaps.end()) {
                // A live bitmap may only claim sectors whose data is durable:
                // written now, a host crash could keep the bit and lose the
                // data, and the sector would read as neither old nor new.
                m_pending_bitmaps.push_back(block);
            }
        }
    }
    if (m_pending_bat.size() + m_pending_bitmaps.size() >= MAX_PENDING_METADATA) TRY(commit_metadata());
    return {};
}

bool VhdImage::bat_pending(std::uint32_t block) const {
    return std::find(m_pending_bat.begin(), m_pending_bat.end(), block) != m_pending_bat.end();
}

Result<void, StorageError> VhdImage::allocate_block(std::uint32_t block, std::uint32_t first_in_block,
                                                    std::span<std::byte const> data) {
    std::uint64_t const old_end = m_data_end; // the trailing footer's place
    std::uint64_t const start = vhd::aligned_block_start(old_end, m_header);
    std::uint64_t const data_start = start + vhd::bitmap_bytes(m_header);
    std::uint64_t const new_end = data_start + m_header.block_size;
    if (new_end / SECTOR_SIZE > vhd::UNUSED_BAT_ENTRY - 1)
        return storage_error(StorageErrorKind::TooLarge, "'" + path() + "' cannot grow past 2 TiB");

    // 1. The footer at the new end: the file reaches its full length in one
    // call, its tail is a footer whenever this process dies, and the rest of
    // the block is a hole that reads as zeros. From here on the space is
    // ours even if a later step fails (it stays unreferenced).
    TRY(m_file.write_at(new_end, vhd::serialize_footer(m_footer)));
    m_data_end = new_end;
    // 2. The data.
    TRY(m_file.write_at(data_start + std::uint64_t(first_in_block) * SECTOR_SIZE, data));
    // 3. The bitmap, and zeros over the old footer and the alignment gap in
    // the same write. Dynamic: all sectors valid (the block is zeros
    // elsewhere), as QEMU and Hyper-V do, so every reader agrees;
    // differencing: only the ones just written.
    std::vector<std::uint8_t> bits(vhd::bitmap_bytes(m_header), 0);
    if (m_footer.disk_type == vhd::DiskType::Dynamic) {
        std::fill(bits.begin(), bits.end(), 0xFF);
    } else {
        for (std::uint64_t i = 0; i < data.size() / SECTOR_SIZE; ++i)
            set_bit(bits, first_in_block + i);
    }
    std::vector<std::byte> head(std::size_t(data_start - old_end), std::byte{0});
    std::memcpy(head.data() + (start - old_end), bits.data(), bits.size());
    TRY(m_file.write_at(old_end, head));
    // 4. The BAT entry, in memory until commit_metadata().
    m_bat[block] = std::uint32_t(start / SECTOR_SIZE);
    m_bitmaps[block] = std::move(bits);
    m_pending_bat.push_back(block);
    return {};
}

Result<void, StorageError> VhdImage::commit_metadata() {
    if (m_pending_bat.empty() && m_pending_bitmaps.empty()) return {};
    // New blocks' data and bitmaps, the file's new size, and the data under
    // changed bitmaps become durable before any metadata points at them.
    TRY(m_file.sync_data());
    for (std::uint32_t block : m_pending_bitmaps)
        TRY(m_file.write_at(std::uint64_t(m_bat[block]) * SECTOR_SIZE, as_bytes(m_bitmaps.at(block))));
    // The BAT in whole sectors from memory, neighbours merged into one write:
    // a sequential pass allocates runs of blocks, and 128 entries share a
    // sector. Entries in those sectors that were not pending equal what is
    // on disk already.
    constexpr std::uint32_t PER_SECTOR = SECTOR_SIZE / 4;
    std::sort(m_pending_bat.begin(), m_pending_bat.end());
    std::vector<std::byte> bytes;
    std::size_t i = 0;
    while (i < m_pending_bat.size()) {
        std::uint32_t const first = m_pending_bat[i] / PER_SECTOR * PER_SECTOR;
        std::uint32_t end = first;
        while (i < m_pending_bat.size() && m_pending_bat[i] < end + PER_SECTOR) {
            end = m_pending_bat[i] / PER_SECTOR * PER_SECTOR + PER_SECTOR;
            ++i;
        }
        end = std::min<std::uint32_t>(end, std::uint32_t(m_bat.size()));
        bytes.resize(std::size_t(end - first) * 4);
        for (std::uint32_t entry = first; entry < end; ++entry)
            vhd::store_be32(bytes.data() + std::size_t(entry - first) * 4, m_bat[entry]);
        TRY(m_file.write_at(m_header.table_offset + std::uint64_t(first) * 4, bytes));
    }
    m_pending_bat.clear();
    m_pending_bitmaps.clear();
    return {};
}

Result<void, StorageError> VhdImage::flush() {
    if (m_read_only) return {};
    TRY(commit_metadata());
    return m_file.sync();
}

VhdInfo VhdImage::info() const {
    VhdInfo info;
    info.type = m_footer.disk_type;
    info.virtual_size = m_footer.current_size;
    info.file_size = m_file.size().value_or(0);
    info.host_allocated_bytes = m_file.allocated_bytes().value_or(0);
    info.geometry = m_footer.geometry;
    info.unique_id = m_footer.unique_id;
    info.creator.assign(m_footer.creator_application.begin(), m_footer.creator_application.end());
    info.timestamp = m_footer.timestamp;
    info.footer_recovered = m_footer_recovered;
    if (m_footer.disk_type == vhd::DiskType::Fixed) return info;
    info.block_size = m_header.block_size;
    info.total_blocks = m_header.max_table_entries;
    info.allocated_blocks = std::uint32_t(
        std::count_if(m_bat.begin(), m_bat.end(), [](auto e) { return e != vhd::UNUSED_BAT_ENTRY; }));
    if (m_footer.disk_type != vhd::DiskType::Differencing) return info;
    info.parent_unique_id = m_header.parent_unique_id;
    if (m_parent) info.parent_path = m_parent->path();
    for (auto const& locator : m_header.parent_locators) {
        if (locator.platform_code == vhd::PLATFORM_NONE) continue;
        std::string text = platform_name(locator.platform_code) + ": ";
        std::vector<std::byte> data(locator.platform_data_length);
        if (m_file.read_at(locator.platform_data_offset, data).has_value() &&
            (locator.platform_code == vhd::PLATFORM_W2KU || locator.platform_code == vhd::PLATFORM_W2RU))
            text += vhd::utf16le_to_utf8(data);
        info.parent_locators.push_back(text);
    }
    return info;
}

void VhdImage::check(std::vector<std::string>& problems) const {
    if (m_footer_recovered)
        problems.push_back("'" + path() +
                           "': the footer at the end of the file is damaged; the copy at "
                           "offset 0 was used (opening the disk for writing repairs it)");
    if (m_footer.disk_type == vhd::DiskType::Fixed) return;
    vhd::FooterBytes copy{};
    if (m_file.read_at(0, copy).is_error() || vhd::parse_footer(copy).is_error())
        problems.push_back("'" + path() + "': the footer copy at offset 0 is damaged");
    else if (copy != vhd::serialize_footer(m_footer))
        problems.push_back("'" + path() + "': the footer copy at offset 0 differs from the footer");
    auto const all = vhd::find_bat_problems(m_bat, m_header, m_metadata, m_data_end, 1000);
    for (auto const& problem : all)
        problems.push_back("'" + path() + "': " + problem);
    std::vector<std::byte> bits(vhd::bitmap_bytes(m_header));
    for (std::uint32_t i = 0; i < m_bat.size(); ++i) {
        if (m_bat[i] == vhd::UNUSED_BAT_ENTRY) continue;
        if (m_file.read_at(std::uint64_t(m_bat[i]) * SECTOR_SIZE, bits).is_error())
            problems.push_back("'" + path() + "': the sector bitmap of block " + std::to_string(i) +
                               " cannot be read");
    }
    if (m_parent) {
        // The child records its parent's modification time when it is made
        // (VHD spec, "Parent Time Stamp"). A parent written since then, by a
        // sibling's merge or a VM that booted it directly, no longer holds
        // the data the child's unwritten sectors stand for.
        struct stat st {};
        if (::stat(m_parent->path().c_str(), &st) == 0) {
            std::uint32_t const now =
                vhd::to_vhd_timestamp(std::chrono::system_clock::from_time_t(st.st_mtime));
            if (now != m_header.parent_timestamp)
                problems.push_back("'" + path() + "': its parent '" + m_parent->path() +
                                   "' was modified after this differencing disk was made; sectors the "
                                   "child never wrote may now read different data");
        }
        m_parent->check(problems);
    }
}

Result<void, StorageError> VhdImage::create_fixed(std::string const& path, std::uint64_t size_bytes,
                                                  Progress const& progress) {
    TRY(validate_create_size(size_bytes));
    vhd::Footer const footer = new_footer(vhd::DiskType::Fixed, size_bytes);
    // A fixed disk promises its guest the whole size: refuse up front when
    // the volume cannot hold it, and reserve the blocks (fast, no zeros
    // written) so a guest write never meets ENOSPC later. Virtual Server
    // wrote all the zeros out instead.
    TRY(require_free_space(path, size_bytes + SECTOR_SIZE));
    return create_file(path, [&](HostFile& file) -> Result<void, StorageError> {
        TRY(file.truncate(size_bytes));
        // Reserved a piece at a time: on a slow volume a 2 TB reservation
        // takes long enough that IVMTask must show progress and be able to
        // stop it (create_file then removes the partial file).
        std::uint32_t last = 0;
        auto report = [&](std::uint32_t percent) {
            if (!progress.report || (percent <= last && last != 0)) return true;
            last = percent;
            return progress.report(percent);
        };
        if (!report(0))
            return storage_error(StorageErrorKind::Cancelled, "creating '" + path + "' was cancelled");
        for (std::uint64_t from = 0; from < size_bytes;) {
            std::uint64_t const to = std::min(size_bytes, from + FIXED_RESERVE_PIECE);
            if (auto reserved = file.preallocate(to, from); reserved.is_error()) {
                if (reserved.error().kind != StorageErrorKind::Unsupported) return reserved.release_error();
                break; // the file stays sparse, as documented for preallocate
            }
            from = to;
            if (!report(std::uint32_t(std::min<std::uint64_t>(99, from * 100 / size_bytes))))
                return storage_error(StorageErrorKind::Cancelled, "creating '" + path + "' was cancelled");
        }
        TRY(file.write_at(size_bytes, vhd::serialize_footer(footer)));
        if (!report(100))
            return storage_error(StorageErrorKind::Cancelled, "creating '" + path + "' was cancelled");
        return {};
    });
}

Result<void, StorageError> VhdImage::create_dynamic(std::string const& path, std::uint64_t size_bytes,
                                                    std::uint32_t block_size) {
    TRY(validate_create_size(size_bytes));
    if (block_size < vhd::MIN_BLOCK_SIZE || block_size > vhd::MAX_BLOCK_SIZE ||
        (block_size & (block_size - 1)))
        return storage_error(StorageErrorKind::InvalidRequest,
                             "block size " + std::to_string(block_size) +
                                 " is not a power of two in 4 KiB..256 MiB");
    vhd::Footer const footer = new_footer(vhd::DiskType::Dynamic, size_bytes);
    vhd::DynamicHeader header;
    header.table_offset = footer.data_offset + vhd::DYNAMIC_HEADER_SIZE;
    header.block_size = block_size;
    header.max_table_entries = std::uint32_t((size_bytes + block_size - 1) / block_size);
    std::uint64_t const data_start = header.table_offset + vhd::bat_bytes(header);
    return create_file(
        path, [&](HostFile& file) { return write_dynamic_layout(file, footer, header, {}, data_start); });
}

Result<void, StorageError> VhdImage::create_differencing(std::string const& path,
                                                         std::string const& parent_path) {
    auto parent = TRY(VhdImage::open(parent_path, true));
    std::error_code error;
    fs::path const parent_abs = fs::canonical(parent_path, error);
    if (error) return storage_error(StorageErrorKind::NotFound, "cannot resolve '" + parent_path + "'");
    fs::path const child_dir = fs::absolute(fs::path(path), error).parent_path().lexically_normal();
    if (error) return storage_error(StorageErrorKind::InvalidRequest, "cannot resolve '" + path + "'");
    fs::path relative = parent_abs.lexically_relative(child_dir);
    if (relative.empty()) relative = parent_abs;

    vhd::Footer footer = new_footer(vhd::DiskType::Differencing, parent->footer().current_size);
    footer.original_size = parent->footer().original_size;
    footer.geometry = parent->footer().geometry;
    vhd::DynamicHeader header;
    header.table_offset = footer.data_offset + vhd::DYNAMIC_HEADER_SIZE;
    header.block_size = parent->type() == vhd::DiskType::Fixed ? vhd::DEFAULT_BLOCK_SIZE
                                                               : parent->dynamic_header().block_size;
    header.max_table_entries =
        std::uint32_t((footer.current_size + header.block_size - 1) / header.block_size);
    header.parent_unique_id = parent->footer().unique_id;
    struct stat st {};
    if (::stat(parent_abs.c_str(), &st) == 0)
        header.parent_timestamp = vhd::to_vhd_timestamp(std::chrono::system_clock::from_time_t(st.st_mtime));
    header.parent_unicode_name = vhd::utf8_to_utf16(parent_abs.filename().string());

    std::vector<std::pair<vhd::ParentLocator, std::vector<std::byte>>> locators;
    std::uint64_t offset = header.table_offset + vhd::bat_bytes(header);
    auto add_locator = [&](std::uint32_t code, std::string const& text) {
        std::vector<std::byte> data = vhd::utf8_to_utf16le(text);
        vhd::ParentLocator locator;
        locator.platform_code = code;
        locator.platform_data_length = std::uint32_t(data.size());
        // Sectors, as the specification says (see locator_space_bytes).
        locator.platform_data_space = std::uint32_t((data.size() + SECTOR_SIZE - 1) / SECTOR_SIZE);
        locator.platform_data_offset = offset;
        offset += std::uint64_t(locator.platform_data_space) * SECTOR_SIZE;
        header.parent_locators[locators.size()] = locator;
        locators.emplace_back(locator, std::move(data));
    };
    add_locator(vhd::PLATFORM_W2KU, parent_abs.string());
    std::string relative_text = relative.string();
    if (relative.is_relative() && !relative_text.starts_with("..")) relative_text = "./" + relative_text;
    add_locator(vhd::PLATFORM_W2RU, to_windows_path(relative_text));
    for (auto const& [locator, data] : locators)
        if (data.size() > vhd::MAX_LOCATOR_BYTES)
            return storage_error(StorageErrorKind::InvalidRequest, "the parent path is too long");
    parent.reset(); // drop our shared lock before the child takes the chain
    return create_file(
        path, [&](HostFile& file) { return write_dynamic_layout(file, footer, header, locators, offset); });
}

StorageResult<VhdInfo> inspect_vhd(std::string const& path) {
    auto image = VhdImage::open(path, true);
    if (image.is_error() && image.error().kind == StorageErrorKind::Locked) {
        // A running VM writes it: describe it all the same, unlocked. The
        // footer, header and parent do not change while a VM runs; the BAT
        // read may miss blocks the worker has not committed yet, so the size
        // on the host can lag a little.
        image = VhdImage::open_to_inspect(path);
    }
    return TRY(std::move(image))->info();
}

StorageResult<std::vector<std::string>> check_vhd(std::string const& path) {
    std::vector<std::string> problems;
    auto image = VhdImage::open(path, true);
    if (image.is_error()) {
        StorageError error = image.release_error();
        switch (error.kind) {
        case StorageErrorKind::NotFound:
        case StorageErrorKind::Io:
        case StorageErrorKind::Locked:
        case StorageErrorKind::InvalidRequest:
            return error;
        default:
            problems.push_back(error.message);
            return problems;
        }
    }
    image.value()->check(problems);
    return problems;
}

} // namespace vsa::storage
