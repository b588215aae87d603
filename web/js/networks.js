// SPDX-License-Identifier: GPL-2.0-or-later
//
// Virtual networks: the list, creating one, and for the selected network
// (?net=<reference>) its name, host connectivity, notes, the NICs plugged
// into it, the built-in DHCP server (IVMDHCPVirtualNetworkServer), its
// traffic statistics (net-stats.js), its ACL, and unregistering or deleting
// it.

import { call, callList } from './soap.js';
import { initLayout, handleAuth } from './layout.js';
import {
  el, isTrue, param, showMessage, errorText, fillSelect, confirmDialog,
} from './ui.js';
import { aclEditor } from './acl.js';
import { netStats } from './net-stats.js';

initLayout('networks');
const $ = (id) => document.getElementById(id);
let selected = param('net') ?? '';
let hostAdapters = [];
let net = {};
let dhcpRef = '';

function fail(region, what, err) {
  if (!handleAuth(err)) showMessage(region, errorText(what, err));
}

async function withButton(button, region, what, fn, okText = '') {
  if (button) button.disabled = true;
  try {
    await fn();
    showMessage(region, okText, 'ok');
    return true;
  } catch (err) {
    fail(region, what, err);
    return false;
  } finally {
    if (button) button.disabled = false;
  }
}

// ---------------------------------------------------------------- list

async function loadList() {
  try {
    const refs = await callList('IVMVirtualServer_get_VirtualNetworks');
    const items = await Promise.all(refs.map(async (ref) => {
      const [name, host, nics] = await Promise.all([
        call('IVMVirtualNetwork_get_Name', { _this: ref }),
        call('IVMVirtualNetwork_get_HostAdapter', { _this: ref }),
        callList('IVMVirtualNetwork_get_NetworkAdapters', { _this: ref }),
      ]);
      return { ref, name, host, nics: nics.length };
    }));
    $('net-list').replaceChildren(...items.map((n) => el('li', {
      testid: 'net-row', dataset: { netName: n.name, netRef: n.ref, selected: n.ref === selected ? 'true' : null },
    },
    el('a', { href: `networks.html?net=${encodeURIComponent(n.ref)}`, 'aria-current': n.ref === selected ? 'true' : null,
      onclick: (e) => { e.preventDefault(); select(n.ref); } }, n.name),
    el('span', { class: 'muted' }, `${n.host ? `bridged to ${n.host}` : 'guest only'} · ${n.nics} adapter${n.nics === 1 ? '' : 's'}`))));
    if (!items.length) $('net-list').append(el('li', { class: 'muted' }, 'No virtual networks yet.'));
    showMessage($('list-message'), '');
  } catch (err) {
    fail($('list-message'), 'Listing the networks', err);
    throw err;
  }
}

$('net-create-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!event.currentTarget.reportValidity()) return;
  const name = $('net-create-name').value.trim();
  let ref = '';
  const ok = await withButton(event.submitter, $('list-message'), 'Creating the network', async () => {
    ref = await call('IVMVirtualServer_CreateVirtualNetwork', { configurationName: name, configurationPath: '' });
  }, `Created ${name}.`);
  if (ok) {
    $('net-create-name').value = '';
    await select(ref);
  }
});

// ---------------------------------------------------------------- one network

async function select(ref) {
  selected = ref;
  history.replaceState(null, '', `networks.html?net=${encodeURIComponent(ref)}`);
  await Promise.allSettled([loadList(), loadNetwork()]);
  $('net-name').focus();
}

async function loadNetwork() {
  if (!selected) return;
  const region = $('net-message');
  try {
    const [name, file, notes, host, nics, dhcp] = await Promise.all([
      call('IVMVirtualNetwork_get_Name', { _this: selected }),
      call('IVMVirtualNetwork_get_File', { _this: selected }),
      call('IVMVirtualNetwork_get_Notes', { _this: selected }),
      call('IVMVirtualNetwork_get_HostAdapter', { _this: selected }),
      callList('IVMVirtualNetwork_get_NetworkAdapters', { _this: selected }),
      call('IVMVirtualNetwork_get_DHCPVirtualNetworkServer', { _this: selected }),
    ]);
    net = { name, notes: notes ?? '', host: host ?? '' };
    dhcpRef = dhcp;
    $('net-heading').textContent = name;
    $('net-name').value = name;
    $('net-notes').value = notes ?? '';
    $('net-file').textContent = file;
    const adapters = hostAdapters.includes(net.host) || !net.host ? hostAdapters : [...hostAdapters, net.host];
    // "NAT" is the host adapter name of vsad's NAT (IVMHostInfo.NetworkAdapters lists it first).
    fillSelect($('net-host'), [['', 'None (guest only)'],
      ...adapters.map((a) => [a, a === 'NAT' ? 'NAT (through the host\'s connection)' : `Bridged to ${a}`])], net.host);
    $('net-detail').hidden = false;
    $('net-more').hidden = false;
    showMessage(region, '');
    await Promise.allSettled([loadNics(nics), loadDhcp(), loadSecurity(), netStats($('net-stats'), $('stats-message'), selected)]);
  } catch (err) {
    $('net-detail').hidden = true;
    $('net-more').hidden = true;
    fail($('list-message'), 'Reading the network', err);
  }
}

async function loadNics(refs) {
  const items = await Promise.all(refs.map(async (ref) => {
    try {
      const [mac, vm] = await Promise.all([
        call('IVMNetworkAdapter_get_EthernetAddress', { _this: ref }),
        call('IVMNetworkAdapter_get_VirtualMachine', { _this: ref }),
      ]);
      const vmName = await call('IVMVirtualMachine_get_Name', { _this: vm });
      return el('li', { testid: 'net-nic', dataset: { mac } },
        el('a', { href: `vm.html?vm=${encodeURIComponent(vm)}` }, vmName), el('span', { class: 'path' }, mac));
    } catch (err) {
      if (handleAuth(err)) throw err;
      return el('li', {}, errorText('Reading an adapter', err));
    }
  }));
  $('net-nics').replaceChildren(...items);
  if (!items.length) $('net-nics').append(el('li', { class: 'muted' }, 'No adapters are plugged in.'));
}

$('net-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!event.currentTarget.reportValidity()) return;
  const name = $('net-name').value.trim();
  const notes = $('net-notes').value;
  const host = $('net-host').value;
  const ok = await withButton(event.submitter, $('net-message'), 'Saving the network', async () => {
    if (name !== net.name) await call('IVMVirtualNetwork_set_Name', { _this: selected, name });
    if (host !== net.host) await call('IVMVirtualNetwork_set_HostAdapter', { _this: selected, adapter: host });
    if (notes !== net.notes) await call('IVMVirtualNetwork_set_Notes', { _this: selected, notes });
  }, 'Saved.');
  if (ok) {
    await loadList();
    const region = $('net-message');
    await loadNetwork();
    showMessage(region, 'Saved.', 'ok');
  }
});

// ---------------------------------------------------------------- DHCP

const DHCP_FIELDS = [
  ['dhcp-network', 'Network'], ['dhcp-mask', 'NetworkMask'], ['dhcp-start', 'StartingIPAddress'],
  ['dhcp-end', 'EndingIPAddress'], ['dhcp-server', 'ServerIPAddress'], ['dhcp-gateway', 'DefaultGatewayAddress'],
  ['dhcp-dns', 'DNSServers'], ['dhcp-wins', 'WINSServers'], ['dhcp-lease', 'LeaseTime'],
  ['dhcp-renew', 'LeaseRenewalTime'], ['dhcp-rebind', 'LeaseRebindingTime'],
];

async function loadDhcp() {
  try {
    const [enabled, ...values] = await Promise.all([
      call('IVMDHCPVirtualNetworkServer_get_IsEnabled', { _this: dhcpRef }),
      ...DHCP_FIELDS.map(([, prop]) => call(`IVMDHCPVirtualNetworkServer_get_${prop}`, { _this: dhcpRef })),
    ]);
    $('dhcp-enabled').checked = isTrue(enabled);
    DHCP_FIELDS.forEach(([id], i) => { $(id).value = values[i] ?? ''; });
  } catch (err) {
    fail($('dhcp-message'), 'Reading the DHCP server', err);
  }
}

$('dhcp-enabled').addEventListener('change', async (event) => {
  const box = event.currentTarget;
  const ok = await withButton(box, $('dhcp-message'), 'Switching the DHCP server', () =>
    call('IVMDHCPVirtualNetworkServer_set_IsEnabled', { _this: dhcpRef, enabled: box.checked }),
  box.checked ? 'The DHCP server is on.' : 'The DHCP server is off.');
  if (!ok) box.checked = !box.checked;
});

$('dhcp-range-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!event.currentTarget.reportValidity()) return;
  await withButton(event.submitter, $('dhcp-message'), 'Setting the address range', () =>
    call('IVMDHCPVirtualNetworkServer_ConfigureDHCPServer', {
      _this: dhcpRef,
      network: $('dhcp-network').value.trim(),
      networkMask: $('dhcp-mask').value.trim(),
      startingIPAddress: $('dhcp-start').value.trim(),
      endingIPAddress: $('dhcp-end').value.trim(),
      serverIPAddress: $('dhcp-server').value.trim(),
    }), 'Address range saved.');
  loadDhcp();
});

$('dhcp-options-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  await withButton(event.submitter, $('dhcp-message'), 'Setting the DHCP options', async () => {
    await call('IVMDHCPVirtualNetworkServer_set_DefaultGatewayAddress', { _this: dhcpRef, address: $('dhcp-gateway').value.trim() });
    await call('IVMDHCPVirtualNetworkServer_set_DNSServers', { _this: dhcpRef, servers: $('dhcp-dns').value.trim() });
    await call('IVMDHCPVirtualNetworkServer_set_WINSServers', { _this: dhcpRef, servers: $('dhcp-wins').value.trim() });
  }, 'Options saved.');
  loadDhcp();
});

$('dhcp-lease-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!event.currentTarget.reportValidity()) return;
  await withButton(event.submitter, $('dhcp-message'), 'Setting the lease times', () =>
    call('IVMDHCPVirtualNetworkServer_ConfigureDHCPLeaseTimes', {
      _this: dhcpRef,
      leaseTime: Number($('dhcp-lease').value),
      leaseRenewalTime: Number($('dhcp-renew').value),
      leaseRebindingTime: Number($('dhcp-rebind').value),
    }), 'Lease times saved.');
  loadDhcp();
});

// ---------------------------------------------------------------- security, removal

async function loadSecurity() {
  try {
    const ref = await call('IVMVirtualNetwork_get_Security', { _this: selected });
    await aclEditor($('net-acl'), ref, 'net-acl');
  } catch (err) {
    handleAuth(err);
  }
}

async function removeNet(button, op, title, text) {
  if (!(await confirmDialog(title, text, title, true))) return;
  const ok = await withButton(button, $('net-remove-message'), title, () => call(op, { virtualNetwork: selected }));
  if (ok) {
    selected = '';
    netStats($('net-stats'), $('stats-message'), '');
    history.replaceState(null, '', 'networks.html');
    $('net-detail').hidden = true;
    $('net-more').hidden = true;
    await loadList();
    $('net-create-name').focus();
  }
}

$('net-unregister').addEventListener('click', (e) => removeNet(e.currentTarget, 'IVMVirtualServer_UnregisterVirtualNetwork',
  'Remove from the list', `Remove ${net.name} from the list? Its adapters are unplugged; the .vnc file is kept.`));
$('net-delete').addEventListener('click', (e) => removeNet(e.currentTarget, 'IVMVirtualServer_DeleteVirtualNetwork',
  'Delete network', `Delete ${net.name}? Its adapters are unplugged and its .vnc file is deleted.`));

// ---------------------------------------------------------------- start

async function start() {
  try {
    const host = await call('IVMVirtualServer_get_HostInfo');
    hostAdapters = await callList('IVMHostInfo_get_NetworkAdapters', { _this: host });
  } catch (err) {
    handleAuth(err);
  }
  try {
    await loadList();
    if (selected) await loadNetwork();
    document.body.dataset.state = 'loaded';
  } catch (err) {
    if (!handleAuth(err)) document.body.dataset.state = 'error';
  }
}

start();
