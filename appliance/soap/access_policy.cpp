// SPDX-License-Identifier: GPL-2.0-or-later
// The one table of rights per operation; the rules are in access_policy.h.
#include "appliance/soap/access_policy.h"

#include <algorithm>
#include <array>

namespace vsa::appliance {

namespace {

using services::security::Right;

// Sorted by nothing: looked up once per call by a linear scan of ~200
// string compares, which costs far less than the XML parse before it.
OperationPolicy const POLICIES[] = {
    {"Session_Logon", {Target::None, Right::Read}},
    {"Session_Logoff", {Target::Anyone, Right::Read}},
    {"Session_CurrentUser", {Target::Anyone, Right::Read}},
    {"IVMVirtualServer_get_Name", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_Version", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_ProductID", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_UpTime", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_DefaultLocale", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_AvailableSystemCapacity", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_MaximumNumberOfVMs", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_MaximumMemoryPerVM", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_MinimumMemoryPerVM", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_SuggestedMaximumMemoryPerVM", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_MaximumFloppyDrivesPerVM", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_MaximumNetworkAdaptersPerVM", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_MaximumNumberOfIDEBuses", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_MaximumNumberOfSCSIControllers", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_MaximumParallelPortsPerVM", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_MaximumSerialPortsPerVM", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_HostInfo", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_VirtualMachines", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_VirtualNetworks", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_DefaultVMConfigurationPath", {Target::Server, Right::Read}},
    {"IVMVirtualServer_set_DefaultVMConfigurationPath", {Target::Server, Right::Write}},
    {"IVMVirtualServer_get_DefaultVNConfigurationPath", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_SearchPaths", {Target::Server, Right::Read}},
    {"IVMVirtualServer_set_SearchPaths", {Target::Server, Right::Write}},
    {"IVMVirtualServer_CreateVirtualMachine", {Target::Server, Right::Write}},
    {"IVMVirtualServer_RegisterVirtualMachine", {Target::Server, Right::Write}},
    {"IVMVirtualServer_UnregisterVirtualMachine", {Target::ArgVm, Right::Delete}},
    {"IVMVirtualServer_DeleteVirtualMachine", {Target::ArgVm, Right::Delete}},
    {"IVMVirtualServer_FindVirtualMachine", {Target::Server, Right::Read}},
    {"IVMVirtualServer_CreateVirtualNetwork", {Target::Server, Right::Write}},
    {"IVMVirtualServer_RegisterVirtualNetwork", {Target::Server, Right::Write}},
    {"IVMVirtualServer_UnregisterVirtualNetwork", {Target::ArgNetwork, Right::Delete}},
    {"IVMVirtualServer_DeleteVirtualNetwork", {Target::ArgNetwork, Right::Delete}},
    {"IVMVirtualServer_FindVirtualNetwork", {Target::Server, Right::Read}},
    {"IVMVirtualServer_GetVirtualMachineFiles", {Target::Server, Right::Read}},
    {"IVMVirtualServer_GetVirtualNetworkFiles", {Target::Server, Right::Read}},
    {"IVMVirtualServer_GetHardDiskFiles", {Target::Server, Right::Read}},
    {"IVMVirtualServer_GetDVDFiles", {Target::Server, Right::Read}},
    {"IVMVirtualServer_GetFloppyDiskFiles", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_Tasks", {Target::Server, Right::Read}},
    {"IVMVirtualServer_CreateDynamicVirtualHardDisk", {Target::Server, Right::Write}},
    {"IVMVirtualServer_CreateFixedVirtualHardDisk", {Target::Server, Right::Write}},
    {"IVMVirtualServer_CreateDifferencingVirtualHardDisk", {Target::Server, Right::Write}},
    {"IVMTask_get_Description", {Target::Anyone, Right::Read}},
    {"IVMTask_get_ID", {Target::Anyone, Right::Read}},
    {"IVMTask_get_IsCancelable", {Target::Anyone, Right::Read}},
    {"IVMTask_get_IsComplete", {Target::Anyone, Right::Read}},
    {"IVMTask_get_PercentCompleted", {Target::Anyone, Right::Read}},
    {"IVMTask_get_Result", {Target::Anyone, Right::Read}},
    {"IVMTask_Cancel", {Target::Anyone, Right::Read}},
    {"IVMTask_WaitForCompletion", {Target::Anyone, Right::Read}},
    {"IVMTask2_get_Error", {Target::Anyone, Right::Read}},
    {"IVMTask2_get_ErrorDescription", {Target::Anyone, Right::Read}},
    {"IVMHostInfo_get_DVDDrives", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_FloppyDrives", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_HostDrives", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_LogicalProcessorCount", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_Memory", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_MemoryAvail", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_MemoryAvailString", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_MemoryTotalString", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_MMX", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_NetworkAdapters", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_NetworkAddresses", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_OperatingSystem", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_OSMajorVersion", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_OSMinorVersion", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_OSServicePackString", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_OSVersionString", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_ParallelPort", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_PhysicalProcessorCount", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_ProcessorFeaturesString", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_ProcessorManufacturerString", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_ProcessorSpeed", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_ProcessorSpeedString", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_ProcessorVersionString", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_SerialPorts", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_SSE", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_SSE2", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_ThreeDNow", {Target::Server, Right::Read}},
    {"IVMHostInfo_get_UTCTime", {Target::Server, Right::Read}},
    {"IVMHostInfo_GetHostDriveSize", {Target::Server, Right::Read}},
    {"IVMHostInfo_IsHostDriveMounted", {Target::Server, Right::Read}},
    {"IVMVirtualMachine_get_Name", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_set_Name", {Target::ThisVm, Right::Write}},
    {"IVMVirtualMachine_get_ConfigID", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_get_File", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_get_State", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_get_SavedStateFilePath", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_get_ShutdownActionOnQuit", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_set_ShutdownActionOnQuit", {Target::ThisVm, Right::Write}},
    {"IVMVirtualMachine_Startup", {Target::ThisVm, Right::Execute}},
    {"IVMVirtualMachine_TurnOff", {Target::ThisVm, Right::Execute}},
    {"IVMVirtualMachine_Save", {Target::ThisVm, Right::Execute}},
    {"IVMVirtualMachine_Reset", {Target::ThisVm, Right::Execute}},
    {"IVMVirtualMachine_Pause", {Target::ThisVm, Right::Execute}},
    {"IVMVirtualMachine_Resume", {Target::ThisVm, Right::Execute}},
    {"IVMVirtualMachine_DiscardSavedState", {Target::ThisVm, Right::Execute}},
    {"IVMVirtualMachine_get_Undoable", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_set_Undoable", {Target::ThisVm, Right::Write}},
    {"IVMVirtualMachine_get_UndoAction", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_set_UndoAction", {Target::ThisVm, Right::Write}},
    {"IVMVirtualMachine_DiscardUndoDisks", {Target::ThisVm, Right::Write}},
    {"IVMVirtualMachine_MergeUndoDisks", {Target::ThisVm, Right::Write}},
    {"IVMVirtualMachine_get_Memory", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_set_Memory", {Target::ThisVm, Right::Write}},
    {"IVMVirtualMachine_get_Notes", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_set_Notes", {Target::ThisVm, Right::Write}},
    {"IVMVirtualMachine_get_HardDiskConnections", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_AddHardDiskConnection",
     {Target::ThisVm, Right::Write},
     {Target::ArgDisk, Right::Write}},
    {"IVMVirtualMachine_RemoveHardDiskConnection", {Target::ThisVm, Right::Write}},
    {"IVMVirtualMachine_get_NetworkAdapters", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_AddNetworkAdapter", {Target::ThisVm, Right::Write}},
    {"IVMVirtualMachine_get_DVDROMDrives", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_AddDVDROMDrive", {Target::ThisVm, Right::Write}},
    {"IVMVirtualMachine_RemoveDVDROMDrive", {Target::ThisVm, Right::Write}},
    {"IVMVirtualMachine_get_FloppyDrives", {Target::ThisVm, Right::Read}},
    {"IVMDVDDrive_get_Attachment", {Target::ThisVm, Right::Read}},
    {"IVMDVDDrive_get_ImageFile", {Target::ThisVm, Right::Read}},
    {"IVMDVDDrive_get_BusType", {Target::ThisVm, Right::Read}},
    {"IVMDVDDrive_get_BusNumber", {Target::ThisVm, Right::Read}},
    {"IVMDVDDrive_get_DeviceNumber", {Target::ThisVm, Right::Read}},
    {"IVMDVDDrive_AttachImage", {Target::ThisVm, Right::Write}},
    {"IVMDVDDrive_ReleaseImage", {Target::ThisVm, Right::Write}},
    {"IVMFloppyDrive_get_Attachment", {Target::ThisVm, Right::Read}},
    {"IVMFloppyDrive_get_ImageFile", {Target::ThisVm, Right::Read}},
    {"IVMFloppyDrive_AttachImage", {Target::ThisVm, Right::Write}},
    {"IVMFloppyDrive_ReleaseImage", {Target::ThisVm, Right::Write}},
    {"IVMHardDiskConnection_get_HardDisk", {Target::ThisVm, Right::Read}},
    {"IVMHardDiskConnection_get_UndoHardDisk", {Target::ThisVm, Right::Read}},
    {"IVMHardDiskConnection_get_BusType", {Target::ThisVm, Right::Read}},
    {"IVMHardDiskConnection_get_BusNumber", {Target::ThisVm, Right::Read}},
    {"IVMHardDiskConnection_get_DeviceNumber", {Target::ThisVm, Right::Read}},
    {"IVMNetworkAdapter_get_EthernetAddress", {Target::ThisVm, Right::Read}},
    {"IVMNetworkAdapter_get_VirtualNetwork", {Target::ThisVm, Right::Read}},
    {"IVMNetworkAdapter_AttachToVirtualNetwork",
     {Target::ThisVm, Right::Write},
     {Target::ArgNetwork, Right::Write}},
    {"IVMNetworkAdapter_DetachFromVirtualNetwork", {Target::ThisVm, Right::Write}},
    {"IVMVirtualNetwork_get_Name", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualNetwork_set_Name", {Target::ThisNetwork, Right::Write}},
    {"IVMVirtualNetwork_get_ID", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualNetwork_get_File", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualNetwork_get_Notes", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualNetwork_set_Notes", {Target::ThisNetwork, Right::Write}},
    {"IVMVirtualNetwork_get_NetworkAdapters", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualServer_get_Security", {Target::Anyone, Right::Read}},
    {"IVMVirtualServer_set_Security",
     {Target::Server, Right::ChangePermissions},
     {Target::ArgSecurity, Right::ReadPermissions}},
    {"IVMVirtualMachine_get_Security", {Target::Anyone, Right::Read}},
    {"IVMVirtualNetwork_get_Security", {Target::Anyone, Right::Read}},
    {"IVMSecurity_get_AccessRights", {Target::ThisSecurity, Right::ReadPermissions}},
    {"IVMSecurity_get_CurrentUserAccessRights", {Target::Anyone, Right::Read}},
    {"IVMSecurity_get_OwnerName", {Target::ThisSecurity, Right::ReadPermissions}},
    {"IVMSecurity_set_OwnerName", {Target::ThisSecurity, Right::ChangePermissions}},
    {"IVMSecurity_AddEntry", {Target::ThisSecurity, Right::ChangePermissions}},
    {"IVMSecurity_FindEntry", {Target::ThisSecurity, Right::ReadPermissions}},
    {"IVMSecurity_RemoveEntry", {Target::ThisSecurity, Right::ChangePermissions}},
    {"IVMAccessRightsCollection_get_Count", {Target::ThisSecurity, Right::ReadPermissions}},
    {"IVMAccessRightsCollection_get_Item", {Target::ThisSecurity, Right::ReadPermissions}},
    {"IVMAccessRightsCollection_get__NewEnum", {Target::ThisSecurity, Right::ReadPermissions}},
    {"IVMAccessRights_get_Name", {Target::ThisEntry, Right::ReadPermissions}},
    {"IVMAccessRights_set_Name", {Target::ThisEntry, Right::ChangePermissions}},
    {"IVMAccessRights_get_Type", {Target::ThisEntry, Right::ReadPermissions}},
    {"IVMAccessRights_set_Type", {Target::ThisEntry, Right::ChangePermissions}},
    {"IVMAccessRights_get_ReadAccess", {Target::ThisEntry, Right::ReadPermissions}},
    {"IVMAccessRights_set_ReadAccess", {Target::ThisEntry, Right::ChangePermissions}},
    {"IVMAccessRights_get_WriteAccess", {Target::ThisEntry, Right::ReadPermissions}},
    {"IVMAccessRights_set_WriteAccess", {Target::ThisEntry, Right::ChangePermissions}},
    {"IVMAccessRights_get_ExecuteAccess", {Target::ThisEntry, Right::ReadPermissions}},
    {"IVMAccessRights_set_ExecuteAccess", {Target::ThisEntry, Right::ChangePermissions}},
    {"IVMAccessRights_get_DeleteAccess", {Target::ThisEntry, Right::ReadPermissions}},
    {"IVMAccessRights_set_DeleteAccess", {Target::ThisEntry, Right::ChangePermissions}},
    {"IVMAccessRights_get_ReadPermissions", {Target::ThisEntry, Right::ReadPermissions}},
    {"IVMAccessRights_set_ReadPermissions", {Target::ThisEntry, Right::ChangePermissions}},
    {"IVMAccessRights_get_ChangePermissions", {Target::ThisEntry, Right::ReadPermissions}},
    {"IVMAccessRights_set_ChangePermissions", {Target::ThisEntry, Right::ChangePermissions}},
    {"IVMHardDisk_get_Security", {Target::Anyone, Right::Read}},
};

} // namespace

std::span<OperationPolicy const> operation_policies() {
    return POLICIES;
}

std::string wsdl_operation_name(std::string_view gsoap_name) {
    constexpr std::string_view ESCAPE = "_USCORE";
    std::string name;
    name.reserve(gsoap_name.size());
    while (!gsoap_name.empty()) {
        if (gsoap_name.starts_with(ESCAPE)) {
            name += '_';
            gsoap_name.remove_prefix(ESCAPE.size());
        } else {
            name += gsoap_name.front();
            gsoap_name.remove_prefix(1);
        }
    }
    return name;
}

OperationPolicy const* find_operation_policy(std::string_view operation) {
    std::string name = wsdl_operation_name(operation);
    auto it = std::find_if(std::begin(POLICIES), std::end(POLICIES),
                           [&](OperationPolicy const& policy) { return policy.operation == name; });
    return it == std::end(POLICIES) ? nullptr : &*it;
}

} // namespace vsa::appliance
