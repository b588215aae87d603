// SPDX-License-Identifier: GPL-2.0-or-later
#include "hw/i440fx.h"

namespace vsa {

namespace {
constexpr PhysAddr F_SEGMENT = 0xF0000;
constexpr u64 F_SEGMENT_SIZE = 64 * KiB;
constexpr u64 PAM_SEGMENT_SIZE = 16 * KiB;

// Datasheet reset values of the DRAM control block that SeaBIOS (and a
// BIOS reading them back before a read-modify-write) sees.
struct RegisterDefault {
    u8 offset;
    u8 value;
    u8 write_mask;
};
constexpr RegisterDefault REGISTERS[] = {
    {0x50, 0x00, 0xFF}, // PMCCFG
    {0x51, 0x00, 0xFF}, //
    {0x52, 0x00, 0xFF}, // DETURBO
    {0x53, 0x00, 0xFF}, // DBC
    {0x54, 0x00, 0xFF}, // AXC
    {0x55, 0x00, 0xFF}, // DRAMR
    {0x56, 0x00, 0xFF}, //
    {0x57, 0x01, 0xFF}, // DRAMC
    {0x58, 0x10, 0xFF}, // DRAMT
    {0x68, 0x00, 0xFF}, // FDHC
    {0x70, 0x20, 0xFF}, // MTT
    {0x71, 0x10, 0xFF}, // CLT
};
} // namespace

I440fx::I440fx(MemoryMap& memory)
    : PciDevice(PciId{.vendor = 0x8086,
                      .device = 0x1237,
                      .class_code = 0x06,
                      .subclass = 0x00,
                      .prog_if = 0x00,
                      .revision = 0x02}),
      m_memory(memory) {
    setup_registers();
}

void I440fx::setup_registers() {
    // Memory space and bus master are always on for the host bridge.
    set_config_word(pci::COMMAND, 0x0006);
    // Fast back-to-back capable, medium DEVSEL timing.
    set_config_word(pci::STATUS, 0x0280);
    for (auto const& r : REGISTERS) {
        config_byte(r.offset) = r.value;
        set_write_mask(r.offset, r.write_mask);
    }
    // PAM0's low nibble is reserved; RE, WE and CE (bit 2, cache enable:
    // stored, meaningless here) in every other nibble.
    set_write_mask(PAM0, 0x70);
    for (u8 i = 1; i < PAM_COUNT; ++i)
        set_write_mask(static_cast<u8>(PAM0 + i), 0x77);
    // DRB0..DRB7: DRAM row boundaries in 8 MiB units; a BIOS sizing DRAM
    // writes them, nothing here reads them.
    for (u8 i = 0; i < 8; ++i) {
        config_byte(static_cast<u8>(0x60 + i)) = 0x01;
        set_write_mask(static_cast<u8>(0x60 + i), 0xFF);
    }
    // SMRAM: C_BASE_SEG reads 010b (the 0xA0000 segment), the rest is
    // writable until D_LCK (handled in config_written).
    config_byte(SMRAM) = 0x02;
    set_write_mask(SMRAM, 0x78);
    snapshot_reset_state();
}

void I440fx::reset() {
    PciDevice::reset();
    // Unlock SMRAM again: D_LCK is cleared only by a reset.
    set_write_mask(SMRAM, 0x78);
    apply_pam();
}

void I440fx::apply_pam() {
    u8 pam0 = config_byte(PAM0) >> 4;
    m_memory.set_pam(F_SEGMENT, F_SEGMENT_SIZE, pam0 & PAM_RE, pam0 & PAM_WE);
    // PAM1..PAM6 cover 0xC0000..0xEFFFF, two 16 KiB segments each: the low
    // nibble the lower segment, the high nibble the upper one.
    for (unsigned i = 1; i < PAM_COUNT; ++i) {
        u8 reg = config_byte(static_cast<u8>(PAM0 + i));
        PhysAddr base = MemoryMap::SHADOW_START + (i - 1) * 2 * PAM_SEGMENT_SIZE;
        m_memory.set_pam(base, PAM_SEGMENT_SIZE, reg & PAM_RE, reg & PAM_WE);
        m_memory.set_pam(base + PAM_SEGMENT_SIZE, PAM_SEGMENT_SIZE, (reg >> 4) & PAM_RE, (reg >> 4) & PAM_WE);
    }
}

void I440fx::config_written(u8 offset, Width width) {
    unsigned end = offset + width_bytes(width);
    if (offset < PAM0 + PAM_COUNT && end > PAM0) apply_pam();
    if (offset <= SMRAM && end > SMRAM) {
        u8& smram = config_byte(SMRAM);
        // D_OPEN and D_CLS together are invalid (datasheet: "must not be
        // set at the same time"); keep the safe one, closed.
        if ((smram & SMRAM_D_OPEN) && (smram & SMRAM_D_CLS)) {
            smram &= static_cast<u8>(~SMRAM_D_OPEN);
            count_ignored();
        }
        if (smram & SMRAM_D_LCK) {
            // Locking clears D_OPEN and freezes D_LCK and G_SMRAME until a
            // reset; only D_CLS stays writable.
            smram &= static_cast<u8>(~SMRAM_D_OPEN);
            set_write_mask(SMRAM, SMRAM_D_CLS);
        }
    }
}

void I440fx::visit_state(StateVisitor& v) {
    v.section("i440fx", 1);
    visit_pci_state(v);
}

void I440fx::post_load() {
    PciDevice::post_load();
    set_write_mask(SMRAM, (config_byte(SMRAM) & SMRAM_D_LCK) ? SMRAM_D_CLS : 0x78);
    apply_pam();
}

} // namespace vsa
