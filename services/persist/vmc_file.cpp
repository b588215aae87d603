// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/persist/vmc_file.h"

#include "services/model/vm_limits.h"
#include "services/persist/preferences_xml.h"
#include "services/version.h"

#include <charconv>
#include <cstring>

namespace vsa::services::persist {

namespace {

constexpr char const* HEADER = " Microsoft Virtual Machine Options and Settings ";
constexpr char const* IDE = "hardware/pci_bus/ide_adapter";
// Ours (the reference does not show Virtual Server's): scsi_controller id=N
// with is_bus_shared, scsi_id and location id=D children as the IDE ones.
constexpr char const* SCSI = "hardware/pci_bus/scsi_adapter";
constexpr char const* ETHERNET = "hardware/pci_bus/ethernet_adapter";
constexpr char const* SUPER_IO = "hardware/super_io";
constexpr std::size_t MAX_STRING = 64 * 1024;
constexpr std::size_t MAX_NOTES_BYTES = MAX_NOTES_CHARACTERS * 4;

bool is_drive_letter(std::string_view text) {
    return normalize_drive_letter(text).has_value();
}

// The file path a pathname element stands for (see the header), "" when it
// names nothing.
ServiceResult<std::string> read_pathname(PreferenceReader const& reader, pugi::xml_node pathname,
                                         std::filesystem::path const& folder) {
    if (!pathname) return std::string();
    auto absolute = TRY(reader.string(pathname, "absolute", MAX_STRING)).value_or("");
    auto relative = TRY(reader.string(pathname, "relative", MAX_STRING)).value_or("");
    if (!absolute.empty() && absolute.front() == '/') return absolute;
    if (absolute.empty() && relative.empty()) return std::string();
    if (!relative.empty()) {
        for (auto& c : relative)
            if (c == '\\') c = '/';
        while (relative.starts_with("./"))
            relative.erase(0, 2);
        if (relative.front() == '/') return relative;
        return (folder / relative).lexically_normal().string();
    }
    auto last = absolute.find_last_of("\\/");
    auto base = last == std::string::npos ? absolute : absolute.substr(last + 1);
    if (base.empty() || base == "." || base == "..")
        return reader.illegal(pathname, "cannot map \"" + absolute.substr(0, 80) + "\" to a file");
    return (folder / base).string();
}

void write_pathname(pugi::xml_node parent, char const* name, std::string const& path,
                    std::filesystem::path const& folder) {
    auto pathname = ensure_child(parent, name);
    set_string(pathname, "absolute", path);
    std::string relative;
    if (!path.empty() && path.front() == '/') {
        auto inside = std::filesystem::path(path).lexically_relative(folder);
        auto text = inside.string();
        if (!inside.empty() && !text.starts_with("..") && text.find('\\') == std::string::npos) {
            relative = ".\\" + text;
            for (auto& c : relative)
                if (c == '/') c = '\\';
        }
    }
    set_string(pathname, "relative", relative);
}

template <typename Enum>
ServiceResult<std::optional<Enum>> read_enum(PreferenceReader const& reader, pugi::xml_node parent,
                                             std::string_view path, std::int64_t min, std::int64_t max) {
    auto value = TRY(reader.integer(parent, path, min, max));
    if (!value) return std::optional<Enum>{};
    return std::optional<Enum>(static_cast<Enum>(*value));
}

ServiceResult<void> read_ide(PreferenceReader const& reader, pugi::xml_node root, VirtualMachine& vm) {
    auto adapter = find_path(root, IDE);
    for (auto controller : adapter.children("ide_controller")) {
        auto bus = TRY(reader.id(controller, 0, IDE_BUSES - 1));
        for (auto location_node : controller.children("location")) {
            auto device = TRY(reader.id(location_node, 0, IDE_DEVICES_PER_BUS - 1));
            BusLocation location{DriveBusType::Ide, static_cast<std::int32_t>(bus),
                                 static_cast<std::int32_t>(device)};
            auto type = TRY(reader.integer(location_node, "drive_type", 0, 2)).value_or(0);
            auto path = TRY(read_pathname(reader, location_node.child("pathname"), vm.folder()));
            auto fail = [&](ServiceError error) { return reader.illegal(location_node, error.message); };
            if (type == static_cast<std::int64_t>(DriveType::HardDisk)) {
                if (path.empty()) return reader.illegal(location_node, "a hard disk with no image path");
                if (auto added = vm.add_hard_disk_connection(path, location); added.is_error())
                    return fail(added.release_error());
                auto undo = TRY(read_pathname(reader, location_node.child("undo_pathname"), vm.folder()));
                if (!undo.empty()) TRY(vm.hard_disk_connection_at(location))->set_undo_disk_path(undo);
                if (TRY(reader.boolean(location_node, "undo_merge_started")).value_or(false) && !undo.empty())
                    TRY(vm.hard_disk_connection_at(location))->set_merge_started(true);
            } else if (type == static_cast<std::int64_t>(DriveType::Dvd)) {
                if (auto added = vm.add_dvd_drive(location); added.is_error())
                    return fail(added.release_error());
                auto* dvd = TRY(vm.dvd_drive_at(location));
                auto absolute =
                    TRY(reader.string(location_node, "pathname/absolute", MAX_STRING)).value_or("");
                // Ours say what the drive holds (VMDVDDriveAttachmentType);
                // Virtual Server's only have the path or drive letter.
                auto attachment = TRY(read_enum<DvdAttachment>(reader, location_node, "attachment", 0, 2));
                ServiceResult<void> attached;
                if (attachment == DvdAttachment::HostDrive || (!attachment && is_drive_letter(absolute)))
                    attached = dvd->attach_host_drive(absolute);
                else if (attachment != DvdAttachment::None && !path.empty())
                    attached = dvd->attach_image(path);
                if (attached.is_error()) return fail(attached.release_error());
            }
        }
    }
    return {};
}

ServiceResult<void> read_scsi(PreferenceReader const& reader, pugi::xml_node root, VirtualMachine& vm) {
    auto adapter = find_path(root, SCSI);
    for (auto controller : adapter.children("scsi_controller")) {
        auto id = TRY(reader.id(controller, 0, VmLimits::MAX_SCSI_CONTROLLERS - 1));
        ScsiController settings{.id = static_cast<std::int32_t>(id)};
        settings.bus_shared = TRY(reader.boolean(controller, "is_bus_shared")).value_or(false);
        settings.scsi_id = static_cast<std::int32_t>(
            TRY(reader.integer(controller, "scsi_id", 6, 7)).value_or(DEFAULT_SCSI_ID));
        if (auto added = vm.restore_scsi_controller(settings); added.is_error())
            return reader.illegal(controller, added.error().message);
        for (auto location_node : controller.children("location")) {
            auto device = TRY(reader.id(location_node, 0, SCSI_DEVICES - 1));
            BusLocation location{DriveBusType::Scsi, static_cast<std::int32_t>(id),
                                 static_cast<std::int32_t>(device)};
            auto path = TRY(read_pathname(reader, location_node.child("pathname"), vm.folder()));
            if (path.empty()) return reader.illegal(location_node, "a hard disk with no image path");
            if (auto added = vm.add_hard_disk_connection(path, location); added.is_error())
                return reader.illegal(location_node, added.error().message);
            auto undo = TRY(read_pathname(reader, location_node.child("undo_pathname"), vm.folder()));
            if (!undo.empty()) TRY(vm.hard_disk_connection_at(location))->set_undo_disk_path(undo);
            if (TRY(reader.boolean(location_node, "undo_merge_started")).value_or(false) && !undo.empty())
                TRY(vm.hard_disk_connection_at(location))->set_merge_started(true);
        }
    }
    return {};
}

ServiceResult<void> read_ethernet(PreferenceReader const& reader, pugi::xml_node root, VirtualMachine& vm) {
    auto adapter = find_path(root, ETHERNET);
    auto count =
        TRY(reader.integer(adapter, "controller_count", 0, VmLimits::MAX_NETWORK_ADAPTERS)).value_or(0);
    for (std::int64_t id = 0; id < count; ++id) {
        auto controller = child_with_id(adapter, "ethernet_controller", static_cast<long>(id));
        if (!controller)
            return reader.illegal(adapter, "controller_count is " + std::to_string(count) +
                                               " but ethernet_controller " + std::to_string(id) +
                                               " is missing");
        auto bytes = TRY(reader.bytes(controller, "ethernet_card_address", 6));
        MacAddress address;
        if (bytes) {
            auto parsed = MacAddress::from_bytes(*bytes);
            if (!parsed) return reader.illegal(controller.child("ethernet_card_address"), "expected 6 bytes");
            address = *parsed;
        }
        auto nic_id = TRY(vm.add_network_adapter(address));
        auto* nic = TRY(vm.network_adapter(nic_id));
        nic->set_ethernet_address_dynamic(
            TRY(reader.boolean(controller, "ethernet_card_address_is_dynamic")).value_or(true));
        auto network = controller.child("virtual_network");
        if (network) {
            auto network_id = TRY(reader.bytes(network, "id", 16));
            auto name = TRY(reader.string(network, "name", MAX_STRING)).value_or("");
            std::optional<Guid> guid;
            if (network_id && !network_id->empty()) {
                guid = Guid::from_bytes(*network_id);
                if (!guid) return reader.illegal(network.child("id"), "expected 16 bytes");
            }
            if (guid || !name.empty()) nic->attach({guid.value_or(Guid{}), name});
        }
    }
    return {};
}

ServiceResult<void> read_super_io(PreferenceReader const& reader, pugi::xml_node root, VirtualMachine& vm) {
    auto super_io = find_path(root, SUPER_IO);
    if (auto floppy = child_with_id(super_io, "floppy", 0)) {
        auto absolute = TRY(reader.string(floppy, "pathname/absolute", MAX_STRING)).value_or("");
        auto path = TRY(read_pathname(reader, floppy.child("pathname"), vm.folder()));
        ServiceResult<void> attached;
        if (is_drive_letter(absolute))
            attached = vm.floppy_drive().attach_host_drive(absolute);
        else if (!path.empty())
            attached = vm.floppy_drive().attach_image(path);
        if (attached.is_error()) return reader.illegal(floppy, attached.error().message);
    }
    for (std::int32_t id = 0; id < 2; ++id) {
        auto port = child_with_id(super_io, "serial_port", id);
        if (!port) continue;
        auto type = TRY(read_enum<SerialPortType>(reader, port, "type", 0, 3)).value_or(SerialPortType::Null);
        auto name = TRY(reader.string(port, "name", MAX_STRING)).value_or("");
        auto immediate = TRY(reader.boolean(port, "connect_immediately")).value_or(false);
        auto* serial = TRY(vm.serial_port(id));
        if (auto configured = serial->configure(type, name, immediate); configured.is_error())
            return reader.illegal(port, configured.error().message);
    }
    if (auto port = child_with_id(super_io, "parallel_port", 0)) {
        auto name = TRY(reader.string(port, "name", MAX_STRING)).value_or("");
        if (auto set = vm.parallel_port().set_name(name); set.is_error())
            return reader.illegal(port, set.error().message);
    }
    return {};
}

// CPU scheduling (scheduling.h) under settings/scheduling: the capacities
// as decimal text (percent of the host), the weight as an integer; no
// maximum_capacity key while the cap was never set. Checked as for a
// one-processor host: a file from a host with fewer processors loads.
constexpr char const* SCHEDULING = "settings/scheduling";

ServiceResult<std::optional<double>> read_percent(PreferenceReader const& reader, pugi::xml_node parent,
                                                  char const* key) {
    auto text = TRY(reader.string(parent, key, 64));
    if (!text) return std::optional<double>();
    double value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc{} || end != text->data() + text->size())
        return reader.illegal(parent.child(key), "not a number");
    return std::optional<double>(value);
}

ServiceResult<void> read_scheduling(PreferenceReader const& reader, pugi::xml_node root, VirtualMachine& vm) {
    auto node = find_path(root, SCHEDULING);
    if (!node) return {};
    SchedulingParameters parameters;
    parameters.reserved_percent = TRY(read_percent(reader, node, "reserved_capacity")).value_or(0.0);
    parameters.maximum_percent = TRY(read_percent(reader, node, "maximum_capacity"));
    parameters.relative_weight = static_cast<std::int32_t>(
        TRY(reader.integer(node, "relative_weight", SchedulingParameters::MIN_WEIGHT,
                           SchedulingParameters::MAX_WEIGHT))
            .value_or(SchedulingParameters::DEFAULT_WEIGHT));
    if (auto set = vm.set_scheduling(parameters, 1); set.is_error())
        return reader.illegal(node, set.error().message);
    return {};
}

std::string percent_text(double value) {
    char text[64];
    auto [end, ec] = std::to_chars(text, text + sizeof text, value);
    return ec == std::errc{} ? std::string(text, end) : std::string("0");
}

// A setter's error, re-labelled with the key it came from.
ServiceResult<void> keyed(PreferenceReader const& reader, pugi::xml_node root, std::string_view path,
                          ServiceResult<void> result) {
    if (result.is_error()) return reader.illegal(find_path(root, path), result.error().message);
    return {};
}

} // namespace

ServiceResult<VirtualMachine> parse_vmc(std::string_view bytes, std::filesystem::path const& file) {
    auto xml = TRY(PreferencesXml::parse(bytes, file.string(), XmlLimits{MAX_VMC_BYTES, 32, 100'000}));
    PreferenceReader reader(file.string());
    auto root = xml.root();

    VirtualMachine vm(file.stem().string(), file, Guid{});
    if (auto named = vm.set_name(file.stem().string()); named.is_error())
        return service_error(named.error().code, file.string() +
                                                     ": the file name is not a valid virtual "
                                                     "machine name: " +
                                                     named.error().message);

    if (auto id = TRY(reader.string(root, "settings/configuration/config_id", 64)); id && !id->empty()) {
        auto guid = Guid::parse(*id);
        if (!guid) return reader.illegal(find_path(root, "settings/configuration/config_id"), "not a GUID");
        vm.set_config_id(*guid);
    }
    if (auto memory = TRY(reader.integer(root, "hardware/memory/ram_size", VmLimits::MIN_MEMORY_MB,
                                         VmLimits::MAX_MEMORY_MB)))
        TRY(vm.set_memory_mb(*memory));
    if (auto notes = TRY(reader.string(root, "settings/notes", MAX_NOTES_BYTES)))
        TRY(keyed(reader, root, "settings/notes", vm.set_notes(*notes)));

    TRY(read_ide(reader, root, vm));
    TRY(read_scsi(reader, root, vm));
    TRY(read_ethernet(reader, root, vm));
    TRY(read_super_io(reader, root, vm));
    TRY(read_scheduling(reader, root, vm));

    auto bios = find_path(root, "hardware/bios");
    if (auto value = TRY(reader.string(bios, "bios_guid", 64)))
        TRY(keyed(reader, bios, "bios_guid", vm.set_bios_guid(*value)));
    if (auto value = TRY(reader.string(bios, "bios_serial_number", 64)))
        TRY(keyed(reader, bios, "bios_serial_number", vm.set_bios_serial_number(*value)));
    if (auto value = TRY(reader.string(bios, "base_board/serial_number", 64)))
        TRY(keyed(reader, bios, "base_board/serial_number", vm.set_base_board_serial_number(*value)));
    if (auto value = TRY(reader.string(bios, "chassis/serial_number", 64)))
        TRY(keyed(reader, bios, "chassis/serial_number", vm.set_chassis_serial_number(*value)));
    if (auto value = TRY(reader.string(bios, "chassis/asset_tag", 64)))
        TRY(keyed(reader, bios, "chassis/asset_tag", vm.set_chassis_asset_tag(*value)));
    if (auto value = TRY(reader.string(bios, "boot_order", 64))) {
        auto order = parse_boot_order(*value);
        if (order.is_error()) return reader.illegal(find_path(bios, "boot_order"), order.error().message);
        TRY(keyed(reader, bios, "boot_order", vm.set_boot_order(order.release_value())));
    }
    if (auto value = TRY(reader.boolean(bios, "num_lock")))
        TRY(keyed(reader, bios, "num_lock", vm.set_num_lock(*value)));

    auto microsoft = find_path(root, "integration/microsoft");
    HeartbeatSettings heartbeat;
    heartbeat.time_seconds = TRY(reader.integer(microsoft, "heartbeat/time", 1, 86'400)).value_or(60);
    heartbeat.rate = TRY(reader.integer(microsoft, "heartbeat/rate", 1, 86'400)).value_or(10);
    heartbeat.failure_interval =
        TRY(reader.integer(microsoft, "heartbeat/failure_interval", 1, 86'400)).value_or(10);
    heartbeat.failure_attempts =
        TRY(reader.integer(microsoft, "heartbeat/failure_attempts", 0, 10'000)).value_or(12);
    TRY(keyed(reader, microsoft, "heartbeat", vm.guest_os().set_heartbeat(heartbeat)));
    vm.guest_os().set_host_time_sync_enabled(
        TRY(reader.boolean(microsoft, "host_time_sync/enabled")).value_or(true));
    vm.guest_os().set_additions_version(
        TRY(reader.string(microsoft, "version/additions_number", 256)).value_or(""));

    auto settings = root.child("settings");
    if (auto undoable = TRY(reader.boolean(settings, "undo_drives/enabled"))) TRY(vm.set_undoable(*undoable));
    if (auto action = TRY(read_enum<UndoAction>(reader, settings, "undo_drives/default_action", 0, 2)))
        TRY(vm.set_undo_action(*action));
    if (auto action = TRY(read_enum<ShutdownAction>(reader, settings, "shutdown/quit/action", 0, 2)))
        TRY(vm.set_shutdown_action(*action));
    vm.set_was_running_at_quit(TRY(reader.boolean(settings, "shutdown/quit/was_running")).value_or(false));
    if (auto type = TRY(read_enum<AutoStartType>(reader, settings, "startup/automatic/type", 0, 2)))
        TRY(vm.set_autostart(*type));
    if (auto delay = TRY(reader.integer(settings, "startup/automatic/delay", 0, 86'400)))
        TRY(vm.set_autostart_delay_seconds(*delay));
    vm.set_run_as_defined_account(TRY(reader.boolean(settings, "run_as/enabled")).value_or(false));
    if (auto account = TRY(reader.string(settings, "run_as/account_name", 256)))
        TRY(keyed(reader, settings, "run_as/account_name", vm.set_account_name(*account)));

    vm.set_preserved_xml(std::string(bytes));
    return vm;
}

ServiceResult<VirtualMachine> read_vmc(std::filesystem::path const& file) {
    auto bytes = TRY(read_file_capped(file, MAX_VMC_BYTES));
    return parse_vmc(bytes, file);
}

ServiceResult<std::string> serialize_vmc(VirtualMachine const& vm) {
    std::optional<PreferencesXml> parsed;
    if (!vm.preserved_xml().empty()) {
        auto reparsed = PreferencesXml::parse(vm.preserved_xml(), vm.file().string(),
                                              XmlLimits{MAX_VMC_BYTES, 32, 100'000});
        // The text parsed when it was read; if it does not now, start afresh
        // rather than refuse to save the configuration.
        if (reparsed.has_value()) parsed.emplace(reparsed.release_value());
    }
    if (!parsed) parsed.emplace(HEADER);
    auto root = parsed->root();
    auto folder = vm.folder();

    if (!root.child("version")) set_string(root, "version", "2.0");
    set_string(root, "properties/modifier/name", std::string(PRODUCT_NAME));
    set_string(root, "properties/modifier/build", version_string());

    set_integer(root, "hardware/memory/ram_size", vm.memory_mb());

    auto ide = ensure_path(root, IDE);
    while (auto controller = ide.child("ide_controller"))
        ide.remove_child(controller);
    auto scsi = ensure_path(root, SCSI);
    while (auto controller = scsi.child("scsi_controller"))
        scsi.remove_child(controller);
    for (auto const& c : vm.scsi_controllers()) {
        auto controller = ensure_child_with_id(scsi, "scsi_controller", c.id);
        set_boolean(controller, "is_bus_shared", c.bus_shared);
        set_integer(controller, "scsi_id", c.scsi_id);
    }
    for (auto const& disk : vm.hard_disk_connections()) {
        bool on_scsi = disk.location().bus_type == DriveBusType::Scsi;
        auto location = ensure_child_with_id(
            ensure_child_with_id(on_scsi ? scsi : ide, on_scsi ? "scsi_controller" : "ide_controller",
                                 disk.location().bus),
            "location", disk.location().device);
        set_integer(location, "drive_type", static_cast<int>(DriveType::HardDisk));
        write_pathname(location, "pathname", disk.disk_path(), folder);
        if (!disk.undo_disk_path().empty())
            write_pathname(location, "undo_pathname", disk.undo_disk_path(), folder);
        if (disk.merge_started()) set_boolean(location, "undo_merge_started", true);
    }
    for (auto const& dvd : vm.dvd_drives()) {
        auto location = ensure_child_with_id(ensure_child_with_id(ide, "ide_controller", dvd.location().bus),
                                             "location", dvd.location().device);
        set_integer(location, "drive_type", static_cast<int>(DriveType::Dvd));
        set_integer(location, "attachment", static_cast<int>(dvd.attachment()));
        if (dvd.attachment() == DvdAttachment::HostDrive) {
            set_string(location, "pathname/absolute", dvd.host_drive_letter());
            set_string(location, "pathname/relative", "");
        } else {
            write_pathname(location, "pathname", dvd.image_file(), folder);
        }
    }

    auto ethernet = ensure_path(root, ETHERNET);
    while (auto controller = ethernet.child("ethernet_controller"))
        ethernet.remove_child(controller);
    set_integer(ethernet, "controller_count", static_cast<std::int64_t>(vm.network_adapters().size()));
    for (auto const& nic : vm.network_adapters()) {
        auto controller = ensure_child_with_id(ethernet, "ethernet_controller", nic.id());
        if (nic.virtual_network()) {
            set_bytes(controller, "virtual_network/id", nic.virtual_network()->id.bytes());
            set_string(controller, "virtual_network/name", nic.virtual_network()->name);
        }
        set_bytes(controller, "ethernet_card_address", nic.ethernet_address().bytes());
        set_boolean(controller, "ethernet_card_address_is_dynamic", nic.is_ethernet_address_dynamic());
    }

    auto super_io = ensure_path(root, SUPER_IO);
    auto floppy = ensure_child_with_id(super_io, "floppy", 0);
    switch (vm.floppy_drive().attachment()) {
    case FloppyAttachment::HostDrive:
        set_string(floppy, "pathname/absolute", vm.floppy_drive().host_drive_letter());
        set_string(floppy, "pathname/relative", "");
        break;
    case FloppyAttachment::Image:
        write_pathname(floppy, "pathname", vm.floppy_drive().image_file(), folder);
        break;
    case FloppyAttachment::None:
        write_pathname(floppy, "pathname", "", folder);
        break;
    }
    for (auto const& serial : vm.serial_ports()) {
        auto port = ensure_child_with_id(super_io, "serial_port", serial.id());
        set_integer(port, "type", static_cast<int>(serial.type()));
        set_string(port, "name", serial.name());
        set_boolean(port, "connect_immediately", serial.connect_immediately());
    }
    set_string(ensure_child_with_id(super_io, "parallel_port", 0), "name", vm.parallel_port().name());

    auto bios = ensure_path(root, "hardware/bios");
    set_string(bios, "bios_guid", vm.bios_guid());
    set_string(bios, "bios_serial_number", vm.bios_serial_number());
    set_string(bios, "base_board/serial_number", vm.base_board_serial_number());
    set_string(bios, "chassis/serial_number", vm.chassis_serial_number());
    set_string(bios, "chassis/asset_tag", vm.chassis_asset_tag());
    set_string(bios, "boot_order", format_boot_order(vm.bios().boot_order));
    set_boolean(bios, "num_lock", vm.bios().num_lock);

    auto microsoft = ensure_path(root, "integration/microsoft");
    auto const& heartbeat = vm.guest_os().heartbeat();
    set_integer(microsoft, "heartbeat/time", heartbeat.time_seconds);
    set_integer(microsoft, "heartbeat/rate", heartbeat.rate);
    set_integer(microsoft, "heartbeat/failure_interval", heartbeat.failure_interval);
    set_integer(microsoft, "heartbeat/failure_attempts", heartbeat.failure_attempts);
    set_boolean(microsoft, "host_time_sync/enabled", vm.guest_os().is_host_time_sync_enabled());
    set_string(microsoft, "version/additions_number", vm.guest_os().additions_version());

    auto settings = ensure_child(root, "settings");
    set_string(settings, "notes", vm.notes());
    set_string(settings, "configuration/config_id",
               vm.config_id().is_null() ? "" : vm.config_id().to_string());
    write_pathname(ensure_path(settings, "configuration/saved_state"), "path", vm.saved_state_file().string(),
                   folder);
    set_boolean(settings, "undo_drives/enabled", vm.undoable());
    set_integer(settings, "undo_drives/default_action", static_cast<int>(vm.undo_action()));
    set_integer(settings, "shutdown/quit/action", static_cast<int>(vm.shutdown_action()));
    set_boolean(settings, "shutdown/quit/was_running", vm.was_running_at_quit());
    set_integer(settings, "startup/automatic/type", static_cast<int>(vm.autostart()));
    set_integer(settings, "startup/automatic/delay", vm.autostart_delay_seconds());
    set_boolean(settings, "run_as/enabled", vm.run_as_defined_account());
    set_string(settings, "run_as/account_name", vm.account_name());
    auto scheduling = ensure_path(root, SCHEDULING);
    set_string(scheduling, "reserved_capacity", percent_text(vm.scheduling().reserved_percent));
    if (vm.scheduling().maximum_percent)
        set_string(scheduling, "maximum_capacity", percent_text(*vm.scheduling().maximum_percent));
    else if (auto stale = scheduling.child("maximum_capacity"))
        scheduling.remove_child(stale);
    set_integer(scheduling, "relative_weight", vm.scheduling().relative_weight);

    return parsed->serialize();
}

ServiceResult<void> write_vmc(VirtualMachine const& vm, AtomicWriteHooks const& hooks) {
    auto text = TRY(serialize_vmc(vm));
    return write_file_atomically(vm.file(), text, hooks);
}

} // namespace vsa::services::persist
