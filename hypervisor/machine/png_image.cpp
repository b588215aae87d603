// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/machine/png_image.h"

#include <png.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace vsa {

Result<std::vector<u8>, std::string> encode_png(ScreenImage const& image) {
    if (image.width == 0 || image.height == 0 ||
        image.pixels.size() != std::size_t(image.width) * image.height)
        return std::string("no picture to encode");
    std::vector<u8> rgb(image.pixels.size() * 3);
    for (std::size_t i = 0; i < image.pixels.size(); ++i) {
        u32 p = image.pixels[i];
        rgb[3 * i] = u8(p >> 16);
        rgb[3 * i + 1] = u8(p >> 8);
        rgb[3 * i + 2] = u8(p);
    }
    png_image png{};
    png.version = PNG_IMAGE_VERSION;
    png.width = image.width;
    png.height = image.height;
    png.format = PNG_FORMAT_RGB;
    png_alloc_size_t size = 0;
    // The first call measures, the second writes.
    if (!png_image_write_to_memory(&png, nullptr, &size, 0, rgb.data(), 0, nullptr))
        return std::string("libpng: ") + png.message;
    std::vector<u8> out(size);
    if (!png_image_write_to_memory(&png, out.data(), &size, 0, rgb.data(), 0, nullptr))
        return std::string("libpng: ") + png.message;
    out.resize(size);
    return out;
}

Result<ScreenImage, std::string> decode_png(std::span<u8 const> bytes, u64 max_pixels) {
    png_image png{};
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
        return std::string("not a PNG libpng reads: ") + png.message;
    if (u64(png.width) * png.height > max_pixels || png.width == 0 || png.height == 0) {
        png_image_free(&png);
        return std::string("the PNG's size is out of bounds");
    }
    png.format = PNG_FORMAT_RGB;
    std::vector<u8> rgb(PNG_IMAGE_SIZE(png));
    png_color black{0, 0, 0};
    if (!png_image_finish_read(&png, &black, rgb.data(), 0, nullptr))
        return std::string("a broken PNG: ") + png.message;
    ScreenImage image;
    image.width = png.width;
    image.height = png.height;
    image.pixels.resize(std::size_t(image.width) * image.height);
    for (std::size_t i = 0; i < image.pixels.size(); ++i)
        image.pixels[i] = u32(rgb[3 * i]) << 16 | u32(rgb[3 * i + 1]) << 8 | rgb[3 * i + 2];
    return image;
}

Result<void, std::string> write_png_file(std::filesystem::path const& path, ScreenImage const& image) {
    auto png = encode_png(image);
    if (png.is_error()) return png.release_error();
    return write_file_replacing(path, png.value().data(), png.value().size());
}

Result<void, std::string> write_file_replacing(std::filesystem::path const& path, void const* data,
                                               std::size_t size) {
    std::filesystem::path temporary = path;
    temporary += ".tmp";
    std::FILE* file = std::fopen(temporary.c_str(), "wb");
    if (!file) return "cannot write " + temporary.string() + ": " + std::strerror(errno);
    bool written = std::fwrite(data, 1, size, file) == size;
    written = std::fclose(file) == 0 && written;
    if (!written) {
        std::remove(temporary.c_str());
        return "cannot write " + temporary.string();
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        int error = errno;
        std::remove(temporary.c_str());
        return "cannot rename " + temporary.string() + ": " + std::strerror(error);
    }
    return Ok{};
}

} // namespace vsa
