// SPDX-License-Identifier: GPL-2.0-or-later
// VsService: IVMVirtualMachine.CreateConsoleTicket, the plain VNC client's
// way into a VM's console (appliance/console/console_service.h). The
// browser console needs no ticket: its WebSocket rides on the session.
#include "appliance/console/console_service.h"
#include "appliance/soap/fault_mapping.h"
#include "appliance/soap/vs_service.h"

namespace vsa::appliance {

using services::Guid;
using services::ServiceError;
using services::ServiceResult;
namespace hr = services::hr;

int VsService::IVMVirtualMachine_USCORECreateConsoleTicket(
    _vs__IVMVirtualMachine_USCORECreateConsoleTicket* request,
    _vs__IVMVirtualMachine_USCORECreateConsoleTicketResponse& response) {
    if (int rc = require_principal()) return rc;
    auto ticket = [&]() -> ServiceResult<console::ConsoleService::Ticket> {
        Guid id = TRY(parse_vm_reference(request->_USCOREthis));
        auto* service = m_backend->console;
        if (!service) return Err{ServiceError{hr::E_FAIL, "the console is not running in this vsad"}};
        try {
            return service->create_ticket(id);
        } catch (std::exception const& e) {
            return Err{ServiceError{hr::E_FAIL, std::string("cannot make a console ticket: ") + e.what()}};
        }
    }();
    if (ticket.is_error()) return set_service_fault(soap, ticket.error());
    auto value = ticket.release_value();
    response.returnval = soap_new_vs__ConsoleTicket(soap);
    response.returnval->port = value.port;
    response.returnval->password = value.password;
    response.returnval->expiresIn = static_cast<std::int32_t>(value.expires_in.count());
    return SOAP_OK;
}

} // namespace vsa::appliance
