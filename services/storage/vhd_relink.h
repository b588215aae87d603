// SPDX-License-Identifier: GPL-2.0-or-later
// Re-linking a differencing VHD to its parent at another path
// (IVMHardDisk.Parent's setter): the child's parent locators and its Parent
// Unicode Name are rewritten to name the new file; the data, the BAT, the
// footers and the Parent Unique ID stay as they are.
//
// What the child gets (Virtual Hard Disk Image Format Specification,
// "Parent Locator Entries"), as create_differencing writes them:
//   W2ku  the parent's canonical absolute path (UTF-16LE, POSIX separators:
//         our reader only resolves absolute POSIX paths from it);
//   W2ru  the parent relative to the child's folder, ".\"-prefixed with
//         Windows separators (UTF-16LE), or the absolute path when the two
//         share no folder;
//   Parent Unicode Name  the parent's file name (UTF-16BE).
// An existing W2ku/W2ru entry keeps its slot (duplicates of either are
// cleared, so no stale path is left to follow); a missing one takes a free
// slot. Other entries (Mac, the deprecated Wi2r/Wi2k) are left alone: we
// never follow them.
//
// Crash safety. The new locator text never overwrites the old: it goes into
// new sectors at the end of the file, which is the only place guaranteed
// not to be referenced by anything, and the header switches to it in one
// write. The steps:
//   1. a copy of the footer at the new end of the file (the file reaches its
//      new length in one call and always ends in a footer);
//   2. the locator text where the trailing footer was (unreferenced space
//      until step 4, like a block whose BAT entry is not written yet);
//   3. fdatasync: 1 and 2 are durable before anything points at them;
//   4. the 1024-byte dynamic header, in one write (name, locator entries and
//      checksum together);
//   5. fsync.
// A crash before 4 leaves the old child (plus unreferenced space after its
// data, which the next read-write open trims, or a lost trailing footer that
// the copy at offset 0 replaces, as after an interrupted block allocation);
// after 4 the new one. The header is two sectors (its checksum lies in the
// first, the locator table in the second) but within the file's first 4 KiB
// page, so a process crash cannot tear it, and neither can a power cut on a
// disk that writes 4 KiB atomically (every disk sold since 2011's Advanced
// Format): there the old or the new header survives whole. On a disk that
// can tear inside a page, a cut during step 4 can leave a header whose
// checksum fails; the file is then refused until repaired by hand.
// Each re-link thus leaves its predecessor's locator sectors unused in the
// file (a sector or two per locator; compacting does not reclaim them).
//
// Refused, with the child unchanged: a child that is not a differencing
// disk (WrongType), a damaged child (Corrupt: footer, header, layout or BAT;
// a child whose trailing footer was lost must be repaired by a read-write
// open first), a parent that does not open as a VHD with its own chain
// (its error), a parent whose unique ID is not the child's Parent Unique ID
// (ParentMismatch), a parent chain that contains the child (InvalidRequest),
// a child in use by a writer or reader (Locked), a path longer than a
// locator may hold (InvalidRequest).
//
// The Parent Time Stamp is kept: it records when the parent's contents were
// last the ones the child was made over, and moving the parent does not
// change that (vsa-vhd check compares it with the parent's mtime).
#pragma once

#include "services/storage/storage_error.h"

#include <string>

namespace vsa::storage {

Result<void, StorageError> relink_parent(std::string const& child, std::string const& new_parent);

} // namespace vsa::storage
