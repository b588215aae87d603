// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/machine/machine_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace vsa {

static_assert(std::endian::native == std::endian::little, "the .vsv layout is written in host order");

namespace {

constexpr std::size_t PAGE = 4096;
constexpr std::size_t HEADER_BYTES = 16;
constexpr std::size_t IDENTITY_BYTES = 10 * 8;
constexpr std::size_t TRAILER_BYTES = 4;
constexpr std::size_t WRITE_BUFFER = 1 * MiB;

constexpr auto make_crc_tables() {
    std::array<std::array<u32, 256>, 8> t{};
    for (u32 i = 0; i < 256; ++i) {
        u32 c = i;
        for (int k = 0; k < 8; ++k)
            c = (c & 1) ? 0xEDB8'8320u ^ (c >> 1) : c >> 1;
        t[0][i] = c;
    }
    for (u32 i = 0; i < 256; ++i)
        for (std::size_t s = 1; s < 8; ++s)
            t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
    return t;
}
constexpr auto CRC_TABLES = make_crc_tables();

u64 pages_of(u64 length) {
    return (length + PAGE - 1) / PAGE;
}
u64 bitmap_bytes_of(u64 length) {
    return (pages_of(length) + 7) / 8;
}

bool is_zero_page(u8 const* p, std::size_t size) {
    static u8 const zero[PAGE] = {};
    return std::memcmp(p, zero, size) == 0;
}

std::string describe_bytes(u64 bytes) {
    if (bytes && bytes % MiB == 0) return std::to_string(bytes / MiB) + " MiB";
    if (bytes && bytes % KiB == 0) return std::to_string(bytes / KiB) + " KiB";
    return std::to_string(bytes) + " bytes";
}

std::string hex(u64 value) {
    char text[20];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
    return text;
}

// Which 4 KiB pages of a buffer hold anything but zeros.
struct PageMap {
    u64 length{0};
    std::vector<u8> bitmap;
    u64 stored_bytes{0};

    static PageMap of(std::span<u8 const> data) {
        PageMap map;
        map.length = data.size();
        map.bitmap.assign(bitmap_bytes_of(data.size()), 0);
        for (u64 page = 0; page < pages_of(data.size()); ++page) {
            std::size_t offset = page * PAGE;
            std::size_t size = std::min<std::size_t>(PAGE, data.size() - offset);
            if (is_zero_page(data.data() + offset, size)) continue;
            map.bitmap[page / 8] = static_cast<u8>(map.bitmap[page / 8] | (1u << (page % 8)));
            map.stored_bytes += size;
        }
        return map;
    }
    u64 encoded_size() const { return 8 + bitmap.size() + stored_bytes; }
};

// Buffered writes to one descriptor, with the running CRC of all of them.
class Writer {
public:
    explicit Writer(int fd) : m_fd(fd) { m_buffer.reserve(WRITE_BUFFER); }

    void put(std::span<u8 const> data) {
        m_crc = crc32(data, m_crc);
        if (m_buffer.size() + data.size() > WRITE_BUFFER) flush();
        if (data.size() >= WRITE_BUFFER)
            write_all(data);
        else
            m_buffer.insert(m_buffer.end(), data.begin(), data.end());
    }
    template <typename T>
    void put_value(T value) {
        u8 raw[sizeof(T)];
        std::memcpy(raw, &value, sizeof(T));
        put(raw);
    }
    void put_page_map(PageMap const& map, std::span<u8 const> data) {
        put_value<u64>(map.length);
        put(map.bitmap);
        for (u64 page = 0; page < pages_of(map.length); ++page) {
            if (!(map.bitmap[page / 8] & (1u << (page % 8)))) continue;
            std::size_t offset = page * PAGE;
            put(data.subspan(offset, std::min<std::size_t>(PAGE, data.size() - offset)));
        }
    }
    void flush() {
        write_all(m_buffer);
        m_buffer.clear();
    }
    u32 crc() const { return m_crc; }
    // The first write error (errno), 0 if none.
    int error() const { return m_errno; }

private:
    void write_all(std::span<u8 const> data) {
        while (!data.empty() && m_errno == 0) {
            ssize_t n = ::write(m_fd, data.data(), data.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                m_errno = errno;
                return;
            }
            if (n == 0) {
                m_errno = EIO;
                return;
            }
            data = data.subspan(static_cast<std::size_t>(n));
        }
    }

    int m_fd;
    std::vector<u8> m_buffer;
    u32 m_crc{0};
    int m_errno{0};
};

// Bounds-checked reading of the checked part of a file.
class Cursor {
public:
    Cursor(std::vector<u8> const& data, std::size_t begin, std::size_t end)
        : m_data(data), m_pos(begin), m_end(end) {}
    std::size_t left() const { return m_end - m_pos; }
    std::size_t position() const { return m_pos; }
    bool take_u64(u64& value) {
        if (left() < 8) return false;
        std::memcpy(&value, m_data.data() + m_pos, 8);
        m_pos += 8;
        return true;
    }
    bool skip(u64 bytes) {
        if (bytes > left()) return false;
        m_pos += static_cast<std::size_t>(bytes);
        return true;
    }

private:
    std::vector<u8> const& m_data;
    std::size_t m_pos;
    std::size_t m_end;
};

// Checks a page map of `length` bytes at the cursor and steps over it.
// Returns the offsets of its bitmap and of its first stored page.
Result<std::pair<std::size_t, std::size_t>, std::string>
check_page_map(std::vector<u8> const& file, Cursor& c, u64 length, std::string const& what) {
    std::size_t bitmap_at = c.position();
    u64 pages = pages_of(length);
    u64 bitmap_bytes = bitmap_bytes_of(length);
    if (!c.skip(bitmap_bytes)) return "saved state: the " + what + " page bitmap is cut short";
    u64 stored = 0;
    for (u64 i = 0; i < bitmap_bytes; ++i) {
        u8 bits = file[bitmap_at + i];
        if (i == bitmap_bytes - 1 && pages % 8 && (bits >> (pages % 8)))
            return "saved state: the " + what + " page bitmap has bits past its last page";
        stored += static_cast<u64>(std::popcount(bits)) * PAGE;
    }
    // Only the last page may be short.
    u64 tail = length % PAGE;
    if (tail && pages && (file[bitmap_at + (pages - 1) / 8] & (1u << ((pages - 1) % 8))))
        stored -= PAGE - tail;
    std::size_t pages_at = c.position();
    if (!c.skip(stored)) return "saved state: the " + what + " pages are cut short";
    return std::pair{bitmap_at, pages_at};
}

// Expands a checked page map into `out` (already `length` bytes of zeros
// for device state, or guest RAM).
void expand_page_map(std::vector<u8> const& file, std::size_t bitmap_at, std::size_t pages_at,
                     std::span<u8> out, bool out_is_zero) {
    std::size_t from = pages_at;
    for (u64 page = 0; page < pages_of(out.size()); ++page) {
        std::size_t offset = page * PAGE;
        std::size_t size = std::min<std::size_t>(PAGE, out.size() - offset);
        if (file[bitmap_at + page / 8] & (1u << (page % 8))) {
            std::memcpy(out.data() + offset, file.data() + from, size);
            from += size;
        } else if (!out_is_zero && !is_zero_page(out.data() + offset, size)) {
            std::memset(out.data() + offset, 0, size);
        }
    }
}

void put_identity(u8* out, MachineIdentity const& id) {
    u64 const values[10] = {id.ram_bytes,     id.bios_size,         id.bios_hash,     id.vgabios_size,
                            id.vgabios_hash,  id.fw_cfg_files_hash, id.disk_bytes[0], id.disk_bytes[1],
                            id.disk_bytes[2], id.disk_bytes[3]};
    std::memcpy(out, values, sizeof values);
}

MachineIdentity take_identity(u8 const* in) {
    u64 values[10];
    std::memcpy(values, in, sizeof values);
    MachineIdentity id;
    id.ram_bytes = values[0];
    id.bios_size = values[1];
    id.bios_hash = values[2];
    id.vgabios_size = values[3];
    id.vgabios_hash = values[4];
    id.fw_cfg_files_hash = values[5];
    for (unsigned i = 0; i < MachineIdentity::DISK_SLOTS; ++i)
        id.disk_bytes[i] = values[6 + i];
    return id;
}

} // namespace

u64 fnv1a64(std::span<u8 const> data, u64 hash) {
    for (u8 byte : data) {
        hash ^= byte;
        hash *= 0x0000'0100'0000'01B3ull;
    }
    return hash;
}

u32 crc32(std::span<u8 const> data, u32 crc) {
    auto const& t = CRC_TABLES;
    crc = ~crc;
    u8 const* p = data.data();
    std::size_t n = data.size();
    // Slicing-by-8: eight table lookups per 8 bytes.
    while (n >= 8) {
        u32 lo = 0, hi = 0;
        std::memcpy(&lo, p, 4);
        std::memcpy(&hi, p + 4, 4);
        lo ^= crc;
        crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
              t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = t[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

Result<void, std::string> check_identity(MachineIdentity const& saved, MachineIdentity const& here) {
    std::string const was = "the state was saved with ";
    if (saved.ram_bytes != here.ram_bytes)
        return "RAM size differs: " + was + describe_bytes(saved.ram_bytes) + ", this machine has " +
               describe_bytes(here.ram_bytes);
    if (saved.bios_size != here.bios_size || saved.bios_hash != here.bios_hash)
        return "system BIOS differs: " + was + "a " + describe_bytes(saved.bios_size) + " image (FNV " +
               hex(saved.bios_hash) + "), this machine has a " + describe_bytes(here.bios_size) +
               " image (FNV " + hex(here.bios_hash) + ")";
    if (saved.vgabios_size != here.vgabios_size || saved.vgabios_hash != here.vgabios_hash) {
        auto image = [](u64 size, u64 hash) {
            return size ? "a " + describe_bytes(size) + " image (FNV " + hex(hash) + ")"
                        : std::string("none");
        };
        return "VGA BIOS differs: " + was + image(saved.vgabios_size, saved.vgabios_hash) +
               ", this machine has " + image(here.vgabios_size, here.vgabios_hash);
    }
    if (saved.fw_cfg_files_hash != here.fw_cfg_files_hash)
        return std::string("fw_cfg files differ from the ones the state was saved with");
    auto count = [](MachineIdentity const& id) {
        unsigned n = 0;
        for (u64 bytes : id.disk_bytes)
            n += bytes != 0;
        return n;
    };
    auto disks = [](unsigned n) { return std::to_string(n) + (n == 1 ? " disk" : " disks"); };
    if (count(saved) != count(here))
        return "disk count differs: " + was + disks(count(saved)) + ", this machine has " +
               disks(count(here));
    static char const* const SLOTS[MachineIdentity::DISK_SLOTS] = {"primary master", "primary slave",
                                                                   "secondary master", "secondary slave"};
    for (unsigned i = 0; i < MachineIdentity::DISK_SLOTS; ++i) {
        u64 s = saved.disk_bytes[i], h = here.disk_bytes[i];
        if (s == h) continue;
        std::string slot = "disk " + std::to_string(i + 1) + " (" + SLOTS[i] + ")";
        if (!s) return slot + ": the state was saved without a disk there, this machine has one";
        if (!h) return slot + ": " + was + "a disk there, this machine has none";
        return slot + " size differs: " + was + std::to_string(s) + " bytes, this machine's disk has " +
               std::to_string(h) + " bytes";
    }
    return Ok{};
}

Result<void, std::string> write_saved_state(std::string const& path, MachineIdentity const& identity,
                                            std::span<u8 const> device_state, std::span<u8 const> ram) {
    if (ram.size() != identity.ram_bytes) return std::string("write_saved_state: RAM size mismatch");
    PageMap devices = PageMap::of(device_state);
    PageMap memory = PageMap::of(ram);
    u64 file_size =
        HEADER_BYTES + IDENTITY_BYTES + devices.encoded_size() + memory.encoded_size() + TRAILER_BYTES;

    std::string temp = path + ".XXXXXX";
    int fd = ::mkostemp(temp.data(), O_CLOEXEC);
    if (fd < 0) return "cannot create a temporary file next to " + path + ": " + std::strerror(errno);
    auto fail = [&](std::string what, int error) -> Result<void, std::string> {
        ::close(fd);
        ::unlink(temp.c_str());
        return "cannot write " + path + ": " + what + ": " + std::strerror(error);
    };

    Writer w(fd);
    u8 header[HEADER_BYTES + IDENTITY_BYTES] = {};
    std::memcpy(header, VSV_MAGIC, sizeof VSV_MAGIC);
    std::memcpy(header + 6, &VSV_FORMAT_VERSION, 2);
    std::memcpy(header + 8, &file_size, 8);
    put_identity(header + HEADER_BYTES, identity);
    w.put(header);
    w.put_page_map(devices, device_state);
    w.put_page_map(memory, ram);
    u32 crc = w.crc();
    w.put_value<u32>(crc);
    w.flush();
    if (w.error()) return fail("write", w.error());
    if (::fsync(fd) != 0) return fail("fsync", errno);
    if (::close(fd) != 0) {
        int error = errno;
        ::unlink(temp.c_str());
        return "cannot write " + path + ": close: " + std::strerror(error);
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        int error = errno;
        ::unlink(temp.c_str());
        return "cannot write " + path + ": rename: " + std::strerror(error);
    }
    // The rename itself must survive a crash too.
    std::string dir = std::filesystem::path(path).parent_path().string();
    int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
    return Ok{};
}

u64 SavedStateFile::max_file_size(MachineIdentity const& expected, u64 max_device_state) {
    return HEADER_BYTES + IDENTITY_BYTES + 8 + bitmap_bytes_of(max_device_state) + max_device_state + 8 +
           bitmap_bytes_of(expected.ram_bytes) + expected.ram_bytes + TRAILER_BYTES;
}

Result<SavedStateFile, std::string>
SavedStateFile::read(std::string const& path, MachineIdentity const& expected, u64 max_device_state) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "cannot open " + path + ": " + std::strerror(errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return path + " is not a regular file";
    }
    u64 limit = max_file_size(expected, max_device_state);
    if (static_cast<u64>(st.st_size) > limit) {
        ::close(fd);
        return path + ": " + std::to_string(st.st_size) +
               " bytes, more than a saved state of this machine can be (" + std::to_string(limit) + ")";
    }
    std::vector<u8> data(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::read(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int error = errno;
            ::close(fd);
            return "cannot read " + path + ": " + std::strerror(error);
        }
        if (n == 0) break; // shrank meanwhile: the size check below names it
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    data.resize(done);
    auto parsed = parse(std::move(data), expected, max_device_state);
    if (parsed.is_error()) return path + ": " + parsed.error();
    return parsed;
}

Result<SavedStateFile, std::string>
SavedStateFile::parse(std::vector<u8> file, MachineIdentity const& expected, u64 max_device_state) {
    if (file.size() < sizeof VSV_MAGIC || std::memcmp(file.data(), VSV_MAGIC, sizeof VSV_MAGIC) != 0)
        return std::string("not a VSA saved-state file (no VSAVSV magic)");
    if (file.size() < HEADER_BYTES)
        return "saved state is truncated (" + std::to_string(file.size()) + " bytes)";
    u16 version = 0;
    u64 recorded = 0;
    std::memcpy(&version, file.data() + 6, 2);
    std::memcpy(&recorded, file.data() + 8, 8);
    if (version != VSV_FORMAT_VERSION)
        return "saved state has format version " + std::to_string(version) + ", this build reads version " +
               std::to_string(VSV_FORMAT_VERSION);
    if (file.size() < recorded)
        return "saved state is truncated: " + std::to_string(file.size()) + " of " +
               std::to_string(recorded) + " bytes";
    if (file.size() > recorded)
        return "saved state has " + std::to_string(file.size() - recorded) + " bytes after its recorded end";
    if (file.size() < HEADER_BYTES + IDENTITY_BYTES + 16 + TRAILER_BYTES)
        return std::string("saved state is corrupt (too short for its blocks)");
    std::size_t body = file.size() - TRAILER_BYTES;
    u32 stored_crc = 0;
    std::memcpy(&stored_crc, file.data() + body, TRAILER_BYTES);
    if (crc32(std::span(file.data(), body)) != stored_crc)
        return std::string("saved state is corrupt (checksum mismatch)");

    SavedStateFile result;
    result.m_identity = take_identity(file.data() + HEADER_BYTES);
    TRY(check_identity(result.m_identity, expected));

    Cursor c(file, HEADER_BYTES + IDENTITY_BYTES, body);
    u64 device_length = 0;
    if (!c.take_u64(device_length)) return std::string("saved state: the device block is cut short");
    if (device_length > max_device_state)
        return "saved state: a device stream of " + std::to_string(device_length) +
               " bytes, more than this machine's devices can hold";
    auto [device_bitmap, device_pages] = TRY(check_page_map(file, c, device_length, "device state"));
    u64 ram_length = 0;
    if (!c.take_u64(ram_length)) return std::string("saved state: the RAM block is cut short");
    if (ram_length != expected.ram_bytes)
        return "saved state: the RAM block holds " + std::to_string(ram_length) + " bytes, not the " +
               std::to_string(expected.ram_bytes) + " of RAM its header names";
    auto [ram_bitmap, ram_pages] = TRY(check_page_map(file, c, ram_length, "RAM"));
    if (c.left() != 0) return std::string("saved state: unexpected bytes after the RAM block");

    result.m_device_state.assign(static_cast<std::size_t>(device_length), 0);
    expand_page_map(file, device_bitmap, device_pages, result.m_device_state, true);
    result.m_ram_bitmap = ram_bitmap;
    result.m_ram_pages = ram_pages;
    result.m_file = std::move(file);
    return result;
}

void SavedStateFile::copy_ram(std::span<u8> ram, bool ram_is_zero) const {
    if (ram.size() != m_identity.ram_bytes) return; // never: the machine's identity was checked
    expand_page_map(m_file, m_ram_bitmap, m_ram_pages, ram, ram_is_zero);
}

} // namespace vsa
