// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/inventory.h"

#include "services/model/names.h"
#include "services/persist/security_xml.h"
#include "services/persist/vmc_file.h"
#include "services/persist/vnc_file.h"
#include "services/storage/vhd_operations.h"

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <set>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace vsa::services {

namespace {

bool path_exists(std::filesystem::path const& path) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0;
}

bool is_folder(std::filesystem::path const& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::string strip_extension(std::string_view name, std::string_view extension) {
    if (name.size() > extension.size() && fold_name(name.substr(name.size() - extension.size())) == extension)
        name.remove_suffix(extension.size());
    return std::string(name);
}

// Every image path a VM refers to (disks, undo disks, ISOs, floppy image)
// and the files its COM and LPT ports write.
std::vector<std::string> media_paths(VirtualMachine const& vm) {
    std::vector<std::string> paths;
    for (auto const& disk : vm.hard_disk_connections()) {
        paths.push_back(disk.disk_path());
        if (!disk.undo_disk_path().empty()) paths.push_back(disk.undo_disk_path());
    }
    for (auto const& dvd : vm.dvd_drives())
        if (dvd.attachment() == DvdAttachment::Image) paths.push_back(dvd.image_file());
    if (vm.floppy_drive().attachment() == FloppyAttachment::Image)
        paths.push_back(vm.floppy_drive().image_file());
    // Port files (not host devices or TCP targets, which are no files).
    for (auto const& port : vm.serial_ports())
        if (auto file = serial_port_file(port)) paths.push_back(*file);
    if (vm.parallel_port().name().starts_with('/')) paths.push_back(vm.parallel_port().name());
    return paths;
}

} // namespace

Inventory::Inventory(Options options) : m_options(std::move(options)), m_random(std::random_device{}()) {}

ServiceResult<std::unique_ptr<Inventory>> Inventory::open(Options options) {
    if (options.data_dir.empty() || !options.data_dir.is_absolute())
        return service_error(hr::E_BAD_PATHNAME, "the data folder must be an absolute path");
    std::error_code ec;
    std::filesystem::create_directories(options.data_dir, ec);
    if (ec)
        return service_error(hr::E_FAIL, "cannot create " + options.data_dir.string() + ": " + ec.message());
    if (options.default_vm_path.empty()) options.default_vm_path = options.data_dir / "Virtual Machines";
    if (options.default_vn_path.empty()) options.default_vn_path = options.data_dir / "Virtual Networks";
    std::unique_ptr<Inventory> inventory(new Inventory(std::move(options)));
    std::unique_lock lock(inventory->m_mutex);
    TRY(inventory->load());
    return inventory;
}

ServiceResult<void> Inventory::load() {
    remove_stale_temporaries(m_options.data_dir);
    auto stored = TRY(persist::read_server_options(options_file()));
    bool first_start = !stored;
    persist::ServerOptions options;
    if (stored) {
        options = std::move(*stored);
    } else {
        options.default_vm_path = m_options.default_vm_path.string();
        options.default_vn_path = m_options.default_vn_path.string();
    }
    if (options.default_vm_path.empty()) options.default_vm_path = m_options.default_vm_path.string();
    if (options.default_vn_path.empty()) options.default_vn_path = m_options.default_vn_path.string();
    for (auto const& folder : {options.default_vm_path, options.default_vn_path}) {
        std::error_code ec;
        std::filesystem::create_directories(folder, ec);
        if (ec) return service_error(hr::E_FAIL, "cannot create " + folder + ": " + ec.message());
    }
    m_default_vm_path = options.default_vm_path;
    m_default_vn_path = options.default_vn_path;
    m_search_paths.assign(options.search_paths.begin(), options.search_paths.end());
    m_options_preserved_xml = options.preserved_xml;
    rebuild_policy();

    for (auto const& file : options.virtual_networks) {
        auto network = persist::read_vnc(file);
        if (network.is_error()) {
            m_warnings.push_back("virtual network " + file + " is not available: " + network.error().message);
            m_broken_network_files.push_back(file);
            continue;
        }
        auto loaded = network.release_value();
        if (loaded.id().is_null() || find_network(loaded.id()) || network_name_taken(loaded.name(), Guid{})) {
            m_warnings.push_back("virtual network " + file +
                                 " duplicates the id or name of another; skipped");
            m_broken_network_files.push_back(file);
            continue;
        }
        remove_stale_temporaries(loaded.file().parent_path());
        m_networks.push_back(std::move(loaded));
    }
    for (auto const& file : options.virtual_machines) {
        auto vm = persist::read_vmc(file);
        if (vm.is_error()) {
            m_warnings.push_back("virtual machine " + file + " is not available: " + vm.error().message);
            m_broken_vm_files.push_back(file);
            continue;
        }
        auto loaded = vm.release_value();
        if (auto confined = check_media_paths(loaded, nullptr); confined.is_error()) {
            m_warnings.push_back("virtual machine " + file +
                                 " is not available: " + confined.error().message);
            m_broken_vm_files.push_back(file);
            continue;
        }
        if (vm_name_taken(loaded.name(), Guid{})) {
            m_warnings.push_back("virtual machine " + file + " has the name of another; skipped");
            m_broken_vm_files.push_back(file);
            continue;
        }
        if (adopt(loaded)) {
            if (auto written = persist::write_vmc(loaded, m_options.write_hooks); written.is_error())
                m_warnings.push_back("cannot update " + file + ": " + written.error().message);
        }
        remove_stale_temporaries(loaded.folder());
        loaded.set_state(path_exists(loaded.saved_state_file()) ? VmState::Saved : VmState::TurnedOff);
        m_vms.push_back(std::move(loaded));
    }
    if (first_start) TRY(write_options(current_options()));
    return {};
}

std::vector<std::string> Inventory::load_warnings() const {
    std::shared_lock lock(m_mutex);
    return m_warnings;
}

persist::ServerOptions Inventory::current_options() const {
    persist::ServerOptions options;
    options.default_vm_path = m_default_vm_path.string();
    options.default_vn_path = m_default_vn_path.string();
    for (auto const& path : m_search_paths)
        options.search_paths.push_back(path.string());
    for (auto const& vm : m_vms)
        options.virtual_machines.push_back(vm.file().string());
    options.virtual_machines.insert(options.virtual_machines.end(), m_broken_vm_files.begin(),
                                    m_broken_vm_files.end());
    for (auto const& network : m_networks)
        options.virtual_networks.push_back(network.file().string());
    options.virtual_networks.insert(options.virtual_networks.end(), m_broken_network_files.begin(),
                                    m_broken_network_files.end());
    options.preserved_xml = m_options_preserved_xml;
    return options;
}

ServiceResult<void> Inventory::write_options(persist::ServerOptions const& options) {
    return persist::write_server_options(options_file(), options, m_options.write_hooks);
}

void Inventory::rebuild_policy() {
    std::vector<std::filesystem::path> roots{m_default_vm_path, m_default_vn_path};
    roots.insert(roots.end(), m_search_paths.begin(), m_search_paths.end());
    m_policy = PathPolicy(roots);
}

PathPolicy Inventory::path_policy() const {
    std::shared_lock lock(m_mutex);
    return m_policy;
}

std::filesystem::path Inventory::default_vm_path() const {
    std::shared_lock lock(m_mutex);
    return m_default_vm_path;
}

std::filesystem::path Inventory::default_vn_path() const {
    std::shared_lock lock(m_mutex);
    return m_default_vn_path;
}

std::vector<std::filesystem::path> Inventory::search_paths() const {
    std::shared_lock lock(m_mutex);
    return m_search_paths;
}

ServiceResult<std::filesystem::path> Inventory::checked_root(std::string_view text) const {
    std::filesystem::path path(text);
    if (text.empty() || !path.is_absolute())
        return service_error(hr::E_BAD_PATHNAME,
                             "\"" + std::string(text) + "\": an absolute path is required");
    if (auto valid = validate_stored_path(std::string(text), "folder"); valid.is_error())
        return valid.release_error();
    for (auto const& part : path)
        if (part == "..")
            return service_error(hr::E_ACCESSDENIED, "\"" + std::string(text) + "\" contains \"..\"");
    if (!is_folder(path))
        return service_error(hr::E_PATH_NOT_FOUND, "\"" + std::string(text) + "\" is not an existing folder");
    auto canonical = TRY(PathPolicy::canonicalize(path));
    auto data = TRY(PathPolicy::canonicalize(m_options.data_dir));
    PathPolicy root_only({canonical});
    if (canonical == "/" || root_only.contains(data))
        return service_error(hr::E_ACCESSDENIED, canonical.string() +
                                                     " would expose the server's own data folder " +
                                                     data.string() + "; choose a folder beside or below it");
    return canonical;
}

ServiceResult<void> Inventory::set_default_vm_path(std::string_view text) {
    std::unique_lock lock(m_mutex);
    auto path = TRY(checked_root(text));
    auto options = current_options();
    options.default_vm_path = path.string();
    TRY(write_options(options));
    m_default_vm_path = path;
    rebuild_policy();
    notify(InventoryChange::Kind::ServerOptions, Guid{}, {}, VmState::TurnedOff,
           "DefaultVMConfigurationPath is now " + path.string());
    return {};
}

ServiceResult<void> Inventory::set_search_paths(std::vector<std::string> const& paths) {
    std::unique_lock lock(m_mutex);
    if (paths.size() > persist::MAX_SEARCH_PATHS)
        return service_error(hr::E_INVALIDARG,
                             "at most " + std::to_string(persist::MAX_SEARCH_PATHS) + " search paths");
    std::vector<std::filesystem::path> checked;
    for (auto const& path : paths)
        checked.push_back(TRY(checked_root(path)));
    auto options = current_options();
    options.search_paths.clear();
    for (auto const& path : checked)
        options.search_paths.push_back(path.string());
    TRY(write_options(options));
    m_search_paths = std::move(checked);
    rebuild_policy();
    notify(InventoryChange::Kind::ServerOptions, Guid{}, {}, VmState::TurnedOff, "SearchPaths changed");
    return {};
}

void Inventory::notify(InventoryChange::Kind kind, Guid const& id, std::string name, VmState state,
                       std::string detail) const {
    if (m_observer) m_observer(InventoryChange{kind, id, std::move(name), state, std::move(detail)});
}

namespace {

// What each removable-media drive of a VM holds (an image's path, a host
// drive's id, or nothing), keyed by the drive's reference tail.
std::vector<std::pair<std::string, std::string>> media_of(VirtualMachine const& vm) {
    std::vector<std::pair<std::string, std::string>> media;
    for (auto const& drive : vm.dvd_drives()) {
        auto held = drive.attachment() == DvdAttachment::Image       ? drive.image_file()
                    : drive.attachment() == DvdAttachment::HostDrive ? drive.host_drive_letter()
                                                                     : std::string();
        media.emplace_back("/dvd/" + std::to_string(drive.location().bus) + ":" +
                               std::to_string(drive.location().device),
                           held);
    }
    auto const& floppy = vm.floppy_drive();
    media.emplace_back("/fdd/0", floppy.attachment() == FloppyAttachment::Image ? floppy.image_file()
                                 : floppy.attachment() == FloppyAttachment::HostDrive
                                     ? floppy.host_drive_letter()
                                     : std::string());
    return media;
}

} // namespace

void Inventory::notify_media(VirtualMachine const& before, VirtualMachine const& after) const {
    if (!m_observer) return;
    auto old_media = media_of(before);
    for (auto const& [drive, now] : media_of(after)) {
        std::string was;
        for (auto const& [old_drive, held] : old_media)
            if (old_drive == drive) was = held;
        if (was == now) continue;
        if (!was.empty())
            m_observer(InventoryChange{InventoryChange::Kind::MediaEjected, after.config_id(), after.name(),
                                       after.state(), was, drive});
        if (!now.empty())
            m_observer(InventoryChange{InventoryChange::Kind::MediaInserted, after.config_id(), after.name(),
                                       after.state(), now, drive});
    }
}

VirtualMachine* Inventory::find_vm(Guid const& id) {
    for (auto& vm : m_vms)
        if (vm.config_id() == id) return &vm;
    return nullptr;
}

VirtualNetwork* Inventory::find_network(Guid const& id) {
    for (auto& network : m_networks)
        if (network.id() == id) return &network;
    return nullptr;
}

bool Inventory::vm_name_taken(std::string_view name, Guid const& except) const {
    return std::any_of(m_vms.begin(), m_vms.end(), [&](VirtualMachine const& vm) {
        return vm.config_id() != except && names_equal(vm.name(), name);
    });
}

bool Inventory::network_name_taken(std::string_view name, Guid const& except) const {
    return std::any_of(m_networks.begin(), m_networks.end(), [&](VirtualNetwork const& network) {
        return network.id() != except && names_equal(network.name(), name);
    });
}

bool Inventory::mac_taken(MacAddress const& address, Guid const& vm_id, std::int32_t adapter) const {
    for (auto const& vm : m_vms)
        for (auto const& nic : vm.network_adapters())
            if (nic.ethernet_address() == address && !(vm.config_id() == vm_id && nic.id() == adapter))
                return true;
    return false;
}

MacAddress Inventory::draw_unique_mac(Guid const& vm, std::int32_t adapter) {
    // 2^24 addresses and at most a few thousand NICs: a collision is rare
    // and the loop ends after a handful of draws.
    for (;;) {
        auto address = MacAddress::generate_dynamic(m_random);
        if (address.is_assignable() && !mac_taken(address, vm, adapter)) return address;
    }
}

bool Inventory::adopt(VirtualMachine& vm) {
    bool changed = false;
    if (vm.config_id().is_null() || find_vm(vm.config_id())) {
        vm.set_config_id(Guid::random(m_random));
        changed = true;
    }
    std::set<std::array<std::uint8_t, 6>> seen;
    for (auto const& nic : vm.network_adapters()) {
        auto* adapter = vm.network_adapter(nic.id()).value();
        bool collides = !seen.insert(adapter->ethernet_address().octets()).second ||
                        mac_taken(adapter->ethernet_address(), vm.config_id(), adapter->id());
        if (adapter->is_ethernet_address_dynamic() &&
            (!adapter->ethernet_address().is_assignable() || collides)) {
            adapter->assign_address(draw_unique_mac(vm.config_id(), adapter->id()));
            seen.insert(adapter->ethernet_address().octets());
            changed = true;
        }
        if (auto const& reference = adapter->virtual_network()) {
            VirtualNetwork const* match = nullptr;
            for (auto const& network : m_networks)
                if (!reference->id.is_null() && network.id() == reference->id) match = &network;
            if (!match)
                for (auto const& network : m_networks)
                    if (names_equal(network.name(), reference->name)) match = &network;
            if (!match) {
                adapter->detach();
                changed = true;
            } else if (match->id() != reference->id || match->name() != reference->name) {
                adapter->attach({match->id(), match->name()});
                changed = true;
            }
        }
    }
    return changed;
}

ServiceResult<void> Inventory::check_media_paths(VirtualMachine const& vm,
                                                 VirtualMachine const* before) const {
    std::set<std::string> known;
    if (before)
        for (auto const& path : media_paths(*before))
            known.insert(path);
    for (auto const& path : media_paths(vm)) {
        if (known.count(path)) continue;
        auto resolved = TRY(m_policy.resolve(path));
        (void)resolved;
    }
    return {};
}

ServiceResult<void> Inventory::check_networks(VirtualMachine& vm) const {
    for (auto const& nic : vm.network_adapters()) {
        auto const& reference = nic.virtual_network();
        if (!reference) continue;
        auto it = std::find_if(m_networks.begin(), m_networks.end(),
                               [&](VirtualNetwork const& network) { return network.id() == reference->id; });
        if (it == m_networks.end())
            return service_error(hr::VM_E_INVALID_VIRTUAL_NETWORK_ID,
                                 "network adapter " + std::to_string(nic.id()) +
                                     " refers to a virtual network that is not registered");
        if (it->name() != reference->name)
            vm.network_adapter(nic.id()).value()->attach({it->id(), it->name()});
    }
    return {};
}

ServiceResult<void> Inventory::commit_vm(VirtualMachine& stored, VirtualMachine updated) {
    // A raw configuration write (vm_configuration.h) may change only keys
    // the model keeps as preserved text: that too must reach the file.
    if (updated.same_configuration(stored) && updated.preserved_xml() == stored.preserved_xml()) {
        stored = std::move(updated);
        return {};
    }
    if (updated.config_id() != stored.config_id())
        return service_error(hr::E_INVALIDARG, "ConfigID cannot change");
    if (updated.name() != stored.name()) {
        if (vm_name_taken(updated.name(), updated.config_id()))
            return service_error(hr::VM_E_CONFIG_DUPLICATE_NAME,
                                 "a virtual machine named \"" + updated.name() + "\" already exists");
        // As in Virtual Server, the .vmc follows the name; the folder stays.
        auto file = stored.folder() / (updated.name() + ".vmc");
        if (!names_equal(updated.name(), stored.name()) && path_exists(file))
            return service_error(hr::E_ALREADY_EXISTS, file.string() + " already exists");
        updated.set_file(file);
    }
    TRY(check_media_paths(updated, &stored));
    TRY(check_networks(updated));
    if (updated.file() == stored.file()) {
        TRY(persist::write_vmc(updated, m_options.write_hooks));
        VirtualMachine before = std::exchange(stored, std::move(updated));
        notify(InventoryChange::Kind::VmConfiguration, stored.config_id(), stored.name(), stored.state());
        notify_media(before, stored);
        return {};
    }
    // Rename: new file, then the options naming it, then drop the old file.
    TRY(persist::write_vmc(updated, m_options.write_hooks));
    auto old_file = stored.file();
    auto saved_state = stored.saved_state_file();
    auto options = current_options();
    std::replace(options.virtual_machines.begin(), options.virtual_machines.end(), old_file.string(),
                 updated.file().string());
    if (auto written = write_options(options); written.is_error()) {
        ::unlink(updated.file().c_str());
        return written.release_error();
    }
    ::unlink(old_file.c_str());
    if (path_exists(saved_state)) ::rename(saved_state.c_str(), updated.saved_state_file().c_str());
    (void)sync_directory(updated.folder());
    VirtualMachine before = std::exchange(stored, std::move(updated));
    notify(InventoryChange::Kind::VmConfiguration, stored.config_id(), stored.name(), stored.state(),
           "renamed from \"" + before.name() + "\"");
    notify_media(before, stored);
    return {};
}

ServiceResult<VirtualMachine> Inventory::update_virtual_machine(Guid const& id, VmChange const& change) {
    std::unique_lock lock(m_mutex);
    auto* stored = find_vm(id);
    if (!stored)
        return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    VirtualMachine copy = *stored;
    TRY(change(copy));
    TRY(commit_vm(*stored, std::move(copy)));
    return *stored;
}

ServiceResult<std::filesystem::path>
Inventory::config_file_for_create(std::string_view name, std::string_view folder,
                                  std::filesystem::path const& default_folder, char const* extension) const {
    std::filesystem::path file;
    if (name.empty()) {
        if (folder.empty()) return service_error(hr::VM_E_CONFIG_NO_NAME, "no name and no path given");
        file = TRY(m_policy.resolve(folder, {default_folder}));
        auto stem = strip_extension(file.filename().string(), extension);
        file = file.parent_path() / (stem + extension);
    } else {
        auto base = strip_extension(name, extension);
        TRY(validate_object_name(base));
        auto directory = folder.empty() ? TRY(m_policy.resolve(base, {default_folder}))
                                        : TRY(m_policy.resolve(folder, {default_folder}));
        file = directory / (base + extension);
    }
    TRY(validate_object_name(file.stem().string()));
    if (file.string().size() > MAX_PATH_BYTES)
        return service_error(hr::E_BUFFER_OVERFLOW, file.string() + " is too long");
    if (path_exists(file)) return service_error(hr::E_ALREADY_EXISTS, file.string() + " already exists");
    return file;
}

ServiceResult<std::filesystem::path>
Inventory::config_file_for_register(std::string_view name, std::string_view folder,
                                    std::filesystem::path const& default_folder,
                                    char const* extension) const {
    std::vector<std::filesystem::path> bases{default_folder};
    bases.insert(bases.end(), m_search_paths.begin(), m_search_paths.end());
    std::filesystem::path file;
    if (name.empty()) {
        if (folder.empty()) return service_error(hr::VM_E_CONFIG_NO_NAME, "no name and no path given");
        file = TRY(m_policy.resolve(folder, bases));
    } else {
        auto base = strip_extension(name, extension);
        TRY(validate_object_name(base));
        auto relative = folder.empty() ? std::string(base) + extension
                                       : (std::filesystem::path(folder) / (base + extension)).string();
        file = TRY(m_policy.resolve(relative, bases));
    }
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0) return errno_service_error("cannot find", file, errno);
    if (!S_ISREG(info.st_mode)) return service_error(hr::E_FILE_NOT_FOUND, file.string() + " is not a file");
    return file;
}

ServiceResult<VirtualMachine> Inventory::create_virtual_machine(std::string_view name,
                                                                std::string_view folder) {
    std::unique_lock lock(m_mutex);
    auto file = TRY(config_file_for_create(name, folder, m_default_vm_path, ".vmc"));
    auto vm_name = file.stem().string();
    if (vm_name_taken(vm_name, Guid{}))
        return service_error(hr::VM_E_CONFIG_DUPLICATE_NAME,
                             "a virtual machine named \"" + vm_name + "\" already exists");
    auto directory = file.parent_path();
    bool created_directory = false;
    if (!path_exists(directory)) {
        std::error_code ec;
        std::filesystem::create_directories(directory, ec);
        if (ec)
            return service_error(hr::E_PATH_NOT_FOUND,
                                 "cannot create " + directory.string() + ": " + ec.message());
        created_directory = true;
    }
    VirtualMachine vm(vm_name, file, Guid::random(m_random));
    auto undo = [&] {
        ::unlink(file.c_str());
        if (created_directory) ::rmdir(directory.c_str());
    };
    if (auto written = persist::write_vmc(vm, m_options.write_hooks); written.is_error()) {
        undo();
        return written.release_error();
    }
    auto options = current_options();
    options.virtual_machines.push_back(file.string());
    if (auto written = write_options(options); written.is_error()) {
        undo();
        return written.release_error();
    }
    m_vms.push_back(vm);
    notify(InventoryChange::Kind::VmAdded, vm.config_id(), vm.name(), vm.state(), "created");
    return vm;
}

ServiceResult<VirtualMachine> Inventory::register_virtual_machine(std::string_view name,
                                                                  std::string_view folder) {
    std::unique_lock lock(m_mutex);
    auto file = TRY(config_file_for_register(name, folder, m_default_vm_path, ".vmc"));
    for (auto const& vm : m_vms)
        if (vm.file() == file)
            return service_error(hr::VM_E_CONFIG_DUPLICATE_NAME,
                                 file.string() + " is already registered as \"" + vm.name() + "\"");
    auto vm = TRY(persist::read_vmc(file));
    if (vm_name_taken(vm.name(), Guid{}))
        return service_error(hr::VM_E_CONFIG_DUPLICATE_NAME,
                             "a virtual machine named \"" + vm.name() + "\" already exists");
    TRY(check_media_paths(vm, nullptr));
    if (adopt(vm)) TRY(persist::write_vmc(vm, m_options.write_hooks));
    vm.set_state(path_exists(vm.saved_state_file()) ? VmState::Saved : VmState::TurnedOff);
    auto options = current_options();
    std::erase(options.virtual_machines, file.string()); // it may have been listed as broken
    options.virtual_machines.push_back(file.string());
    TRY(write_options(options));
    std::erase(m_broken_vm_files, file.string());
    m_vms.push_back(vm);
    notify(InventoryChange::Kind::VmAdded, vm.config_id(), vm.name(), vm.state(), "registered");
    return vm;
}

ServiceResult<bool> Inventory::unregister_virtual_machine(Guid const& id) {
    std::unique_lock lock(m_mutex);
    auto* vm = find_vm(id);
    if (!vm) return false;
    if (!is_stopped(vm->state()))
        return service_error(hr::VM_E_VM_RUNNING, "virtual machine \"" + vm->name() + "\" is running");
    auto options = current_options();
    std::erase(options.virtual_machines, vm->file().string());
    TRY(write_options(options));
    notify(InventoryChange::Kind::VmRemoved, vm->config_id(), vm->name(), vm->state(), "unregistered");
    m_vms.erase(m_vms.begin() + (vm - m_vms.data()));
    return true;
}

ServiceResult<bool> Inventory::delete_virtual_machine(Guid const& id) {
    std::unique_lock lock(m_mutex);
    auto* stored = find_vm(id);
    if (!stored) return false;
    if (!is_stopped(stored->state()))
        return service_error(hr::VM_E_VM_RUNNING, "virtual machine \"" + stored->name() + "\" is running");
    VirtualMachine vm = *stored;
    auto options = current_options();
    std::erase(options.virtual_machines, vm.file().string());
    TRY(write_options(options));
    m_vms.erase(m_vms.begin() + (stored - m_vms.data()));
    notify(InventoryChange::Kind::VmRemoved, vm.config_id(), vm.name(), vm.state(), "deleted");

    // Unregistered for good; now its files. What fails to go is reported.
    std::vector<std::filesystem::path> files{vm.file(), vm.saved_state_file()};
    // Undo disks: the recorded ones, or where an undoable VM keeps them.
    // Never the derived name of a VM without undo disks: another VM sharing
    // the base disk may own that file.
    for (auto const& disk : vm.hard_disk_connections()) {
        if (!disk.undo_disk_path().empty())
            files.emplace_back(disk.undo_disk_path());
        else if (vm.undoable())
            files.emplace_back(storage::undo_disk_path(disk.disk_path()));
    }
    std::string failures;
    for (auto const& path : files) {
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            failures +=
                (failures.empty() ? "" : "; ") + errno_service_error("cannot delete", path, errno).message;
    }
    (void)sync_directory(vm.folder());
    // The folder goes too when nothing else is in it (and it is no root).
    if (std::none_of(m_policy.roots().begin(), m_policy.roots().end(),
                     [&](auto const& root) { return root == vm.folder(); }))
        ::rmdir(vm.folder().c_str());
    if (!failures.empty())
        return service_error(hr::E_FAIL, "virtual machine \"" + vm.name() + "\" was removed but " + failures);
    return true;
}

std::optional<VirtualMachine> Inventory::find_virtual_machine(std::string_view name) const {
    std::shared_lock lock(m_mutex);
    for (auto const& vm : m_vms)
        if (names_equal(vm.name(), name)) return vm;
    return std::nullopt;
}

std::optional<VirtualMachine> Inventory::virtual_machine(Guid const& id) const {
    std::shared_lock lock(m_mutex);
    for (auto const& vm : m_vms)
        if (vm.config_id() == id) return vm;
    return std::nullopt;
}

std::vector<VirtualMachine> Inventory::virtual_machines() const {
    std::shared_lock lock(m_mutex);
    return m_vms;
}

ServiceResult<std::filesystem::path> Inventory::resolve_media_path(Guid const& id,
                                                                   std::string_view client_path) const {
    std::shared_lock lock(m_mutex);
    std::vector<std::filesystem::path> bases;
    for (auto const& vm : m_vms)
        if (vm.config_id() == id) bases.push_back(vm.folder());
    if (bases.empty())
        return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    bases.push_back(m_default_vm_path);
    bases.insert(bases.end(), m_search_paths.begin(), m_search_paths.end());
    return m_policy.resolve(client_path, bases);
}

ServiceResult<std::int32_t> Inventory::add_network_adapter(Guid const& id) {
    std::unique_lock lock(m_mutex);
    auto* stored = find_vm(id);
    if (!stored)
        return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    VirtualMachine copy = *stored;
    auto adapter = static_cast<std::int32_t>(copy.network_adapters().size());
    auto added = TRY(copy.add_network_adapter(draw_unique_mac(id, adapter)));
    TRY(commit_vm(*stored, std::move(copy)));
    return added;
}

ServiceResult<void> Inventory::set_ethernet_address_dynamic(Guid const& id, std::int32_t adapter,
                                                            bool dynamic) {
    std::unique_lock lock(m_mutex);
    auto* stored = find_vm(id);
    if (!stored)
        return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    VirtualMachine copy = *stored;
    auto* nic = TRY(copy.network_adapter(adapter));
    nic->set_ethernet_address_dynamic(dynamic);
    if (dynamic &&
        (!nic->ethernet_address().is_assignable() || mac_taken(nic->ethernet_address(), id, adapter)))
        nic->assign_address(draw_unique_mac(id, adapter));
    return commit_vm(*stored, std::move(copy));
}

ServiceResult<void> Inventory::set_ethernet_address(Guid const& id, std::int32_t adapter,
                                                    std::string_view address) {
    std::unique_lock lock(m_mutex);
    auto* stored = find_vm(id);
    if (!stored)
        return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    VirtualMachine copy = *stored;
    auto* nic = TRY(copy.network_adapter(adapter));
    TRY(nic->set_ethernet_address(address));
    if (mac_taken(nic->ethernet_address(), id, adapter))
        return service_error(hr::E_INVALIDARG, nic->ethernet_address().to_string() +
                                                   " is already the address of another network adapter");
    return commit_vm(*stored, std::move(copy));
}

ServiceResult<void> Inventory::attach_network_adapter(Guid const& id, std::int32_t adapter,
                                                      Guid const& network) {
    std::unique_lock lock(m_mutex);
    auto* stored = find_vm(id);
    if (!stored)
        return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    auto* target = find_network(network);
    if (!target)
        return service_error(hr::VM_E_INVALID_VIRTUAL_NETWORK_ID,
                             "no virtual network with id " + network.to_string());
    VirtualMachine copy = *stored;
    TRY(copy.network_adapter(adapter))->attach({target->id(), target->name()});
    return commit_vm(*stored, std::move(copy));
}

ServiceResult<void> Inventory::detach_network_adapter(Guid const& id, std::int32_t adapter) {
    std::unique_lock lock(m_mutex);
    auto* stored = find_vm(id);
    if (!stored)
        return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    VirtualMachine copy = *stored;
    TRY(copy.network_adapter(adapter))->detach();
    return commit_vm(*stored, std::move(copy));
}

ServiceResult<void> Inventory::set_vm_state(Guid const& id, VmState state) {
    std::unique_lock lock(m_mutex);
    auto* stored = find_vm(id);
    if (!stored)
        return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    auto before = stored->state();
    stored->set_state(state);
    if (state != before) notify(InventoryChange::Kind::VmState, id, stored->name(), state);
    return {};
}

ServiceResult<VirtualMachine> Inventory::change_vm_state(Guid const& id, StateDecision const& decide) {
    std::unique_lock lock(m_mutex);
    auto* stored = find_vm(id);
    if (!stored)
        return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    auto before = stored->state();
    stored->set_state(TRY(decide(*stored)));
    if (stored->state() != before)
        notify(InventoryChange::Kind::VmState, id, stored->name(), stored->state());
    return *stored;
}

ServiceResult<VirtualNetwork> Inventory::create_virtual_network(std::string_view name,
                                                                std::string_view folder) {
    std::unique_lock lock(m_mutex);
    auto file = TRY(config_file_for_create(name, folder, m_default_vn_path, ".vnc"));
    auto network_name = file.stem().string();
    if (network_name_taken(network_name, Guid{}))
        return service_error(hr::VM_E_CONFIG_DUPLICATE_NAME,
                             "a virtual network named \"" + network_name + "\" already exists");
    auto directory = file.parent_path();
    std::error_code ec;
    std::filesystem::create_directories(directory, ec);
    if (ec)
        return service_error(hr::E_PATH_NOT_FOUND,
                             "cannot create " + directory.string() + ": " + ec.message());
    VirtualNetwork network(network_name, file, Guid::random(m_random));
    TRY(persist::write_vnc(network, m_options.write_hooks));
    auto options = current_options();
    options.virtual_networks.push_back(file.string());
    if (auto written = write_options(options); written.is_error()) {
        ::unlink(file.c_str());
        return written.release_error();
    }
    m_networks.push_back(network);
    notify(InventoryChange::Kind::NetworkAdded, network.id(), network.name(), VmState::TurnedOff, "created");
    return network;
}

ServiceResult<VirtualNetwork> Inventory::register_virtual_network(std::string_view name,
                                                                  std::string_view folder) {
    std::unique_lock lock(m_mutex);
    auto file = TRY(config_file_for_register(name, folder, m_default_vn_path, ".vnc"));
    for (auto const& network : m_networks)
        if (network.file() == file)
            return service_error(hr::VM_E_CONFIG_DUPLICATE_NAME,
                                 file.string() + " is already registered as \"" + network.name() + "\"");
    auto network = TRY(persist::read_vnc(file));
    if (network_name_taken(network.name(), Guid{}))
        return service_error(hr::VM_E_CONFIG_DUPLICATE_NAME,
                             "a virtual network named \"" + network.name() + "\" already exists");
    if (network.id().is_null() || find_network(network.id())) {
        network.set_id(Guid::random(m_random));
        TRY(persist::write_vnc(network, m_options.write_hooks));
    }
    auto options = current_options();
    std::erase(options.virtual_networks, file.string());
    options.virtual_networks.push_back(file.string());
    TRY(write_options(options));
    std::erase(m_broken_network_files, file.string());
    m_networks.push_back(network);
    notify(InventoryChange::Kind::NetworkAdded, network.id(), network.name(), VmState::TurnedOff,
           "registered");
    return network;
}

ServiceResult<void> Inventory::detach_all_from(Guid const& network) {
    for (auto& vm : m_vms) {
        bool attached =
            std::any_of(vm.network_adapters().begin(), vm.network_adapters().end(), [&](auto const& nic) {
                return nic.virtual_network() && nic.virtual_network()->id == network;
            });
        if (!attached) continue;
        VirtualMachine copy = vm;
        for (auto const& nic : vm.network_adapters())
            if (nic.virtual_network() && nic.virtual_network()->id == network)
                copy.network_adapter(nic.id()).value()->detach();
        TRY(persist::write_vmc(copy, m_options.write_hooks));
        vm = std::move(copy);
    }
    return {};
}

ServiceResult<bool> Inventory::unregister_virtual_network(Guid const& id) {
    std::unique_lock lock(m_mutex);
    auto* network = find_network(id);
    if (!network) return false;
    // Unplug first, as Virtual Server does: each VM's file is rewritten.
    TRY(detach_all_from(id));
    auto options = current_options();
    std::erase(options.virtual_networks, network->file().string());
    TRY(write_options(options));
    notify(InventoryChange::Kind::NetworkRemoved, id, network->name(), VmState::TurnedOff, "unregistered");
    m_networks.erase(m_networks.begin() + (network - m_networks.data()));
    return true;
}

ServiceResult<bool> Inventory::delete_virtual_network(Guid const& id) {
    std::unique_lock lock(m_mutex);
    auto* network = find_network(id);
    if (!network) return false;
    TRY(detach_all_from(id));
    auto file = network->file();
    auto options = current_options();
    std::erase(options.virtual_networks, file.string());
    TRY(write_options(options));
    notify(InventoryChange::Kind::NetworkRemoved, id, network->name(), VmState::TurnedOff, "deleted");
    m_networks.erase(m_networks.begin() + (network - m_networks.data()));
    if (::unlink(file.c_str()) != 0 && errno != ENOENT)
        return errno_service_error("the virtual network was removed but cannot delete", file, errno);
    (void)sync_directory(file.parent_path());
    return true;
}

std::optional<VirtualNetwork> Inventory::find_virtual_network(std::string_view name) const {
    std::shared_lock lock(m_mutex);
    for (auto const& network : m_networks)
        if (names_equal(network.name(), name)) return network;
    return std::nullopt;
}

std::optional<VirtualNetwork> Inventory::virtual_network(Guid const& id) const {
    std::shared_lock lock(m_mutex);
    for (auto const& network : m_networks)
        if (network.id() == id) return network;
    return std::nullopt;
}

std::vector<VirtualNetwork> Inventory::virtual_networks() const {
    std::shared_lock lock(m_mutex);
    return m_networks;
}

ServiceResult<VirtualNetwork> Inventory::update_virtual_network(Guid const& id, NetworkChange const& change) {
    std::unique_lock lock(m_mutex);
    auto* stored = find_network(id);
    if (!stored)
        return service_error(hr::VM_E_INVALID_VIRTUAL_NETWORK_ID,
                             "no virtual network with id " + id.to_string());
    VirtualNetwork copy = *stored;
    TRY(change(copy));
    if (copy.id() != stored->id()) return service_error(hr::E_INVALIDARG, "a network's id cannot change");
    if (copy.file() != stored->file())
        return service_error(hr::E_INVALIDARG, "a network's file cannot change");
    if (copy.same_configuration(*stored)) return *stored;
    if (copy.name() != stored->name()) {
        if (network_name_taken(copy.name(), id))
            return service_error(hr::VM_E_CONFIG_DUPLICATE_NAME,
                                 "a virtual network named \"" + copy.name() + "\" already exists");
    }
    TRY(persist::write_vnc(copy, m_options.write_hooks));
    bool renamed = copy.name() != stored->name();
    *stored = std::move(copy);
    notify(InventoryChange::Kind::NetworkConfiguration, id, stored->name());
    if (renamed) {
        // NICs show the network's name: keep their files current. A failure
        // here is cosmetic (the id binds) and is healed at the next write.
        for (auto& vm : m_vms) {
            VirtualMachine updated = vm;
            bool touched = false;
            for (auto const& nic : vm.network_adapters())
                if (nic.virtual_network() && nic.virtual_network()->id == id) {
                    updated.network_adapter(nic.id()).value()->attach({id, stored->name()});
                    touched = true;
                }
            if (touched && persist::write_vmc(updated, m_options.write_hooks).has_value())
                vm = std::move(updated);
        }
    }
    return *stored;
}

std::vector<NetworkAdapterRef> Inventory::network_adapters_on(Guid const& network) const {
    std::shared_lock lock(m_mutex);
    std::vector<NetworkAdapterRef> adapters;
    for (auto const& vm : m_vms)
        for (auto const& nic : vm.network_adapters())
            if (nic.virtual_network() && nic.virtual_network()->id == network)
                adapters.push_back({vm.config_id(), nic.id()});
    return adapters;
}

std::vector<NetworkAdapterRef> Inventory::unconnected_network_adapters() const {
    std::shared_lock lock(m_mutex);
    std::vector<NetworkAdapterRef> adapters;
    for (auto const& vm : m_vms)
        for (auto const& nic : vm.network_adapters())
            if (!nic.virtual_network()) adapters.push_back({vm.config_id(), nic.id()});
    return adapters;
}

ServiceResult<std::vector<std::string>> Inventory::find_files(FileKind kind,
                                                              std::vector<std::string> const& additional,
                                                              bool exclude_registered) const {
    constexpr std::size_t MAX_FILES = 10'000;
    constexpr int MAX_DEPTH = 4;
    std::vector<std::string_view> extensions;
    switch (kind) {
    case FileKind::VirtualMachine:
        extensions = {".vmc"};
        break;
    case FileKind::VirtualNetwork:
        extensions = {".vnc"};
        break;
    case FileKind::HardDisk:
        extensions = {".vhd"};
        break;
    case FileKind::Dvd:
        extensions = {".iso"};
        break;
    case FileKind::Floppy:
        extensions = {".vfd", ".flp"};
        break;
    }
    // Take what we need under the lock, walk the disk without it.
    PathPolicy policy;
    std::vector<std::filesystem::path> folders;
    std::set<std::string> registered;
    {
        std::shared_lock lock(m_mutex);
        policy = m_policy;
        folders = m_search_paths;
        if (kind == FileKind::VirtualMachine) folders.insert(folders.begin(), m_default_vm_path);
        if (kind == FileKind::VirtualNetwork) folders.insert(folders.begin(), m_default_vn_path);
        if (exclude_registered) {
            for (auto const& vm : m_vms)
                if (kind == FileKind::VirtualMachine) registered.insert(vm.file().string());
            for (auto const& network : m_networks)
                if (kind == FileKind::VirtualNetwork) registered.insert(network.file().string());
        }
    }
    if (additional.size() > persist::MAX_SEARCH_PATHS)
        return service_error(hr::E_INVALIDARG, "at most " + std::to_string(persist::MAX_SEARCH_PATHS) +
                                                   " additional search paths");
    for (auto const& extra : additional) {
        auto folder = TRY(policy.resolve(extra));
        if (!is_folder(folder))
            return service_error(hr::E_PATH_NOT_FOUND, "\"" + extra + "\" is not an existing folder");
        folders.push_back(folder);
    }

    std::set<std::string> found;
    for (auto const& folder : folders) {
        std::error_code ec;
        auto it = std::filesystem::recursive_directory_iterator(
            folder, std::filesystem::directory_options::skip_permission_denied, ec);
        for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
            auto name = it->path().filename().string();
            if (name.starts_with(".")) {
                if (it->is_directory(ec)) it.disable_recursion_pending();
                continue;
            }
            if (it.depth() >= MAX_DEPTH - 1) it.disable_recursion_pending();
            auto lowered = fold_name(name);
            bool wanted = std::any_of(extensions.begin(), extensions.end(), [&](std::string_view extension) {
                return lowered.size() > extension.size() && lowered.ends_with(extension);
            });
            if (!wanted || !it->is_regular_file(ec)) continue;
            auto canonical = PathPolicy::canonicalize(it->path());
            if (canonical.is_error() || !policy.contains(canonical.value())) continue;
            auto text = it->path().string();
            if (registered.count(text) || registered.count(canonical.value().string())) continue;
            found.insert(text);
            if (found.size() >= MAX_FILES) return std::vector<std::string>(found.begin(), found.end());
        }
    }
    return std::vector<std::string>(found.begin(), found.end());
}

// --- Security descriptors -------------------------------------------------
//
// They live in the preserved text of each file, which every other writer
// carries along, so setting one rewrites that text and writes the file.

ServiceResult<std::optional<security::SecurityDescriptor>> Inventory::vm_security(Guid const& id) const {
    std::shared_lock lock(m_mutex);
    for (auto const& vm : m_vms) {
        if (vm.config_id() != id) continue;
        if (vm.preserved_xml().empty()) return std::optional<security::SecurityDescriptor>{};
        return persist::security_in(vm.preserved_xml(), vm.file().string(), persist::VMC_SECURITY_PATH);
    }
    return Err{ServiceError{hr::VM_E_VM_UNKNOWN, "no registered virtual machine " + id.to_string()}};
}

ServiceResult<void> Inventory::set_vm_security(Guid const& id,
                                               security::SecurityDescriptor const& descriptor) {
    std::unique_lock lock(m_mutex);
    auto* stored = find_vm(id);
    if (!stored)
        return Err{ServiceError{hr::VM_E_VM_UNKNOWN, "no registered virtual machine " + id.to_string()}};
    auto text =
        stored->preserved_xml().empty() ? TRY(persist::serialize_vmc(*stored)) : stored->preserved_xml();
    VirtualMachine updated = *stored;
    updated.set_preserved_xml(
        TRY(persist::with_security(text, stored->file().string(), persist::VMC_SECURITY_PATH, descriptor)));
    TRY(persist::write_vmc(updated, m_options.write_hooks));
    *stored = std::move(updated);
    return {};
}

ServiceResult<std::optional<security::SecurityDescriptor>> Inventory::network_security(Guid const& id) const {
    std::shared_lock lock(m_mutex);
    for (auto const& network : m_networks) {
        if (network.id() != id) continue;
        if (network.preserved_xml().empty()) return std::optional<security::SecurityDescriptor>{};
        return persist::security_in(network.preserved_xml(), network.file().string(),
                                    persist::VNC_SECURITY_PATH);
    }
    return Err{
        ServiceError{hr::VM_E_INVALID_VIRTUAL_NETWORK_ID, "no registered virtual network " + id.to_string()}};
}

ServiceResult<void> Inventory::set_network_security(Guid const& id,
                                                    security::SecurityDescriptor const& descriptor) {
    std::unique_lock lock(m_mutex);
    auto* stored = find_network(id);
    if (!stored)
        return Err{ServiceError{hr::VM_E_INVALID_VIRTUAL_NETWORK_ID,
                                "no registered virtual network " + id.to_string()}};
    auto text =
        stored->preserved_xml().empty() ? TRY(persist::serialize_vnc(*stored)) : stored->preserved_xml();
    VirtualNetwork updated = *stored;
    updated.set_preserved_xml(
        TRY(persist::with_security(text, stored->file().string(), persist::VNC_SECURITY_PATH, descriptor)));
    TRY(persist::write_vnc(updated, m_options.write_hooks));
    *stored = std::move(updated);
    return {};
}

ServiceResult<std::optional<security::SecurityDescriptor>> Inventory::server_security() const {
    std::shared_lock lock(m_mutex);
    if (m_options_preserved_xml.empty()) return std::optional<security::SecurityDescriptor>{};
    return persist::security_in(m_options_preserved_xml, options_file().string(),
                                persist::SERVER_SECURITY_PATH);
}

ServiceResult<void> Inventory::set_server_security(security::SecurityDescriptor const& descriptor) {
    std::unique_lock lock(m_mutex);
    auto options = current_options();
    auto text = options.preserved_xml.empty() ? TRY(persist::serialize_server_options(options))
                                              : options.preserved_xml;
    options.preserved_xml =
        TRY(persist::with_security(text, options_file().string(), persist::SERVER_SECURITY_PATH, descriptor));
    TRY(write_options(options));
    m_options_preserved_xml = std::move(options.preserved_xml);
    return {};
}

ServiceResult<std::optional<security::SecurityDescriptor>>
Inventory::disk_security(std::filesystem::path const& disk) const {
    std::shared_lock lock(m_mutex);
    if (m_options_preserved_xml.empty()) return std::optional<security::SecurityDescriptor>{};
    return persist::disk_security_in(m_options_preserved_xml, options_file().string(), disk.string());
}

ServiceResult<void> Inventory::set_disk_security(std::filesystem::path const& disk,
                                                 security::SecurityDescriptor const& descriptor) {
    std::unique_lock lock(m_mutex);
    auto options = current_options();
    auto text = options.preserved_xml.empty() ? TRY(persist::serialize_server_options(options))
                                              : options.preserved_xml;
    options.preserved_xml =
        TRY(persist::with_disk_security(text, options_file().string(), disk.string(), descriptor));
    TRY(write_options(options));
    m_options_preserved_xml = std::move(options.preserved_xml);
    return {};
}

} // namespace vsa::services
