// SPDX-License-Identifier: GPL-2.0-or-later
// The access policy table (appliance/soap/access_policy.h): every SOAP
// operation has exactly one entry, every entry names a real operation, and
// the classes of operations need the rights the table's rules promise.
#include "appliance/soap/access_policy.h"
#include "appliance/soap/vs_service.h"

#include <boost/test/unit_test.hpp>

#include <set>
#include <string>
#include <vector>

using namespace vsa::appliance;
using vsa::services::security::Right;

namespace {

std::vector<std::string> soap_operations() {
    std::vector<std::string> names;
#define VSA_OPERATION_NAME(op) names.push_back(#op);
    VSA_SOAP_OPERATIONS(VSA_OPERATION_NAME)
#undef VSA_OPERATION_NAME
    return names;
}

OperationPolicy const& policy(std::string_view operation) {
    auto const* found = find_operation_policy(operation);
    BOOST_REQUIRE_MESSAGE(found, std::string(operation) << " has no policy");
    return *found;
}

} // namespace

BOOST_AUTO_TEST_SUITE(access_policy)

BOOST_AUTO_TEST_CASE(every_operation_has_a_policy) {
    auto operations = soap_operations();
    std::set<std::string> in_list;
    for (auto const& op : operations) {
        BOOST_CHECK_MESSAGE(find_operation_policy(op) != nullptr,
                            wsdl_operation_name(op) << " has no entry in appliance/soap/access_policy.cpp");
        in_list.insert(wsdl_operation_name(op));
    }
    std::set<std::string_view> seen;
    for (auto const& entry : operation_policies()) {
        BOOST_CHECK_MESSAGE(seen.insert(entry.operation).second, entry.operation << " is listed twice");
        BOOST_CHECK_MESSAGE(in_list.count(std::string(entry.operation)),
                            entry.operation << " is in the policy but not in VSA_SOAP_OPERATIONS");
    }
    BOOST_TEST(operation_policies().size() == operations.size());
}

BOOST_AUTO_TEST_CASE(names_in_both_spellings) {
    BOOST_TEST(wsdl_operation_name("IVMAccessRightsCollection_USCOREget_USCORE_USCORENewEnum") ==
               "IVMAccessRightsCollection_get__NewEnum");
    BOOST_TEST(find_operation_policy("IVMVirtualMachine_Startup") ==
               find_operation_policy("IVMVirtualMachine_USCOREStartup"));
    BOOST_TEST(find_operation_policy("IVMVirtualMachine_Explode") == nullptr);
}

BOOST_AUTO_TEST_CASE(rights_follow_the_rules) {
    for (auto op : {"IVMVirtualMachine_Startup", "IVMVirtualMachine_TurnOff", "IVMVirtualMachine_Save",
                    "IVMVirtualMachine_Reset", "IVMVirtualMachine_Pause", "IVMVirtualMachine_Resume"}) {
        BOOST_TEST((policy(op).check.target == Target::ThisVm), op);
        BOOST_TEST((policy(op).check.right == Right::Execute), op);
    }
    BOOST_TEST((policy("IVMVirtualMachine_get_Memory").check.right == Right::Read));
    BOOST_TEST((policy("IVMVirtualMachine_set_Memory").check.right == Right::Write));
    BOOST_TEST((policy("IVMDVDDrive_AttachImage").check.target == Target::ThisVm));
    BOOST_TEST((policy("IVMVirtualServer_CreateVirtualMachine").check.target == Target::Server));
    BOOST_TEST((policy("IVMVirtualServer_CreateVirtualMachine").check.right == Right::Write));
    BOOST_TEST((policy("IVMVirtualServer_DeleteVirtualMachine").check.target == Target::ArgVm));
    BOOST_TEST((policy("IVMVirtualServer_DeleteVirtualMachine").check.right == Right::Delete));
    BOOST_TEST((policy("IVMVirtualServer_UnregisterVirtualNetwork").check.target == Target::ArgNetwork));
    BOOST_TEST((policy("IVMVirtualServer_get_VirtualMachines").check.target == Target::Server));
    BOOST_TEST((policy("IVMSecurity_AddEntry").check.right == Right::ChangePermissions));
    BOOST_TEST((policy("IVMSecurity_get_OwnerName").check.right == Right::ReadPermissions));
    BOOST_TEST((policy("IVMAccessRights_set_ReadAccess").check.right == Right::ChangePermissions));
    BOOST_TEST((policy("IVMAccessRights_get_ReadAccess").check.target == Target::ThisEntry));
    BOOST_TEST((policy("IVMVirtualServer_set_Security").also->target == Target::ArgSecurity));
    BOOST_TEST((policy("IVMVirtualMachine_AddHardDiskConnection").also->target == Target::ArgDisk));
    BOOST_TEST((policy("IVMHardDisk_set_Parent").check.target == Target::ThisDisk));
    BOOST_TEST((policy("IVMHardDisk_set_Parent").check.right == Right::Write));
    BOOST_TEST((policy("IVMHardDisk_set_Parent").also->target == Target::ArgParentDisk));
    BOOST_TEST((policy("IVMHardDisk_set_Parent").also->right == Right::Read));
    for (auto op : {"IVMDVDDrive_AttachHostDrive", "IVMDVDDrive_ReleaseHostDrive"}) {
        BOOST_TEST((policy(op).check.target == Target::ThisVm), op);
        BOOST_TEST((policy(op).check.right == Right::Write), op);
    }
    BOOST_TEST((policy("IVMDVDDrive_get_HostDriveLetter").check.right == Right::Read));
    BOOST_TEST((policy("Session_Logon").check.target == Target::None));
    // Only Session_Logon may skip authentication.
    for (auto const& entry : operation_policies())
        if (entry.operation != "Session_Logon")
            BOOST_TEST((entry.check.target != Target::None), entry.operation);
}

BOOST_AUTO_TEST_SUITE_END()
