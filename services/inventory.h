// SPDX-License-Identifier: GPL-2.0-or-later
// Inventory: the registered virtual machines and virtual networks of a
// server and the server options that go with them (default folders, search
// paths), with the operations of IVMVirtualServer on them:
//
//   CreateVirtualMachine      create_virtual_machine(name, folder)
//   RegisterVirtualMachine    register_virtual_machine(name, folder)
//   UnregisterVirtualMachine  unregister_virtual_machine(id)
//   DeleteVirtualMachine      delete_virtual_machine(id)
//   FindVirtualMachine        find_virtual_machine(name)
//   VirtualMachines           virtual_machines()
//   Create/Register/Unregister/Delete/FindVirtualNetwork, VirtualNetworks:
//                             the same for networks
//   SearchPaths, DefaultVMConfigurationPath (+ DefaultVNConfigurationPath)
//   UnconnectedNetworkAdapters, IVMVirtualNetwork.NetworkAdapters
//   Get{VirtualMachine,VirtualNetwork,HardDisk,DVD,FloppyDisk}Files
//
// and a generic update_virtual_machine / update_virtual_network that every
// IVMVirtualMachine / IVMVirtualNetwork property setter goes through.
//
// Persistence: each VM is its .vmc, each network its .vnc, and
// <data_dir>/options.xml lists them with the paths. Every change is written
// (atomically) before it is made in memory, so what a client was told
// succeeded is on disk, and a failed write changes nothing. Reopening the
// data folder gives the same inventory.
//
// Confinement: every client path goes through a PathPolicy whose roots are
// the two default folders and the search paths; paths found in a .vmc being
// registered are checked too (a file can name any path).
//
// Thread safety: one std::shared_mutex per inventory. Reads (find, list,
// snapshot) share it; changes hold it exclusively, including the file
// writes, so a .vmc and its in-memory copy never disagree and two renames
// cannot race. A change costs one or two fsyncs (milliseconds) during which
// readers wait: fine for administrative writes. Objects are handed out as
// copies (value snapshots), never as references into the inventory, so a
// SOAP thread can hold one while another thread changes the inventory.
#pragma once

#include "services/model/virtual_machine.h"
#include "services/model/virtual_network.h"
#include "services/path_policy.h"
#include "services/persist/atomic_file.h"
#include "services/persist/server_options_file.h"
#include "services/security/access_control.h"

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace vsa::services {

struct NetworkAdapterRef {
    Guid vm;
    std::int32_t adapter{0};
    friend bool operator==(NetworkAdapterRef const&, NetworkAdapterRef const&) = default;
};

// A change the inventory made, for the event log (set_observer).
struct InventoryChange {
    enum class Kind {
        VmAdded,         // created or registered
        VmRemoved,       // unregistered or deleted (detail says which)
        VmConfiguration, // its .vmc was rewritten with new settings
        VmState,         // entered `state`
        NetworkAdded,
        NetworkRemoved,
        NetworkConfiguration,
        ServerOptions, // search paths or the default VM folder
        MediaInserted, // an image or host drive went into `drive` (detail: which)
        MediaEjected,  // it came out of `drive` (detail: what it was)
    };
    Kind kind;
    Guid id; // the VM or network; null for ServerOptions
    std::string name;
    VmState state{VmState::TurnedOff}; // VmState (and the others: the VM's state)
    std::string detail;
    // Media events: the drive, as the tail of its reference after the VM's
    // ConfigID: "/dvd/<bus>:<device>" or "/fdd/<number>".
    std::string drive{};
};

class Inventory {
public:
    struct Options {
        std::filesystem::path data_dir; // holds options.xml
        // Used on first start (no options.xml yet); created when missing.
        // Empty: <data_dir>/Virtual Machines and <data_dir>/Virtual Networks.
        std::filesystem::path default_vm_path;
        std::filesystem::path default_vn_path;
        // For tests: passed to every atomic write.
        AtomicWriteHooks write_hooks;
    };

    // Loads options.xml and every VM and network it lists. A listed file
    // that is missing or invalid does not stop the server: it stays listed
    // (so it comes back once fixed) and is reported in load_warnings().
    static ServiceResult<std::unique_ptr<Inventory>> open(Options options);

    // Called after every change, under the inventory's lock (so the order of
    // calls is the order of changes): it must be quick and must not call
    // back into the inventory. Set once, before the inventory is shared.
    using Observer = std::function<void(InventoryChange const&)>;
    void set_observer(Observer observer) { m_observer = std::move(observer); }

    std::vector<std::string> load_warnings() const;
    std::filesystem::path options_file() const { return m_options.data_dir / "options.xml"; }

    // Server paths.
    std::filesystem::path default_vm_path() const;
    std::filesystem::path default_vn_path() const;
    std::vector<std::filesystem::path> search_paths() const;
    // An existing folder (E_PATH_NOT_FOUND), absolute (E_BAD_PATHNAME), not
    // "/" nor a folder holding the data folder (E_ACCESSDENIED).
    ServiceResult<void> set_default_vm_path(std::string_view path);
    ServiceResult<void> set_search_paths(std::vector<std::string> const& paths);
    PathPolicy path_policy() const;

    // Virtual machines. Names are unique case-insensitively.
    // folder "" = <default VM folder>/<name>; relative = under the default
    // folder. name "" = folder is the full .vmc path.
    ServiceResult<VirtualMachine> create_virtual_machine(std::string_view name, std::string_view folder);
    // An existing .vmc: name (".vmc" optional) in folder, or folder as the
    // full path when name is "". Relative folders are looked up in the
    // default folder, then the search paths.
    ServiceResult<VirtualMachine> register_virtual_machine(std::string_view name, std::string_view folder);
    // false (S_FALSE) when `id` is not registered; VM_E_VM_RUNNING unless
    // off or saved. Unregister keeps the files; delete removes the .vmc, the
    // saved state and the undo disks (never the .vhd files), and the folder
    // when that leaves it empty.
    ServiceResult<bool> unregister_virtual_machine(Guid const& id);
    ServiceResult<bool> delete_virtual_machine(Guid const& id);
    std::optional<VirtualMachine> find_virtual_machine(std::string_view name) const;
    std::optional<VirtualMachine> virtual_machine(Guid const& id) const;
    // Calls `read` on the registered VM under the shared lock, without the
    // copy virtual_machine() makes (the single-property reads are the
    // hottest calls). `read` must not call back into the inventory.
    template <class Read>
    auto read_virtual_machine(Guid const& id, Read&& read) const
        -> std::optional<std::invoke_result_t<Read, VirtualMachine const&>> {
        std::shared_lock lock(m_mutex);
        for (auto const& vm : m_vms)
            if (vm.config_id() == id) return read(vm);
        return std::nullopt;
    }
    std::vector<VirtualMachine> virtual_machines() const; // in registration order

    // Applies `change` to a copy of the VM, checks the result (unique name,
    // confined media paths, existing networks), writes the .vmc (renaming it
    // when the name changed) and commits. Returns the new configuration.
    // VM_E_VM_UNKNOWN for an unknown id.
    using VmChange = std::function<ServiceResult<void>(VirtualMachine&)>;
    ServiceResult<VirtualMachine> update_virtual_machine(Guid const& id, VmChange const& change);

    // Resolves a media path a client gave for `vm` (disk, ISO, floppy
    // image): relative paths are looked up in the VM's folder, the default
    // VM folder, then the search paths.
    ServiceResult<std::filesystem::path> resolve_media_path(Guid const& vm,
                                                            std::string_view client_path) const;
    // AddNetworkAdapter: a new NIC with a dynamic MAC unique in the inventory.
    ServiceResult<std::int32_t> add_network_adapter(Guid const& vm);
    // IsEthernetAddressDynamic: switching back to dynamic draws a fresh
    // unique address when the current one is taken.
    ServiceResult<void> set_ethernet_address_dynamic(Guid const& vm, std::int32_t adapter, bool dynamic);
    // EthernetAddress of a static NIC: E_INVALIDARG when another NIC of a
    // registered VM already has it (two NICs with one MAC on a network
    // break both).
    ServiceResult<void> set_ethernet_address(Guid const& vm, std::int32_t adapter, std::string_view address);
    // AttachToVirtualNetwork (VM_E_INVALID_VIRTUAL_NETWORK_ID for an unknown
    // network) and DetachFromVirtualNetwork.
    ServiceResult<void> attach_network_adapter(Guid const& vm, std::int32_t adapter, Guid const& network);
    ServiceResult<void> detach_network_adapter(Guid const& vm, std::int32_t adapter);
    // The runtime state (not persisted); the lifecycle code sets it.
    ServiceResult<void> set_vm_state(Guid const& id, VmState state);
    // A checked state change (services/worker/vm_runtime.h): `decide` sees
    // the VM under the exclusive lock and returns its new state, or an error
    // that changes nothing. So a transition and the checks of configuration
    // changes, Delete and Unregister never interleave. `decide` may touch
    // the VM's files (DiscardSavedState deletes the .vsv) but must not call
    // back into the inventory. Returns the VM as it is afterwards.
    using StateDecision = std::function<ServiceResult<VmState>(VirtualMachine const&)>;
    ServiceResult<VirtualMachine> change_vm_state(Guid const& id, StateDecision const& decide);

    // Virtual networks.
    ServiceResult<VirtualNetwork> create_virtual_network(std::string_view name, std::string_view folder);
    ServiceResult<VirtualNetwork> register_virtual_network(std::string_view name, std::string_view folder);
    // Both unplug the NICs attached to the network first (their .vmc files
    // are rewritten), as Virtual Server does; delete also removes the .vnc.
    ServiceResult<bool> unregister_virtual_network(Guid const& id);
    ServiceResult<bool> delete_virtual_network(Guid const& id);
    std::optional<VirtualNetwork> find_virtual_network(std::string_view name) const;
    std::optional<VirtualNetwork> virtual_network(Guid const& id) const;
    std::vector<VirtualNetwork> virtual_networks() const;
    using NetworkChange = std::function<ServiceResult<void>(VirtualNetwork&)>;
    ServiceResult<VirtualNetwork> update_virtual_network(Guid const& id, NetworkChange const& change);
    std::vector<NetworkAdapterRef> network_adapters_on(Guid const& network) const;
    std::vector<NetworkAdapterRef> unconnected_network_adapters() const;

    // GetVirtualMachineFiles, GetVirtualNetworkFiles, GetHardDiskFiles,
    // GetDVDFiles, GetFloppyDiskFiles: the files with the kind's extensions
    // (.vmc; .vnc; .vhd; .iso; .vfd/.flp, any case) in the search paths, the
    // kind's default folder (VMs and networks) and `additional` folders
    // (which must be inside the allowed roots themselves), down to 4 levels
    // (VMs live in <folder>/<name>/), sorted, at most 10,000. Hidden files
    // and links leading out of the roots are skipped. exclude_registered
    // drops .vmc/.vnc files already in the inventory.
    enum class FileKind { VirtualMachine, VirtualNetwork, HardDisk, Dvd, Floppy };
    ServiceResult<std::vector<std::string>>
    find_files(FileKind kind, std::vector<std::string> const& additional, bool exclude_registered) const;

    // Security descriptors (IVMSecurity, services/security): a VM's in its
    // .vmc, a network's in its .vnc, the server's and each virtual hard
    // disk's (keyed by canonical path) in options.xml; the layout is in
    // services/persist/security_xml.h. Reads give std::nullopt when the
    // object has none stored (the caller applies the default), and
    // VM_E_VM_UNKNOWN / VM_E_INVALID_VIRTUAL_NETWORK_ID for an unknown
    // object. Writes are atomic like every other change here.
    using SecurityDescriptor = security::SecurityDescriptor;
    ServiceResult<std::optional<SecurityDescriptor>> vm_security(Guid const& id) const;
    ServiceResult<void> set_vm_security(Guid const& id, SecurityDescriptor const& descriptor);
    ServiceResult<std::optional<SecurityDescriptor>> network_security(Guid const& id) const;
    ServiceResult<void> set_network_security(Guid const& id, SecurityDescriptor const& descriptor);
    ServiceResult<std::optional<SecurityDescriptor>> server_security() const;
    ServiceResult<void> set_server_security(SecurityDescriptor const& descriptor);
    ServiceResult<std::optional<SecurityDescriptor>> disk_security(std::filesystem::path const& disk) const;
    ServiceResult<void> set_disk_security(std::filesystem::path const& disk,
                                          SecurityDescriptor const& descriptor);

private:
    explicit Inventory(Options options);

    // All private helpers expect m_mutex held (exclusively if they write).
    ServiceResult<void> load();
    ServiceResult<void> write_options(persist::ServerOptions const& options);
    persist::ServerOptions current_options() const;
    void rebuild_policy();
    ServiceResult<std::filesystem::path> checked_root(std::string_view path) const;
    VirtualMachine* find_vm(Guid const& id);
    VirtualNetwork* find_network(Guid const& id);
    bool vm_name_taken(std::string_view name, Guid const& except) const;
    bool network_name_taken(std::string_view name, Guid const& except) const;
    bool mac_taken(MacAddress const& address, Guid const& vm, std::int32_t adapter) const;
    MacAddress draw_unique_mac(Guid const& vm, std::int32_t adapter);
    // Registration fix-ups: config id, colliding dynamic MACs, network
    // references by id then name. True when the VM changed.
    bool adopt(VirtualMachine& vm);
    void notify(InventoryChange::Kind kind, Guid const& id, std::string name,
                VmState state = VmState::TurnedOff, std::string detail = {}) const;
    // The media events between two versions of one VM's configuration.
    void notify_media(VirtualMachine const& before, VirtualMachine const& after) const;
    Observer m_observer;
    ServiceResult<void> check_media_paths(VirtualMachine const& vm, VirtualMachine const* before) const;
    ServiceResult<void> check_networks(VirtualMachine& vm) const;
    ServiceResult<void> commit_vm(VirtualMachine& stored, VirtualMachine updated);
    ServiceResult<void> detach_all_from(Guid const& network);
    ServiceResult<std::filesystem::path> config_file_for_create(std::string_view name,
                                                                std::string_view folder,
                                                                std::filesystem::path const& default_folder,
                                                                char const* extension) const;
    ServiceResult<std::filesystem::path> config_file_for_register(std::string_view name,
                                                                  std::string_view folder,
                                                                  std::filesystem::path const& default_folder,
                                                                  char const* extension) const;

    Options m_options;
    mutable std::shared_mutex m_mutex;
    std::filesystem::path m_default_vm_path;
    std::filesystem::path m_default_vn_path;
    std::vector<std::filesystem::path> m_search_paths;
    std::string m_options_preserved_xml;
    std::vector<std::string> m_broken_vm_files; // listed but not loadable
    std::vector<std::string> m_broken_network_files;
    std::vector<VirtualMachine> m_vms;
    std::vector<VirtualNetwork> m_networks;
    std::vector<std::string> m_warnings;
    PathPolicy m_policy;
    std::mt19937_64 m_random;
};

} // namespace vsa::services
