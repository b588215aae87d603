// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/io/pci.h"

#include <bit>

namespace vsa {

namespace {
constexpr unsigned ROM_INDEX = pci::BAR_COUNT;
u8 bar_offset(unsigned index) {
    return index == ROM_INDEX ? pci::ROM_BAR : static_cast<u8>(pci::BAR0 + 4 * index);
}
} // namespace

PciDevice::PciDevice(PciId const& id) {
    set_config_word(pci::VENDOR_ID, id.vendor);
    set_config_word(pci::VENDOR_ID + 2, id.device);
    m_config[pci::REVISION] = id.revision;
    m_config[0x09] = id.prog_if;
    m_config[0x0A] = id.subclass;
    m_config[0x0B] = id.class_code;
    set_config_word(pci::SUBSYSTEM_VENDOR, id.subsystem_vendor);
    set_config_word(pci::SUBSYSTEM_VENDOR + 2, id.subsystem);
    // Command: I/O, memory, bus master, SERR, INTx disable are writable.
    m_write_mask[pci::COMMAND] = 0x07;
    m_write_mask[pci::COMMAND + 1] = 0x05;
    m_write_mask[0x0D] = 0xFF; // latency timer
    m_write_mask[pci::INTERRUPT_LINE] = 0xFF;
    m_reset_config = m_config;
}

void PciDevice::declare_bar(unsigned index, BarKind kind, u32 size) {
    if (index >= pci::BAR_COUNT || !std::has_single_bit(size)) return;
    if (kind == BarKind::Io) size = std::max<u32>(size, 4);
    if (kind == BarKind::Memory32) size = std::max<u32>(size, 16);
    m_bars[index] = {kind, size, false, 0};
    u32 low_bits = kind == BarKind::Io ? 1u : 0u;
    u32 mask = ~(size - 1) & (kind == BarKind::Io ? 0xFFFF'FFFC : 0xFFFF'FFF0);
    u8 off = bar_offset(index);
    set_config_dword(off, low_bits);
    for (unsigned i = 0; i < 4; ++i)
        m_write_mask[off + i] = static_cast<u8>(mask >> (8 * i));
    m_reset_config = m_config;
}

void PciDevice::declare_rom(std::span<u8 const> image) {
    if (image.empty()) return;
    u32 size = std::bit_ceil(static_cast<u32>(std::max<std::size_t>(image.size(), 2048)));
    m_rom = image;
    m_bars[ROM_INDEX] = {BarKind::Rom, size, false, 0};
    u32 mask = ~(size - 1) | 1u; // address bits and the enable bit
    for (unsigned i = 0; i < 4; ++i)
        m_write_mask[pci::ROM_BAR + i] = static_cast<u8>(mask >> (8 * i));
    m_reset_config = m_config;
}

void PciDevice::snapshot_reset_state() {
    m_reset_config = m_config;
}

void PciDevice::set_interrupt_pin(u8 pin) {
    m_config[pci::INTERRUPT_PIN] = pin <= 4 ? pin : 0;
    m_reset_config = m_config;
}

void PciDevice::attach_to(PciBus& bus, u8 device_number, u8 function) {
    m_bus = &bus;
    m_device_number = device_number;
    m_function = function;
}

u16 PciDevice::config_word(u8 offset) const {
    return static_cast<u16>(m_config[offset] | m_config[(offset + 1) & 0xFF] << 8);
}
u32 PciDevice::config_dword(u8 offset) const {
    return config_word(offset) | u32(config_word(static_cast<u8>(offset + 2))) << 16;
}
void PciDevice::set_config_word(u8 offset, u16 value) {
    m_config[offset] = static_cast<u8>(value);
    m_config[(offset + 1) & 0xFF] = static_cast<u8>(value >> 8);
}
void PciDevice::set_config_dword(u8 offset, u32 value) {
    set_config_word(offset, static_cast<u16>(value));
    set_config_word(static_cast<u8>(offset + 2), static_cast<u16>(value >> 16));
}
u16 PciDevice::command() const {
    return config_word(pci::COMMAND);
}

u32 PciDevice::config_read(u8 offset, Width width) {
    u32 value = 0;
    for (unsigned i = 0; i < width_bytes(width) && offset + i < 256; ++i)
        value |= u32(m_config[offset + i]) << (8 * i);
    return value;
}

void PciDevice::config_write(u8 offset, Width width, u32 value) {
    for (unsigned i = 0; i < width_bytes(width) && offset + i < 256; ++i) {
        u8 mask = m_write_mask[offset + i];
        u8 byte = static_cast<u8>(value >> (8 * i));
        m_config[offset + i] = static_cast<u8>((m_config[offset + i] & ~mask) | (byte & mask));
    }
    // Status error bits (8, 11-15) are write-one-to-clear: take them from
    // each byte written at 0x06/0x07.
    u16 clear = 0;
    for (unsigned i = 0; i < width_bytes(width); ++i) {
        unsigned at = offset + i;
        u8 byte = static_cast<u8>(value >> (8 * i));
        if (at == pci::STATUS + 1) clear = static_cast<u16>(clear | ((byte & 0xF9) << 8));
    }
    if (clear) set_config_word(pci::STATUS, config_word(pci::STATUS) & ~clear);
    bool touches_decode =
        offset < pci::BAR0 + 24 || (offset < pci::ROM_BAR + 4 && offset + width_bytes(width) > pci::ROM_BAR);
    if (touches_decode) update_mappings();
    if (offset <= pci::COMMAND + 1 && offset + width_bytes(width) > pci::COMMAND + 1)
        set_irq_level(m_irq_level);
    config_written(offset, width);
}

u32 PciDevice::bar_address(unsigned index) const {
    u32 raw = config_dword(bar_offset(index));
    switch (m_bars[index].kind) {
    case BarKind::Io:
        return raw & 0xFFFF'FFFC;
    case BarKind::Memory32:
        return raw & 0xFFFF'FFF0;
    case BarKind::Rom:
        return raw & 0xFFFF'F800;
    }
    return 0;
}

void PciDevice::unmap_bar(unsigned index) {
    Bar& bar = m_bars[index];
    if (!bar.mapped || !m_bus) return;
    switch (bar.kind) {
    case BarKind::Io:
        m_bus->io().unmap(static_cast<Port>(bar.mapped_base), *this);
        break;
    case BarKind::Memory32:
        m_bus->memory().unmap_mmio(bar.mapped_base, *this);
        break;
    case BarKind::Rom:
        m_bus->memory().unmap_rom(this);
        break;
    }
    bar.mapped = false;
}

void PciDevice::update_mappings() {
    if (!m_bus) return;
    u16 cmd = command();
    for (unsigned i = 0; i <= ROM_INDEX; ++i) {
        Bar& bar = m_bars[i];
        if (bar.size == 0) continue;
        u32 base = bar_address(i);
        bool enabled = false;
        switch (bar.kind) {
        case BarKind::Io:
            // Port 0 and ranges past 64 KiB are "not yet assigned".
            enabled = (cmd & pci::COMMAND_IO) && base != 0 && u64(base) + bar.size <= 0x10000;
            break;
        case BarKind::Memory32:
            enabled = (cmd & pci::COMMAND_MEMORY) && base != 0 && u64(base) + bar.size <= MemoryMap::FOUR_GIB;
            break;
        case BarKind::Rom:
            enabled = (cmd & pci::COMMAND_MEMORY) && (m_config[pci::ROM_BAR] & 1) && base != 0 &&
                      u64(base) + bar.size <= MemoryMap::FOUR_GIB;
            break;
        }
        if (bar.mapped && (!enabled || bar.mapped_base != base)) unmap_bar(i);
        if (!enabled || bar.mapped) continue;
        bool ok = false;
        switch (bar.kind) {
        case BarKind::Io:
            ok = m_bus->io().map(static_cast<Port>(base), bar.size, *this, WIDTH_ANY, 0);
            break;
        case BarKind::Memory32:
            ok = m_bus->memory().map_mmio(base, bar.size, *this, 0);
            break;
        case BarKind::Rom:
            ok = m_bus->memory().map_rom(base, m_rom, this);
            break;
        }
        if (ok) {
            bar.mapped = true;
            bar.mapped_base = base;
        } else {
            count_ignored();
        }
    }
}

void PciDevice::set_irq_level(bool high) {
    m_irq_level = high;
    u8 pin = m_config[pci::INTERRUPT_PIN];
    // Status bit 3: interrupt status, regardless of the disable bit.
    set_config_word(pci::STATUS, static_cast<u16>((config_word(pci::STATUS) & ~0x8) | (high ? 0x8 : 0)));
    if (!m_bus || pin == 0) return;
    bool effective = high && !(command() & pci::COMMAND_INTX_DISABLE);
    // Report changes only: the bus counts asserting functions per PIRQ.
    if (effective == m_intx_reported) return;
    m_intx_reported = effective;
    m_bus->intx_changed(*this, pin, effective);
}

void PciDevice::reset() {
    for (unsigned i = 0; i <= ROM_INDEX; ++i)
        unmap_bar(i);
    set_irq_level(false);
    m_config = m_reset_config;
}

void PciDevice::visit_pci_state(StateVisitor& v) {
    v.section("pci-config", 1);
    v.field("config", m_config);
    v.field("irq_level", m_irq_level);
}

void PciDevice::post_load() {
    for (unsigned i = 0; i <= ROM_INDEX; ++i)
        unmap_bar(i);
    update_mappings();
    set_irq_level(m_irq_level);
}

PciBus::PciBus(IoBus& io, MemoryMap& memory) : m_io(io), m_memory(memory) {}

bool PciBus::attach(u8 device_number, u8 function, PciDevice& device) {
    if (device_number >= 32 || function >= 8) return false;
    auto& slot = m_functions[device_number * 8 + function];
    if (slot) return false;
    slot = &device;
    device.attach_to(*this, device_number, function);
    return true;
}

PciDevice* PciBus::function_at(u8 device_number, u8 function) const {
    if (device_number >= 32 || function >= 8) return nullptr;
    return m_functions[device_number * 8 + function];
}

void PciBus::intx_changed(PciDevice& device, u8 pin, bool level) {
    // The PIIX board's swizzle: PIRQ = (device - 1 + pin - 1) mod 4, so
    // device 1 INTA is PIRQA. It must be the one the firmware describes:
    // SeaBIOS routes by it (pciinit.c piix_pci_slot_get_irq) and its ACPI
    // _PRT says slot 3 INTA is LNKC; an OS that moves LNKC then moves this
    // line. Several functions can share a PIRQ (wired-OR): count the
    // asserting ones.
    unsigned pirq = (device.device_number() + pin + 2) % 4;
    u8& count = m_pirq_count[pirq];
    if (level) {
        if (count < 0xFF) ++count;
    } else if (count > 0) {
        --count;
    }
    if (m_pirq_sink) m_pirq_sink(pirq, count > 0);
}

u32 PciBus::config_read(u8 device_number, u8 function, u8 offset, Width width) {
    PciDevice* dev = function_at(device_number, function);
    if (!dev) return width_mask(width); // no device: master abort, all ones
    return dev->config_read(offset, width) & width_mask(width);
}

void PciBus::config_write(u8 device_number, u8 function, u8 offset, Width width, u32 value) {
    if (PciDevice* dev = function_at(device_number, function)) dev->config_write(offset, width, value);
}

u32 PciBus::io_read(u16 offset, Width width) {
    if (offset < 4) {
        // Only a dword access at 0xCF8 is a config address cycle; narrower
        // ones fall through to the ISA bus (reset control at 0xCF9).
        if (offset == 0 && width == Width::Dword) return m_address;
        if (offset == 1 && width == Width::Byte && m_reset_control)
            return m_reset_control->io_read(CONFIG_ADDRESS + 1, width);
        return width_mask(width);
    }
    if (!(m_address & 0x8000'0000) || ((m_address >> 16) & 0xFF) != 0) return width_mask(width);
    u8 reg = static_cast<u8>((m_address & 0xFC) + (offset - 4));
    return config_read((m_address >> 11) & 0x1F, (m_address >> 8) & 7, reg, width);
}

void PciBus::io_write(u16 offset, Width width, u32 value) {
    if (offset < 4) {
        if (offset == 0 && width == Width::Dword) m_address = value & 0x80FF'FFFC;
        if (offset == 1 && width == Width::Byte && m_reset_control)
            m_reset_control->io_write(CONFIG_ADDRESS + 1, width, value);
        return;
    }
    if (!(m_address & 0x8000'0000) || ((m_address >> 16) & 0xFF) != 0) return;
    u8 reg = static_cast<u8>((m_address & 0xFC) + (offset - 4));
    config_write((m_address >> 11) & 0x1F, (m_address >> 8) & 7, reg, width, value);
}

void PciBus::visit_state(StateVisitor& v) {
    v.section("pci-bus", 1);
    v.field("address", m_address);
}

} // namespace vsa
