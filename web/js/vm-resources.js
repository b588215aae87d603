// SPDX-License-Identifier: GPL-2.0-or-later
//
// A VM's resource allocation and use (IVMAccountant): the CPU reserve, cap
// and relative weight (SetSchedulingParameters, in any state) with the
// maxima the server allows now, and while the VM is on its CPU use (with
// the last minute as a bar chart), up time and disk and network byte
// counters, re-read every 2 seconds (off, they all read 0 and are not
// shown). The server judges the values: a bad one comes back as its
// fault's message.

import { call, callList } from './soap.js';
import { handleAuth } from './layout.js';
import { showMessage, errorText, formatBytes, formatNumber } from './ui.js';
import { drawHistory } from './chart.js';

const $ = (id) => document.getElementById(id);
const COUNTERS = ['CPUUtilization', 'UpTime', 'DiskBytesRead', 'DiskBytesWritten', 'NetworkBytesReceived', 'NetworkBytesSent'];

let accountant = '';
let region = null;
let timer = 0;

function fail(what, err) {
  if (!handleAuth(err)) showMessage(region, errorText(what, err));
}

function formatUptime(raw) {
  const s = Number(raw) || 0;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
}

async function loadSettings() {
  const [reserve, cap, weight, maxReserve, maxCap] = await Promise.all([
    'ReservedSystemCapacity', 'MaximumSystemCapacity', 'RelativeWeight',
    'AllowableReservedSystemCapacity', 'AllowableMaximumSystemCapacity',
  ].map((p) => call(`IVMAccountant_get_${p}`, { _this: accountant })));
  $('res-reserve').value = reserve;
  $('res-cap').value = cap;
  $('res-weight').value = weight;
  $('res-reserve').max = maxReserve;
  $('res-cap').max = maxCap;
  $('res-reserve-hint').textContent = `0 to ${formatNumber(maxReserve)} % of the host (what the other running VMs leave).`;
  $('res-cap-hint').textContent = `1 to ${formatNumber(maxCap)} % of the host (one processor), at least the reserve.`;
  $('resources-form').dataset.reserve = reserve;
  $('resources-form').dataset.cap = cap;
  $('resources-form').dataset.weight = weight;
}

async function loadCounters() {
  const values = await Promise.all(COUNTERS.map((p) => call(`IVMAccountant_get_${p}`, { _this: accountant })));
  const c = Object.fromEntries(COUNTERS.map((p, i) => [p, values[i]]));
  $('res-cpu').textContent = `${formatNumber(c.CPUUtilization)} %`;
  $('res-uptime').textContent = formatUptime(c.UpTime);
  $('res-disk-read').textContent = formatBytes(c.DiskBytesRead);
  $('res-disk-written').textContent = formatBytes(c.DiskBytesWritten);
  $('res-net-received').textContent = formatBytes(c.NetworkBytesReceived);
  $('res-net-sent').textContent = formatBytes(c.NetworkBytesSent);
  for (const [p, v] of Object.entries(c)) $('res-counters').dataset[p] = v;
  const history = await callList('IVMAccountant_get_CPUUtilizationHistory', { _this: accountant });
  drawHistory($('res-cpu-history'), history, (peak, now) => `CPU use over the last minute: now ${formatNumber(now)} %, peak ${formatNumber(peak)} %`);
}

/** Follows the VM's state: the counters refresh while it is on. */
export function resourcesFollowState(state) {
  const on = [3, 4, 5, 6, 7, 8].includes(Number(state));
  $('res-off-note').hidden = on;
  $('res-counters').hidden = !on;
  clearInterval(timer);
  timer = 0;
  // Off, every counter reads 0: no calls for them then.
  if (!accountant || !on) return;
  loadCounters().catch((err) => fail('Reading the counters', err));
  timer = setInterval(() => {
    if (document.visibilityState === 'visible') loadCounters().catch((err) => fail('Reading the counters', err));
  }, 2000);
}

/** Reads the VM's accountant and binds the form (vm.html's resources card). */
export async function resourcesPanel(messageRegion, vmRef, state) {
  region = messageRegion;
  try {
    accountant = await call('IVMVirtualMachine_get_Accountant', { _this: vmRef });
    await loadSettings();
  } catch (err) {
    fail('Reading the resource allocation', err);
  }
  resourcesFollowState(state);
  $('resources-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = event.submitter;
    button.disabled = true;
    try {
      await call('IVMAccountant_SetSchedulingParameters', {
        _this: accountant,
        reservedSystemCapacity: Number($('res-reserve').value),
        maxSystemCapacity: Number($('res-cap').value),
        relativeWeight: Number($('res-weight').value),
      });
      showMessage(region, 'Resource allocation saved.', 'ok');
    } catch (err) {
      fail('Setting the resource allocation', err);
    } finally {
      button.disabled = false;
    }
    await loadSettings().catch((err) => fail('Reading the resource allocation', err));
  });
}
