// SPDX-License-Identifier: GPL-2.0-or-later
//
// A virtual network's traffic (networks.html): the switch's bytes and
// packets per second received, sent and dropped (IVMVirtualNetwork
// Bytes*/Packets*, with the last minute of bytes as bar charts), and the
// byte counters of each virtual machine with an adapter on the network
// (IVMAccountant NetworkBytesReceived/Sent: per machine, all its adapters
// together; the API has no per-adapter counters). Re-read every 2 seconds
// while the page is visible.

import { call, callList } from './soap.js';
import { handleAuth } from './layout.js';
import { el, showMessage, errorText, formatBytes, formatNumber } from './ui.js';
import { drawHistory } from './chart.js';

const DIRECTIONS = [['Received', 'Received'], ['Sent', 'Sent'], ['Dropped', 'Dropped']];

let timer = 0;

async function readNetwork(ref) {
  const ops = DIRECTIONS.flatMap(([d]) => [`Bytes${d}`, `Packets${d}`, `Bytes${d}History`]);
  const values = await Promise.all(ops.map((p) => (p.endsWith('History')
    ? callList(`IVMVirtualNetwork_get_${p}`, { _this: ref })
    : call(`IVMVirtualNetwork_get_${p}`, { _this: ref }))));
  return Object.fromEntries(ops.map((p, i) => [p, values[i]]));
}

async function readMachines(ref) {
  const nics = await callList('IVMVirtualNetwork_get_NetworkAdapters', { _this: ref });
  const vms = [...new Set(await Promise.all(nics.map((nic) => call('IVMNetworkAdapter_get_VirtualMachine', { _this: nic }))))];
  return Promise.all(vms.map(async (vm) => {
    const [name, accountant] = await Promise.all([
      call('IVMVirtualMachine_get_Name', { _this: vm }), call('IVMVirtualMachine_get_Accountant', { _this: vm })]);
    const [received, sent] = await Promise.all([
      call('IVMAccountant_get_NetworkBytesReceived', { _this: accountant }),
      call('IVMAccountant_get_NetworkBytesSent', { _this: accountant })]);
    return { vm, name, received, sent };
  }));
}

function render(container, stats, machines) {
  const rows = DIRECTIONS.map(([d, label]) => {
    const chart = el('div', { class: 'chart' });
    drawHistory(chart, stats[`Bytes${d}History`], (peak, now) =>
      `Bytes ${label.toLowerCase()} each second over the last minute: now ${formatBytes(now)}, peak ${formatBytes(peak)}`);
    return el('tr', { testid: 'net-stats-row', dataset: { direction: d, bytes: stats[`Bytes${d}`], packets: stats[`Packets${d}`] } },
      el('th', { scope: 'row', dataset: { label: 'Traffic' } }, label),
      el('td', { dataset: { label: 'Bytes/s' } }, `${formatBytes(stats[`Bytes${d}`])}/s`),
      el('td', { dataset: { label: 'Packets/s' } }, formatNumber(stats[`Packets${d}`])),
      el('td', { dataset: { label: 'Last minute' } }, chart));
  });
  const vmRows = machines.map((m) => el('tr', { testid: 'net-stats-vm', dataset: { received: m.received, sent: m.sent } },
    el('th', { scope: 'row', dataset: { label: 'Virtual machine' } }, el('a', { href: `vm.html?vm=${encodeURIComponent(m.vm)}` }, m.name)),
    el('td', { dataset: { label: 'Received' } }, formatBytes(m.received)),
    el('td', { dataset: { label: 'Sent' } }, formatBytes(m.sent))));
  if (!vmRows.length) vmRows.push(el('tr', {}, el('td', { colspan: 3, class: 'empty' }, 'No virtual machine has an adapter on this network.')));
  container.replaceChildren(
    el('div', { class: 'table-box' }, el('table', { class: 'table table-stack stats-table', testid: 'net-stats-table' },
      el('caption', { class: 'visually-hidden' }, 'The network switch, per second'),
      el('thead', {}, el('tr', {}, ...['Traffic', 'Bytes/s', 'Packets/s', 'Last minute'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows))),
    el('h3', { class: 'subhead' }, 'Traffic of the virtual machines on it'),
    el('p', { class: 'hint muted' }, 'Since each machine started; all its adapters together.'),
    el('div', { class: 'table-box' }, el('table', { class: 'table table-stack stats-table', testid: 'net-stats-vms' },
      el('thead', {}, el('tr', {}, ...['Virtual machine', 'Received', 'Sent'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, vmRows))));
}

/** Shows the statistics of network `ref` in container (and keeps them fresh); '' stops. */
export async function netStats(container, region, ref) {
  clearInterval(timer);
  timer = 0;
  if (!ref) return;
  const load = async () => {
    try {
      const [stats, machines] = await Promise.all([readNetwork(ref), readMachines(ref)]);
      // Not under a keyboard user's feet: the links would lose focus.
      if (container.contains(document.activeElement)) return;
      render(container, stats, machines);
      container.dataset.loaded = 'true';
      if (!region.hidden) showMessage(region, '');
    } catch (err) {
      if (!handleAuth(err)) showMessage(region, errorText('Reading the statistics', err));
    }
  };
  await load();
  timer = setInterval(() => { if (document.visibilityState === 'visible') load(); }, 2000);
}
