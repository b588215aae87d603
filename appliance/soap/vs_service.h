// SPDX-License-Identifier: GPL-2.0-or-later
// VsService: the gSOAP skeleton's operations, each an adapter from generated
// types to the services model and back. No model logic lives here: every
// operation authenticates, calls services/, and maps the Result.
#pragma once

#include "appliance/soap/soap_call.h"
#include "appliance/soap/soap_dispatcher.h"
#include "services/service_error.h"

#include "soapVirtualServerBindingService.h"

namespace vsa::services {
struct HostInfo;
}

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
    X(IVMHostInfo_USCOREIsHostDriveMounted)

// The reference a client gets from IVMVirtualServer_get_HostInfo and passes
// back as _this. There is one host, so one reference.
inline constexpr char const* HOST_INFO_REF = "hostinfo";

class VsService final : public VirtualServerBindingService {
public:
    VsService();

    // Binds the next request's backend and call context.
    void bind(SoapBackend const* backend, SoapCall* call) {
        m_backend = backend;
        m_call = call;
    }

#define VSA_DECLARE_OPERATION(op) int op(_vs__##op* request, _vs__##op##Response& response) override;
    VSA_SOAP_OPERATIONS(VSA_DECLARE_OPERATION)
#undef VSA_DECLARE_OPERATION

    // gSOAP requires these to be overridable; we never hand out a copy.
    VirtualServerBindingService* copy() override {
        return nullptr;
    }

private:
    int require_principal();
    int fault(services::ServiceError const& error);
    template <typename Out, typename F>
    int answer(Out& out, F&& produce);
    template <typename Out, typename F>
    int host_answer(std::string const& this_ref, Out& out, F&& produce);

    SoapBackend const* m_backend{nullptr};
    SoapCall* m_call{nullptr};
};

} // namespace vsa::appliance
