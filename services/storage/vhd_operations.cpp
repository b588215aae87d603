// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/storage/vhd_operations.h"

#include "services/storage/host_file.h"
#include "services/storage/raw_image.h"
#include "services/storage/vhd_image.h"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace vsa::storage {

namespace fs = std::filesystem;
using vhd::SECTOR_SIZE;

namespace {

StorageError cancelled(std::string const& what) {
    return storage_error(StorageErrorKind::Cancelled, what + " was cancelled");
}

bool all_zero(std::span<std::byte const> data) {
    return std::all_of(data.begin(), data.end(), [](std::byte b) { return b == std::byte{0}; });
}

bool bit_set(std::vector<std::uint8_t> const& bitmap, std::uint64_t index) {
    // Sector 0 of the block is the most significant bit of byte 0.
    return (bitmap[index / 8] >> (7 - index % 8)) & 1;
}

// Turns units of work into whole percentages, so the callback sees each
// percentage once, in order, however many blocks the disk has.
class ProgressMeter {
public:
    ProgressMeter(Progress const& progress, std::uint64_t total) : m_progress(progress), m_total(total) {}

    // False when the caller cancelled.
    bool update(std::uint64_t done) {
        if (!m_progress.report) return true;
        std::uint32_t const percent =
            m_total == 0 ? 100 : std::uint32_t(std::min(done, m_total) * 100 / m_total);
        if (m_reported && percent <= m_last) return true;
        m_reported = true;
        m_last = percent;
        return m_progress.report(percent);
    }
    bool finish() { return update(m_total == 0 ? 1 : m_total); }

private:
    Progress const& m_progress;
    std::uint64_t m_total;
    std::uint32_t m_last{0};
    bool m_reported{false};
};

bool exists(std::string const& path) {
    std::error_code error;
    return fs::symlink_status(path, error).type() != fs::file_type::not_found;
}

Result<void, StorageError> sync_directory_of(std::string const& path) {
    std::string dir = fs::path(path).parent_path().string();
    if (dir.empty()) dir = ".";
    int const fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_error("cannot open directory", dir, errno);
    int const rc = ::fsync(fd);
    int const saved = errno;
    ::close(fd);
    if (rc != 0) return errno_error("cannot sync directory", dir, saved);
    return {};
}

// A new fixed or dynamic image written front to back. Until keep() the file
// is only an attempt: destroying the writer removes it, so every failure
// and cancel path cleans up without saying so.
class ImageWriter {
public:
    ImageWriter(ImageWriter const&) = delete;
    ImageWriter& operator=(ImageWriter const&) = delete;
    ~ImageWriter() {
        if (m_file.is_open() && !m_kept) ::unlink(m_path.c_str());
    }

    // footer.disk_type (Fixed or Dynamic), sizes, geometry and UUID are
    // taken as given; block_size matters for Dynamic only.
    static StorageResult<std::unique_ptr<ImageWriter>> create(std::string const& path, vhd::Footer footer,
                                                              std::uint32_t block_size) {
        std::unique_ptr<ImageWriter> writer(new ImageWriter);
        writer->m_path = path;
        writer->m_file = TRY(HostFile::open(path, HostFile::Mode::CreateNew));
        if (footer.disk_type == vhd::DiskType::Fixed) {
            footer.data_offset = vhd::NO_DATA_OFFSET;
            writer->m_footer = footer;
            // As VhdImage::create_fixed: the full size is reserved, so the
            // operation fails now rather than a guest write later.
            TRY(require_free_space(path, footer.current_size + SECTOR_SIZE));
            TRY(writer->m_file.truncate(footer.current_size));
            if (auto reserved = writer->m_file.preallocate(footer.current_size);
                reserved.is_error() && reserved.error().kind != StorageErrorKind::Unsupported)
                return reserved.release_error();
            return writer;
        }
        footer.disk_type = vhd::DiskType::Dynamic;
        footer.data_offset = SECTOR_SIZE;
        writer->m_footer = footer;
        vhd::DynamicHeader& header = writer->m_header;
        header.table_offset = footer.data_offset + vhd::DYNAMIC_HEADER_SIZE;
        header.block_size = block_size;
        header.max_table_entries = std::uint32_t((footer.current_size + block_size - 1) / block_size);
        writer->m_bat.assign(header.max_table_entries, vhd::UNUSED_BAT_ENTRY);
        writer->m_next = header.table_offset + vhd::bat_bytes(header);
        writer->m_bitmap.assign(vhd::bitmap_bytes(header), std::byte{0xFF});
        return writer;
    }

    // `data` starts at a block boundary (Dynamic) and lies inside the disk.
    Result<void, StorageError> write(std::uint64_t first_sector, std::span<std::byte const> data) {
        if (m_footer.disk_type == vhd::DiskType::Fixed)
            return m_file.write_at(first_sector * SECTOR_SIZE, data);
        std::uint32_t const per_block = vhd::sectors_per_block(m_header);
        std::uint64_t const block = first_sector / per_block;
        if (first_sector % per_block != 0 || block >= m_bat.size() || data.size() > m_header.block_size)
            return storage_error(StorageErrorKind::InvalidRequest, "unaligned block write");
        // Every sector valid: the part of the block we do not write is zeros.
        // The data 4 KiB aligned, as VhdImage allocates (aligned_block_start);
        // the gap before it is a hole.
        std::uint64_t const start = vhd::aligned_block_start(m_next, m_header);
        if (start / SECTOR_SIZE >= vhd::UNUSED_BAT_ENTRY)
            return storage_error(StorageErrorKind::TooLarge, "'" + m_path + "' cannot grow past 2 TiB");
        TRY(m_file.write_at(start, m_bitmap));
        std::uint64_t const data_start = start + m_bitmap.size();
        TRY(m_file.write_at(data_start, data));
        if (data.size() < m_header.block_size) {
            std::vector<std::byte> const tail(m_header.block_size - data.size());
            TRY(m_file.write_at(data_start + data.size(), tail));
        }
        m_bat[block] = std::uint32_t(start / SECTOR_SIZE);
        m_next = data_start + m_header.block_size;
        return {};
    }

    // The metadata, then fsync. The file is complete but still removed on
    // destruction unless kept.
    Result<void, StorageError> finish() {
        vhd::FooterBytes const footer = vhd::serialize_footer(m_footer);
        if (m_footer.disk_type == vhd::DiskType::Fixed) {
            TRY(m_file.write_at(m_footer.current_size, footer));
            return m_file.sync();
        }
        TRY(m_file.write_at(0, footer));
        TRY(m_file.write_at(m_footer.data_offset, vhd::serialize_dynamic_header(m_header)));
        std::vector<std::byte> bat(vhd::bat_bytes(m_header), std::byte{0xFF});
        for (std::size_t i = 0; i < m_bat.size(); ++i)
            vhd::store_be32(bat.data() + i * 4, m_bat[i]);
        TRY(m_file.write_at(m_header.table_offset, bat));
        TRY(m_file.write_at(m_next, footer));
        return m_file.sync();
    }

    void keep() { m_kept = true; }

private:
    ImageWriter() = default;

    HostFile m_file;
    std::string m_path;
    bool m_kept{false};
    vhd::Footer m_footer;
    vhd::DynamicHeader m_header;
    std::vector<std::uint32_t> m_bat;
    std::vector<std::byte> m_bitmap;
    std::uint64_t m_next{0};
};

// The unit of work: one block of the source (the default block size for
// fixed sources), which is also the output's block size.
std::uint32_t work_block_size(VhdImage const& image) {
    return image.type() == vhd::DiskType::Fixed ? vhd::DEFAULT_BLOCK_SIZE : image.dynamic_header().block_size;
}

// The sizes and geometry of the new disk: the source's (the guest keeps its
// CHS view), type and UUID its own.
struct CopyShape {
    std::uint64_t original_size{0};
    std::uint64_t current_size{0};
    vhd::Geometry geometry{};
    std::uint32_t block_size{0};
    std::string source_path;
};

Result<void, StorageError> copy_contents(BlockDevice& source, CopyShape const& shape,
                                         std::string const& destination, vhd::DiskType target_type,
                                         Progress const& progress) {
    if (target_type != vhd::DiskType::Fixed && target_type != vhd::DiskType::Dynamic)
        return storage_error(StorageErrorKind::InvalidRequest, "the target must be a fixed or dynamic disk");
    if (exists(destination))
        return storage_error(StorageErrorKind::InvalidRequest, "'" + destination + "' already exists");

    vhd::Footer footer;
    footer.disk_type = target_type;
    footer.timestamp = vhd::to_vhd_timestamp(std::chrono::system_clock::now());
    footer.original_size = shape.original_size;
    footer.current_size = shape.current_size;
    footer.geometry = shape.geometry;
    footer.unique_id = vhd::random_uuid();
    std::uint32_t const block_size = shape.block_size;
    auto writer = TRY(ImageWriter::create(destination, footer, block_size));

    std::uint64_t const per_chunk = block_size / SECTOR_SIZE;
    std::uint64_t const total = source.sector_count();
    std::uint64_t const chunks = (total + per_chunk - 1) / per_chunk;
    std::vector<std::byte> buffer(block_size);
    ProgressMeter meter(progress, chunks);
    if (!meter.update(0)) return cancelled("converting '" + shape.source_path + "'");
    for (std::uint64_t chunk = 0; chunk < chunks; ++chunk) {
        std::uint64_t const first = chunk * per_chunk;
        std::span<std::byte> data = std::span(buffer).first(std::min(per_chunk, total - first) * SECTOR_SIZE);
        TRY(source.read(first, data));
        if (!all_zero(data)) TRY(writer->write(first, data));
        if (!meter.update(chunk + 1)) return cancelled("converting '" + shape.source_path + "'");
    }
    TRY(writer->finish());
    if (!meter.finish()) return cancelled("converting '" + shape.source_path + "'");
    writer->keep();
    return sync_directory_of(destination);
}

CopyShape vhd_shape(VhdImage& image) {
    return {image.footer().original_size, image.footer().current_size, image.footer().geometry,
            work_block_size(image), image.path()};
}

// Opens `vud` and checks that it is the undo disk of its parent.
Result<void, StorageError> check_undo_disk(std::string const& vud) {
    auto image = TRY(VhdImage::open(vud, true));
    if (image->type() != vhd::DiskType::Differencing || image->parent() == nullptr)
        return storage_error(StorageErrorKind::WrongType, "'" + vud + "' is not a differencing disk");
    std::error_code error;
    if (fs::path(vud).extension() != ".vud" ||
        !fs::equivalent(undo_disk_path(image->parent()->path()), vud, error))
        return storage_error(StorageErrorKind::WrongType,
                             "'" + vud + "' is not the undo disk of '" + image->parent()->path() + "'");
    return {};
}

Result<void, StorageError> remove_file(std::string const& path) {
    if (::unlink(path.c_str()) != 0) return errno_error("cannot delete", path, errno);
    return sync_directory_of(path);
}

} // namespace

Result<void, StorageError> compact(std::string const& path, Progress const& progress) {
    // Writable, so the exclusive lock keeps every VM and tool off the disk
    // while we copy it; we never write through it.
    auto image = TRY(VhdImage::open(path, false));
    if (image->type() != vhd::DiskType::Dynamic)
        return storage_error(StorageErrorKind::WrongType,
                             "'" + path + "' is a " + std::string(vhd::disk_type_name(image->type())) +
                                 " disk; only dynamic disks can be compacted");
    std::string const temporary = path + ".tmp";
    // We hold the disk's exclusive lock, so a leftover is from a crash.
    ::unlink(temporary.c_str());
    // The same footer, UUID included: children made from this disk must
    // still find their parent in it.
    auto writer = TRY(ImageWriter::create(temporary, image->footer(), image->dynamic_header().block_size));

    std::uint32_t const block_size = image->dynamic_header().block_size;
    std::uint64_t const per_block = block_size / SECTOR_SIZE;
    std::uint64_t const total = image->sector_count();
    std::uint32_t const blocks = image->block_count();
    std::vector<std::byte> buffer(block_size);
    ProgressMeter meter(progress, blocks);
    if (!meter.update(0)) return cancelled("compacting '" + path + "'");
    for (std::uint32_t block = 0; block < blocks; ++block) {
        std::uint64_t const first = block * per_block;
        auto const bits = TRY(image->block_bitmap(block));
        if (!bits.empty() && first < total) {
            std::span<std::byte> data =
                std::span(buffer).first(std::min(per_block, total - first) * SECTOR_SIZE);
            TRY(image->read(first, data));
            if (!all_zero(data)) TRY(writer->write(first, data));
        }
        if (!meter.update(block + 1)) return cancelled("compacting '" + path + "'");
    }
    TRY(writer->finish());
    if (!meter.finish()) return cancelled("compacting '" + path + "'");
    if (::rename(temporary.c_str(), path.c_str()) != 0) return errno_error("cannot replace", path, errno);
    writer->keep();
    return sync_directory_of(path);
}

Result<void, StorageError> convert(std::string const& source, std::string const& destination,
                                   vhd::DiskType target_type, Progress const& progress) {
    auto image = TRY(VhdImage::open(source, true));
    return copy_contents(*image, vhd_shape(*image), destination, target_type, progress);
}

Result<void, StorageError> convert_raw(std::string const& source, std::string const& destination,
                                       vhd::DiskType target_type, Progress const& progress) {
    auto image = TRY(RawImage::open(source, true));
    std::uint64_t const bytes = image->sector_count() * SECTOR_SIZE;
    if (bytes == 0) return storage_error(StorageErrorKind::InvalidRequest, "'" + source + "' is empty");
    if (bytes > vhd::MAX_DISK_SIZE)
        return storage_error(StorageErrorKind::Unsupported,
                             "'" + source + "' is larger than a VHD can be (2040 GiB)");
    CopyShape shape{bytes, bytes, vhd::chs_geometry(image->sector_count()), vhd::DEFAULT_BLOCK_SIZE, source};
    return copy_contents(*image, shape, destination, target_type, progress);
}

Result<void, StorageError> merge_to(std::string const& child, std::string const& destination,
                                    vhd::DiskType target_type, Progress const& progress) {
    auto image = TRY(VhdImage::open(child, true));
    if (image->type() != vhd::DiskType::Differencing)
        return storage_error(StorageErrorKind::WrongType, "'" + child + "' is not a differencing disk");
    return copy_contents(*image, vhd_shape(*image), destination, target_type, progress);
}

Result<void, StorageError> merge(std::string const& child, Progress const& progress) {
    auto image = TRY(VhdImage::open(child, true));
    if (image->type() != vhd::DiskType::Differencing || image->parent() == nullptr)
        return storage_error(StorageErrorKind::WrongType, "'" + child + "' is not a differencing disk");
    std::string const parent_path = image->parent()->path();
    image->detach_parent().reset(); // drops our shared lock on the parent
    auto parent = TRY(VhdImage::open(parent_path, false));
    // It could have been replaced between the two opens.
    if (parent->footer().unique_id != image->dynamic_header().parent_unique_id)
        return storage_error(StorageErrorKind::ParentMismatch,
                             "'" + parent_path + "' is no longer the parent of '" + child + "'");
    if (parent->sector_count() < image->sector_count())
        return storage_error(StorageErrorKind::Unsupported,
                             "the parent '" + parent_path + "' is smaller than '" + child + "'");

    std::uint32_t const block_size = image->dynamic_header().block_size;
    std::uint64_t const per_block = block_size / SECTOR_SIZE;
    std::uint64_t const total = image->sector_count();
    std::uint32_t const blocks = image->block_count();
    std::vector<std::byte> buffer(block_size);
    ProgressMeter meter(progress, blocks);
    if (!meter.update(0)) return cancelled("merging '" + child + "'");
    for (std::uint32_t block = 0; block < blocks; ++block) {
        std::uint64_t const first = block * per_block;
        auto const bits = TRY(image->block_bitmap(block));
        if (!bits.empty() && first < total) {
            std::uint64_t const count = std::min(per_block, total - first);
            std::span<std::byte> data = std::span(buffer).first(count * SECTOR_SIZE);
            TRY(image->read(first, data));
            // Only the sectors the child holds: the rest of the parent is
            // not ours to overwrite, even with what reads the same.
            std::uint64_t i = 0;
            while (i < count) {
                if (!bit_set(bits, i)) {
                    ++i;
                    continue;
                }
                std::uint64_t j = i + 1;
                while (j < count && bit_set(bits, j))
                    ++j;
                TRY(parent->write(first + i, std::span<std::byte const>(data).subspan(
                                                 i * SECTOR_SIZE, (j - i) * SECTOR_SIZE)));
                i = j;
            }
        }
        if (!meter.update(block + 1)) {
            TRY(parent->flush());
            return cancelled("merging '" + child + "'");
        }
    }
    TRY(parent->flush());
    meter.finish(); // the parent already holds everything; too late to cancel
    return {};
}

std::string undo_disk_path(std::string const& base) {
    return fs::path(base).replace_extension(".vud").string();
}

StorageResult<std::string> create_undo_disk(std::string const& base) {
    std::string const vud = undo_disk_path(base);
    if (exists(vud)) return storage_error(StorageErrorKind::InvalidRequest, "'" + vud + "' already exists");
    TRY(VhdImage::create_differencing(vud, base));
    return vud;
}

Result<void, StorageError> commit_undo_disk(std::string const& vud, Progress const& progress) {
    TRY(check_undo_disk(vud));
    TRY(merge(vud, progress));
    return remove_file(vud);
}

Result<void, StorageError> discard_undo_disk(std::string const& vud) {
    TRY(check_undo_disk(vud));
    return remove_file(vud);
}

} // namespace vsa::storage
