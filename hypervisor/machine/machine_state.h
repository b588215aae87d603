// SPDX-License-Identifier: GPL-2.0-or-later
// The .vsv file: a whole machine's saved state (Virtual Server's "saved
// state"), and nothing about which devices it holds. PcMachine walks its
// devices into one StateVisitor stream; this file wraps that stream and the
// guest RAM into a file, and reads it back with every byte checked.
//
// Layout (little-endian, as every host we build for):
//
//   0   "VSAVSV"            magic
//   6   u16 format version  1
//   8   u64 file size       the whole file, trailer included (a cut file
//                           is named as truncated, not as corrupt)
//   16  identity            what the restoring machine must match, 10 x u64:
//                           RAM bytes, BIOS size + FNV-1a hash, VGA BIOS
//                           size + hash, fw_cfg files hash, the byte size of
//                           each of the four IDE slots (0 = empty)
//   96  device block        u64 length, then a page map (below) of the
//                           StateVisitor stream (CPU, chipset, devices, VRAM)
//   ..  RAM block           u64 length (= RAM bytes), then its page map
//   end u32 CRC-32          of every byte before it
//
// A page map stores a buffer in 4 KiB pages: a bitmap (bit i set: page i is
// stored; padding bits zero), then the stored pages in order (the last one
// may be short). An all-zero page is only a clear bit, which is most of a
// booted guest's RAM and VRAM; no compression library is needed.
//
// Reading is for an untrusted file: the size is bounded before anything is
// allocated (by the configured RAM and the device stream's size), the
// checksum is verified before any field is believed, and every length is
// checked against what is left. The identity check names the field that
// differs. Nothing here touches a machine: read() gives a checked file,
// copy_ram() then cannot fail.
//
// Writing goes to a temporary file in the same directory (mode 0600: it is
// guest memory), fsync, rename over the target, fsync the directory: a
// crash leaves the old file or the new one, never half of one.
#pragma once

#include "hypervisor/base/result.h"
#include "hypervisor/base/types.h"

#include <array>
#include <span>
#include <string>
#include <vector>

namespace vsa {

// The configuration a saved state only makes sense with. Devices check
// their own shape too (a drive set, a disk size); this comes first and
// gives the user a message naming the option that differs.
struct MachineIdentity {
    static constexpr unsigned DISK_SLOTS = 4;
    u64 ram_bytes{0};
    u64 bios_size{0};
    u64 bios_hash{0};
    u64 vgabios_size{0};
    u64 vgabios_hash{0};
    u64 fw_cfg_files_hash{0};
    std::array<u64, DISK_SLOTS> disk_bytes{}; // 0: no disk in the slot

    bool operator==(MachineIdentity const&) const = default;
};

// Ok, or the first difference in words a user can act on.
Result<void, std::string> check_identity(MachineIdentity const& saved, MachineIdentity const& here);

// FNV-1a, 64 bits: identity of a ROM image (not a security measure: the
// file is checked as hostile anyway).
constexpr u64 FNV1A_OFFSET = 0xCBF2'9CE4'8422'2325;
u64 fnv1a64(std::span<u8 const> data, u64 hash = FNV1A_OFFSET);
// CRC-32 (IEEE 802.3, as zlib's crc32()): the file checksum.
u32 crc32(std::span<u8 const> data, u32 crc = 0);

inline constexpr char VSV_MAGIC[6] = {'V', 'S', 'A', 'V', 'S', 'V'};
inline constexpr u16 VSV_FORMAT_VERSION = 1;

// Writes a .vsv atomically (see the file comment).
Result<void, std::string> write_saved_state(std::string const& path, MachineIdentity const& identity,
                                            std::span<u8 const> device_state, std::span<u8 const> ram);

// A .vsv read into memory and checked through and through.
class SavedStateFile {
public:
    // `expected` is this machine's identity; `max_device_state` bounds the
    // device stream (this machine's own stream size plus slack).
    static Result<SavedStateFile, std::string> read(std::string const& path, MachineIdentity const& expected,
                                                    u64 max_device_state);
    // The same checks on bytes already in memory (tests, other transports).
    static Result<SavedStateFile, std::string> parse(std::vector<u8> file, MachineIdentity const& expected,
                                                     u64 max_device_state);
    // The largest file parse() accepts for this identity and bound.
    static u64 max_file_size(MachineIdentity const& expected, u64 max_device_state);

    MachineIdentity const& identity() const { return m_identity; }
    std::vector<u8> const& device_state() const { return m_device_state; }
    // Fills `ram` (identity().ram_bytes long) with the saved RAM. Pages
    // saved as zero are zeroed only where they are not zero already, or,
    // with `ram_is_zero` (the caller has just zeroed it, e.g. dropped an
    // anonymous mapping's pages), not looked at: untouched host pages stay
    // unallocated.
    void copy_ram(std::span<u8> ram, bool ram_is_zero = false) const;

private:
    SavedStateFile() = default;

    MachineIdentity m_identity;
    std::vector<u8> m_file;
    std::vector<u8> m_device_state;
    // The RAM block's bitmap and first stored page, as offsets in m_file.
    std::size_t m_ram_bitmap{0};
    std::size_t m_ram_pages{0};
};

} // namespace vsa
