// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/persist/vnc_file.h"

#include "services/model/virtual_machine.h"
#include "services/persist/preferences_xml.h"

namespace vsa::services::persist {

namespace {

constexpr char const* HEADER = " Virtual Server Appliance Virtual Network Options ";

ServiceResult<void> keyed(PreferenceReader const& reader, pugi::xml_node node, ServiceResult<void> result) {
    if (result.is_error()) return reader.illegal(node, result.error().message);
    return {};
}

} // namespace

ServiceResult<VirtualNetwork> parse_vnc(std::string_view bytes, std::filesystem::path const& file) {
    auto xml = TRY(PreferencesXml::parse(bytes, file.string(), XmlLimits{MAX_VNC_BYTES, 16, 10'000}));
    PreferenceReader reader(file.string());
    auto network_node = xml.root().child("virtual_network");
    if (!network_node)
        return service_error(hr::VM_E_PREF_NOT_FOUND, file.string() + ": no <virtual_network> element");

    VirtualNetwork network(file.stem().string(), file, Guid{});
    auto name = TRY(reader.string(network_node, "name", 1024)).value_or(file.stem().string());
    if (auto named = network.set_name(name); named.is_error())
        return service_error(named.error().code, file.string() + ": " + named.error().message);
    if (auto id = TRY(reader.bytes(network_node, "id", 16)); id && !id->empty()) {
        auto guid = Guid::from_bytes(*id);
        if (!guid) return reader.illegal(network_node.child("id"), "expected 16 bytes");
        network.set_id(*guid);
    }
    if (auto notes = TRY(reader.string(network_node, "notes", MAX_NOTES_CHARACTERS * 4)))
        TRY(keyed(reader, network_node.child("notes"), network.set_notes(*notes)));
    if (auto adapter = TRY(reader.string(network_node, "host_adapter", 64)))
        TRY(keyed(reader, network_node.child("host_adapter"), network.set_host_adapter(*adapter)));

    if (auto dhcp_node = network_node.child("dhcp_server")) {
        auto& dhcp = network.dhcp();
        dhcp.set_enabled(TRY(reader.boolean(dhcp_node, "enabled")).value_or(false));
        auto text = [&](char const* key, std::string const& fallback) -> ServiceResult<std::string> {
            return TRY(reader.string(dhcp_node, key, 64)).value_or(fallback);
        };
        auto network_address = TRY(text("network", dhcp.network()));
        auto mask = TRY(text("network_mask", dhcp.network_mask()));
        auto start = TRY(text("starting_ip_address", dhcp.starting_ip_address()));
        auto end = TRY(text("ending_ip_address", dhcp.ending_ip_address()));
        auto server = TRY(text("server_ip_address", dhcp.server_ip_address()));
        TRY(keyed(reader, dhcp_node, dhcp.configure(network_address, mask, start, end, server)));
        auto gateway = TRY(text("default_gateway_address", ""));
        TRY(keyed(reader, dhcp_node, dhcp.set_default_gateway_address(gateway)));
        auto dns = TRY(reader.string(dhcp_node, "dns_servers", 1024)).value_or("");
        TRY(keyed(reader, dhcp_node, dhcp.set_dns_servers(dns)));
        auto wins = TRY(reader.string(dhcp_node, "wins_servers", 1024)).value_or("");
        TRY(keyed(reader, dhcp_node, dhcp.set_wins_servers(wins)));
        constexpr std::int64_t MAX = 0xFFFF'FFFF;
        auto lease = TRY(reader.integer(dhcp_node, "lease_time", 0, MAX)).value_or(dhcp.lease_time());
        auto renewal =
            TRY(reader.integer(dhcp_node, "lease_renewal_time", 0, MAX)).value_or(dhcp.lease_renewal_time());
        auto rebinding = TRY(reader.integer(dhcp_node, "lease_rebinding_time", 0, MAX))
                             .value_or(dhcp.lease_rebinding_time());
        TRY(keyed(reader, dhcp_node, dhcp.configure_lease_times(lease, renewal, rebinding)));
    }
    network.set_preserved_xml(std::string(bytes));
    return network;
}

ServiceResult<VirtualNetwork> read_vnc(std::filesystem::path const& file) {
    auto bytes = TRY(read_file_capped(file, MAX_VNC_BYTES));
    return parse_vnc(bytes, file);
}

ServiceResult<std::string> serialize_vnc(VirtualNetwork const& network) {
    std::optional<PreferencesXml> parsed;
    if (!network.preserved_xml().empty()) {
        auto reparsed = PreferencesXml::parse(network.preserved_xml(), network.file().string(),
                                              XmlLimits{MAX_VNC_BYTES, 16, 10'000});
        if (reparsed.has_value()) parsed.emplace(reparsed.release_value());
    }
    if (!parsed) parsed.emplace(HEADER);
    auto root = parsed->root();
    if (!root.child("version")) set_string(root, "version", "1.0");
    auto node = ensure_child(root, "virtual_network");
    set_bytes(node, "id", network.id().bytes());
    set_string(node, "name", network.name());
    set_string(node, "notes", network.notes());
    set_string(node, "host_adapter", network.host_adapter());
    auto dhcp_node = ensure_child(node, "dhcp_server");
    auto const& dhcp = network.dhcp();
    set_boolean(dhcp_node, "enabled", dhcp.is_enabled());
    set_string(dhcp_node, "network", dhcp.network());
    set_string(dhcp_node, "network_mask", dhcp.network_mask());
    set_string(dhcp_node, "starting_ip_address", dhcp.starting_ip_address());
    set_string(dhcp_node, "ending_ip_address", dhcp.ending_ip_address());
    set_string(dhcp_node, "server_ip_address", dhcp.server_ip_address());
    set_string(dhcp_node, "default_gateway_address", dhcp.default_gateway_address());
    set_string(dhcp_node, "dns_servers", dhcp.dns_servers());
    set_string(dhcp_node, "wins_servers", dhcp.wins_servers());
    set_integer(dhcp_node, "lease_time", dhcp.lease_time());
    set_integer(dhcp_node, "lease_renewal_time", dhcp.lease_renewal_time());
    set_integer(dhcp_node, "lease_rebinding_time", dhcp.lease_rebinding_time());
    return parsed->serialize();
}

ServiceResult<void> write_vnc(VirtualNetwork const& network, AtomicWriteHooks const& hooks) {
    auto text = TRY(serialize_vnc(network));
    return write_file_atomically(network.file(), text, hooks);
}

} // namespace vsa::services::persist
