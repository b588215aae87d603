// SPDX-License-Identifier: GPL-2.0-or-later
// VsService: the gSOAP skeleton's operations, each an adapter from generated
// types to the services model and back. No model logic lives here: every
// operation authenticates, calls services/, and maps the Result.
#pragma once

#include "appliance/soap/soap_call.h"
#include "appliance/soap/soap_dispatcher.h"
#include "services/model/guid.h"
#include "services/service_error.h"

#include "soapVirtualServerBindingService.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vsa::services {
struct HostInfo;
class Inventory;
class VmRuntime;
} // namespace vsa::services

namespace vsa::appliance {

#define VSA_SOAP_OPERATIONS(X)                                                                               \
    X(Session_USCORELogon)                                                                                   \
    X(Session_USCORELogoff)                                                                                  \
    X(Session_USCORECurrentUser)                                                                             \
    X(IVMVirtualServer_USCOREget_USCOREName)                                                                 \
    X(IVMVirtualServer_USCOREget_USCOREVersion)                                                              \
    X(IVMVirtualServer_USCOREget_USCOREProductID)                                                            \
    X(IVMVirtualServer_USCOREget_USCOREUpTime)                                                               \
    X(IVMVirtualServer_USCOREget_USCOREDefaultLocale)                                                        \
    X(IVMVirtualServer_USCOREget_USCOREAvailableSystemCapacity)                                              \
    X(IVMVirtualServer_USCOREget_USCOREMaximumNumberOfVMs)                                                   \
    X(IVMVirtualServer_USCOREget_USCOREMaximumMemoryPerVM)                                                   \
    X(IVMVirtualServer_USCOREget_USCOREMinimumMemoryPerVM)                                                   \
    X(IVMVirtualServer_USCOREget_USCORESuggestedMaximumMemoryPerVM)                                          \
    X(IVMVirtualServer_USCOREget_USCOREMaximumFloppyDrivesPerVM)                                             \
    X(IVMVirtualServer_USCOREget_USCOREMaximumNetworkAdaptersPerVM)                                          \
    X(IVMVirtualServer_USCOREget_USCOREMaximumNumberOfIDEBuses)                                              \
    X(IVMVirtualServer_USCOREget_USCOREMaximumNumberOfSCSIControllers)                                       \
    X(IVMVirtualServer_USCOREget_USCOREMaximumParallelPortsPerVM)                                            \
    X(IVMVirtualServer_USCOREget_USCOREMaximumSerialPortsPerVM)                                              \
    X(IVMVirtualServer_USCOREget_USCOREHostInfo)                                                             \
    X(IVMVirtualServer_USCOREget_USCOREVirtualMachines)                                                      \
    X(IVMVirtualServer_USCOREget_USCOREVirtualNetworks)                                                      \
    X(IVMVirtualServer_USCOREget_USCOREDefaultVMConfigurationPath)                                           \
    X(IVMVirtualServer_USCOREset_USCOREDefaultVMConfigurationPath)                                           \
    X(IVMVirtualServer_USCOREget_USCOREDefaultVNConfigurationPath)                                           \
    X(IVMVirtualServer_USCOREget_USCORESearchPaths)                                                          \
    X(IVMVirtualServer_USCOREset_USCORESearchPaths)                                                          \
    X(IVMVirtualServer_USCORECreateVirtualMachine)                                                           \
    X(IVMVirtualServer_USCORERegisterVirtualMachine)                                                         \
    X(IVMVirtualServer_USCOREUnregisterVirtualMachine)                                                       \
    X(IVMVirtualServer_USCOREDeleteVirtualMachine)                                                           \
    X(IVMVirtualServer_USCOREFindVirtualMachine)                                                             \
    X(IVMVirtualServer_USCORECreateVirtualNetwork)                                                           \
    X(IVMVirtualServer_USCORERegisterVirtualNetwork)                                                         \
    X(IVMVirtualServer_USCOREUnregisterVirtualNetwork)                                                       \
    X(IVMVirtualServer_USCOREDeleteVirtualNetwork)                                                           \
    X(IVMVirtualServer_USCOREFindVirtualNetwork)                                                             \
    X(IVMVirtualServer_USCOREGetVirtualMachineFiles)                                                         \
    X(IVMVirtualServer_USCOREGetVirtualNetworkFiles)                                                         \
    X(IVMVirtualServer_USCOREGetHardDiskFiles)                                                               \
    X(IVMVirtualServer_USCOREGetDVDFiles)                                                                    \
    X(IVMVirtualServer_USCOREGetFloppyDiskFiles)                                                             \
    X(IVMVirtualServer_USCOREget_USCORETasks)                                                                \
    X(IVMVirtualServer_USCORECreateDynamicVirtualHardDisk)                                                   \
    X(IVMVirtualServer_USCORECreateFixedVirtualHardDisk)                                                     \
    X(IVMVirtualServer_USCORECreateDifferencingVirtualHardDisk)                                              \
    X(IVMTask_USCOREget_USCOREDescription)                                                                   \
    X(IVMTask_USCOREget_USCOREID)                                                                            \
    X(IVMTask_USCOREget_USCOREIsCancelable)                                                                  \
    X(IVMTask_USCOREget_USCOREIsComplete)                                                                    \
    X(IVMTask_USCOREget_USCOREPercentCompleted)                                                              \
    X(IVMTask_USCOREget_USCOREResult)                                                                        \
    X(IVMTask_USCORECancel)                                                                                  \
    X(IVMTask_USCOREWaitForCompletion)                                                                       \
    X(IVMTask2_USCOREget_USCOREError)                                                                        \
    X(IVMTask2_USCOREget_USCOREErrorDescription)                                                             \
    X(IVMHostInfo_USCOREget_USCOREDVDDrives)                                                                 \
    X(IVMHostInfo_USCOREget_USCOREFloppyDrives)                                                              \
    X(IVMHostInfo_USCOREget_USCOREHostDrives)                                                                \
    X(IVMHostInfo_USCOREget_USCORELogicalProcessorCount)                                                     \
    X(IVMHostInfo_USCOREget_USCOREMemory)                                                                    \
    X(IVMHostInfo_USCOREget_USCOREMemoryAvail)                                                               \
    X(IVMHostInfo_USCOREget_USCOREMemoryAvailString)                                                         \
    X(IVMHostInfo_USCOREget_USCOREMemoryTotalString)                                                         \
    X(IVMHostInfo_USCOREget_USCOREMMX)                                                                       \
    X(IVMHostInfo_USCOREget_USCORENetworkAdapters)                                                           \
    X(IVMHostInfo_USCOREget_USCORENetworkAddresses)                                                          \
    X(IVMHostInfo_USCOREget_USCOREOperatingSystem)                                                           \
    X(IVMHostInfo_USCOREget_USCOREOSMajorVersion)                                                            \
    X(IVMHostInfo_USCOREget_USCOREOSMinorVersion)                                                            \
    X(IVMHostInfo_USCOREget_USCOREOSServicePackString)                                                       \
    X(IVMHostInfo_USCOREget_USCOREOSVersionString)                                                           \
    X(IVMHostInfo_USCOREget_USCOREParallelPort)                                                              \
    X(IVMHostInfo_USCOREget_USCOREPhysicalProcessorCount)                                                    \
    X(IVMHostInfo_USCOREget_USCOREProcessorFeaturesString)                                                   \
    X(IVMHostInfo_USCOREget_USCOREProcessorManufacturerString)                                               \
    X(IVMHostInfo_USCOREget_USCOREProcessorSpeed)                                                            \
    X(IVMHostInfo_USCOREget_USCOREProcessorSpeedString)                                                      \
    X(IVMHostInfo_USCOREget_USCOREProcessorVersionString)                                                    \
    X(IVMHostInfo_USCOREget_USCORESerialPorts)                                                               \
    X(IVMHostInfo_USCOREget_USCORESSE)                                                                       \
    X(IVMHostInfo_USCOREget_USCORESSE2)                                                                      \
    X(IVMHostInfo_USCOREget_USCOREThreeDNow)                                                                 \
    X(IVMHostInfo_USCOREget_USCOREUTCTime)                                                                   \
    X(IVMHostInfo_USCOREGetHostDriveSize)                                                                    \
    X(IVMHostInfo_USCOREIsHostDriveMounted)                                                                  \
    X(IVMVirtualMachine_USCOREget_USCOREName)                                                                \
    X(IVMVirtualMachine_USCOREset_USCOREName)                                                                \
    X(IVMVirtualMachine_USCOREget_USCOREConfigID)                                                            \
    X(IVMVirtualMachine_USCOREget_USCOREFile)                                                                \
    X(IVMVirtualMachine_USCOREget_USCOREState)                                                               \
    X(IVMVirtualMachine_USCOREget_USCORESavedStateFilePath)                                                  \
    X(IVMVirtualMachine_USCOREget_USCOREShutdownActionOnQuit)                                                \
    X(IVMVirtualMachine_USCOREset_USCOREShutdownActionOnQuit)                                                \
    X(IVMVirtualMachine_USCOREStartup)                                                                       \
    X(IVMVirtualMachine_USCORETurnOff)                                                                       \
    X(IVMVirtualMachine_USCORESave)                                                                          \
    X(IVMVirtualMachine_USCOREReset)                                                                         \
    X(IVMVirtualMachine_USCOREPause)                                                                         \
    X(IVMVirtualMachine_USCOREResume)                                                                        \
    X(IVMVirtualMachine_USCOREDiscardSavedState)                                                             \
    X(IVMVirtualMachine_USCOREget_USCOREUndoable)                                                            \
    X(IVMVirtualMachine_USCOREset_USCOREUndoable)                                                            \
    X(IVMVirtualMachine_USCOREget_USCOREUndoAction)                                                          \
    X(IVMVirtualMachine_USCOREset_USCOREUndoAction)                                                          \
    X(IVMVirtualMachine_USCOREDiscardUndoDisks)                                                              \
    X(IVMVirtualMachine_USCOREMergeUndoDisks)                                                                \
    X(IVMVirtualMachine_USCOREget_USCOREMemory)                                                              \
    X(IVMVirtualMachine_USCOREset_USCOREMemory)                                                              \
    X(IVMVirtualMachine_USCOREget_USCORENotes)                                                               \
    X(IVMVirtualMachine_USCOREset_USCORENotes)                                                               \
    X(IVMVirtualMachine_USCOREget_USCOREHardDiskConnections)                                                 \
    X(IVMVirtualMachine_USCOREAddHardDiskConnection)                                                         \
    X(IVMVirtualMachine_USCORERemoveHardDiskConnection)                                                      \
    X(IVMVirtualMachine_USCOREget_USCORENetworkAdapters)                                                     \
    X(IVMVirtualMachine_USCOREAddNetworkAdapter)                                                             \
    X(IVMVirtualMachine_USCOREget_USCOREDVDROMDrives)                                                        \
    X(IVMVirtualMachine_USCOREAddDVDROMDrive)                                                                \
    X(IVMVirtualMachine_USCORERemoveDVDROMDrive)                                                             \
    X(IVMVirtualMachine_USCOREget_USCOREFloppyDrives)                                                        \
    X(IVMDVDDrive_USCOREget_USCOREAttachment)                                                                \
    X(IVMDVDDrive_USCOREget_USCOREImageFile)                                                                 \
    X(IVMDVDDrive_USCOREget_USCOREBusType)                                                                   \
    X(IVMDVDDrive_USCOREget_USCOREBusNumber)                                                                 \
    X(IVMDVDDrive_USCOREget_USCOREDeviceNumber)                                                              \
    X(IVMDVDDrive_USCOREAttachImage)                                                                         \
    X(IVMDVDDrive_USCOREReleaseImage)                                                                        \
    X(IVMFloppyDrive_USCOREget_USCOREAttachment)                                                             \
    X(IVMFloppyDrive_USCOREget_USCOREImageFile)                                                              \
    X(IVMFloppyDrive_USCOREAttachImage)                                                                      \
    X(IVMFloppyDrive_USCOREReleaseImage)                                                                     \
    X(IVMHardDiskConnection_USCOREget_USCOREHardDisk)                                                        \
    X(IVMHardDiskConnection_USCOREget_USCOREUndoHardDisk)                                                    \
    X(IVMHardDiskConnection_USCOREget_USCOREBusType)                                                         \
    X(IVMHardDiskConnection_USCOREget_USCOREBusNumber)                                                       \
    X(IVMHardDiskConnection_USCOREget_USCOREDeviceNumber)                                                    \
    X(IVMNetworkAdapter_USCOREget_USCOREEthernetAddress)                                                     \
    X(IVMNetworkAdapter_USCOREget_USCOREVirtualNetwork)                                                      \
    X(IVMNetworkAdapter_USCOREAttachToVirtualNetwork)                                                        \
    X(IVMNetworkAdapter_USCOREDetachFromVirtualNetwork)                                                      \
    X(IVMVirtualNetwork_USCOREget_USCOREName)                                                                \
    X(IVMVirtualNetwork_USCOREset_USCOREName)                                                                \
    X(IVMVirtualNetwork_USCOREget_USCOREID)                                                                  \
    X(IVMVirtualNetwork_USCOREget_USCOREFile)                                                                \
    X(IVMVirtualNetwork_USCOREget_USCORENotes)                                                               \
    X(IVMVirtualNetwork_USCOREset_USCORENotes)                                                               \
    X(IVMVirtualNetwork_USCOREget_USCORENetworkAdapters)                                                     \
    X(IVMVirtualServer_USCOREget_USCORELongPollPort)                                                         \
    X(IVMVirtualServer_USCOREget_USCORELastEventSequence)                                                    \
    X(IVMVirtualServer_USCOREGetEvents)                                                                      \
    X(IVMVirtualServer_USCOREWaitForUpdates)                                                                 \
    X(IVMVirtualServer_USCORERetrieveProperties)                                                             \
    X(IVMVirtualMachine_USCOREget_USCOREAutoStartAtLaunch)                                                   \
    X(IVMVirtualMachine_USCOREset_USCOREAutoStartAtLaunch)                                                   \
    X(IVMVirtualMachine_USCOREget_USCOREAutoStartAtLaunchDelay)                                              \
    X(IVMVirtualMachine_USCOREset_USCOREAutoStartAtLaunchDelay)                                              \
    X(IVMVirtualMachine_USCORERemoveNetworkAdapter)                                                          \
    X(IVMHardDiskConnection_USCORESetBusLocation)                                                            \
    X(IVMNetworkAdapter_USCOREset_USCOREEthernetAddress)                                                     \
    X(IVMNetworkAdapter_USCOREget_USCOREIsEthernetAddressDynamic)                                            \
    X(IVMNetworkAdapter_USCOREset_USCOREIsEthernetAddressDynamic)                                            \
    X(IVMNetworkAdapter_USCOREget_USCOREVirtualMachine)                                                      \
    X(IVMVirtualNetwork_USCOREget_USCOREHostAdapter)                                                         \
    X(IVMVirtualNetwork_USCOREset_USCOREHostAdapter)                                                         \
    X(IVMVirtualNetwork_USCOREget_USCOREBytesReceived)                                                       \
    X(IVMVirtualNetwork_USCOREget_USCOREBytesReceivedHistory)                                                \
    X(IVMVirtualNetwork_USCOREget_USCOREBytesSent)                                                           \
    X(IVMVirtualNetwork_USCOREget_USCOREBytesSentHistory)                                                    \
    X(IVMVirtualNetwork_USCOREget_USCOREBytesDropped)                                                        \
    X(IVMVirtualNetwork_USCOREget_USCOREBytesDroppedHistory)                                                 \
    X(IVMVirtualNetwork_USCOREget_USCOREPacketsReceived)                                                     \
    X(IVMVirtualNetwork_USCOREget_USCOREPacketsReceivedHistory)                                              \
    X(IVMVirtualNetwork_USCOREget_USCOREPacketsSent)                                                         \
    X(IVMVirtualNetwork_USCOREget_USCOREPacketsSentHistory)                                                  \
    X(IVMVirtualNetwork_USCOREget_USCOREPacketsDropped)                                                      \
    X(IVMVirtualNetwork_USCOREget_USCOREPacketsDroppedHistory)                                               \
    X(IVMVirtualNetwork_USCOREget_USCOREDHCPVirtualNetworkServer)                                            \
    X(IVMDHCPVirtualNetworkServer_USCOREget_USCOREIsEnabled)                                                 \
    X(IVMDHCPVirtualNetworkServer_USCOREget_USCORENetwork)                                                   \
    X(IVMDHCPVirtualNetworkServer_USCOREget_USCORENetworkMask)                                               \
    X(IVMDHCPVirtualNetworkServer_USCOREget_USCOREStartingIPAddress)                                         \
    X(IVMDHCPVirtualNetworkServer_USCOREget_USCOREEndingIPAddress)                                           \
    X(IVMDHCPVirtualNetworkServer_USCOREget_USCOREServerIPAddress)                                           \
    X(IVMDHCPVirtualNetworkServer_USCOREget_USCOREDefaultGatewayAddress)                                     \
    X(IVMDHCPVirtualNetworkServer_USCOREget_USCOREDNSServers)                                                \
    X(IVMDHCPVirtualNetworkServer_USCOREget_USCOREWINSServers)                                               \
    X(IVMDHCPVirtualNetworkServer_USCOREget_USCORELeaseTime)                                                 \
    X(IVMDHCPVirtualNetworkServer_USCOREget_USCORELeaseRenewalTime)                                          \
    X(IVMDHCPVirtualNetworkServer_USCOREget_USCORELeaseRebindingTime)                                        \
    X(IVMDHCPVirtualNetworkServer_USCOREset_USCOREIsEnabled)                                                 \
    X(IVMDHCPVirtualNetworkServer_USCOREset_USCOREDefaultGatewayAddress)                                     \
    X(IVMDHCPVirtualNetworkServer_USCOREset_USCOREDNSServers)                                                \
    X(IVMDHCPVirtualNetworkServer_USCOREset_USCOREWINSServers)                                               \
    X(IVMDHCPVirtualNetworkServer_USCOREConfigureDHCPLeaseTimes)                                             \
    X(IVMDHCPVirtualNetworkServer_USCOREConfigureDHCPServer)                                                 \
    X(IVMVirtualMachineCollection_USCOREget_USCORECount)                                                     \
    X(IVMVirtualMachineCollection_USCOREget_USCOREItem)                                                      \
    X(IVMVirtualMachineCollection_USCOREget_USCORE_USCORENewEnum)                                            \
    X(IVMVirtualNetworkCollection_USCOREget_USCORECount)                                                     \
    X(IVMVirtualNetworkCollection_USCOREget_USCOREItem)                                                      \
    X(IVMVirtualNetworkCollection_USCOREget_USCORE_USCORENewEnum)                                            \
    X(IVMHardDiskConnectionCollection_USCOREget_USCORECount)                                                 \
    X(IVMHardDiskConnectionCollection_USCOREget_USCOREItem)                                                  \
    X(IVMHardDiskConnectionCollection_USCOREget_USCORE_USCORENewEnum)                                        \
    X(IVMNetworkAdapterCollection_USCOREget_USCORECount)                                                     \
    X(IVMNetworkAdapterCollection_USCOREget_USCOREItem)                                                      \
    X(IVMNetworkAdapterCollection_USCOREget_USCORE_USCORENewEnum)                                            \
    X(IVMDVDDriveCollection_USCOREget_USCORECount)                                                           \
    X(IVMDVDDriveCollection_USCOREget_USCOREItem)                                                            \
    X(IVMDVDDriveCollection_USCOREget_USCORE_USCORENewEnum)                                                  \
    X(IVMTaskCollection_USCOREget_USCORECount)                                                               \
    X(IVMTaskCollection_USCOREget_USCOREItem)                                                                \
    X(IVMTaskCollection_USCOREget_USCORE_USCORENewEnum)                                                      \
    X(IVMVirtualMachine_USCOREget_USCOREDisplay)                                                             \
    X(IVMVirtualMachine_USCOREget_USCOREGuestOS)                                                             \
    X(IVMVirtualMachine_USCOREget_USCOREAccountant)                                                          \
    X(IVMDisplay_USCOREget_USCOREWidth)                                                                      \
    X(IVMDisplay_USCOREget_USCOREHeight)                                                                     \
    X(IVMDisplay_USCOREget_USCOREVideoMode)                                                                  \
    X(IVMDisplay_USCOREget_USCOREThumbnail)                                                                  \
    X(IVMDisplay_USCORECaptureScreen)                                                                        \
    X(IVMDisplay_USCOREget_USCOREText)                                                                       \
    X(IVMGuestOS_USCOREget_USCOREOSName)                                                                     \
    X(IVMGuestOS_USCOREget_USCOREAdditionsVersion)                                                           \
    X(IVMGuestOS_USCOREget_USCOREIsHeartbeating)                                                             \
    X(IVMGuestOS_USCOREget_USCOREHeartbeatPercentage)                                                        \
    X(IVMGuestOS_USCOREShutdown)                                                                             \
    X(IVMAccountant_USCOREget_USCORECPUUtilization)                                                          \
    X(IVMAccountant_USCOREget_USCOREUpTime)                                                                  \
    /* VMRC, the console's settings (issue 11, area "vmrc", vs_service_vmrc.cpp) */                          \
    X(IVMVirtualServer_USCOREget_USCOREVMRCEnabled)                                                          \
    X(IVMVirtualServer_USCOREset_USCOREVMRCEnabled)                                                          \
    X(IVMVirtualServer_USCOREget_USCOREVMRCAdminAddress)                                                     \
    X(IVMVirtualServer_USCOREset_USCOREVMRCAdminAddress)                                                     \
    X(IVMVirtualServer_USCOREget_USCOREVMRCAdminPortNumber)                                                  \
    X(IVMVirtualServer_USCOREset_USCOREVMRCAdminPortNumber)                                                  \
    X(IVMVirtualServer_USCOREget_USCOREVMRCAuthenticator)                                                    \
    X(IVMVirtualServer_USCOREset_USCOREVMRCAuthenticator)                                                    \
    X(IVMVirtualServer_USCOREget_USCOREVMRCAuthenticators)                                                   \
    X(IVMVirtualServer_USCOREget_USCOREVMRCEncryptionEnabled)                                                \
    X(IVMVirtualServer_USCOREset_USCOREVMRCEncryptionEnabled)                                                \
    X(IVMVirtualServer_USCOREget_USCOREVMRCEncryptionCertificate)                                            \
    X(IVMVirtualServer_USCOREset_USCOREVMRCEncryptionCertificate)                                            \
    X(IVMVirtualServer_USCOREget_USCOREVMRCEncryptionCertificateRequest)                                     \
    X(IVMVirtualServer_USCOREget_USCOREVMRCIdleConnectionTimeout)                                            \
    X(IVMVirtualServer_USCOREset_USCOREVMRCIdleConnectionTimeout)                                            \
    X(IVMVirtualServer_USCOREget_USCOREVMRCIdleConnectionTimeoutEnabled)                                     \
    X(IVMVirtualServer_USCOREset_USCOREVMRCIdleConnectionTimeoutEnabled)                                     \
    X(IVMVirtualServer_USCOREget_USCOREVMRCXResolution)                                                      \
    X(IVMVirtualServer_USCOREset_USCOREVMRCXResolution)                                                      \
    X(IVMVirtualServer_USCOREget_USCOREVMRCYResolution)                                                      \
    X(IVMVirtualServer_USCOREset_USCOREVMRCYResolution)                                                      \
    X(IVMVirtualServer_USCOREVMRCCreateEncryptionCertificateRequest)                                         \
    X(IVMRCAuthenticator_USCOREget_USCOREName)                                                               \
    X(IVMRCAuthenticator_USCOREget_USCOREDescription)                                                        \
    X(IVMRCAuthenticator_USCOREget_USCOREType)                                                               \
    X(IVMRCAuthenticatorCollection_USCOREget_USCORECount)                                                    \
    X(IVMRCAuthenticatorCollection_USCOREget_USCOREItem)                                                     \
    X(IVMRCAuthenticatorCollection_USCOREget_USCORE_USCORENewEnum)                                           \
    /* accountant (vs_service_accountant.cpp) */                                                             \
    X(IVMAccountant_USCOREget_USCOREAllowableMaximumSystemCapacity)                                          \
    X(IVMAccountant_USCOREget_USCOREAllowableReservedSystemCapacity)                                         \
    X(IVMAccountant_USCOREget_USCORECPUUtilizationHistory)                                                   \
    X(IVMAccountant_USCOREget_USCOREDiskBytesRead)                                                           \
    X(IVMAccountant_USCOREget_USCOREDiskBytesWritten)                                                        \
    X(IVMAccountant_USCOREget_USCOREMaximumSystemCapacity)                                                   \
    X(IVMAccountant_USCOREget_USCORENetworkBytesReceived)                                                    \
    X(IVMAccountant_USCOREget_USCORENetworkBytesSent)                                                        \
    X(IVMAccountant_USCOREget_USCORERelativeWeight)                                                          \
    X(IVMAccountant_USCOREget_USCOREReservedSystemCapacity)                                                  \
    X(IVMAccountant_USCORESetSchedulingParameters)                                                           \
    X(IVMVirtualMachine_USCOREget_USCOREHas3DNow)                                                            \
    X(IVMVirtualMachine_USCOREget_USCOREHasMMX)                                                              \
    X(IVMVirtualMachine_USCOREget_USCOREHasSSE)                                                              \
    X(IVMVirtualMachine_USCOREget_USCOREHasSSE2)                                                             \
    X(IVMVirtualMachine_USCOREget_USCOREProcessorSpeed)                                                      \
    X(IVMVirtualServer_USCOREget_USCORESecurity)                                                             \
    X(IVMVirtualServer_USCOREset_USCORESecurity)                                                             \
    X(IVMVirtualMachine_USCOREget_USCORESecurity)                                                            \
    X(IVMVirtualNetwork_USCOREget_USCORESecurity)                                                            \
    X(IVMSecurity_USCOREget_USCOREAccessRights)                                                              \
    X(IVMSecurity_USCOREget_USCORECurrentUserAccessRights)                                                   \
    X(IVMSecurity_USCOREget_USCOREOwnerName)                                                                 \
    X(IVMSecurity_USCOREset_USCOREOwnerName)                                                                 \
    X(IVMSecurity_USCOREAddEntry)                                                                            \
    X(IVMSecurity_USCOREFindEntry)                                                                           \
    X(IVMSecurity_USCORERemoveEntry)                                                                         \
    X(IVMAccessRightsCollection_USCOREget_USCORECount)                                                       \
    X(IVMAccessRightsCollection_USCOREget_USCOREItem)                                                        \
    X(IVMAccessRightsCollection_USCOREget_USCORE_USCORENewEnum)                                              \
    X(IVMAccessRights_USCOREget_USCOREName)                                                                  \
    X(IVMAccessRights_USCOREset_USCOREName)                                                                  \
    X(IVMAccessRights_USCOREget_USCOREType)                                                                  \
    X(IVMAccessRights_USCOREset_USCOREType)                                                                  \
    X(IVMAccessRights_USCOREget_USCOREReadAccess)                                                            \
    X(IVMAccessRights_USCOREset_USCOREReadAccess)                                                            \
    X(IVMAccessRights_USCOREget_USCOREWriteAccess)                                                           \
    X(IVMAccessRights_USCOREset_USCOREWriteAccess)                                                           \
    X(IVMAccessRights_USCOREget_USCOREExecuteAccess)                                                         \
    X(IVMAccessRights_USCOREset_USCOREExecuteAccess)                                                         \
    X(IVMAccessRights_USCOREget_USCOREDeleteAccess)                                                          \
    X(IVMAccessRights_USCOREset_USCOREDeleteAccess)                                                          \
    X(IVMAccessRights_USCOREget_USCOREReadPermissions)                                                       \
    X(IVMAccessRights_USCOREset_USCOREReadPermissions)                                                       \
    X(IVMAccessRights_USCOREget_USCOREChangePermissions)                                                     \
    X(IVMAccessRights_USCOREset_USCOREChangePermissions)                                                     \
    X(IVMHardDisk_USCOREget_USCORESecurity)                                                                  \
    X(IVMVirtualServer_USCOREGetHardDisk)                                                                    \
    X(IVMHardDisk_USCOREget_USCOREFile)                                                                      \
    X(IVMHardDisk_USCOREget_USCOREType)                                                                      \
    X(IVMHardDisk_USCOREget_USCORESizeInGuest)                                                               \
    X(IVMHardDisk_USCOREget_USCORESizeOnHost)                                                                \
    X(IVMHardDisk_USCOREget_USCOREParent)                                                                    \
    X(IVMHardDisk_USCORECompact)                                                                             \
    X(IVMHardDisk_USCOREMerge)                                                                               \
    X(IVMHardDisk_USCOREset_USCOREParent)                                                                    \
    X(IVMDVDDrive_USCOREget_USCOREHostDriveLetter)                                                           \
    X(IVMDVDDrive_USCOREAttachHostDrive)                                                                     \
    X(IVMDVDDrive_USCOREReleaseHostDrive)                                                                    \
    X(IVMVirtualMachine_USCORECreateConsoleTicket)                                                           \
    X(Accounts_USCOREList)                                                                                   \
    X(Accounts_USCOREAdd)                                                                                    \
    X(Accounts_USCORERemove)                                                                                 \
    X(Accounts_USCORESetGroups)                                                                              \
    X(Accounts_USCORESetAdministrator)                                                                       \
    X(Accounts_USCORESetPassword)                                                                            \
    X(Accounts_USCOREChangeOwnPassword)                                                                      \
    X(IVMHardDisk_USCOREget_USCOREHostFreeDiskSpace)                                                         \
    X(IVMHardDisk_USCOREConvert)                                                                             \
    X(IVMHardDisk_USCOREMergeTo)                                                                             \
    /* Keyboard and mouse (input area, vs_service_input.cpp) */                                              \
    X(IVMVirtualMachine_USCOREget_USCOREKeyboard)                                                            \
    X(IVMVirtualMachine_USCOREget_USCOREMouse)                                                               \
    X(IVMKeyboard_USCOREget_USCOREHasExclusiveAccess)                                                        \
    X(IVMKeyboard_USCOREset_USCOREHasExclusiveAccess)                                                        \
    X(IVMKeyboard_USCOREIsPressed)                                                                           \
    X(IVMKeyboard_USCOREPressAndReleaseKey)                                                                  \
    X(IVMKeyboard_USCOREPressKey)                                                                            \
    X(IVMKeyboard_USCOREReleaseKey)                                                                          \
    X(IVMKeyboard_USCORETypeAsciiText)                                                                       \
    X(IVMKeyboard_USCORETypeKeySequence)                                                                     \
    X(IVMMouse_USCOREget_USCOREHorizontalPosition)                                                           \
    X(IVMMouse_USCOREset_USCOREHorizontalPosition)                                                           \
    X(IVMMouse_USCOREget_USCOREVerticalPosition)                                                             \
    X(IVMMouse_USCOREset_USCOREVerticalPosition)                                                             \
    X(IVMMouse_USCOREset_USCOREScrollWheelPosition)                                                          \
    X(IVMMouse_USCOREget_USCOREUsingAbsoluteCoordinates)                                                     \
    X(IVMMouse_USCOREset_USCOREUsingAbsoluteCoordinates)                                                     \
    X(IVMMouse_USCOREClick)                                                                                  \
    X(IVMMouse_USCOREGetButton)                                                                              \
    X(IVMMouse_USCORESetButton)                                                                              \
    X(IVMDisplay_USCORE_USCOREGenerateThumbnail)                                                             \
    X(IVMDisplay_USCORESetDimensions)                                                                        \
    /* Configuration values, event scripts and locale (area "config", vs_service_config.cpp). */             \
    X(IVMVirtualServer_USCOREGetConfigurationValue)                                                          \
    X(IVMVirtualServer_USCORESetConfigurationValue)                                                          \
    X(IVMVirtualServer_USCORERemoveConfigurationValue)                                                       \
    X(IVMVirtualServer_USCOREAttachScriptToEvent)                                                            \
    X(IVMVirtualServer_USCOREFetchScriptByEvent)                                                             \
    X(IVMVirtualServer_USCORERemoveScriptFromEvent)                                                          \
    X(IVMVirtualServer_USCOREget_USCOREVMScriptsEnabled)                                                     \
    X(IVMVirtualServer_USCOREset_USCOREVMScriptsEnabled)                                                     \
    X(IVMVirtualServer_USCOREget_USCOREVSScriptsEnabled)                                                     \
    X(IVMVirtualServer_USCOREset_USCOREVSScriptsEnabled)                                                     \
    X(IVMVirtualServer_USCOREset_USCORELocale)                                                               \
    X(IVMVirtualServer_USCOREQueryLocale)                                                                    \
    X(IVMVirtualMachine_USCOREGetConfigurationValue)                                                         \
    X(IVMVirtualMachine_USCORESetConfigurationValue)                                                         \
    X(IVMVirtualMachine_USCORERemoveConfigurationValue)                                                      \
    X(IVMVirtualMachine_USCOREAttachScriptToEvent)                                                           \
    X(IVMVirtualMachine_USCOREFetchScriptByEvent)                                                            \
    X(IVMVirtualMachine_USCORERemoveScriptFromEvent)                                                         \
    X(IVMVirtualMachine_USCOREGetActivationValue)                                                            \
    X(IVMVirtualMachine_USCORESetActivationValue)                                                            \
    X(IVMVirtualMachine_USCORERemoveActivationValue)                                                         \
    /* Guest agent (issue 11, area "guest agent"): vs_service_guest.cpp */                                   \
    X(IVMGuestOS_USCOREget_USCORECanShutdown)                                                                \
    X(IVMGuestOS_USCOREget_USCOREIsHostTimeSyncEnabled)                                                      \
    X(IVMGuestOS_USCOREset_USCOREIsHostTimeSyncEnabled)                                                      \
    X(IVMGuestOS_USCOREExecuteCommand)                                                                       \
    X(IVMGuestOS_USCOREInstallAdditions)                                                                     \
    X(IVMGuestOS_USCORESetParameter)                                                                         \
    X(IVMGuestOS2_USCOREget_USCOREComputerName)                                                              \
    X(IVMGuestOS2_USCOREGetParameter)                                                                        \
    /* Ports and drives (issue 11, area "ports"): vs_service_ports.cpp */                                    \
    X(IVMVirtualMachine_USCOREget_USCORESerialPorts)                                                         \
    X(IVMVirtualMachine_USCOREget_USCOREParallelPorts)                                                       \
    X(IVMSerialPort_USCOREget_USCORE_USCOREID)                                                               \
    X(IVMSerialPort_USCOREget_USCOREType)                                                                    \
    X(IVMSerialPort_USCOREget_USCOREName)                                                                    \
    X(IVMSerialPort_USCOREget_USCOREConnectImmediately)                                                      \
    X(IVMSerialPort_USCOREConfigure)                                                                         \
    X(IVMParallelPort_USCOREget_USCORE_USCOREID)                                                             \
    X(IVMParallelPort_USCOREget_USCOREName)                                                                  \
    X(IVMParallelPort_USCOREset_USCOREName)                                                                  \
    X(IVMFloppyDrive_USCOREget_USCOREDriveNumber)                                                            \
    X(IVMFloppyDrive_USCOREget_USCOREHostDriveLetter)                                                        \
    X(IVMFloppyDrive_USCOREAttachHostDrive)                                                                  \
    X(IVMFloppyDrive_USCOREReleaseHostDrive)                                                                 \
    X(IVMDVDDrive_USCORESetBusLocation)                                                                      \
    X(IVMSerialPortCollection_USCOREget_USCORECount)                                                         \
    X(IVMSerialPortCollection_USCOREget_USCOREItem)                                                          \
    X(IVMSerialPortCollection_USCOREget_USCORE_USCORENewEnum)                                                \
    X(IVMParallelPortCollection_USCOREget_USCORECount)                                                       \
    X(IVMParallelPortCollection_USCOREget_USCOREItem)                                                        \
    X(IVMParallelPortCollection_USCOREget_USCORE_USCORENewEnum)                                              \
    X(IVMFloppyDriveCollection_USCOREget_USCORECount)                                                        \
    X(IVMFloppyDriveCollection_USCOREget_USCOREItem)                                                         \
    X(IVMFloppyDriveCollection_USCOREget_USCORE_USCORENewEnum)                                               \
    /* identity (issue 11) */ X(IVMVirtualMachine_USCOREget_USCOREBIOSGUID)                                  \
    X(IVMVirtualMachine_USCOREset_USCOREBIOSGUID)                                                            \
    X(IVMVirtualMachine_USCOREget_USCOREBIOSSerialNumber)                                                    \
    X(IVMVirtualMachine_USCOREset_USCOREBIOSSerialNumber)                                                    \
    X(IVMVirtualMachine_USCOREget_USCOREBaseBoardSerialNumber)                                               \
    X(IVMVirtualMachine_USCOREset_USCOREBaseBoardSerialNumber)                                               \
    X(IVMVirtualMachine_USCOREget_USCOREChassisSerialNumber)                                                 \
    X(IVMVirtualMachine_USCOREset_USCOREChassisSerialNumber)                                                 \
    X(IVMVirtualMachine_USCOREget_USCOREChassisAssetTag)                                                     \
    X(IVMVirtualMachine_USCOREset_USCOREChassisAssetTag)                                                     \
    X(IVMVirtualMachine_USCOREget_USCOREAccountName)                                                         \
    X(IVMVirtualMachine_USCOREget_USCORERunAsDefinedAccount)                                                 \
    X(IVMVirtualMachine_USCOREset_USCORERunAsDefinedAccount)                                                 \
    X(IVMVirtualMachine_USCORESetAccountNameAndPassword)                                                     \
    X(IVMSecurity_USCOREget_USCOREOwnerSid)                                                                  \
    X(IVMSecurity_USCOREset_USCOREOwnerSid)                                                                  \
    X(IVMSecurity_USCOREget_USCOREGroupName)                                                                 \
    X(IVMSecurity_USCOREset_USCOREGroupName)                                                                 \
    X(IVMSecurity_USCOREget_USCOREGroupSid)                                                                  \
    X(IVMSecurity_USCOREset_USCOREGroupSid)                                                                  \
    X(IVMSecurity_USCORE_USCOREToSecurityDescriptor)                                                         \
    X(IVMAccessRights_USCOREget_USCORESid)                                                                   \
    X(IVMAccessRights_USCOREset_USCORESid)                                                                   \
    X(IVMAccessRights_USCOREget_USCOREFlags)                                                                 \
    X(IVMAccessRights_USCOREset_USCOREFlags)                                                                 \
    X(IVMAccessRights_USCOREget_USCORESpecialAccess)                                                         \
    X(IVMAccessRights_USCOREset_USCORESpecialAccess)                                                         \
    X(IVMAccessRights_USCORE_USCOREGetAccessMask)                                                            \
    /* SCSI (issue 11, area "scsi"): vs_service_scsi.cpp */                                                  \
    X(IVMVirtualMachine_USCOREget_USCORESCSIControllers)                                                     \
    X(IVMVirtualMachine_USCOREAddSCSIController)                                                             \
    X(IVMVirtualMachine_USCORERemoveSCSIController)                                                          \
    X(IVMSCSIController_USCOREget_USCORE_USCOREID)                                                           \
    X(IVMSCSIController_USCOREget_USCOREIsBusShared)                                                         \
    X(IVMSCSIController_USCOREget_USCORESCSIID)                                                              \
    X(IVMSCSIController_USCOREConfigure)                                                                     \
    X(IVMSCSIControllerCollection_USCOREget_USCORECount)                                                     \
    X(IVMSCSIControllerCollection_USCOREget_USCOREItem)                                                      \
    X(IVMSCSIControllerCollection_USCOREget_USCORE_USCORENewEnum)                                            \
    /* Area "misc" (issue 11): vs_service_misc.cpp */                                                        \
    X(IVMVirtualServer_USCORECreateFloppyDiskImage)                                                          \
    X(IVMVirtualServer_USCOREGetFloppyDiskImageType)                                                         \
    X(IVMVirtualServer_USCORECreateHostDriveVirtualHardDisk)                                                 \
    X(IVMHardDisk_USCOREget_USCOREHostDriveIdentifier)                                                       \
    X(IVMVirtualServer_USCOREget_USCOREUnconnectedNetworkAdapters)                                           \
    X(IVMVirtualServer_USCOREget_USCORESupportDrivers)                                                       \
    X(IVMVirtualMachine_USCOREget_USCOREAttachedDriveTypes)                                                  \
    X(IVMVirtualNetwork_USCOREget_USCORE_USCOREID)                                                           \
    X(IVMNetworkAdapter_USCOREget_USCORE_USCOREID)                                                           \
    X(IVMSupportDriverCollection_USCOREget_USCORECount)                                                      \
    X(IVMSupportDriverCollection_USCOREget_USCOREItem)                                                       \
    X(IVMSupportDriverCollection_USCOREget_USCORE_USCORENewEnum)                                             \
    X(IVMSupportDriver_USCOREget_USCOREDate)                                                                 \
    X(IVMSupportDriver_USCOREget_USCOREDescription)                                                          \
    X(IVMSupportDriver_USCOREget_USCOREManufacturer)                                                         \
    X(IVMSupportDriver_USCOREget_USCOREProvider)                                                             \
    X(IVMSupportDriver_USCOREget_USCOREType)                                                                 \
    X(IVMSupportDriver_USCOREget_USCOREVersion)

// The reference a client gets from IVMVirtualServer_get_HostInfo and passes
// back as _this. There is one host, so one reference.
inline constexpr char const* HOST_INFO_REF = "hostinfo";

class VsService : public VirtualServerBindingService {
public:
    VsService();

    // Binds the next request's backend, call context and limits.
    void bind(SoapBackend const* backend, SoapCall* call, RequestLimits const* limits) {
        m_backend = backend;
        m_call = call;
        m_limits = limits;
    }

    // IVMTask.WaitForCompletion holds this thread for at most this long,
    // well inside the HTTP request deadline, so the answer always gets out.
    static constexpr std::chrono::milliseconds MAX_TASK_WAIT{30'000};
    static std::chrono::milliseconds task_wait_cap(RequestLimits const& limits) {
        return std::min(MAX_TASK_WAIT, limits.request_timeout / 2);
    }

#define VSA_DECLARE_OPERATION(op) int op(_vs__##op* request, _vs__##op##Response& response) override;
    VSA_SOAP_OPERATIONS(VSA_DECLARE_OPERATION)
#undef VSA_DECLARE_OPERATION

    // gSOAP requires these to be overridable; we never hand out a copy.
    VirtualServerBindingService* copy() override {
        return nullptr;
    }

protected:
    // Security (vs_service_security.cpp). What the access policy
    // (access_policy.h) may need from a request: its object references.
    struct AccessRefs {
        std::string_view this_ref, vm, network, disk, security, parent;
    };
    template <typename Request>
    static AccessRefs access_refs(Request const* request) {
        AccessRefs refs;
        if constexpr (requires { request->_USCOREthis; }) refs.this_ref = request->_USCOREthis;
        if constexpr (requires { request->virtualMachine; }) refs.vm = request->virtualMachine;
        if constexpr (requires { request->virtualNetwork; }) refs.network = request->virtualNetwork;
        if constexpr (requires { request->hardDiskPath; }) refs.disk = request->hardDiskPath;
        if constexpr (requires { request->security; }) refs.security = request->security;
        if constexpr (requires { request->parent; }) refs.parent = request->parent;
        return refs;
    }
    // The central check: looks `operation` (gSOAP's spelling) up in the
    // access policy, authenticates when it needs to, and checks the caller's
    // rights on the objects it names. SOAP_OK or the fault (E_ACCESSDENIED
    // naming the right and the object, logged).
    int authorize(std::string_view operation, AccessRefs const& refs);
    // Whether the caller may read the VM or network `object_ref` names (for
    // the batched reads, which cover many objects in one call); true for
    // other references (tasks, the server), which the operation's own check
    // covered.
    bool may_read(std::string_view object_ref);
    // The caller's rights on the hard disks Startup would open for them.
    services::ServiceResult<void> require_disk_rights(services::Guid const& vm_id);
    // Every registered VM (network) the caller may read, in registration order.
    std::vector<std::string> readable_vm_refs();
    std::vector<std::string> readable_network_refs();
    // After a successful Create/Register of a VM or network: gives a new
    // object without a stored descriptor its creator's default one.
    template <typename Response>
    void adopt_if_created(std::string_view operation, Response const& response) {
        if constexpr (requires { response.returnval.c_str(); }) adopt_created(operation, response.returnval);
    }
    void adopt_created(std::string_view operation, std::string const& reference);

private:
    template <typename Out, typename F>
    int security_answer(Out& out, F&& produce);
    template <typename F>
    int security_act(F&& run);
    services::Inventory& inventory();
    services::VmRuntime& runtime();
    int require_principal();
    int fault(services::ServiceError const& error);
    template <typename Out, typename F>
    int answer(Out& out, F&& produce);
    // For operations without a value: F returns ServiceResult<void>.
    template <typename F>
    int act(F&& run);
    // The items of a collection reference ("<owner>/<Property>") of the
    // given interface, read afresh.
    services::ServiceResult<std::vector<std::string>> collection(std::string_view ref, char const* kind);
    template <typename Out, typename F>
    int host_answer(std::string const& this_ref, Out& out, F&& produce);

    SoapBackend const* m_backend{nullptr};
    SoapCall* m_call{nullptr};
    RequestLimits const* m_limits{nullptr};
};

// Tests only: with the environment variable VSA_OPERATION_LOG naming a
// file, every operation that succeeds appends its name to it (one line), so
// the core-member coverage check (tests/coverage) sees what the clients
// really called. Unset (always, outside the tests): nothing is written.
void record_operation(std::string_view operation);

// The GUID of an IVMVirtualMachine reference a request carries, or
// E_INVALIDARG naming what it got (for operations in other files).
services::ServiceResult<services::Guid> parse_vm_reference(std::string_view ref);
// The VM's GUID in the reference of one of its fixed sub-objects,
// "<vm GUID><mark>" (mark "/display", "/keyboard", ...), or E_INVALIDARG
// naming the interface (kind) and what it got.
services::ServiceResult<services::Guid> parse_vm_sub_reference(std::string_view ref, std::string_view mark,
                                                               char const* kind);
// E_INVALIDARG for a reference that is not of the interface kind:
// "<lead>not an <kind> reference (got '<first 64 characters>')". lead names
// the parameter; "" where the reference may come in more than one.
services::ServiceError bad_reference(std::string_view ref, char const* kind,
                                     std::string_view lead = "_this is ");
// A reference's number ("<vm>/nic/3"): a decimal int32 that is all of text.
std::optional<std::int32_t> parse_reference_number(std::string_view text);

// What the dispatcher runs: every operation passes VsService::authorize
// (the access policy) before its implementation runs, so no operation can
// skip the check, including ones added later (they are refused until the
// policy table has them).
class AccessCheckedVsService final : public VsService {
public:
#define VSA_GUARD_OPERATION(op)                                                                              \
    int op(_vs__##op* request, _vs__##op##Response& response) override {                                     \
        if (int rc = authorize(#op, access_refs(request))) return rc;                                        \
        int rc = VsService::op(request, response);                                                           \
        if (rc == SOAP_OK) {                                                                                 \
            adopt_if_created(#op, response);                                                                 \
            record_operation(#op);                                                                           \
        }                                                                                                    \
        return rc;                                                                                           \
    }
    VSA_SOAP_OPERATIONS(VSA_GUARD_OPERATION)
#undef VSA_GUARD_OPERATION
};

} // namespace vsa::appliance
