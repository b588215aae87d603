// SPDX-License-Identifier: GPL-2.0-or-later
// VhdImage: a fixed, dynamic or differencing VHD as a BlockDevice.
//
// Layouts (Virtual Hard Disk Image Format Specification):
//   fixed:        [data ........][footer]
//   dynamic/diff: [footer copy][header][BAT][locators][gap][block: bitmap|data]...[footer]
// A block we allocate starts its data on a 4 KiB boundary of the file (the
// gap before its bitmap is under 4 KiB; see vhd::aligned_block_start).
// Dynamic blocks are allocated on first write at the end of the file, and
// the order of the writes is what makes a crash (of the process or of the
// host) harmless. The rule: the BAT on disk never points at a block whose
// bitmap and data are not durable, and a bitmap on disk never claims a
// sector whose data is not durable. Allocating block B:
//   1. the footer at the new end of the file (the file grows to its full
//      length at once, so its last 512 bytes are always one of our footers,
//      never guest data a crash left there);
//   2. the guest's data; 3. B's sector bitmap, in one write with zeros over
//      the old footer and the gap;
//   4. B's BAT entry in memory only: reads and writes use it at once.
// Bitmap changes of blocks already on disk (differencing disks) are also
// held in memory. Pending entries are committed by flush(), or once
// MAX_PENDING_METADATA of them have piled up (a guest that never flushes
// must not keep the whole session's writes unreachable): one fdatasync
// makes every pending block's data, bitmap and the file size durable, then
// the pending bitmaps and BAT sectors are written, and flush() ends with
// fsync. So a flush that allocated costs two syncs, not one per block (a
// sync per block held a dynamic disk's sequential writes to 66 % of a raw
// file's speed).
// A crash loses only writes no flush() acknowledged; new blocks whose BAT
// entries were still in memory stay behind as unreferenced space at the
// end, which a read-write open trims. A host crash that keeps a bitmap
// written over the old footer but loses the file's new length leaves no
// footer at the end: open() then uses the footer copy at offset 0 (as
// Hyper-V does) and, when writable, rewrites the footer after the last
// block. Between flushes a guest's writes have no ordering promise among
// themselves, as with a real disk's write cache.
//
// In dynamic disks we set every bitmap bit when we allocate a block and
// zero its data (a sparse hole), as QEMU and Hyper-V do, so every reader
// agrees whether it honours the bitmap or not. Reads honour it anyway: a bit
// of 0 reads zeros (dynamic) or falls through to the parent (differencing).
//
// Differencing: the parent is found through the header's locators, W2ku
// (absolute) then W2ru (relative to the child's directory), then the
// parent's Unicode file name next to the child, and it must carry the UUID
// recorded in the child. Chains deeper than 16 and loops are refused. Parents
// are opened read-only with a shared lock, so nobody writes under a child.
//
// Not implemented: the 511-byte footers of pre-2004 Virtual PC, Mac locators
// (Mac/MacX), Windows drive-letter paths in W2ku (they cannot resolve here;
// the W2ru and name fallbacks usually do) and resizing. Compaction, conversion
// and merging are in vhd_operations.
#pragma once

#include "services/storage/block_device.h"
#include "services/storage/host_file.h"
#include "services/storage/progress.h"
#include "services/storage/vhd_format.h"

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace vsa::storage {

inline constexpr int MAX_PARENT_DEPTH = 16;
// Pending metadata entries (new blocks, changed bitmaps) that trigger a
// commit without a flush(): with 2 MiB blocks, up to 64 MiB of new blocks,
// the order of a real disk's write cache.
inline constexpr std::size_t MAX_PENDING_METADATA = 32;
// How much of a new fixed disk one fallocate() call reserves.
inline constexpr std::uint64_t FIXED_RESERVE_PIECE = 64ull << 20;

struct VhdInfo {
    vhd::DiskType type{vhd::DiskType::None};
    std::uint64_t virtual_size{0};
    std::uint64_t file_size{0};
    std::uint64_t host_allocated_bytes{0}; // what the sparse file really uses
    vhd::Geometry geometry{};
    vhd::Uuid unique_id{};
    std::string creator; // creator application, 4 characters
    std::uint32_t timestamp{0};
    std::uint32_t block_size{0};              // dynamic/differencing only
    std::uint32_t allocated_blocks{0};        // dynamic/differencing only
    std::uint32_t total_blocks{0};            // dynamic/differencing only
    std::string parent_path;                  // the parent actually opened
    std::vector<std::string> parent_locators; // "W2ku: /path", as recorded
    vhd::Uuid parent_unique_id{};
    bool footer_recovered{false}; // the trailing footer was bad; the copy at 0 was used
};

class VhdImage final : public BlockDevice {
public:
    static StorageResult<std::unique_ptr<VhdImage>> open(std::string const& path, bool read_only);
    // Read-only without a lock (HostFile::Mode::Inspect): only to describe
    // an image a running VM holds open for writing (inspect_vhd).
    static StorageResult<std::unique_ptr<VhdImage>> open_to_inspect(std::string const& path);

    // size_bytes: a multiple of 512, between 3 MB and 2,088,960 MB. A fixed
    // disk reserves its space FIXED_RESERVE_PIECE at a time, reporting
    // progress after each piece; a cancel removes the partial file.
    static Result<void, StorageError> create_fixed(std::string const& path, std::uint64_t size_bytes,
                                                   Progress const& progress = {});
    static Result<void, StorageError> create_dynamic(std::string const& path, std::uint64_t size_bytes,
                                                     std::uint32_t block_size = vhd::DEFAULT_BLOCK_SIZE);
    // The child takes the parent's size and geometry; the parent must open.
    static Result<void, StorageError> create_differencing(std::string const& path,
                                                          std::string const& parent_path);

    ~VhdImage() override;

    std::uint64_t sector_count() const override { return m_footer.current_size / vhd::SECTOR_SIZE; }
    std::uint32_t sector_size() const override { return vhd::SECTOR_SIZE; }
    bool read_only() const override { return m_read_only; }
    Result<void, StorageError> read(std::uint64_t first_sector, std::span<std::byte> out) override;
    Result<void, StorageError> write(std::uint64_t first_sector, std::span<std::byte const> data) override;
    Result<void, StorageError> flush() override;

    vhd::DiskType type() const { return m_footer.disk_type; }
    vhd::Footer const& footer() const { return m_footer; }
    vhd::DynamicHeader const& dynamic_header() const { return m_header; }
    std::string const& path() const { return m_file.path(); }
    VhdImage const* parent() const { return m_parent.get(); }
    VhdInfo info() const;

    // For vhd_operations (compact, merge): the BAT's length and one block's
    // sector bitmap, empty when the block is not allocated.
    std::uint32_t block_count() const { return std::uint32_t(m_bat.size()); }
    StorageResult<std::vector<std::uint8_t>> block_bitmap(std::uint32_t block);
    // Merging writes into the parent, which our shared lock on it forbids;
    // after this, sectors this image does not hold read as zeros.
    std::unique_ptr<VhdImage> detach_parent() { return std::move(m_parent); }

    // Deeper checks than open() makes: every allocated block's bitmap is
    // readable, the footer copy matches, the locators decode. Problems are
    // appended as sentences.
    void check(std::vector<std::string>& problems) const;

private:
    struct ChainEntry {
        std::uint64_t device;
        std::uint64_t inode;
    };
    VhdImage() = default;
    static StorageResult<std::unique_ptr<VhdImage>>
    open_in_chain(std::string const& path, HostFile::Mode mode, std::vector<ChainEntry>& chain);
    Result<void, StorageError> load_dynamic(std::uint64_t file_size);
    Result<void, StorageError> open_parent(std::vector<ChainEntry>& chain);
    std::vector<std::pair<std::string, std::string>> parent_candidates() const;

    Result<void, StorageError> read_sectors(std::uint64_t sector, std::span<std::byte> out);
    Result<void, StorageError> read_unallocated(std::uint64_t sector, std::span<std::byte> out);
    StorageResult<std::vector<std::uint8_t>*> bitmap(std::uint32_t block);
    Result<void, StorageError> write_block_chunk(std::uint32_t block, std::uint32_t first_in_block,
                                                 std::span<std::byte const> data);
    Result<void, StorageError> allocate_block(std::uint32_t block, std::uint32_t first_in_block,
                                              std::span<std::byte const> data);
    // Writes the pending BAT entries and bitmaps after one data sync; no
    // sync after them (flush() adds it).
    Result<void, StorageError> commit_metadata();
    bool bat_pending(std::uint32_t block) const;
    std::uint64_t block_data_offset(std::uint32_t bat_entry) const;

    HostFile m_file;
    bool m_read_only{true};
    bool m_inspecting{false}; // opened without a lock (inspect_vhd); so are its parents
    bool m_footer_recovered{false};
    vhd::Footer m_footer;
    vhd::DynamicHeader m_header;
    std::vector<vhd::Extent> m_metadata;
    std::vector<std::uint32_t> m_bat;
    std::uint64_t m_data_end{0}; // where the trailing footer starts
    // Metadata held in memory until commit_metadata(): blocks allocated
    // since (their BAT entries), and blocks already on disk whose bitmap
    // changed since. Each holds at most MAX_PENDING_METADATA entries in all.
    std::vector<std::uint32_t> m_pending_bat;
    std::vector<std::uint32_t> m_pending_bitmaps;
    std::unordered_map<std::uint32_t, std::vector<std::uint8_t>> m_bitmaps; // cache, by block
    std::unique_ptr<VhdImage> m_parent;
};

// Opens read-only and describes the image (vsa-vhd info).
StorageResult<VhdInfo> inspect_vhd(std::string const& path);

// vsa-vhd check: every problem found, without stopping at the first.
// Returns an error only when the file cannot be read at all.
StorageResult<std::vector<std::string>> check_vhd(std::string const& path);

} // namespace vsa::storage
