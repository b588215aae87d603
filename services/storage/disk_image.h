// SPDX-License-Identifier: GPL-2.0-or-later
// open_disk_image: the one entry point a VM's drive configuration uses. The
// content decides first (a VHD footer, "conectix", at the end of the file or
// its copy at the start), so a VHD renamed to .img is still read as a VHD
// and a raw file is never mistaken for one; then the extension picks ISO,
// floppy or raw. A ".vhd" without the cookie is an error, not a raw disk,
// unless it is a host drive link (host_drive_link.h): then the disk is the
// host block device it names.
#pragma once

#include "services/storage/block_device.h"

#include <memory>
#include <string>
#include <string_view>

namespace vsa::storage {

enum class ImageFormat { Vhd, Raw, Iso, Floppy, HostDrive };
std::string_view image_format_name(ImageFormat format);

StorageResult<ImageFormat> detect_image_format(std::string const& path);
StorageResult<std::unique_ptr<BlockDevice>> open_disk_image(std::string const& path, bool read_only);

} // namespace vsa::storage
