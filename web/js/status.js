// SPDX-License-Identifier: GPL-2.0-or-later
//
// Master status: every registered VM with its screen thumbnail, state, up
// time, CPU use and heartbeat, and the power actions.
//
// The list follows IVMVirtualServer_WaitForUpdates: sinceSequence 0 gives a
// snapshot, then each answer names the VMs that changed. Waits with a
// timeout are served by the long-poll listener, whose port
// IVMVirtualServer_get_LongPollPort names (0: this origin serves them).
// Where that property does not exist (an older vsad), or the listener
// cannot be reached, the page asks with timeout 0 every 5 s instead.
// Thumbnail, CPU, up time and heartbeat change without events, so they are
// read every 5 s for the VMs that are on.

import {
  call, callList, callStruct, createLimiter, describeError, formatUptime,
  NetworkError, SoapFault,
} from './soap.js';
import { initLayout, handleAuth, isLeaving } from './layout.js';
import {
  el, isTrue, showMessage, errorText, stateName, STATE, runTask,
} from './ui.js';
import { ACTIONS, actionsFor } from './power.js';

const POLL_MS = 5000;
const LIVE_MS = 5000;
const WAIT_MS = 25000;
const THUMB_W = 64;
const THUMB_H = 48;

const { messages } = initLayout('status');
const rowsBody = document.getElementById('vm-rows');
const emptyNote = document.getElementById('vm-empty');
const modeNote = document.getElementById('refresh-mode');
const run = createLimiter(6);

/** ref -> { props: {Name, State, ...}, row, cells..., busy } */
const vms = new Map();
let sequence = 0;
let waitOptions = null; // null: poll with timeout 0
let firstShown = false;

// ---------------------------------------------------------------- updates

function propsOf(obj) {
  const props = {};
  for (const p of obj.properties ?? []) props[p.property] = p.value;
  return props;
}

function applyUpdate(update) {
  if (isTrue(update.resync)) {
    const seen = new Set();
    for (const obj of update.objects ?? []) {
      if (obj.objectKind !== 'IVMVirtualMachine' || isTrue(obj.removed)) continue;
      seen.add(obj.object);
      upsert(obj.object, propsOf(obj));
    }
    for (const ref of Array.from(vms.keys())) if (!seen.has(ref)) removeVm(ref);
  } else {
    for (const obj of update.objects ?? []) {
      if (obj.objectKind !== 'IVMVirtualMachine') continue;
      if (isTrue(obj.removed)) removeVm(obj.object);
      else upsert(obj.object, propsOf(obj));
    }
  }
  sequence = Number(update.sequence) || sequence;
  emptyNote.hidden = vms.size > 0;
  if (!firstShown) {
    firstShown = true;
    document.body.dataset.state = 'loaded';
    refreshLive();
  }
}

async function fetchUpdates(timeout) {
  const options = timeout > 0 ? { ...waitOptions, timeout: timeout + 15000 } : {};
  return callStruct('IVMVirtualServer_WaitForUpdates',
    { sinceSequence: sequence, timeout }, options);
}

async function chooseMode() {
  try {
    const port = Number(await call('IVMVirtualServer_get_LongPollPort'));
    if (port > 0) {
      waitOptions = { endpoint: `https://${window.location.hostname}:${port}/VirtualServer`, credentials: 'include' };
    } else {
      waitOptions = {};
    }
    modeNote.textContent = 'Live updates';
  } catch (err) {
    if (handleAuth(err)) return;
    showMessage(messages, errorText('Finding the long-poll port', err));
    waitOptions = null;
    modeNote.textContent = `Refreshed every ${POLL_MS / 1000} s`;
  }
}

let pollNow = null; // resolves the current pause between polls early

async function updateLoop() {
  await chooseMode();
  let failures = 0;
  while (!isLeaving()) {
    const longPoll = waitOptions !== null && sequence > 0;
    try {
      applyUpdate(await fetchUpdates(longPoll ? WAIT_MS : 0));
      failures = 0;
      showMessage(messages, '');
      if (longPoll) continue;
    } catch (err) {
      if (handleAuth(err)) return;
      failures += 1;
      if (longPoll && err instanceof NetworkError && failures >= 2) {
        // The long-poll listener cannot be reached (certificate, firewall):
        // this origin still answers timeout 0.
        waitOptions = null;
        modeNote.textContent = `Refreshed every ${POLL_MS / 1000} s (the long-poll port is unreachable)`;
      } else if (!longPoll || failures >= 2) {
        showMessage(messages, errorText('Reading the virtual machines', err));
        if (!firstShown) document.body.dataset.state = 'error';
      }
    }
    await new Promise((resolve) => {
      pollNow = resolve;
      setTimeout(resolve, firstShown ? POLL_MS : 2000);
    });
    pollNow = null;
  }
}

/** After an action: read at once instead of waiting for the next poll. */
function nudge() {
  if (pollNow) pollNow();
}

// ---------------------------------------------------------------- rows

function cell(label, ...children) {
  return el('td', { dataset: { label } }, ...children);
}

function createRow(ref) {
  const canvas = el('canvas', {
    class: 'thumb', width: THUMB_W, height: THUMB_H, role: 'img', testid: 'vm-thumbnail',
  });
  const nameLink = el('a', { href: `vm.html?vm=${encodeURIComponent(ref)}`, testid: 'vm-config-link' });
  const consoleLink = el('a', {
    class: 'button button-small', href: `console.html?vm=${encodeURIComponent(ref)}`,
    testid: 'vm-console-link', hidden: true,
  }, 'Console');
  const state = el('span', { class: 'state', testid: 'vm-state' });
  const uptime = el('span', { testid: 'vm-uptime' }, '—');
  const cpu = el('span', { testid: 'vm-cpu' }, '—');
  const heartbeat = el('span', { testid: 'vm-heartbeat' }, '—');
  const actions = el('div', { class: 'actions' });
  const progress = el('div', { class: 'row-progress' });
  const rowMessage = el('div', { hidden: true, testid: 'vm-row-message' });
  const row = el('tr', { testid: 'vm-row', dataset: { vmRef: ref } },
    cell('Screen', canvas),
    el('th', { scope: 'row', dataset: { label: 'Name' } }, nameLink),
    cell('State', state),
    cell('Up time', uptime),
    cell('CPU', cpu),
    cell('Heartbeat', heartbeat),
    cell('Actions', actions, consoleLink, progress, rowMessage));
  return { row, canvas, nameLink, consoleLink, state, uptime, cpu, heartbeat, actions, progress, rowMessage };
}

function upsert(ref, props) {
  let vm = vms.get(ref);
  if (!vm) {
    vm = { ref, props: {}, busy: false, live: null, ...createRow(ref) };
    vms.set(ref, vm);
    rowsBody.append(vm.row);
  }
  const oldState = Number(vm.props.State);
  Object.assign(vm.props, props);
  render(vm);
  const on = isOn(vm);
  if (!on) clearLive(vm);
  else if (oldState !== Number(vm.props.State)) refreshVm(vm);
}

function removeVm(ref) {
  const vm = vms.get(ref);
  if (!vm) return;
  vm.row.remove();
  vms.delete(ref);
}

function isOn(vm) {
  const s = Number(vm.props.State);
  return s === STATE.Running || s === STATE.Paused;
}

function render(vm) {
  const { props } = vm;
  const state = Number(props.State);
  const name = props.Name ?? '';
  vm.row.dataset.vmName = name;
  vm.row.dataset.vmState = String(state);
  vm.nameLink.textContent = name || '(unnamed)';
  vm.state.textContent = stateName(state);
  vm.state.className = `state state-${state}`;
  vm.canvas.setAttribute('aria-label', `Screen of ${name}`);
  vm.consoleLink.hidden = !(state === STATE.Running || state === STATE.Paused);
  vm.consoleLink.setAttribute('aria-label', `Console of ${name}`);
  const wanted = actionsFor(state);
  const have = Array.from(vm.actions.children).map((b) => b.dataset.action);
  if (wanted.join() !== have.join()) {
    vm.actions.replaceChildren(...wanted.map((key) => el('button', {
      class: 'button button-small', type: 'button', testid: `vm-action-${key}`,
      dataset: { action: key }, 'aria-label': `${ACTIONS[key].label} ${name}`,
      onclick: (event) => doAction(vm, key, event.currentTarget),
    }, ACTIONS[key].label)));
  }
  for (const b of vm.actions.children) b.disabled = vm.busy;
}

async function doAction(vm, key, button) {
  const action = ACTIONS[key];
  const name = vm.props.Name ?? '';
  vm.busy = true;
  render(vm);
  showMessage(vm.rowMessage, '');
  try {
    if (action.task) {
      vm.progress.replaceChildren();
      await runTask(vm.progress, `${action.verb} ${name}`,
        () => call(action.op, { _this: vm.ref }), 'vm-task');
      setTimeout(() => vm.progress.replaceChildren(), 3000);
    } else {
      await call(action.op, { _this: vm.ref });
    }
  } catch (err) {
    if (!handleAuth(err)) showMessage(vm.rowMessage, errorText(`${action.verb} ${name}`, err));
  } finally {
    vm.busy = false;
    render(vm);
    if (button.isConnected) button.focus();
    else vm.actions.querySelector('button')?.focus();
    nudge();
  }
}

// ---------------------------------------------------------------- live values

function clearLive(vm) {
  vm.uptime.textContent = '—';
  vm.cpu.textContent = '—';
  vm.heartbeat.textContent = '—';
  vm.heartbeat.className = '';
  const ctx = vm.canvas.getContext('2d');
  ctx.clearRect(0, 0, THUMB_W, THUMB_H);
  vm.canvas.classList.add('thumb-off');
}

function drawThumbnail(canvas, pixels) {
  if (pixels.length < THUMB_W * THUMB_H) return;
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(THUMB_W, THUMB_H);
  for (let i = 0; i < THUMB_W * THUMB_H; i += 1) {
    const v = Number(pixels[i]) >>> 0; // blue << 24 | green << 16 | red << 8
    image.data[i * 4] = (v >>> 8) & 0xff;
    image.data[i * 4 + 1] = (v >>> 16) & 0xff;
    image.data[i * 4 + 2] = (v >>> 24) & 0xff;
    image.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  canvas.classList.remove('thumb-off');
}

// Values of a VM that has just stopped fault VM_E_VM_NOT_RUNNING: not worth a message.
function quiet(err) {
  return err instanceof SoapFault && /NOT_RUNNING/.test(err.hresultName);
}

async function refreshVm(vm) {
  if (!isOn(vm) || vm.reading) return;
  vm.reading = true;
  try {
    if (!vm.live) {
      const [display, guest, accountant] = await Promise.all([
        run(() => call('IVMVirtualMachine_get_Display', { _this: vm.ref })),
        run(() => call('IVMVirtualMachine_get_GuestOS', { _this: vm.ref })),
        run(() => call('IVMVirtualMachine_get_Accountant', { _this: vm.ref })),
      ]);
      vm.live = { display, guest, accountant };
    }
    const { display, guest, accountant } = vm.live;
    const results = await Promise.allSettled([
      run(() => callList('IVMDisplay_get_Thumbnail', { _this: display })),
      run(() => call('IVMAccountant_get_UpTime', { _this: accountant })),
      run(() => call('IVMAccountant_get_CPUUtilization', { _this: accountant })),
      run(() => call('IVMGuestOS_get_IsHeartbeating', { _this: guest })),
      run(() => call('IVMGuestOS_get_HeartbeatPercentage', { _this: guest })),
    ]);
    if (!isOn(vm) || !vms.has(vm.ref)) return;
    const [thumb, up, cpu, beating, pct] = results;
    const errors = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    if (errors.some(handleAuth)) return;
    if (thumb.status === 'fulfilled') drawThumbnail(vm.canvas, thumb.value);
    vm.uptime.textContent = up.status === 'fulfilled' ? formatUptime(up.value) : '—';
    vm.cpu.textContent = cpu.status === 'fulfilled' ? `${Number(cpu.value)} %` : '—';
    if (beating.status === 'fulfilled') {
      const yes = isTrue(beating.value);
      const share = pct.status === 'fulfilled' ? ` (${Number(pct.value)} % of the last minute)` : '';
      vm.heartbeat.textContent = `${yes ? 'Yes' : 'No'}${share}`;
      vm.heartbeat.className = yes ? 'flag-yes' : 'flag-no';
      vm.heartbeat.dataset.value = String(yes);
    } else {
      vm.heartbeat.textContent = '—';
    }
    const loud = errors.filter((e) => !quiet(e));
    if (loud.length) {
      vm.row.dataset.liveError = describeError(loud[0]);
      vm.cpu.title = describeError(loud[0]);
    } else {
      delete vm.row.dataset.liveError;
    }
  } catch (err) {
    if (!handleAuth(err) && !quiet(err)) vm.row.dataset.liveError = describeError(err);
  } finally {
    vm.reading = false;
  }
}

function refreshLive() {
  if (isLeaving() || document.visibilityState === 'hidden') return;
  for (const vm of vms.values()) if (isOn(vm)) refreshVm(vm);
}

setInterval(refreshLive, LIVE_MS);
document.addEventListener('visibilitychange', refreshLive);

updateLoop().catch((err) => {
  if (!handleAuth(err)) {
    showMessage(messages, errorText('The status page', err));
    document.body.dataset.state = 'error';
  }
});
