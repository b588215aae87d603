// SPDX-License-Identifier: GPL-2.0-or-later
// The one table of rights per operation; the rules are in access_policy.h.
#include "appliance/soap/access_policy.h"

#include <array>
#include <string>
#include <unordered_map>
#include <vector>

namespace vsa::appliance {

namespace {

using services::security::Right;

// Sorted by nothing: find_operation_policy indexes it once.
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
    // Events, settings, DHCP, collections (the event reads filter per object:
    // an object the caller may not read is left out or answers E_ACCESSDENIED).
    {"IVMVirtualServer_get_LongPollPort", {Target::Server, Right::Read}},
    {"IVMVirtualServer_get_LastEventSequence", {Target::Server, Right::Read}},
    {"IVMVirtualServer_GetEvents", {Target::Server, Right::Read}},
    {"IVMVirtualServer_WaitForUpdates", {Target::Server, Right::Read}},
    {"IVMVirtualServer_RetrieveProperties", {Target::Server, Right::Read}},
    {"IVMVirtualMachine_get_AutoStartAtLaunch", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_get_AutoStartAtLaunchDelay", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_set_AutoStartAtLaunch", {Target::ThisVm, Right::Write}},
    {"IVMVirtualMachine_set_AutoStartAtLaunchDelay", {Target::ThisVm, Right::Write}},
    {"IVMVirtualMachine_RemoveNetworkAdapter", {Target::ThisVm, Right::Write}},
    {"IVMHardDiskConnection_SetBusLocation", {Target::ThisVm, Right::Write}},
    {"IVMNetworkAdapter_set_EthernetAddress", {Target::ThisVm, Right::Write}},
    {"IVMNetworkAdapter_set_IsEthernetAddressDynamic", {Target::ThisVm, Right::Write}},
    {"IVMNetworkAdapter_get_IsEthernetAddressDynamic", {Target::ThisVm, Right::Read}},
    {"IVMNetworkAdapter_get_VirtualMachine", {Target::ThisVm, Right::Read}},
    {"IVMVirtualNetwork_get_HostAdapter", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualNetwork_set_HostAdapter", {Target::ThisNetwork, Right::Write}},
    {"IVMVirtualNetwork_get_BytesReceived", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualNetwork_get_BytesReceivedHistory", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualNetwork_get_BytesSent", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualNetwork_get_BytesSentHistory", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualNetwork_get_BytesDropped", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualNetwork_get_BytesDroppedHistory", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualNetwork_get_PacketsReceived", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualNetwork_get_PacketsReceivedHistory", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualNetwork_get_PacketsSent", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualNetwork_get_PacketsSentHistory", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualNetwork_get_PacketsDropped", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualNetwork_get_PacketsDroppedHistory", {Target::ThisNetwork, Right::Read}},
    {"IVMVirtualNetwork_get_DHCPVirtualNetworkServer", {Target::ThisNetwork, Right::Read}},
    {"IVMDHCPVirtualNetworkServer_get_IsEnabled", {Target::ThisNetwork, Right::Read}},
    {"IVMDHCPVirtualNetworkServer_get_Network", {Target::ThisNetwork, Right::Read}},
    {"IVMDHCPVirtualNetworkServer_get_NetworkMask", {Target::ThisNetwork, Right::Read}},
    {"IVMDHCPVirtualNetworkServer_get_StartingIPAddress", {Target::ThisNetwork, Right::Read}},
    {"IVMDHCPVirtualNetworkServer_get_EndingIPAddress", {Target::ThisNetwork, Right::Read}},
    {"IVMDHCPVirtualNetworkServer_get_ServerIPAddress", {Target::ThisNetwork, Right::Read}},
    {"IVMDHCPVirtualNetworkServer_get_DefaultGatewayAddress", {Target::ThisNetwork, Right::Read}},
    {"IVMDHCPVirtualNetworkServer_get_DNSServers", {Target::ThisNetwork, Right::Read}},
    {"IVMDHCPVirtualNetworkServer_get_WINSServers", {Target::ThisNetwork, Right::Read}},
    {"IVMDHCPVirtualNetworkServer_get_LeaseTime", {Target::ThisNetwork, Right::Read}},
    {"IVMDHCPVirtualNetworkServer_get_LeaseRenewalTime", {Target::ThisNetwork, Right::Read}},
    {"IVMDHCPVirtualNetworkServer_get_LeaseRebindingTime", {Target::ThisNetwork, Right::Read}},
    {"IVMDHCPVirtualNetworkServer_set_IsEnabled", {Target::ThisNetwork, Right::Write}},
    {"IVMDHCPVirtualNetworkServer_set_DefaultGatewayAddress", {Target::ThisNetwork, Right::Write}},
    {"IVMDHCPVirtualNetworkServer_set_DNSServers", {Target::ThisNetwork, Right::Write}},
    {"IVMDHCPVirtualNetworkServer_set_WINSServers", {Target::ThisNetwork, Right::Write}},
    {"IVMDHCPVirtualNetworkServer_ConfigureDHCPLeaseTimes", {Target::ThisNetwork, Right::Write}},
    {"IVMDHCPVirtualNetworkServer_ConfigureDHCPServer", {Target::ThisNetwork, Right::Write}},
    {"IVMVirtualMachineCollection_get_Count", {Target::Server, Right::Read}},
    {"IVMVirtualMachineCollection_get_Item", {Target::Server, Right::Read}},
    {"IVMVirtualMachineCollection_get__NewEnum", {Target::Server, Right::Read}},
    {"IVMVirtualNetworkCollection_get_Count", {Target::Server, Right::Read}},
    {"IVMVirtualNetworkCollection_get_Item", {Target::Server, Right::Read}},
    {"IVMVirtualNetworkCollection_get__NewEnum", {Target::Server, Right::Read}},
    {"IVMTaskCollection_get_Count", {Target::Server, Right::Read}},
    {"IVMTaskCollection_get_Item", {Target::Server, Right::Read}},
    {"IVMTaskCollection_get__NewEnum", {Target::Server, Right::Read}},
    {"IVMHardDiskConnectionCollection_get_Count", {Target::ThisVm, Right::Read}},
    {"IVMHardDiskConnectionCollection_get_Item", {Target::ThisVm, Right::Read}},
    {"IVMHardDiskConnectionCollection_get__NewEnum", {Target::ThisVm, Right::Read}},
    {"IVMDVDDriveCollection_get_Count", {Target::ThisVm, Right::Read}},
    {"IVMDVDDriveCollection_get_Item", {Target::ThisVm, Right::Read}},
    {"IVMDVDDriveCollection_get__NewEnum", {Target::ThisVm, Right::Read}},
    {"IVMNetworkAdapterCollection_get_Count", {Target::ThisVmOrNetwork, Right::Read}},
    {"IVMNetworkAdapterCollection_get_Item", {Target::ThisVmOrNetwork, Right::Read}},
    {"IVMNetworkAdapterCollection_get__NewEnum", {Target::ThisVmOrNetwork, Right::Read}},
    // Virtual hard disks, by path: the disk's own ACL.
    {"IVMVirtualServer_GetHardDisk", {Target::Server, Right::Read}},
    {"IVMHardDisk_get_File", {Target::ThisDisk, Right::Read}},
    {"IVMHardDisk_get_Type", {Target::ThisDisk, Right::Read}},
    {"IVMHardDisk_get_SizeInGuest", {Target::ThisDisk, Right::Read}},
    {"IVMHardDisk_get_SizeOnHost", {Target::ThisDisk, Right::Read}},
    {"IVMHardDisk_get_Parent", {Target::ThisDisk, Right::Read}},
    {"IVMHardDisk_Compact", {Target::ThisDisk, Right::Write}},
    {"IVMHardDisk_Merge", {Target::ThisDisk, Right::Write}},
    // A running VM's display, guest and accounting.
    {"IVMVirtualMachine_get_Display", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_get_GuestOS", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_get_Accountant", {Target::ThisVm, Right::Read}},
    {"IVMDisplay_get_Width", {Target::ThisVm, Right::Read}},
    {"IVMDisplay_get_Height", {Target::ThisVm, Right::Read}},
    {"IVMDisplay_get_VideoMode", {Target::ThisVm, Right::Read}},
    {"IVMDisplay_get_Thumbnail", {Target::ThisVm, Right::Read}},
    {"IVMDisplay_CaptureScreen", {Target::ThisVm, Right::Read}},
    {"IVMDisplay_get_Text", {Target::ThisVm, Right::Read}},
    {"IVMGuestOS_get_OSName", {Target::ThisVm, Right::Read}},
    {"IVMGuestOS_get_AdditionsVersion", {Target::ThisVm, Right::Read}},
    {"IVMGuestOS_get_IsHeartbeating", {Target::ThisVm, Right::Read}},
    {"IVMGuestOS_get_HeartbeatPercentage", {Target::ThisVm, Right::Read}},
    {"IVMGuestOS_Shutdown", {Target::ThisVm, Right::Execute}},
    {"IVMAccountant_get_CPUUtilization", {Target::ThisVm, Right::Read}},
    {"IVMAccountant_get_UpTime", {Target::ThisVm, Right::Read}},
    // Re-linking a differencing disk: it is written, its new parent read.
    {"IVMHardDisk_set_Parent", {Target::ThisDisk, Right::Write}, {Target::ArgParentDisk, Right::Read}},
    // Host optical drives: media, like AttachImage.
    {"IVMDVDDrive_get_HostDriveLetter", {Target::ThisVm, Right::Read}},
    {"IVMDVDDrive_AttachHostDrive", {Target::ThisVm, Right::Write}},
    {"IVMDVDDrive_ReleaseHostDrive", {Target::ThisVm, Right::Write}},
    // The console (appliance/console): controlling the VM's keyboard and
    // mouse is as strong as a power operation. The WebSocket route checks
    // the same row.
    {"IVMVirtualMachine_CreateConsoleTicket", {Target::ThisVm, Right::Execute}},
    // The appliance's accounts (vs_service_accounts.cpp). Not an ACL right:
    // managing accounts is for administrators only, which no ACL entry can
    // grant, so each operation checks the caller's administrator flag
    // itself; changing one's own password needs the current password.
    {"Accounts_List", {Target::Anyone, Right::Read}},
    {"Accounts_Add", {Target::Anyone, Right::Read}},
    {"Accounts_Remove", {Target::Anyone, Right::Read}},
    {"Accounts_SetGroups", {Target::Anyone, Right::Read}},
    {"Accounts_SetAdministrator", {Target::Anyone, Right::Read}},
    {"Accounts_SetPassword", {Target::Anyone, Right::Read}},
    {"Accounts_ChangeOwnPassword", {Target::Anyone, Right::Read}},
    // Copying a disk reads it and creates a new one, which needs what the
    // VHD creations need: write on the server.
    {"IVMHardDisk_get_HostFreeDiskSpace", {Target::ThisDisk, Right::Read}},
    {"IVMHardDisk_Convert", {Target::ThisDisk, Right::Read}, {Target::Server, Right::Write}},
    {"IVMHardDisk_MergeTo", {Target::ThisDisk, Right::Read}, {Target::Server, Right::Write}},
    // Ports and drives (issue 11, area "ports"): vs_service_ports.cpp.
    {"IVMVirtualMachine_get_SerialPorts", {Target::ThisVm, Right::Read}},
    {"IVMVirtualMachine_get_ParallelPorts", {Target::ThisVm, Right::Read}},
    {"IVMSerialPort_get__ID", {Target::ThisVm, Right::Read}},
    {"IVMSerialPort_get_Type", {Target::ThisVm, Right::Read}},
    {"IVMSerialPort_get_Name", {Target::ThisVm, Right::Read}},
    {"IVMSerialPort_get_ConnectImmediately", {Target::ThisVm, Right::Read}},
    {"IVMSerialPort_Configure", {Target::ThisVm, Right::Write}},
    {"IVMParallelPort_get__ID", {Target::ThisVm, Right::Read}},
    {"IVMParallelPort_get_Name", {Target::ThisVm, Right::Read}},
    {"IVMParallelPort_set_Name", {Target::ThisVm, Right::Write}},
    {"IVMFloppyDrive_get_DriveNumber", {Target::ThisVm, Right::Read}},
    {"IVMFloppyDrive_get_HostDriveLetter", {Target::ThisVm, Right::Read}},
    {"IVMFloppyDrive_AttachHostDrive", {Target::ThisVm, Right::Write}},
    {"IVMFloppyDrive_ReleaseHostDrive", {Target::ThisVm, Right::Write}},
    {"IVMDVDDrive_SetBusLocation", {Target::ThisVm, Right::Write}},
    {"IVMSerialPortCollection_get_Count", {Target::ThisVm, Right::Read}},
    {"IVMSerialPortCollection_get_Item", {Target::ThisVm, Right::Read}},
    {"IVMSerialPortCollection_get__NewEnum", {Target::ThisVm, Right::Read}},
    {"IVMParallelPortCollection_get_Count", {Target::ThisVm, Right::Read}},
    {"IVMParallelPortCollection_get_Item", {Target::ThisVm, Right::Read}},
    {"IVMParallelPortCollection_get__NewEnum", {Target::ThisVm, Right::Read}},
    {"IVMFloppyDriveCollection_get_Count", {Target::ThisVm, Right::Read}},
    {"IVMFloppyDriveCollection_get_Item", {Target::ThisVm, Right::Read}},
    {"IVMFloppyDriveCollection_get__NewEnum", {Target::ThisVm, Right::Read}},
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

// Every SOAP call looks its policy up, so the table is indexed once, under
// both spellings, and a lookup neither allocates nor scans ~300 rows.
OperationPolicy const* find_operation_policy(std::string_view operation) {
    static auto const index = [] {
        struct Index {
            std::vector<std::string> gsoap_names; // owns the keys below
            std::unordered_map<std::string_view, OperationPolicy const*> by_name;
        } built;
        built.gsoap_names.reserve(std::size(POLICIES));
        for (auto const& policy : POLICIES) {
            std::string escaped;
            for (char c : policy.operation)
                escaped += c == '_' ? std::string_view("_USCORE") : std::string_view(&c, 1);
            built.gsoap_names.push_back(std::move(escaped));
        }
        for (std::size_t i = 0; i < std::size(POLICIES); ++i) {
            built.by_name.emplace(POLICIES[i].operation, &POLICIES[i]);
            built.by_name.emplace(built.gsoap_names[i], &POLICIES[i]);
        }
        return built;
    }();
    auto it = index.by_name.find(operation);
    return it == index.by_name.end() ? nullptr : it->second;
}

} // namespace vsa::appliance
