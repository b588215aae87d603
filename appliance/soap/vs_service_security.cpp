// SPDX-License-Identifier: GPL-2.0-or-later
// Security over SOAP: the central access check every operation passes
// (VsService::authorize, run by AccessCheckedVsService, vs_service.h) and
// the members of IVMSecurity, IVMAccessRightsCollection and IVMAccessRights
// plus the Security properties of the server, VMs, networks and disks.
//
// References (all derived from the owning object's, so they carry no state
// and a stale one fails like the object's own):
//   <object>#security                 IVMSecurity
//   <object>#security/entries         IVMAccessRightsCollection
//   <object>#security/<name>/<type>   IVMAccessRights (type 0 allow, 1 deny)
//   <object>#security/@current        the caller's effective rights
// where <object> is "server", a VM's ConfigID, a network's ID or a disk's
// canonical absolute path. Names cannot hold '#' or '/', so the last
// "#security" in a reference always ends the object part.
//
// Names in entries and OwnerName must be an existing account, a group some
// account belongs to (appliance/auth/account_store.h) or one of the built-in
// groups "Administrators" and "Everyone" (Virtual Server resolved names to
// SIDs and refused unknown ones). An entry naming an account that is later
// removed stays, and matches nobody, until someone removes it.
//
// SIDs (issue 11, area "identity"): every account and group has one
// (services/security/account_sids.h), and a SID string is taken wherever a
// name is. OwnerSid, GroupName, GroupSid, IVMAccessRights.Sid, Flags,
// SpecialAccess and the binary forms _ToSecurityDescriptor / _GetAccessMask
// (services/security/security_descriptor_binary.h) are at the end.
#include "appliance/auth/authenticator.h"
#include "appliance/soap/access_policy.h"
#include "appliance/soap/fault_mapping.h"
#include "appliance/soap/vs_service.h"
#include "services/security/access_control.h"
#include "services/security/security_descriptor_binary.h"
#include "services/virtual_server.h"

#include <Poco/Logger.h>

#include <cstring>
#include <functional>
#include <mutex>
#include <sys/stat.h>

namespace vsa::appliance {

using services::Guid;
using services::Inventory;
using services::ServiceError;
using services::ServiceResult;
using services::security::AccessEntry;
using services::security::AceType;
using services::security::Identity;
using services::security::Right;
using services::security::RightMask;
using services::security::SecurityDescriptor;
namespace hr = services::hr;
namespace sec = services::security;

namespace {

constexpr std::string_view SECURITY_MARK = "#security";
constexpr std::string_view SERVER_OBJECT = "server";
constexpr std::string_view ENTRIES_PART = "/entries";
constexpr std::string_view CURRENT_PART = "/@current";

// Read-modify-write of a descriptor (AddEntry, set_ReadAccess, ...) is
// load, change, store; this keeps two of them from losing each other's
// change. Security edits are rare administrative calls: one lock is enough.
std::mutex g_security_edit_mutex;

Poco::Logger& security_log() {
    return Poco::Logger::get("vsad.security");
}

enum class Kind { Server, VirtualMachine, VirtualNetwork, HardDisk };

struct Secured {
    Kind kind{Kind::Server};
    std::string ref; // the <object> part of the references
    Guid id;
    std::filesystem::path disk;
    std::string description; // for messages: virtual machine "web" ({...})
};

ServiceError bad_security_ref(std::string_view ref, char const* kind) {
    return {hr::E_INVALIDARG, std::string("_this is not an ") + kind + " reference (got '" +
                                  std::string(ref.substr(0, 96)) + "')"};
}

Secured server_object() {
    return {Kind::Server, std::string(SERVER_OBJECT), {}, {}, "the server"};
}

// A VM reference or a part of one ("<vm>/hdc/0:0"): the VM.
ServiceResult<Secured> vm_object(Inventory const& inventory, std::string_view ref) {
    auto id = Guid::parse(ref.substr(0, ref.find('/')));
    if (!id) return Err{bad_security_ref(ref, "IVMVirtualMachine")};
    auto vm = inventory.virtual_machine(*id);
    if (!vm)
        return Err{ServiceError{hr::VM_E_VM_UNKNOWN, "no registered virtual machine " + id->to_string()}};
    return Secured{Kind::VirtualMachine,
                   id->to_string(),
                   *id,
                   {},
                   "virtual machine \"" + vm->name() + "\" (" + id->to_string() + ")"};
}

// A network reference or a part of one ("<network>/dhcp"): the network.
ServiceResult<Secured> network_object(Inventory const& inventory, std::string_view ref) {
    auto id = Guid::parse(ref.substr(0, ref.find('/')));
    if (!id) return Err{bad_security_ref(ref, "IVMVirtualNetwork")};
    auto network = inventory.virtual_network(*id);
    if (!network)
        return Err{ServiceError{hr::VM_E_INVALID_VIRTUAL_NETWORK_ID,
                                "no registered virtual network " + id->to_string()}};
    return Secured{Kind::VirtualNetwork,
                   id->to_string(),
                   *id,
                   {},
                   "virtual network \"" + network->name() + "\" (" + id->to_string() + ")"};
}

// An existing file inside the allowed roots, by its canonical path.
ServiceResult<Secured> disk_object(std::filesystem::path const& canonical) {
    struct stat info {};
    if (::stat(canonical.c_str(), &info) != 0 || !S_ISREG(info.st_mode))
        return Err{ServiceError{hr::E_FILE_NOT_FOUND, "no virtual hard disk " + canonical.string()}};
    return Secured{Kind::HardDisk,
                   canonical.string(),
                   {},
                   canonical,
                   "virtual hard disk \"" + canonical.string() + "\""};
}

ServiceResult<Secured> absolute_disk_object(Inventory const& inventory, std::string_view path) {
    if (path.empty() || path.front() != '/')
        return Err{
            ServiceError{hr::E_BAD_PATHNAME, "a virtual hard disk is named by its absolute path (got '" +
                                                 std::string(path.substr(0, 96)) + "')"}};
    return disk_object(TRY(inventory.path_policy().resolve(path)));
}

// The <object> part of a security reference.
ServiceResult<Secured> object_of(Inventory const& inventory, std::string_view object) {
    if (object == SERVER_OBJECT) return server_object();
    if (!object.empty() && object.front() == '/') return absolute_disk_object(inventory, object);
    auto id = Guid::parse(object);
    if (!id)
        return Err{ServiceError{hr::E_INVALIDARG,
                                "'" + std::string(object.substr(0, 96)) + "' names no object with security"}};
    if (inventory.virtual_machine(*id)) return vm_object(inventory, object);
    if (inventory.virtual_network(*id)) return network_object(inventory, object);
    return Err{
        ServiceError{hr::VM_E_VM_UNKNOWN, "no registered virtual machine or network " + id->to_string()}};
}

struct SecurityRef {
    enum class Part { Security, Entries, Entry, Current };
    Secured object;
    Part part{Part::Security};
    std::string name;
    AceType type{AceType::Allowed};
};

ServiceResult<SecurityRef> parse_security_ref(Inventory const& inventory, std::string_view ref) {
    auto at = ref.rfind(SECURITY_MARK);
    if (at == std::string_view::npos) return Err{bad_security_ref(ref, "IVMSecurity")};
    SecurityRef parsed;
    parsed.object = TRY(object_of(inventory, ref.substr(0, at)));
    auto rest = ref.substr(at + SECURITY_MARK.size());
    if (rest.empty()) return parsed;
    if (rest == ENTRIES_PART) {
        parsed.part = SecurityRef::Part::Entries;
        return parsed;
    }
    if (rest == CURRENT_PART) {
        parsed.part = SecurityRef::Part::Current;
        return parsed;
    }
    // "/<name>/<type>"
    auto slash = rest.rfind('/');
    if (rest.front() != '/' || slash == 0) return Err{bad_security_ref(ref, "IVMAccessRights")};
    auto name = rest.substr(1, slash - 1);
    auto type_text = rest.substr(slash + 1);
    if (sec::validate_name(name).is_error() || type_text.size() != 1 ||
        (type_text[0] != '0' && type_text[0] != '1'))
        return Err{bad_security_ref(ref, "IVMAccessRights")};
    parsed.part = SecurityRef::Part::Entry;
    parsed.name = std::string(name);
    parsed.type = type_text[0] == '0' ? AceType::Allowed : AceType::Denied;
    return parsed;
}

std::string security_ref(Secured const& object) {
    return object.ref + std::string(SECURITY_MARK);
}

std::string entry_ref(Secured const& object, AccessEntry const& entry) {
    return security_ref(object) + "/" + entry.name + "/" + (entry.type == AceType::Allowed ? "0" : "1");
}

ServiceResult<SecurityDescriptor> load_descriptor(Inventory const& inventory, Secured const& object) {
    std::optional<SecurityDescriptor> stored;
    switch (object.kind) {
    case Kind::Server:
        stored = TRY(inventory.server_security());
        break;
    case Kind::VirtualMachine:
        stored = TRY(inventory.vm_security(object.id));
        break;
    case Kind::VirtualNetwork:
        stored = TRY(inventory.network_security(object.id));
        break;
    case Kind::HardDisk:
        stored = TRY(inventory.disk_security(object.disk));
        break;
    }
    // Objects from before security existed (or files from elsewhere) get
    // the default: Administrators own them and have every right.
    return stored ? std::move(*stored) : SecurityDescriptor::default_for("");
}

ServiceResult<void> store_descriptor(Inventory& inventory, Secured const& object,
                                     SecurityDescriptor const& descriptor) {
    switch (object.kind) {
    case Kind::Server:
        return inventory.set_server_security(descriptor);
    case Kind::VirtualMachine:
        return inventory.set_vm_security(object.id, descriptor);
    case Kind::VirtualNetwork:
        return inventory.set_network_security(object.id, descriptor);
    case Kind::HardDisk:
        return inventory.set_disk_security(object.disk, descriptor);
    }
    return {};
}

ServiceError no_entry(SecurityRef const& ref) {
    return {hr::E_INVALIDARG, std::string("no ") + (ref.type == AceType::Allowed ? "allow" : "deny") +
                                  " entry for '" + ref.name + "' on " + ref.object.description};
}

ServiceResult<AceType> ace_type(std::int64_t value) {
    auto type = sec::ace_type_from(value);
    if (!type)
        return Err{ServiceError{hr::E_INVALIDARG, "VMAccessRightsType is 0 (allowed) or 1 (denied), not " +
                                                      std::to_string(value)}};
    return *type;
}

} // namespace

ServiceResult<bool> holds_vm_right(Inventory const& inventory, Identity const& who, Guid const& vm,
                                   Right right) {
    if (who.administrator) return true; // Administrators have every right (access_control.h)
    auto object = TRY(vm_object(inventory, vm.to_string()));
    auto descriptor = TRY(load_descriptor(inventory, object));
    return sec::allows(descriptor, who, right);
}

// --- The central check ----------------------------------------------------

int VsService::authorize(std::string_view operation, AccessRefs const& refs) {
    auto const* policy = find_operation_policy(operation);
    if (!policy) {
        // Fail closed: an operation nobody classified must not run.
        security_log().error("operation " + wsdl_operation_name(operation) +
                             " has no access policy; refused");
        return fault({hr::E_ACCESSDENIED, "operation " + wsdl_operation_name(operation) +
                                              " has no access policy (appliance/soap/access_policy.cpp)"});
    }
    if (policy->check.target == Target::None) return SOAP_OK;
    if (int rc = require_principal()) return rc;

    Identity who{m_call->principal->user, m_call->principal->groups, m_call->principal->administrator};
    if (who.administrator) return SOAP_OK; // Administrators have every right (access_control.h)

    auto& inv = inventory();
    for (auto const* check : {&policy->check, policy->also ? &*policy->also : nullptr}) {
        if (!check || check->target == Target::Anyone) continue;
        ServiceResult<Secured> object = server_object();
        switch (check->target) {
        case Target::None:
        case Target::Anyone:
        case Target::Server:
            break;
        case Target::ThisVm:
            object = vm_object(inv, refs.this_ref);
            break;
        case Target::ThisNetwork:
            object = network_object(inv, refs.this_ref);
            break;
        case Target::ThisDisk:
            object = absolute_disk_object(inv, refs.this_ref);
            break;
        case Target::ArgParentDisk:
            object = absolute_disk_object(inv, refs.parent);
            break;
        case Target::ThisVmOrNetwork:
            object = vm_object(inv, refs.this_ref);
            if (object.is_error()) object = network_object(inv, refs.this_ref);
            break;
        case Target::ArgVm:
            object = vm_object(inv, refs.vm);
            break;
        case Target::ArgNetwork:
            object = network_object(inv, refs.network);
            break;
        case Target::ArgDisk: {
            auto vm = Guid::parse(refs.this_ref.substr(0, refs.this_ref.find('/')));
            if (!vm) {
                object = Err{bad_security_ref(refs.this_ref, "IVMVirtualMachine")};
                break;
            }
            auto path = inv.resolve_media_path(*vm, refs.disk);
            object = path.is_error() ? ServiceResult<Secured>{Err{path.error()}} : disk_object(path.value());
            break;
        }
        case Target::ThisSecurity:
        case Target::ThisEntry:
        case Target::ArgSecurity: {
            auto parsed =
                parse_security_ref(inv, check->target == Target::ArgSecurity ? refs.security : refs.this_ref);
            if (parsed.is_error()) {
                object = Err{parsed.error()};
                break;
            }
            // The caller's own effective rights need no right to be read.
            if (check->target == Target::ThisEntry && parsed.value().part == SecurityRef::Part::Current &&
                check->right == Right::ReadPermissions)
                continue;
            object = std::move(parsed.value().object);
            break;
        }
        }
        // A reference that names no object: nothing to protect; the
        // operation itself reports it with its usual HRESULT (so S_FALSE
        // answers such as UnregisterVirtualMachine's stay as they were).
        if (object.is_error()) continue;
        auto descriptor = load_descriptor(inv, object.value());
        if (descriptor.is_error()) return fault(descriptor.error()); // unreadable ACL: fail closed
        if (sec::allows(descriptor.value(), who, check->right)) continue;
        std::string message = "access denied: user '" + who.user + "' lacks the " +
                              std::string(sec::right_name(check->right)) + " right on " +
                              object.value().description + " (" + wsdl_operation_name(operation) + ")";
        security_log().warning(message);
        return fault({hr::E_ACCESSDENIED, message});
    }
    return SOAP_OK;
}

// Startup opens the VM's hard disks on the caller's behalf, as Virtual
// Server opened them in the user's name: someone who may start a VM but
// not read (or, unless the VM is undoable and writes only its undo disks,
// write) one of its disks is refused, naming the disk. Disks that are
// missing are left to the startup itself to report.
ServiceResult<void> VsService::require_disk_rights(Guid const& vm_id) {
    if (!m_call->principal) return service_error(hr::E_ACCESSDENIED, "not logged on");
    if (m_call->principal->administrator) return Ok{};
    Identity who{m_call->principal->user, m_call->principal->groups, m_call->principal->administrator};
    auto& inv = inventory();
    auto vm = inv.virtual_machine(vm_id);
    if (!vm) return Ok{}; // the startup reports the unknown VM
    for (auto const& disk : vm->hard_disk_connections()) {
        auto object = absolute_disk_object(inv, disk.disk_path());
        if (object.is_error()) continue;
        auto descriptor = TRY(load_descriptor(inv, object.value()));
        for (Right right : {Right::Read, Right::Write}) {
            if (right == Right::Write && vm->undoable()) continue;
            if (sec::allows(descriptor, who, right)) continue;
            std::string message = "access denied: user '" + who.user + "' lacks the " +
                                  std::string(sec::right_name(right)) + " right on " +
                                  object.value().description + ", a disk of virtual machine \"" + vm->name() +
                                  "\" (IVMVirtualMachine_Startup)";
            security_log().warning(message);
            return service_error(hr::E_ACCESSDENIED, message);
        }
    }
    return Ok{};
}

bool VsService::may_read(std::string_view object_ref) {
    if (!m_call->principal) return false;
    if (m_call->principal->administrator) return true;
    Identity who{m_call->principal->user, m_call->principal->groups, m_call->principal->administrator};
    auto& inv = inventory();
    auto object = vm_object(inv, object_ref);
    if (object.is_error()) object = network_object(inv, object_ref);
    // Not a VM or network (a task: its GUID is the capability; the server):
    // the operation's own check on the server covered it.
    if (object.is_error()) return true;
    auto descriptor = load_descriptor(inv, object.value());
    return descriptor.has_value() && sec::allows(descriptor.value(), who, Right::Read);
}

void VsService::adopt_created(std::string_view operation, std::string const& reference) {
    std::string name = wsdl_operation_name(operation);
    bool vm =
        name == "IVMVirtualServer_CreateVirtualMachine" || name == "IVMVirtualServer_RegisterVirtualMachine";
    bool network =
        name == "IVMVirtualServer_CreateVirtualNetwork" || name == "IVMVirtualServer_RegisterVirtualNetwork";
    if ((!vm && !network) || !m_call->principal) return;
    auto id = Guid::parse(reference);
    if (!id) return;
    auto& inv = inventory();
    std::lock_guard lock(g_security_edit_mutex);
    auto stored = vm ? inv.vm_security(*id) : inv.network_security(*id);
    if (stored.is_error() || stored.value()) return; // a registered file keeps the descriptor it has
    // Administrators' objects belong to the group, as in Windows; anyone
    // else's to the creator, with every right.
    auto const& principal = *m_call->principal;
    auto descriptor = SecurityDescriptor::default_for(principal.administrator ? "" : principal.user);
    auto written = vm ? inv.set_vm_security(*id, descriptor) : inv.set_network_security(*id, descriptor);
    if (written.is_error())
        security_log().error("could not store the default permissions of " + reference + ": " +
                             written.error().message);
}

template <typename Out, typename F>
int VsService::security_answer(Out& out, F&& produce) {
    if (int rc = require_principal()) return rc;
    auto value = produce();
    if (value.is_error()) return fault(value.error());
    out = static_cast<Out>(value.release_value());
    return SOAP_OK;
}

template <typename F>
int VsService::security_act(F&& run) {
    if (int rc = require_principal()) return rc;
    ServiceResult<void> outcome = run();
    if (outcome.is_error()) return fault(outcome.error());
    return SOAP_OK;
}

// --- Operations -----------------------------------------------------------

#define VSA_SECURITY_OP(op)                                                                                  \
    int VsService::op([[maybe_unused]] _vs__##op* request, [[maybe_unused]] _vs__##op##Response& response)

namespace {

// A SID string ("S-1-...") stands for the name it was given to; one that
// names nobody is refused (Virtual Server resolved names and SIDs alike).
ServiceResult<std::string> name_of_sid(sec::AccountSids const& sids, std::string_view text) {
    if (text.size() < 2 || (text[0] != 'S' && text[0] != 's') || text[1] != '-') return std::string(text);
    auto sid = sec::Sid::parse(text);
    if (!sid)
        return Err{
            ServiceError{hr::E_INVALIDARG, "'" + std::string(text.substr(0, 96)) + "' is no SID string"}};
    auto name = sids.name_of(*sid);
    if (!name)
        return Err{ServiceError{hr::E_INVALIDARG,
                                "SID " + sid->to_string() + " is no account nor group of this appliance"}};
    return *name;
}

// Names an entry or owner may take: an account, or a built-in group, by
// name or SID.
ServiceResult<std::string> known_name(AccountStore const& accounts, sec::AccountSids const& sids,
                                      std::string_view name_or_sid) {
    std::string resolved = TRY(name_of_sid(sids, name_or_sid));
    std::string_view name = resolved;
    TRY(sec::validate_name(name));
    if (sec::names_equal(name, sec::ADMINISTRATORS)) return std::string(sec::ADMINISTRATORS);
    if (sec::names_equal(name, sec::EVERYONE)) return std::string(sec::EVERYONE);
    if (auto account = accounts.find(name)) return account->name; // spelled as created
    if (auto group = accounts.find_group(name)) return *group;
    return Err{
        ServiceError{hr::E_INVALIDARG, "'" + std::string(name) +
                                           "' is no account nor group (an account's groups, Administrators, "
                                           "Everyone)"}};
}

} // namespace

VSA_SECURITY_OP(IVMVirtualServer_USCOREget_USCORESecurity) {
    return security_answer(response.returnval,
                           [&]() -> ServiceResult<std::string> { return security_ref(server_object()); });
}

VSA_SECURITY_OP(IVMVirtualServer_USCOREset_USCORESecurity) {
    return security_act([&]() -> ServiceResult<void> {
        auto& inv = inventory();
        auto source = TRY(parse_security_ref(inv, request->security));
        if (source.part != SecurityRef::Part::Security)
            return Err{bad_security_ref(request->security, "IVMSecurity")};
        std::lock_guard lock(g_security_edit_mutex);
        auto descriptor = TRY(load_descriptor(inv, source.object));
        TRY(store_descriptor(inv, server_object(), descriptor));
        security_log().information("user '" + m_call->principal->user +
                                   "' replaced the permissions of the server by those of " +
                                   source.object.description);
        return {};
    });
}

VSA_SECURITY_OP(IVMVirtualMachine_USCOREget_USCORESecurity) {
    return security_answer(response.returnval, [&]() -> ServiceResult<std::string> {
        auto object = TRY(vm_object(inventory(), request->_USCOREthis));
        if (request->_USCOREthis.find('/') != std::string::npos)
            return Err{bad_security_ref(request->_USCOREthis, "IVMVirtualMachine")};
        return security_ref(object);
    });
}

VSA_SECURITY_OP(IVMVirtualNetwork_USCOREget_USCORESecurity) {
    return security_answer(response.returnval, [&]() -> ServiceResult<std::string> {
        return security_ref(TRY(network_object(inventory(), request->_USCOREthis)));
    });
}

VSA_SECURITY_OP(IVMHardDisk_USCOREget_USCORESecurity) {
    return security_answer(response.returnval, [&]() -> ServiceResult<std::string> {
        return security_ref(TRY(absolute_disk_object(inventory(), request->_USCOREthis)));
    });
}

// --- IVMSecurity ----------------------------------------------------------

namespace {

ServiceResult<SecurityRef> security_object(Inventory const& inventory, std::string const& ref) {
    auto parsed = TRY(parse_security_ref(inventory, ref));
    if (parsed.part != SecurityRef::Part::Security) return Err{bad_security_ref(ref, "IVMSecurity")};
    return parsed;
}

} // namespace

VSA_SECURITY_OP(IVMSecurity_USCOREget_USCOREAccessRights) {
    return security_answer(response.returnval, [&]() -> ServiceResult<std::string> {
        auto parsed = TRY(security_object(inventory(), request->_USCOREthis));
        return security_ref(parsed.object) + std::string(ENTRIES_PART);
    });
}

VSA_SECURITY_OP(IVMSecurity_USCOREget_USCORECurrentUserAccessRights) {
    return security_answer(response.returnval, [&]() -> ServiceResult<std::string> {
        auto parsed = TRY(security_object(inventory(), request->_USCOREthis));
        return security_ref(parsed.object) + std::string(CURRENT_PART);
    });
}

VSA_SECURITY_OP(IVMSecurity_USCOREget_USCOREOwnerName) {
    return security_answer(response.returnval, [&]() -> ServiceResult<std::string> {
        auto parsed = TRY(security_object(inventory(), request->_USCOREthis));
        return TRY(load_descriptor(inventory(), parsed.object)).owner;
    });
}

VSA_SECURITY_OP(IVMSecurity_USCOREset_USCOREOwnerName) {
    return security_act([&]() -> ServiceResult<void> {
        auto& inv = inventory();
        auto parsed = TRY(security_object(inv, request->_USCOREthis));
        auto owner =
            TRY(known_name(m_backend->auth.accounts(), m_backend->server.account_sids(), request->ownerName));
        std::lock_guard lock(g_security_edit_mutex);
        auto descriptor = TRY(load_descriptor(inv, parsed.object));
        descriptor.owner = owner;
        TRY(store_descriptor(inv, parsed.object, descriptor));
        security_log().information("user '" + m_call->principal->user + "' made '" + owner +
                                   "' the owner of " + parsed.object.description);
        return {};
    });
}

VSA_SECURITY_OP(IVMSecurity_USCOREAddEntry) {
    return security_answer(response.returnval, [&]() -> ServiceResult<std::string> {
        auto& inv = inventory();
        auto parsed = TRY(security_object(inv, request->_USCOREthis));
        auto name =
            TRY(known_name(m_backend->auth.accounts(), m_backend->server.account_sids(), request->nameOrSid));
        auto type = TRY(ace_type(request->type));
        std::lock_guard lock(g_security_edit_mutex);
        auto descriptor = TRY(load_descriptor(inv, parsed.object));
        auto entry = TRY(descriptor.acl.add(name, type));
        TRY(store_descriptor(inv, parsed.object, descriptor));
        security_log().information("user '" + m_call->principal->user + "' added an " +
                                   (type == AceType::Allowed ? "allow" : "deny") + " entry for '" + name +
                                   "' to " + parsed.object.description);
        return entry_ref(parsed.object, entry);
    });
}

VSA_SECURITY_OP(IVMSecurity_USCOREFindEntry) {
    return security_answer(response.returnval, [&]() -> ServiceResult<std::string> {
        auto& inv = inventory();
        auto parsed = TRY(security_object(inv, request->_USCOREthis));
        auto name = TRY(name_of_sid(m_backend->server.account_sids(), request->nameOrSid));
        TRY(sec::validate_name(name));
        auto type = TRY(ace_type(request->type));
        auto descriptor = TRY(load_descriptor(inv, parsed.object));
        auto const* entry = descriptor.acl.find(name, type);
        return entry ? entry_ref(parsed.object, *entry) : std::string(); // S_FALSE: an empty reference
    });
}

VSA_SECURITY_OP(IVMSecurity_USCORERemoveEntry) {
    return security_act([&]() -> ServiceResult<void> {
        auto& inv = inventory();
        auto parsed = TRY(security_object(inv, request->_USCOREthis));
        auto entry = TRY(parse_security_ref(inv, request->entryToDelete));
        if (entry.part != SecurityRef::Part::Entry || entry.object.ref != parsed.object.ref)
            return Err{ServiceError{hr::E_INVALIDARG,
                                    "entryToDelete is not an entry of " + parsed.object.description}};
        std::lock_guard lock(g_security_edit_mutex);
        auto descriptor = TRY(load_descriptor(inv, parsed.object));
        if (!descriptor.acl.remove(entry.name, entry.type)) return {}; // already gone: S_FALSE
        TRY(store_descriptor(inv, parsed.object, descriptor));
        security_log().information("user '" + m_call->principal->user + "' removed the " +
                                   (entry.type == AceType::Allowed ? "allow" : "deny") + " entry for '" +
                                   entry.name + "' from " + parsed.object.description);
        return {};
    });
}

// --- IVMAccessRightsCollection --------------------------------------------

namespace {

ServiceResult<std::pair<SecurityRef, SecurityDescriptor>> entries_of(Inventory const& inventory,
                                                                     std::string const& ref) {
    auto parsed = TRY(parse_security_ref(inventory, ref));
    if (parsed.part != SecurityRef::Part::Entries)
        return Err{bad_security_ref(ref, "IVMAccessRightsCollection")};
    auto descriptor = TRY(load_descriptor(inventory, parsed.object));
    return std::pair{std::move(parsed), std::move(descriptor)};
}

} // namespace

VSA_SECURITY_OP(IVMAccessRightsCollection_USCOREget_USCORECount) {
    return security_answer(response.returnval, [&]() -> ServiceResult<int> {
        return static_cast<int>(TRY(entries_of(inventory(), request->_USCOREthis)).second.acl.size());
    });
}

VSA_SECURITY_OP(IVMAccessRightsCollection_USCOREget_USCOREItem) {
    return security_answer(response.returnval, [&]() -> ServiceResult<std::string> {
        auto [parsed, descriptor] = TRY(entries_of(inventory(), request->_USCOREthis));
        auto const& entries = descriptor.acl.entries();
        if (request->index < 1 || static_cast<std::size_t>(request->index) > entries.size())
            return Err{ServiceError{hr::DISP_E_BADINDEX, "index " + std::to_string(request->index) +
                                                             " is outside 1.." +
                                                             std::to_string(entries.size())}};
        return entry_ref(parsed.object, entries[static_cast<std::size_t>(request->index) - 1]);
    });
}

VSA_SECURITY_OP(IVMAccessRightsCollection_USCOREget_USCORE_USCORENewEnum) {
    if (int rc = require_principal()) return rc;
    auto listed = entries_of(inventory(), request->_USCOREthis);
    if (listed.is_error()) return fault(listed.error());
    response.returnval = soap_new_vs__ArrayOfString(soap);
    for (auto const& entry : listed.value().second.acl.entries())
        response.returnval->item.push_back(entry_ref(listed.value().first.object, entry));
    return SOAP_OK;
}

// --- IVMAccessRights ------------------------------------------------------

namespace {

// The entry a reference names, as it is now; for "@current", the caller's
// effective rights as an allow entry.
ServiceResult<AccessEntry> read_entry(Inventory const& inventory, std::string const& ref,
                                      Identity const& who) {
    auto parsed = TRY(parse_security_ref(inventory, ref));
    auto descriptor = TRY(load_descriptor(inventory, parsed.object));
    if (parsed.part == SecurityRef::Part::Current)
        return AccessEntry{who.user, AceType::Allowed, sec::effective_rights(descriptor, who)};
    if (parsed.part != SecurityRef::Part::Entry) return Err{bad_security_ref(ref, "IVMAccessRights")};
    auto const* entry = descriptor.acl.find(parsed.name, parsed.type);
    if (!entry) return Err{no_entry(parsed)};
    return *entry;
}

using EntryChange = std::function<ServiceResult<void>(SecurityDescriptor&, AccessEntry&)>;

// Load, change one entry, store; under the edit lock.
ServiceResult<void> change_entry(Inventory& inventory, std::string const& ref, std::string const& user,
                                 std::string const& what, EntryChange const& change) {
    auto parsed = TRY(parse_security_ref(inventory, ref));
    if (parsed.part == SecurityRef::Part::Current)
        return Err{
            ServiceError{hr::E_INVALIDARG, "CurrentUserAccessRights is read-only: change an entry instead"}};
    if (parsed.part != SecurityRef::Part::Entry) return Err{bad_security_ref(ref, "IVMAccessRights")};
    std::lock_guard lock(g_security_edit_mutex);
    auto descriptor = TRY(load_descriptor(inventory, parsed.object));
    auto* entry = descriptor.acl.find(parsed.name, parsed.type);
    if (!entry) return Err{no_entry(parsed)};
    TRY(change(descriptor, *entry));
    TRY(store_descriptor(inventory, parsed.object, descriptor));
    security_log().information("user '" + user + "' changed the " +
                               (parsed.type == AceType::Allowed ? "allow" : "deny") + " entry for '" +
                               parsed.name + "' on " + parsed.object.description + ": " + what);
    return {};
}

// The entry's account becomes name (set_Name, set_Sid): refused where name
// already has an entry of that type.
ServiceResult<void> rename_entry(Inventory& inventory, std::string const& ref, std::string const& user,
                                 std::string const& name) {
    return change_entry(inventory, ref, user, "name " + name,
                        [&](SecurityDescriptor& descriptor, AccessEntry& entry) -> ServiceResult<void> {
                            if (sec::names_equal(entry.name, name)) return {};
                            if (descriptor.acl.find(name, entry.type))
                                return Err{ServiceError{hr::VM_E_SECURITY_DUPLICATE_USER,
                                                        "'" + name + "' already has an entry of that type"}};
                            entry.name = name;
                            return {};
                        });
}

} // namespace

VSA_SECURITY_OP(IVMAccessRights_USCOREget_USCOREName) {
    return security_answer(response.returnval, [&]() -> ServiceResult<std::string> {
        Identity who{m_call->principal->user, m_call->principal->groups, m_call->principal->administrator};
        return TRY(read_entry(inventory(), request->_USCOREthis, who)).name;
    });
}

VSA_SECURITY_OP(IVMAccessRights_USCOREget_USCOREType) {
    return security_answer(response.returnval, [&]() -> ServiceResult<int> {
        Identity who{m_call->principal->user, m_call->principal->groups, m_call->principal->administrator};
        return static_cast<int>(TRY(read_entry(inventory(), request->_USCOREthis, who)).type);
    });
}

VSA_SECURITY_OP(IVMAccessRights_USCOREset_USCOREName) {
    return security_act([&]() -> ServiceResult<void> {
        auto name =
            TRY(known_name(m_backend->auth.accounts(), m_backend->server.account_sids(), request->name));
        return rename_entry(inventory(), request->_USCOREthis, m_call->principal->user, name);
    });
}

VSA_SECURITY_OP(IVMAccessRights_USCOREset_USCOREType) {
    return security_act([&]() -> ServiceResult<void> {
        auto type = TRY(ace_type(request->type));
        return change_entry(
            inventory(), request->_USCOREthis, m_call->principal->user,
            type == AceType::Allowed ? "now allows" : "now denies",
            [&](SecurityDescriptor& descriptor, AccessEntry& entry) -> ServiceResult<void> {
                if (entry.type == type) return {};
                if (descriptor.acl.find(entry.name, type))
                    return Err{ServiceError{hr::VM_E_SECURITY_DUPLICATE_USER,
                                            "'" + entry.name + "' already has an entry of that type"}};
                entry.type = type;
                return {};
            });
    });
}

#define VSA_ACCESS_RIGHT(prop, right)                                                                        \
    VSA_SECURITY_OP(IVMAccessRights_USCOREget_USCORE##prop) {                                                \
        return security_answer(response.returnval, [&]() -> ServiceResult<bool> {                            \
            Identity who{m_call->principal->user, m_call->principal->groups,                                 \
                         m_call->principal->administrator};                                                  \
            return TRY(read_entry(inventory(), request->_USCOREthis, who)).has(right);                       \
        });                                                                                                  \
    }                                                                                                        \
    VSA_SECURITY_OP(IVMAccessRights_USCOREset_USCORE##prop) {                                                \
        return security_act([&]() -> ServiceResult<void> {                                                   \
            bool on = request->VSA_ACCESS_ARG_##prop;                                                        \
            return change_entry(inventory(), request->_USCOREthis, m_call->principal->user,                  \
                                std::string(sec::right_name(right)) + (on ? " on" : " off"),                 \
                                [&](SecurityDescriptor&, AccessEntry& entry) -> ServiceResult<void> {        \
                                    entry.set(right, on);                                                    \
                                    return {};                                                               \
                                });                                                                          \
        });                                                                                                  \
    }

#define VSA_ACCESS_ARG_ReadAccess readAccess
#define VSA_ACCESS_ARG_WriteAccess writeAccess
#define VSA_ACCESS_ARG_ExecuteAccess executeAccess
#define VSA_ACCESS_ARG_DeleteAccess deleteAccess
#define VSA_ACCESS_ARG_ReadPermissions readPermissions
#define VSA_ACCESS_ARG_ChangePermissions changePermissions

VSA_ACCESS_RIGHT(ReadAccess, Right::Read)
VSA_ACCESS_RIGHT(WriteAccess, Right::Write)
VSA_ACCESS_RIGHT(ExecuteAccess, Right::Execute)
VSA_ACCESS_RIGHT(DeleteAccess, Right::Delete)
VSA_ACCESS_RIGHT(ReadPermissions, Right::ReadPermissions)
VSA_ACCESS_RIGHT(ChangePermissions, Right::ChangePermissions)

// --- SIDs, primary group, ACE flags, special access, binary forms ----------
// (issue 11, area "identity"; services/security/account_sids.h and
// security_descriptor_binary.h)

namespace {

// A GENERIC_MAPPING argument; all four zero (or none) is no mapping.
sec::GenericMapping const* mapping_of(vs__GenericMapping const* given, sec::GenericMapping& storage) {
    if (!given) return nullptr;
    storage = {given->GenericRead, given->GenericWrite, given->GenericExecute, given->GenericAll};
    if (!storage.read && !storage.write && !storage.execute && !storage.all) return nullptr;
    return &storage;
}

// A SID argument: its text must be a SID string (names go to the *Name
// members), and the SID must be one of ours.
ServiceResult<std::string> sid_argument(AccountStore const& accounts, sec::AccountSids const& sids,
                                        std::string const& text, char const* what) {
    if (!sec::Sid::parse(text))
        return Err{ServiceError{hr::E_INVALIDARG, std::string(what) +
                                                      " must be a SID string like S-1-5-32-544 (got '" +
                                                      text.substr(0, 96) + "')"}};
    return known_name(accounts, sids, text);
}

} // namespace

VSA_SECURITY_OP(IVMSecurity_USCOREget_USCOREOwnerSid) {
    return security_answer(response.returnval, [&]() -> ServiceResult<std::string> {
        auto parsed = TRY(security_object(inventory(), request->_USCOREthis));
        auto descriptor = TRY(load_descriptor(inventory(), parsed.object));
        return TRY(m_backend->server.account_sids().sid_of(descriptor.owner)).to_string();
    });
}

VSA_SECURITY_OP(IVMSecurity_USCOREget_USCOREGroupName) {
    return security_answer(response.returnval, [&]() -> ServiceResult<std::string> {
        auto parsed = TRY(security_object(inventory(), request->_USCOREthis));
        return TRY(load_descriptor(inventory(), parsed.object)).group;
    });
}

VSA_SECURITY_OP(IVMSecurity_USCOREget_USCOREGroupSid) {
    return security_answer(response.returnval, [&]() -> ServiceResult<std::string> {
        auto parsed = TRY(security_object(inventory(), request->_USCOREthis));
        auto descriptor = TRY(load_descriptor(inventory(), parsed.object));
        return TRY(m_backend->server.account_sids().sid_of(descriptor.group)).to_string();
    });
}

namespace {

// Owner or primary group := `name` (already resolved), under the edit lock.
ServiceResult<void> set_owner_or_group(Inventory& inventory, std::string const& ref, std::string const& user,
                                       std::string const& name, bool group) {
    auto parsed = TRY(security_object(inventory, ref));
    std::lock_guard lock(g_security_edit_mutex);
    auto descriptor = TRY(load_descriptor(inventory, parsed.object));
    (group ? descriptor.group : descriptor.owner) = name;
    TRY(store_descriptor(inventory, parsed.object, descriptor));
    security_log().information("user '" + user + "' made '" + name + "' the " +
                               (group ? "primary group" : "owner") + " of " + parsed.object.description);
    return {};
}

} // namespace

VSA_SECURITY_OP(IVMSecurity_USCOREset_USCOREOwnerSid) {
    return security_act([&]() -> ServiceResult<void> {
        auto name = TRY(sid_argument(m_backend->auth.accounts(), m_backend->server.account_sids(),
                                     request->ownerSid, "OwnerSid"));
        return set_owner_or_group(inventory(), request->_USCOREthis, m_call->principal->user, name, false);
    });
}

VSA_SECURITY_OP(IVMSecurity_USCOREset_USCOREGroupName) {
    return security_act([&]() -> ServiceResult<void> {
        auto name =
            TRY(known_name(m_backend->auth.accounts(), m_backend->server.account_sids(), request->groupName));
        return set_owner_or_group(inventory(), request->_USCOREthis, m_call->principal->user, name, true);
    });
}

VSA_SECURITY_OP(IVMSecurity_USCOREset_USCOREGroupSid) {
    return security_act([&]() -> ServiceResult<void> {
        auto name = TRY(sid_argument(m_backend->auth.accounts(), m_backend->server.account_sids(),
                                     request->groupSid, "GroupSid"));
        return set_owner_or_group(inventory(), request->_USCOREthis, m_call->principal->user, name, true);
    });
}

VSA_SECURITY_OP(IVMSecurity_USCORE_USCOREToSecurityDescriptor) {
    if (int rc = require_principal()) return rc;
    auto bytes = [&]() -> ServiceResult<std::vector<std::uint8_t>> {
        auto parsed = TRY(security_object(inventory(), request->_USCOREthis));
        auto descriptor = TRY(load_descriptor(inventory(), parsed.object));
        auto& sids = m_backend->server.account_sids();
        sec::GenericMapping storage;
        auto const* mapping = mapping_of(request->genericMapping, storage);
        std::vector<sec::DescriptorAce> aces;
        for (auto const& entry : descriptor.acl.entries())
            aces.push_back({entry.type, entry.flags, sec::access_mask(entry.rights, entry.special, mapping),
                            TRY(sids.sid_of(entry.name))});
        return sec::self_relative_descriptor(TRY(sids.sid_of(descriptor.owner)),
                                             TRY(sids.sid_of(descriptor.group)), aces);
    }();
    return deliver(soap, std::move(bytes), [&](std::vector<std::uint8_t> const& data) {
        response.returnval.__ptr = static_cast<unsigned char*>(soap_malloc(soap, data.size()));
        response.returnval.__size = response.returnval.__ptr ? static_cast<int>(data.size()) : 0;
        if (response.returnval.__ptr) std::memcpy(response.returnval.__ptr, data.data(), data.size());
    });
}

VSA_SECURITY_OP(IVMAccessRights_USCOREget_USCORESid) {
    return security_answer(response.returnval, [&]() -> ServiceResult<std::string> {
        Identity who{m_call->principal->user, m_call->principal->groups, m_call->principal->administrator};
        auto entry = TRY(read_entry(inventory(), request->_USCOREthis, who));
        return TRY(m_backend->server.account_sids().sid_of(entry.name)).to_string();
    });
}

VSA_SECURITY_OP(IVMAccessRights_USCOREset_USCORESid) {
    return security_act([&]() -> ServiceResult<void> {
        auto name = TRY(
            sid_argument(m_backend->auth.accounts(), m_backend->server.account_sids(), request->sid, "Sid"));
        return rename_entry(inventory(), request->_USCOREthis, m_call->principal->user, name);
    });
}

VSA_SECURITY_OP(IVMAccessRights_USCOREget_USCOREFlags) {
    return security_answer(response.returnval, [&]() -> ServiceResult<int> {
        Identity who{m_call->principal->user, m_call->principal->groups, m_call->principal->administrator};
        return static_cast<int>(TRY(read_entry(inventory(), request->_USCOREthis, who)).flags);
    });
}

VSA_SECURITY_OP(IVMAccessRights_USCOREset_USCOREFlags) {
    return security_act([&]() -> ServiceResult<void> {
        if (request->flags < 0 || request->flags > 255)
            return Err{ServiceError{hr::E_INVALIDARG,
                                    "Flags is a byte (0-255), not " + std::to_string(request->flags)}};
        auto flags = static_cast<std::uint8_t>(request->flags);
        return change_entry(inventory(), request->_USCOREthis, m_call->principal->user,
                            "flags " + std::to_string(flags),
                            [&](SecurityDescriptor&, AccessEntry& entry) -> ServiceResult<void> {
                                entry.flags = flags;
                                return {};
                            });
    });
}

VSA_SECURITY_OP(IVMAccessRights_USCOREget_USCORESpecialAccess) {
    return security_answer(response.returnval, [&]() -> ServiceResult<bool> {
        Identity who{m_call->principal->user, m_call->principal->groups, m_call->principal->administrator};
        return (TRY(read_entry(inventory(), request->_USCOREthis, who)).special & ~sec::MAPPED_BITS) != 0;
    });
}

VSA_SECURITY_OP(IVMAccessRights_USCOREset_USCORESpecialAccess) {
    return security_act([&]() -> ServiceResult<void> {
        bool keep = request->specialAccess;
        return change_entry(inventory(), request->_USCOREthis, m_call->principal->user,
                            keep ? "special rights kept" : "special rights dropped",
                            [&](SecurityDescriptor&, AccessEntry& entry) -> ServiceResult<void> {
                                if (!keep) {
                                    entry.special = 0;
                                    return {};
                                }
                                if ((entry.special & ~sec::MAPPED_BITS) == 0)
                                    return Err{ServiceError{
                                        hr::E_INVALIDARG, "the entry holds no special rights, and none can "
                                                          "be made: SpecialAccess only keeps or drops them"}};
                                return {};
                            });
    });
}

VSA_SECURITY_OP(IVMAccessRights_USCORE_USCOREGetAccessMask) {
    return security_answer(response.returnval, [&]() -> ServiceResult<unsigned int> {
        Identity who{m_call->principal->user, m_call->principal->groups, m_call->principal->administrator};
        auto entry = TRY(read_entry(inventory(), request->_USCOREthis, who));
        sec::GenericMapping storage;
        return sec::access_mask(entry.rights, entry.special, mapping_of(request->genericMapping, storage));
    });
}

} // namespace vsa::appliance
