// SPDX-License-Identifier: GPL-2.0-or-later
// FwCfg: see fw_cfg.h for the interface, the reference and what is left out.
#include "hw/fw_cfg.h"

#include <algorithm>
#include <cstring>

namespace vsa {

namespace {
constexpr u32 SELECTOR_PORT_COUNT = 2; // 0x510, 0x511
constexpr u32 DMA_PORT_COUNT = 8;      // 0x514..0x51B
constexpr Port DMA_LOW_PORT = 0x518;
constexpr char DMA_SIGNATURE[8] = {'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G'};
constexpr std::size_t DMA_ACCESS_SIZE = 16;
constexpr std::size_t FILE_ENTRY_SIZE = 64; // size, select, reserved, name[56]
constexpr std::size_t FILE_NAME_FIELD = 56;
// Bounce buffer for DMA reads; a guest asking for gigabytes is served in
// these steps, each one a checked copy.
constexpr std::size_t DMA_CHUNK = 4096;

u32 be32_at(u8 const* p) {
    return u32(p[0]) << 24 | u32(p[1]) << 16 | u32(p[2]) << 8 | u32(p[3]);
}
void put_be32(std::vector<u8>& out, u32 v) {
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<u8>(v >> shift));
}
void put_be16(std::vector<u8>& out, u16 v) {
    out.push_back(static_cast<u8>(v >> 8));
    out.push_back(static_cast<u8>(v));
}
void put_le(std::vector<u8>& out, u64 v, unsigned bytes) {
    for (unsigned i = 0; i < bytes; ++i)
        out.push_back(static_cast<u8>(v >> (8 * i)));
}
u32 byte_swap32(u32 v) {
    return (v >> 24) | ((v >> 8) & 0xFF00) | ((v << 8) & 0xFF0000) | (v << 24);
}
} // namespace

FwCfg::FwCfg(MemoryMap& memory, IoBus& io) : m_memory(memory), m_io(io) {
    m_items[SIGNATURE] = {'Q', 'E', 'M', 'U'};
    m_items[ID] = le32(FEATURE_TRADITIONAL | FEATURE_DMA);
    rebuild_directory();
    m_ports_mapped[0] = m_io.map(SELECTOR_PORT, SELECTOR_PORT_COUNT, *this, WIDTH_8_16, SELECTOR_PORT);
    m_ports_mapped[1] = m_io.map(DMA_PORT, DMA_PORT_COUNT, *this, WIDTH_ANY, DMA_PORT);
}

FwCfg::~FwCfg() {
    if (m_ports_mapped[0]) m_io.unmap(SELECTOR_PORT, *this);
    if (m_ports_mapped[1]) m_io.unmap(DMA_PORT, *this);
}

// --- Configuration (machine side) ------------------------------------------

Result<u16, std::string> FwCfg::add_file(std::string name, std::vector<u8> data) {
    if (name.empty() || name.size() > MAX_FILE_NAME || name.find('\0') != std::string::npos)
        return std::string("fw_cfg file names must be 1 to 55 characters: '") + name + "'";
    if (data.size() > 0xFFFF'FFFFu) return std::string("fw_cfg file too large: ") + name;
    for (auto const& file : m_files) {
        if (file.name == name) {
            m_items[file.key] = std::move(data);
            rebuild_directory();
            return file.key;
        }
    }
    if (m_files.size() >= MAX_FILES) return std::string("too many fw_cfg files");
    auto key = static_cast<u16>(FILE_FIRST + m_files.size());
    m_files.push_back({std::move(name), key});
    m_items[key] = std::move(data);
    rebuild_directory();
    return key;
}

bool FwCfg::set_item(u16 key, std::vector<u8> data) {
    key &= ~WRITE_CHANNEL;
    if (key == FILE_DIR || (key >= FILE_FIRST && key < FILE_FIRST + MAX_FILES)) return false;
    if (data.size() > 0xFFFF'FFFFu) return false;
    m_items[key] = std::move(data);
    return true;
}

void FwCfg::set_cpus(u16 boot_cpus, u16 max_cpus) {
    set_item(NB_CPUS, le16(boot_cpus));
    set_item(MAX_CPUS, le16(max_cpus));
}

std::vector<u8> const* FwCfg::item(u16 key) const {
    auto it = m_items.find(static_cast<u16>(key & ~WRITE_CHANNEL));
    return it == m_items.end() ? nullptr : &it->second;
}

void FwCfg::rebuild_directory() {
    // Sorted by name, as QEMU lists them; SeaBIOS reads every entry.
    std::vector<File const*> sorted;
    for (auto const& file : m_files)
        sorted.push_back(&file);
    std::sort(sorted.begin(), sorted.end(), [](File const* a, File const* b) { return a->name < b->name; });
    std::vector<u8> dir;
    dir.reserve(4 + sorted.size() * FILE_ENTRY_SIZE);
    put_be32(dir, static_cast<u32>(sorted.size()));
    for (File const* file : sorted) {
        put_be32(dir, static_cast<u32>(m_items[file->key].size()));
        put_be16(dir, file->key);
        put_be16(dir, 0);
        std::size_t at = dir.size();
        dir.resize(at + FILE_NAME_FIELD, 0);
        std::memcpy(dir.data() + at, file->name.data(), file->name.size());
    }
    m_items[FILE_DIR] = std::move(dir);
}

std::vector<u8> FwCfg::e820_file(std::span<E820Entry const> entries) {
    std::vector<u8> out;
    out.reserve(entries.size() * 20);
    for (auto const& e : entries) {
        put_le(out, e.address, 8);
        put_le(out, e.length, 8);
        put_le(out, static_cast<u32>(e.type), 4);
    }
    return out;
}

std::vector<u8> FwCfg::bootorder_file(std::span<std::string const> device_paths) {
    std::vector<u8> out;
    for (std::size_t i = 0; i < device_paths.size(); ++i) {
        if (i) out.push_back('\n');
        out.insert(out.end(), device_paths[i].begin(), device_paths[i].end());
    }
    out.push_back(0);
    return out;
}

std::vector<u8> FwCfg::le16(u16 value) {
    std::vector<u8> out;
    put_le(out, value, 2);
    return out;
}
std::vector<u8> FwCfg::le32(u32 value) {
    std::vector<u8> out;
    put_le(out, value, 4);
    return out;
}
std::vector<u8> FwCfg::le64(u64 value) {
    std::vector<u8> out;
    put_le(out, value, 8);
    return out;
}

// --- Guest side ----------------------------------------------------------------

void FwCfg::reset() {
    m_selector = 0;
    m_offset = 0;
    m_dma_high = 0;
}

void FwCfg::select(u16 key) {
    m_selector = key;
    m_offset = 0;
}

u8 FwCfg::read_data() {
    std::vector<u8> const* data = item(m_selector);
    // Unknown items and reads past the end give 0 and leave the offset.
    if (!data || m_offset >= data->size()) return 0;
    return (*data)[m_offset++];
}

u32 FwCfg::io_read(u16 port, Width width) {
    if (port == SELECTOR_PORT || port == DATA_PORT) {
        // The data register is 8 bits wide (QEMU accepts only byte reads).
        if (width != Width::Byte) {
            count_ignored();
            return width_mask(width);
        }
        return read_data();
    }
    if (port >= DMA_PORT && port < DMA_PORT + DMA_PORT_COUNT) {
        // The DMA address register reads as the signature, in memory order.
        u32 value = 0;
        for (unsigned i = 0; i < width_bytes(width); ++i) {
            unsigned at = port - DMA_PORT + i;
            u8 byte = at < sizeof DMA_SIGNATURE ? static_cast<u8>(DMA_SIGNATURE[at]) : 0xFF;
            value |= u32(byte) << (8 * i);
        }
        return value;
    }
    count_ignored();
    return width_mask(width);
}

void FwCfg::io_write(u16 port, Width width, u32 value) {
    if (port == SELECTOR_PORT && width == Width::Word) {
        select(static_cast<u16>(value));
        return;
    }
    if (width == Width::Dword && port == DMA_PORT) {
        // The guest wrote cpu_to_be32(high): swap back.
        m_dma_high = byte_swap32(value);
        return;
    }
    if (width == Width::Dword && port == DMA_LOW_PORT) {
        u64 address = u64(m_dma_high) << 32 | byte_swap32(value);
        m_dma_high = 0;
        run_dma(address);
        return;
    }
    // Data-port writes (read-only items) and odd widths.
    count_ignored();
}

void FwCfg::run_dma(u64 access_address) {
    std::array<u8, DMA_ACCESS_SIZE> access{};
    if (!m_memory.read_bytes(access_address, access)) {
        // Nowhere to report the error: drop the request.
        count_ignored();
        return;
    }
    u32 control = be32_at(&access[0]);
    u32 length = be32_at(&access[4]);
    u64 address = u64(be32_at(&access[8])) << 32 | be32_at(&access[12]);
    bool ok = dma_transfer(control, length, address);
    if (!ok) count_ignored();
    std::vector<u8> status;
    put_be32(status, ok ? 0 : DMA_ERROR);
    if (!m_memory.write_bytes(access_address, status)) count_ignored();
}

bool FwCfg::dma_transfer(u32 control, u32 length, u64 address) {
    if (control & DMA_SELECT) select(static_cast<u16>(control >> 16));
    std::vector<u8> const* data = item(m_selector);
    u64 size = data ? data->size() : 0;
    if (control & DMA_READ) {
        std::array<u8, DMA_CHUNK> buffer;
        for (u64 done = 0; done < length;) {
            std::size_t chunk = static_cast<std::size_t>(std::min<u64>(length - done, DMA_CHUNK));
            std::size_t from_item = 0;
            if (m_offset < size) {
                from_item = static_cast<std::size_t>(std::min<u64>(chunk, size - m_offset));
                std::memcpy(buffer.data(), data->data() + m_offset, from_item);
            }
            std::fill(buffer.begin() + static_cast<std::ptrdiff_t>(from_item),
                      buffer.begin() + static_cast<std::ptrdiff_t>(chunk), u8(0));
            if (!m_memory.write_bytes(address + done, std::span<u8 const>(buffer.data(), chunk)))
                return false;
            m_offset += static_cast<u32>(from_item);
            done += chunk;
        }
        return true;
    }
    if (control & DMA_WRITE) {
        // Every item is read-only.
        return false;
    }
    if (control & DMA_SKIP) m_offset = static_cast<u32>(std::min<u64>(u64(m_offset) + length, size));
    return true;
}

void FwCfg::visit_state(StateVisitor& v) {
    v.section("fw_cfg", 1);
    v.field("selector", m_selector);
    v.field("offset", m_offset);
    v.field("dma_high", m_dma_high);
}

} // namespace vsa
