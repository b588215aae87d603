// SPDX-License-Identifier: GPL-2.0-or-later
// Whole-disk operations on VHDs, as IVMHardDisk and IVMVirtualMachine expose
// them: Compact, Convert, Merge, MergeTo and the undo disks (.vud) behind
// MergeUndoDisks/DiscardUndoDisks.
//
// Every operation walks the disk one block (2 MB by default) at a time and
// tells the caller through Progress; the callback returning false cancels.
// What a cancel (or any failure) leaves behind:
//   compact, convert, merge_to: the source as it was and no output file (the
//     new image is written beside it and only renamed into place at the end).
//   merge: the child as it was; the parent holds the sectors merged so far.
//     Merging again finishes the job, because the child still holds them all.
// Output images are written sequentially without holes between blocks; zero
// blocks are left out of dynamic images and are sparse holes in fixed ones.
#pragma once

#include "services/storage/progress.h"
#include "services/storage/storage_error.h"
#include "services/storage/vhd_format.h"

#include <cstdint>
#include <string>

namespace vsa::storage {

// Drops the blocks of a dynamic VHD whose data is all zeros and rewrites the
// file without gaps. The disk keeps its UUID, so differencing children made
// from it still open. Fixed and differencing disks: WrongType.
Result<void, StorageError> compact(std::string const& path, Progress const& progress = {});

// A new fixed or dynamic disk with the contents of `source`; a differencing
// source is read through its chain, so the result stands alone. The
// destination must not exist. target_type: Fixed or Dynamic.
Result<void, StorageError> convert(std::string const& source, std::string const& destination,
                                   vhd::DiskType target_type, Progress const& progress = {});

// The same from a raw disk image (as `dd` or an image builder writes it),
// at most a VHD's 2040 GiB; a partial last sector reads as zeros. The geometry is the VHD specification's CHS
// for that size. All-zero blocks are left out of a dynamic disk.
Result<void, StorageError> convert_raw(std::string const& source, std::string const& destination,
                                       vhd::DiskType target_type, Progress const& progress = {});

// Writes every sector the differencing `child` holds into its parent and
// flushes the parent. The child is left in place; the caller deletes it.
Result<void, StorageError> merge(std::string const& child, Progress const& progress = {});

// The child and its chain flattened into a new disk (convert, but the source
// must be a differencing disk).
Result<void, StorageError> merge_to(std::string const& child, std::string const& destination,
                                    vhd::DiskType target_type, Progress const& progress = {});

// Undo disks: a differencing child of the VM's disk, "<dir>/<stem>.vud".
std::string undo_disk_path(std::string const& base);
// Creates the undo disk of `base` and returns its path.
StorageResult<std::string> create_undo_disk(std::string const& base);
// Merges the undo disk into its base, then deletes it.
Result<void, StorageError> commit_undo_disk(std::string const& vud, Progress const& progress = {});
// Deletes the undo disk. Refused (WrongType) unless it is a differencing VHD
// whose parent is the base it is named after.
Result<void, StorageError> discard_undo_disk(std::string const& vud);

} // namespace vsa::storage
