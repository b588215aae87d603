// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/persist/security_xml.h"

#include "services/persist/preferences_xml.h"

namespace vsa::services::persist {

using security::AccessEntry;
using security::SecurityDescriptor;

namespace {

// The largest of our files (options.xml) is capped at 4 MB.
XmlLimits const LIMITS{4 * 1024 * 1024, 32, 100'000};

ServiceResult<SecurityDescriptor> read_descriptor(PreferenceReader const& reader, pugi::xml_node section) {
    SecurityDescriptor descriptor;
    auto owner = TRY(reader.string(section, "owner", security::MAX_NAME_BYTES));
    if (!owner || owner->empty()) return Err{reader.illegal(section, "the owner is missing")};
    if (auto valid = security::validate_name(*owner); valid.is_error())
        return Err{reader.illegal(section.child("owner"), valid.error().message)};
    descriptor.owner = std::move(*owner);
    // Files from before the primary group: Administrators.
    if (auto group = TRY(reader.string(section, "group", security::MAX_NAME_BYTES));
        group && !group->empty()) {
        if (auto valid = security::validate_name(*group); valid.is_error())
            return Err{reader.illegal(section.child("group"), valid.error().message)};
        descriptor.group = std::move(*group);
    }
    auto list = section.child("access_control_list");
    for (auto node : list.children("entry")) {
        TRY(reader.id(node, 0, static_cast<long>(security::MAX_ENTRIES) - 1));
        auto name = TRY(reader.string(node, "name", security::MAX_NAME_BYTES));
        auto type = TRY(reader.integer(node, "type", 0, 1));
        auto rights = TRY(reader.integer(node, "rights", 0, security::ALL_RIGHTS));
        if (!name || !type || !rights) return Err{reader.illegal(node, "needs name, type and rights")};
        AccessEntry entry{std::move(*name), *security::ace_type_from(*type),
                          static_cast<security::RightMask>(*rights)};
        // Optional: the ACE flags and the special access-mask bits.
        entry.flags = static_cast<std::uint8_t>(TRY(reader.integer(node, "flags", 0, 255)).value_or(0));
        entry.special =
            static_cast<std::uint32_t>(TRY(reader.integer(node, "special", 0, 0xFFFF'FFFFL)).value_or(0));
        if (auto appended = descriptor.acl.append(std::move(entry)); appended.is_error())
            return Err{reader.illegal(node, appended.error().message)};
    }
    return descriptor;
}

void write_descriptor(pugi::xml_node section, SecurityDescriptor const& descriptor) {
    while (section.first_child())
        section.remove_child(section.first_child());
    set_string(section, "owner", descriptor.owner);
    set_string(section, "group", descriptor.group);
    auto list = ensure_child(section, "access_control_list");
    long id = 0;
    for (auto const& entry : descriptor.acl.entries()) {
        auto node = ensure_child_with_id(list, "entry", id++);
        set_string(node, "name", entry.name);
        set_integer(node, "type", static_cast<std::int64_t>(entry.type));
        set_integer(node, "rights", entry.rights);
        if (entry.flags) set_integer(node, "flags", entry.flags);
        if (entry.special) set_integer(node, "special", entry.special);
    }
}

pugi::xml_node find_disk(PreferenceReader const& reader, pugi::xml_node disks, std::string_view disk_path) {
    for (auto node : disks.children("disk")) {
        auto path = reader.string(node, "path", 4096);
        if (path.has_value() && path.value() && *path.value() == disk_path) return node;
    }
    return {};
}

} // namespace

ServiceResult<std::optional<SecurityDescriptor>> security_in(std::string_view text, std::string const& source,
                                                             std::string_view path) {
    auto xml = TRY(PreferencesXml::parse(text, source, LIMITS));
    auto section = find_path(xml.root(), path);
    if (!section) return std::optional<SecurityDescriptor>{};
    return std::optional<SecurityDescriptor>(TRY(read_descriptor(PreferenceReader(source), section)));
}

ServiceResult<std::string> with_security(std::string_view text, std::string const& source,
                                         std::string_view path, SecurityDescriptor const& descriptor) {
    auto xml = TRY(PreferencesXml::parse(text, source, LIMITS));
    write_descriptor(ensure_path(xml.root(), path), descriptor);
    return xml.serialize();
}

ServiceResult<std::optional<SecurityDescriptor>>
disk_security_in(std::string_view text, std::string const& source, std::string_view disk_path) {
    auto xml = TRY(PreferencesXml::parse(text, source, LIMITS));
    PreferenceReader reader(source);
    auto node = find_disk(reader, find_path(xml.root(), DISKS_SECURITY_PATH), disk_path);
    if (!node) return std::optional<SecurityDescriptor>{};
    return std::optional<SecurityDescriptor>(TRY(read_descriptor(reader, node)));
}

ServiceResult<std::string> with_disk_security(std::string_view text, std::string const& source,
                                              std::string_view disk_path,
                                              SecurityDescriptor const& descriptor) {
    auto xml = TRY(PreferencesXml::parse(text, source, LIMITS));
    PreferenceReader reader(source);
    auto disks = ensure_path(xml.root(), DISKS_SECURITY_PATH);
    auto node = find_disk(reader, disks, disk_path);
    if (!node) {
        long next = 0;
        std::size_t count = 0;
        for (auto disk : disks.children("disk")) {
            ++count;
            next = std::max(next, disk.attribute("id").as_int() + 1L);
        }
        if (count >= MAX_DISK_DESCRIPTORS)
            return Err{
                ServiceError{hr::E_OUTOFMEMORY, "at most " + std::to_string(MAX_DISK_DESCRIPTORS) +
                                                    " virtual hard disks can have their own permissions"}};
        node = ensure_child_with_id(disks, "disk", next);
    }
    write_descriptor(node, descriptor);
    set_string(node, "path", disk_path);
    return xml.serialize();
}

} // namespace vsa::services::persist
