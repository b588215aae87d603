// SPDX-License-Identifier: GPL-2.0-or-later
// The access policy: for every SOAP operation, which object it acts on and
// which right (services/security) the caller needs on it. ONE table
// (access_policy.cpp) covers every operation in VSA_SOAP_OPERATIONS; the
// guard in front of the operations (AccessCheckedVsService, vs_service.h)
// looks the operation up there before running it, so an operation with no
// entry is refused (E_ACCESSDENIED), never run unchecked, and a unit test
// (tests/appliance/access_policy_test.cpp) fails for it.
//
// The rules the table follows:
//   property reads, listings, Find*, HostInfo          read
//   property writes, Add*/Remove*, media, NIC plugging write
//   Create*/Register* (on the server), VHD creation    write on the server
//   Startup, TurnOff, Save, Reset, Pause, Resume,
//   DiscardSavedState                                  execute
//   Unregister*/Delete* (on the VM / network named)    delete
//   IVMSecurity reads, IVMAccessRightsCollection,
//   IVMAccessRights reads                              read-permissions
//   OwnerName, AddEntry, RemoveEntry, IVMAccessRights
//   writes, IVMVirtualServer.set_Security              change-permissions
// plus a second check where an operation reaches a second object:
// AddHardDiskConnection needs write on the disk, AttachToVirtualNetwork
// write on the network, set_Security read-permissions on the source,
// IVMHardDisk.set_Parent read on the new parent.
// Needing only authentication: Session_Logoff/CurrentUser, IVMTask* (a task
// reference is an unguessable GUID handed to whoever started the operation,
// which that right already covered), the get_Security members (the
// reference only names the security object; everything reached through it
// is checked) and CurrentUserAccessRights (anyone may ask what they may do).
// Session_Logon needs nothing at all.
//
// No gSOAP here: the table is plain data the unit test reads.
#pragma once

#include "services/model/guid.h"
#include "services/security/access_control.h"
#include "services/service_error.h"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vsa::services {
class Inventory;
}

namespace vsa::appliance {

enum class Target : std::uint8_t {
    None,            // nothing: not even authentication (Session_Logon)
    Anyone,          // any authenticated user; the right is not used
    Server,          // the server object
    ThisVm,          // _this: a VM, or a part of one (<vm>/hdc/..., /dvd/, /fdd/, /nic/)
    ThisNetwork,     // _this: a virtual network, or a part of one (<network>/dhcp)
    ThisVmOrNetwork, // _this: "<vm or network>/...": whichever the GUID names
    ThisDisk,        // _this: a virtual hard disk's absolute path
    ThisSecurity,    // _this: "<object>#security[/entries]": that object
    ThisEntry,       // _this: "<object>#security/<name>/<type>": that object; the
                     // caller's own "@current" entry may always be read
    ArgVm,           // the virtualMachine argument
    ArgNetwork,      // the virtualNetwork argument
    ArgDisk,         // the hardDiskPath argument (relative to the VM in _this)
    ArgSecurity,     // the security argument: the object it belongs to
    ArgParentDisk,   // the parent argument: a virtual hard disk's absolute path
};

struct AccessCheck {
    Target target{Target::None};
    services::security::Right right{services::security::Right::Read};
};

struct OperationPolicy {
    constexpr OperationPolicy(std::string_view operation_, AccessCheck check_)
        : operation(operation_), check(check_) {}
    constexpr OperationPolicy(std::string_view operation_, AccessCheck check_, AccessCheck also_)
        : operation(operation_), check(check_), also(also_) {}

    std::string_view operation; // as in the WSDL: IVMVirtualMachine_Startup
    AccessCheck check;
    std::optional<AccessCheck> also; // a second object the operation reaches
};

std::span<OperationPolicy const> operation_policies();
// `operation` in the WSDL's spelling or gSOAP's (IVMVirtualMachine_USCOREStartup).
OperationPolicy const* find_operation_policy(std::string_view operation);
// gSOAP writes '_' in XML names as "_USCORE"; the WSDL's spelling back.
std::string wsdl_operation_name(std::string_view gsoap_name);

// Whether `who` holds `right` on the virtual machine `vm`, judged as the
// SOAP gate judges a Target::ThisVm row (its stored ACL, or the default one
// when it has none; administrators hold every right); VM_E_VM_UNKNOWN for
// no such VM. For checks outside SOAP: the console's WebSocket.
// (Defined with the gate, in vs_service_security.cpp.)
services::ServiceResult<bool> holds_vm_right(services::Inventory const& inventory,
                                             services::security::Identity const& who,
                                             services::Guid const& vm, services::security::Right right);

} // namespace vsa::appliance
