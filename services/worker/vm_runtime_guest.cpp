// SPDX-License-Identifier: GPL-2.0-or-later
// VmRuntime: IVMGuestOS / IVMGuestOS2 through the guest agent
// (guest_agent.h; what each member means is in vm_runtime.h).
#include "services/worker/vm_runtime.h"

#include "services/worker/vm_runtime_session.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <netdb.h>
#include <unistd.h>

#include <sstream>

namespace vsa::services {

namespace {

constexpr std::size_t MAX_PARAMETERS_FILE = 256 * 1024;

std::string local_host_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || !name[0]) return "localhost";
    return name;
}

std::string fully_qualified_host_name() {
    std::string name = local_host_name();
    addrinfo hints{};
    hints.ai_flags = AI_CANONNAME;
    addrinfo* found = nullptr;
    if (::getaddrinfo(name.c_str(), nullptr, &hints, &found) == 0 && found) {
        if (found->ai_canonname && *found->ai_canonname) name = found->ai_canonname;
        ::freeaddrinfo(found);
    }
    return name;
}

ServiceResult<void> check_parameter_name(std::string const& name) {
    if (name.empty() || name.size() > 255 || name.find('\\') != std::string::npos)
        return service_error(hr::E_INVALIDARG,
                             "a guest parameter name has 1-255 characters and no backslash");
    return {};
}

// The guest's parameter file as an object (empty when it is missing).
ServiceResult<Poco::JSON::Object::Ptr> parse_parameters(std::optional<std::string> const& text) {
    Poco::JSON::Object::Ptr object = new Poco::JSON::Object;
    if (!text || text->empty()) return object;
    try {
        Poco::JSON::Parser parser;
        parser.setDepth(4);
        auto value = parser.parse(*text);
        if (value.type() == typeid(Poco::JSON::Object::Ptr)) return value.extract<Poco::JSON::Object::Ptr>();
    } catch (Poco::Exception const&) {
    } catch (std::exception const&) {
    }
    return service_error(hr::E_FAIL, std::string("the guest's parameter file ") +
                                         VmRuntime::GUEST_PARAMETERS_FILE + " is not a JSON object");
}

} // namespace

std::shared_ptr<GuestAgent> VmRuntime::make_guest_agent(Guid const& id, FileDescriptor stream,
                                                        bool time_sync) {
    GuestAgent::Options options;
    // The agent's version is kept in the .vmc (AdditionsVersion while off).
    options.on_contact = [this, id](std::string const& version) {
        auto vm = m_inventory.virtual_machine(id);
        if (!vm || vm->guest_os().additions_version() == version) return;
        auto stored =
            m_inventory.update_virtual_machine(id, [&](VirtualMachine& changed) -> ServiceResult<void> {
                changed.guest_os().set_additions_version(version);
                return {};
            });
        log("virtual machine \"" + vm->name() + "\": guest agent " + version + " answered" +
            (stored.is_error() ? " (not recorded: " + stored.error().message + ")" : ""));
    };
    auto agent = std::make_shared<GuestAgent>(std::move(stream), std::move(options));
    agent->set_time_sync(time_sync);
    return agent;
}

ServiceResult<std::shared_ptr<GuestAgent>> VmRuntime::answering_agent(Guid const& id) {
    auto [session, worker] = TRY(live_worker(id));
    auto vm = m_inventory.virtual_machine(id);
    if (vm && vm->state() == VmState::Paused)
        return service_error(hr::VM_E_VM_PAUSED, "virtual machine \"" + vm->name() + "\" is paused");
    std::shared_ptr<GuestAgent> agent;
    {
        std::lock_guard lock(m_mutex);
        agent = session->agent;
    }
    if (!agent || !agent->status().answered)
        return service_error(hr::VM_E_ADDITIONS_FEATURE_NOT_AVAIL,
                             "no guest agent answered in virtual machine \"" + session->name +
                                 "\" since it started (run qemu-guest-agent in the guest on its agent "
                                 "port: qemu-ga -m isa-serial -p /dev/ttyS2)");
    return agent;
}

ServiceResult<std::string> VmRuntime::guest_os_name(Guid const& id) {
    auto agent = TRY(answering_agent(id));
    auto status = agent->status();
    if (!status.os_name.empty()) return status.os_name;
    return agent->os_name();
}

ServiceResult<std::string> VmRuntime::guest_additions_version(Guid const& id) {
    auto vm = m_inventory.virtual_machine(id);
    if (!vm) return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    if (auto session = session_of(id)) {
        std::lock_guard lock(m_mutex);
        if (session->agent) {
            auto status = session->agent->status();
            if (!status.version.empty()) return status.version;
        }
    }
    return vm->guest_os().additions_version();
}

ServiceResult<bool> VmRuntime::guest_can_shutdown(Guid const& id) {
    auto [session, worker] = TRY(live_worker(id));
    std::lock_guard lock(m_mutex);
    return session->agent && session->agent->status().heartbeating;
}

ServiceResult<bool> VmRuntime::host_time_sync(Guid const& id) {
    auto vm = m_inventory.virtual_machine(id);
    if (!vm) return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    return vm->guest_os().is_host_time_sync_enabled();
}

ServiceResult<void> VmRuntime::set_host_time_sync(Guid const& id, bool enabled) {
    TRY(m_inventory.update_virtual_machine(id, [&](VirtualMachine& vm) -> ServiceResult<void> {
        vm.guest_os().set_host_time_sync_enabled(enabled);
        return {};
    }));
    if (auto session = session_of(id)) {
        std::lock_guard lock(m_mutex);
        if (session->agent) session->agent->set_time_sync(enabled);
    }
    return {};
}

ServiceResult<std::string> VmRuntime::guest_computer_name(Guid const& id) {
    auto agent = TRY(answering_agent(id));
    return agent->host_name();
}

ServiceResult<std::string> VmRuntime::guest_execute(Guid const& id, std::string const& command) {
    if (command.empty() || command.size() > 64 * 1024)
        return service_error(hr::E_INVALIDARG, "the command is empty or longer than 64 KiB");
    auto agent = TRY(answering_agent(id));
    auto result = TRY(agent->exec("/bin/sh", {"-c", command}, GUEST_EXEC_TIMEOUT));
    if (result.signal || result.exit_code != 0) {
        std::string why = result.signal ? "was killed by signal " + std::to_string(*result.signal)
                                        : "exited with status " + std::to_string(result.exit_code);
        return service_error(hr::E_FAIL, "the command " + why + ": " +
                                             guest_agent_protocol::clean_text(result.err.substr(0, 512)));
    }
    return result.out;
}

ServiceResult<void> VmRuntime::set_guest_parameter(Guid const& id, std::string const& name,
                                                   std::string const& value) {
    TRY(check_parameter_name(name));
    if (value.size() > 16 * 1024)
        return service_error(hr::E_INVALIDARG, "a guest parameter value is at most 16 KiB");
    auto agent = TRY(answering_agent(id));
    auto text = TRY(agent->read_file(GUEST_PARAMETERS_FILE, MAX_PARAMETERS_FILE));
    auto parameters = TRY(parse_parameters(text));
    try {
        parameters->set(name, value);
        std::ostringstream out;
        parameters->stringify(out);
        if (out.str().size() > MAX_PARAMETERS_FILE)
            return service_error(hr::E_FAIL, "the guest's parameters would exceed " +
                                                 std::to_string(MAX_PARAMETERS_FILE) + " bytes");
        return agent->write_file(GUEST_PARAMETERS_FILE, out.str());
    } catch (Poco::Exception const& e) {
        return service_error(hr::E_FAIL, "cannot store the guest parameter: " + e.displayText());
    }
}

ServiceResult<std::string> VmRuntime::guest_parameter(Guid const& id, std::string const& name) {
    TRY(check_parameter_name(name));
    auto agent = TRY(answering_agent(id));
    // The stock values, which Additions write at every boot.
    if (name == "HostName" || name == "PhysicalHostName") return local_host_name();
    if (name == "PhysicalHostNameFullyQualified") return fully_qualified_host_name();
    if (name == "VirtualMachineName") {
        auto vm = m_inventory.virtual_machine(id);
        return vm ? vm->name() : std::string();
    }
    auto text = TRY(agent->read_file(GUEST_PARAMETERS_FILE, MAX_PARAMETERS_FILE));
    auto parameters = TRY(parse_parameters(text));
    try {
        if (!parameters->has(name)) return std::string();
        auto value = parameters->get(name);
        if (value.isString()) return value.extract<std::string>();
        return value.convert<std::string>();
    } catch (Poco::Exception const&) {
        return service_error(hr::E_FAIL, "the guest's parameter " + name + " is not text");
    }
}

ServiceResult<void> VmRuntime::install_guest_additions(Guid const& id) {
    auto vm = m_inventory.virtual_machine(id);
    if (!vm) return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    if (vm->state() != VmState::Running)
        return service_error(hr::VM_E_VM_NOT_RUNNING,
                             "virtual machine \"" + vm->name() + "\" is not running");
    if (m_options.agent_media.empty() || ::access(m_options.agent_media.c_str(), R_OK) != 0)
        return service_error(hr::E_FAIL,
                             "this server has no guest agent install media (" +
                                 (m_options.agent_media.empty() ? std::string("not configured")
                                                                : m_options.agent_media.string()) +
                                 ")");
    for (auto const& dvd : vm->dvd_drives()) {
        if (dvd.attachment() != DvdAttachment::None || !dvd.location().worker_slot()) continue;
        // A copy in the VM's folder: the drive may only hold images from the
        // server's folders (path policy), which the build tree is not.
        auto copy = vm->folder() / m_options.agent_media.filename();
        std::error_code ec;
        std::filesystem::copy_file(m_options.agent_media, copy,
                                   std::filesystem::copy_options::overwrite_existing, ec);
        if (ec)
            return service_error(hr::E_FAIL, "cannot copy the guest agent's media to " + copy.string() +
                                                 ": " + ec.message());
        return attach_dvd_image(id, dvd.location(), copy);
    }
    return service_error(hr::VM_E_DRIVE_INVALID, "virtual machine \"" + vm->name() +
                                                     "\" has no empty DVD drive for the guest agent's media");
}

} // namespace vsa::services
