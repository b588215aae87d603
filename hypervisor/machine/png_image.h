// SPDX-License-Identifier: GPL-2.0-or-later
// PNG files of screen pictures (screen_render.h), through libpng's
// "simplified" API (png_image_*: no setjmp/longjmp error handling to keep
// away from C++ objects). Rather the library than a hand-written encoder:
// the deflate stream, the CRCs and the decoder's checks are libpng's
// well-tested code, and the decoder faces files we did not write.
#pragma once

#include "hypervisor/base/result.h"
#include "hypervisor/machine/screen_render.h"

#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace vsa {

// An 8-bit RGB PNG of `image` (which must not be empty).
Result<std::vector<u8>, std::string> encode_png(ScreenImage const& image);

// Any PNG libpng reads, as 0x00RRGGBB pixels (alpha is composed onto
// black). Refuses pictures over max_pixels (a bound on what the caller
// allocates for a file it did not check).
Result<ScreenImage, std::string> decode_png(std::span<u8 const> bytes, u64 max_pixels = 16 * MiB);

// encode_png(image) written to `path` atomically: "<path>.tmp" first, then
// renamed over `path`, so a reader never sees half a file.
Result<void, std::string> write_png_file(std::filesystem::path const& path, ScreenImage const& image);

// Writes `size` bytes to "<path>.tmp" and renames it to `path`, so a reader
// never sees half a file (the screenshot files of the control protocol).
Result<void, std::string> write_file_replacing(std::filesystem::path const& path, void const* data,
                                               std::size_t size);

} // namespace vsa
