// SPDX-License-Identifier: GPL-2.0-or-later
// Floppy image files: IVMVirtualServer.CreateFloppyDiskImage and
// GetFloppyDiskImageType.
//
// A floppy image is a raw sector dump; only its size says what it is, so the
// type is read from the size (VMFloppyDiskImageType, vs-api.md):
//   LowDensity            737,280 bytes (3.5" 720 KB)
//   HighDensity         1,474,560       (3.5" 1.44 MB)
//   DMF                 1,720,320       (1.68 MB, 21 sectors a track)
//   LowDensitySingleSided 368,640       (360 KB: 80x1x9 on a 3.5" drive;
//                                        the same size as a 5.25" 40x2x9)
//   MediumDensity       1,228,800       (5.25" 1.2 MB)
//   HighDensityMSS      1,884,160       (XDF, 80x2x23 as image tools dump it)
// and 2.88 MB (2,949,120), a real floppy size our controller reads but that
// has no enum value, is Unknown (0). Any other size is not a floppy image:
// DISP_E_EXCEPTION, as the reference says for "not a floppy image".
//
// Creation makes only LowDensity and HighDensity (E_INVALIDARG for the
// rest, as documented), blank: zero-filled, no file system, which is what
// Virtual Server made and what the guest formats. The space is reserved
// (posix_fallocate) so a full volume fails the call with E_DISK_FULL, not a
// later guest write. The file lands in the search paths only when the
// client names such a path; GetFloppyDiskFiles scans the folders, so an
// image created there is listed with no registry of ours.
#pragma once

#include "services/path_policy.h"
#include "services/service_error.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace vsa::services {

enum class FloppyImageType : std::int32_t {
    Unknown = 0,
    LowDensity = 1,
    HighDensity = 2,
    Dmf = 3,
    LowDensitySingleSided = 4,
    MediumDensity = 5,
    HighDensityMss = 6,
};

// The type of an image of `bytes`; nullopt when no floppy has that size.
std::optional<FloppyImageType> floppy_image_type_for_size(std::uint64_t bytes);

// The size CreateFloppyDiskImage makes for a type value; nullopt for every
// value but LowDensity and HighDensity.
std::optional<std::uint64_t> creatable_floppy_image_size(std::int32_t type);

// CreateFloppyDiskImage: the path through `policy` (E_BAD_PATHNAME,
// E_INVALID_NAME, E_BUFFER_OVERFLOW, E_ACCESSDENIED), E_INVALIDARG for a
// type that cannot be created, E_ALREADY_EXISTS, E_PATH_NOT_FOUND when the
// folder cannot be made, E_DISK_FULL. Returns the full path made.
ServiceResult<std::filesystem::path> create_floppy_image(PathPolicy const& policy,
                                                         std::string_view image_path, std::int32_t type);

// GetFloppyDiskImageType: path errors as above, E_PATH_NOT_FOUND (no such
// folder), E_FILE_NOT_FOUND, DISP_E_EXCEPTION (not a regular file, or no
// floppy's size).
ServiceResult<FloppyImageType> floppy_image_type(PathPolicy const& policy, std::string_view image_path);

} // namespace vsa::services
