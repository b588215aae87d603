// SPDX-License-Identifier: GPL-2.0-or-later
//
// One VM's configuration (vm.html?vm=<reference>): name, memory, notes,
// start/stop policies, undo disks, hard disks, CD/DVD drives, the floppy
// drive, network adapters, COM/LPT ports (vm-ports.js), resource allocation
// (vm-resources.js), event scripts (scripts.js), security, and removing the
// VM. After every change the page reads the VM again, so what it shows is
// what the server has.

import { call, callList, callStruct } from './soap.js';
import { initLayout, handleAuth } from './layout.js';
import {
  el, isTrue, param, showMessage, errorText, stateName, runTask, confirmDialog,
  fillSelect, baseName,
} from './ui.js';
import { ACTIONS, actionsFor, isOnState } from './power.js';
import { aclEditor } from './acl.js';
import { portsEditor } from './vm-ports.js';
import { biosEditor } from './vm-bios.js';
import { resourcesPanel, resourcesFollowState } from './vm-resources.js';
import { scriptsEditor, scriptSwitch } from './scripts.js';
import { scsiEditor, scsiLocations, SCSI_BUS } from './vm-scsi.js';

const { messages } = initLayout('');
const $ = (id) => document.getElementById(id);
const vmRef = param('vm') ?? '';

// [busType, bus, device, label]. IDE (busType 0, bus 0-1, device 0-1) for
// disks and drives; hard disks also on the SCSI controllers (vm-scsi.js).
const IDE_LOCATIONS = [
  [0, 0, 0, 'IDE primary, master (0:0)'],
  [0, 0, 1, 'IDE primary, slave (0:1)'],
  [0, 1, 0, 'IDE secondary, master (1:0)'],
  [0, 1, 1, 'IDE secondary, slave (1:1)'],
];
const locKey = (type, bus, dev) => `${type}:${bus}:${dev}`;
const locLabel = (type, bus, dev) => [...IDE_LOCATIONS, ...scsiLocations()]
  .find(([t, b, d]) => t === Number(type) && b === Number(bus) && d === Number(dev))?.[3]
  ?? `${Number(type) === SCSI_BUS ? 'SCSI' : 'IDE'} ${bus}:${dev}`;

let props = {};
let used = new Set(); // occupied locations (locKey)
let networks = [];    // [{ref, name}]
let hostDvd = [];
let first = true;

function fail(region, what, err) {
  if (!handleAuth(err)) showMessage(region, errorText(what, err));
}

/** Runs a change, shows its error in region, then reads the VM again. */
async function change(button, region, what, fn) {
  if (button) button.disabled = true;
  try {
    await fn();
    showMessage(region, '');
    return true;
  } catch (err) {
    fail(region, what, err);
    return false;
  } finally {
    if (button) button.disabled = false;
    await loadAll();
  }
}

// ---------------------------------------------------------------- reading

const VM_PROPS = ['Name', 'State', 'Memory', 'Notes', 'File', 'Undoable', 'UndoAction', 'ShutdownActionOnQuit', 'SavedStateFilePath'];

async function loadProps() {
  const [obj] = await callStruct('IVMVirtualServer_RetrieveProperties', { objects: [vmRef], properties: VM_PROPS });
  const out = {};
  for (const p of obj?.properties ?? []) {
    if (p.property === 'Name' && Number(p.hresult)) {
      throw Object.assign(new Error(p.message || 'This virtual machine does not exist.'), { vmMissing: true });
    }
    out[p.property] = Number(p.hresult) ? null : p.value;
  }
  const [autoStart, delay] = await Promise.all([
    call('IVMVirtualMachine_get_AutoStartAtLaunch', { _this: vmRef }),
    call('IVMVirtualMachine_get_AutoStartAtLaunchDelay', { _this: vmRef }),
  ]);
  out.AutoStartAtLaunch = autoStart;
  out.AutoStartAtLaunchDelay = delay;
  return out;
}

async function loadAll() {
  const before = props.State;
  try {
    props = await loadProps();
  } catch (err) {
    if (handleAuth(err)) return;
    showMessage(messages, err.vmMissing ? err.message : errorText('Reading the virtual machine', err));
    document.body.dataset.state = 'error';
    return;
  }
  const stateChanged = Number(before) !== Number(props.State);
  renderHeader();
  const starting = first;
  first = false;
  if (starting) fillGeneral();
  // The sections of their own modules load once, beside the hardware.
  const sections = starting ? [
    portsEditor($('ports'), $('ports-message'), vmRef),
    biosEditor($('vm-bios'), vmRef),
    resourcesPanel($('resources-message'), vmRef, props.State),
    scriptsEditor($('vm-scripts'), { iface: 'IVMVirtualMachine', thisRef: vmRef, events: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11], testid: 'vm-script' }),
    scriptSwitch($('vm-scripts-enabled'), 'VMScriptsEnabled', 'Run the scripts attached to virtual machines (every VM on this server)', 'vm-scripts-enabled'),
  ] : [];
  // The SCSI controllers first: the disks' locations follow them.
  await scsiEditor($('vm-scsi'), $('scsi-message'), vmRef, loadAll).catch((err) => handleAuth(err));
  const results = await Promise.allSettled([loadDisks(), loadDvds(), loadFloppy(), loadNics(), ...sections]);
  const errors = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  if (errors.some(handleAuth)) return;
  fillLocations();
  if (starting) {
    document.body.dataset.state = 'loaded';
    loadSecurity();
  } else if (stateChanged) {
    resourcesFollowState(props.State);
  }
}

function renderHeader() {
  const name = props.Name ?? '';
  const state = Number(props.State);
  document.title = `${name} – Virtual Server Appliance`;
  $('vm-title').textContent = name;
  $('vm-title').dataset.vmName = name;
  $('vm-state').textContent = stateName(state);
  $('vm-state').className = `state state-${state}`;
  $('vm-state').dataset.vmState = String(state);
  document.body.dataset.vmState = String(state);
  $('vm-console').hidden = !isOnState(state);
  $('vm-console').href = `console.html?vm=${encodeURIComponent(vmRef)}`;
  $('vm-off-note').hidden = state === 1 || state === 2;
  $('vm-saved').textContent = props.SavedStateFilePath || 'none';
  $('vm-discard-saved').hidden = state !== 2;
  $('vm-file').textContent = props.File ?? '';
  const keys = actionsFor(state);
  const power = $('vm-power');
  if (power.dataset.keys !== keys.join()) {
    power.dataset.keys = keys.join();
    power.replaceChildren(...keys.map((key) => el('button', {
      class: 'button', type: 'button', testid: `vm-action-${key}`,
      onclick: (event) => powerAction(key, event.currentTarget),
    }, ACTIONS[key].label)));
    if (state === 5) {
      power.append(el('button', {
        class: 'button', type: 'button', testid: 'vm-action-shutdown',
        onclick: (event) => shutdownGuest(event.currentTarget),
      }, 'Shut down guest'));
    }
  }
  // Policies and undo settings follow the server (nobody types in these).
  $('vm-undoable').checked = isTrue(props.Undoable);
  $('vm-undo-action').value = String(props.UndoAction ?? '1');
  $('vm-autostart').value = String(props.AutoStartAtLaunch ?? '2');
  $('vm-autostart-delay').value = String(props.AutoStartAtLaunchDelay ?? '0');
  $('vm-shutdown-action').value = String(props.ShutdownActionOnQuit ?? '0');
}

function fillGeneral() {
  $('vm-name').value = props.Name ?? '';
  $('vm-memory').value = props.Memory ?? '';
  $('vm-notes').value = props.Notes ?? '';
}

async function powerAction(key, button) {
  const action = ACTIONS[key];
  const progress = $('vm-power-progress');
  for (const b of $('vm-power').children) b.disabled = true;
  try {
    if (action.task) {
      progress.replaceChildren();
      await runTask(progress, `${action.verb} ${props.Name}`, () => call(action.op, { _this: vmRef }), 'vm-task');
    } else {
      await call(action.op, { _this: vmRef });
    }
    showMessage(messages, '');
  } catch (err) {
    fail(messages, `${action.verb} ${props.Name}`, err);
  } finally {
    for (const b of $('vm-power').children) b.disabled = false;
    await loadAll();
    ($('vm-power').querySelector('button') ?? button).focus();
  }
}

async function shutdownGuest(button) {
  button.disabled = true;
  try {
    const guest = await call('IVMVirtualMachine_get_GuestOS', { _this: vmRef });
    $('vm-power-progress').replaceChildren();
    await runTask($('vm-power-progress'), `Shutting down ${props.Name}`,
      () => call('IVMGuestOS_Shutdown', { _this: guest }), 'vm-task');
  } catch (err) {
    fail(messages, 'Shutting down the guest', err);
  } finally {
    button.disabled = false;
    await loadAll();
  }
}

// ---------------------------------------------------------------- general

$('general-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const region = $('general-message');
  const button = event.submitter;
  const name = $('vm-name').value.trim();
  const memory = Number($('vm-memory').value);
  const notes = $('vm-notes').value;
  const ok = await change(button, region, 'Saving the settings', async () => {
    if (name !== props.Name) await call('IVMVirtualMachine_set_Name', { _this: vmRef, name });
    if (memory !== Number(props.Memory)) await call('IVMVirtualMachine_set_Memory', { _this: vmRef, memory });
    if (notes !== (props.Notes ?? '')) await call('IVMVirtualMachine_set_Notes', { _this: vmRef, notes });
  });
  fillGeneral();
  if (ok) showMessage(region, 'Saved.', 'ok');
});

$('vm-discard-saved').addEventListener('click', async (event) => {
  if (!(await confirmDialog('Discard saved state', `Throw away the saved state of ${props.Name}? It starts from power-on next time.`, 'Discard', true))) return;
  await change(event.currentTarget, $('general-message'), 'Discarding the saved state',
    () => call('IVMVirtualMachine_DiscardSavedState', { _this: vmRef }));
});

$('policy-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const region = $('policy-message');
  const ok = await change(event.submitter, region, 'Saving the start and stop settings', async () => {
    const autoStart = Number($('vm-autostart').value);
    const delay = Number($('vm-autostart-delay').value);
    const action = Number($('vm-shutdown-action').value);
    if (autoStart !== Number(props.AutoStartAtLaunch)) await call('IVMVirtualMachine_set_AutoStartAtLaunch', { _this: vmRef, autoStart });
    if (delay !== Number(props.AutoStartAtLaunchDelay)) await call('IVMVirtualMachine_set_AutoStartAtLaunchDelay', { _this: vmRef, delay });
    if (action !== Number(props.ShutdownActionOnQuit)) await call('IVMVirtualMachine_set_ShutdownActionOnQuit', { _this: vmRef, action });
  });
  if (ok) showMessage(region, 'Saved.', 'ok');
});

$('vm-undoable').addEventListener('change', (event) => change(null, $('undo-message'), 'Changing undo disks',
  () => call('IVMVirtualMachine_set_Undoable', { _this: vmRef, enableUndo: event.currentTarget.checked })));
$('vm-undo-action').addEventListener('change', (event) => change(null, $('undo-message'), 'Setting the undo action',
  () => call('IVMVirtualMachine_set_UndoAction', { _this: vmRef, undoAction: Number(event.currentTarget.value) })));
$('vm-undo-discard').addEventListener('click', async (event) => {
  if (!(await confirmDialog('Discard undo disks', 'Throw away every change made since the undo disks were created?', 'Discard', true))) return;
  await change(event.currentTarget, $('undo-message'), 'Discarding the undo disks',
    () => call('IVMVirtualMachine_DiscardUndoDisks', { _this: vmRef }));
});
$('vm-undo-merge').addEventListener('click', (event) => change(event.currentTarget, $('undo-message'), 'Merging the undo disks', async () => {
  $('undo-progress').replaceChildren();
  await runTask($('undo-progress'), 'Merging undo disks', () => call('IVMVirtualMachine_MergeUndoDisks', { _this: vmRef }), 'undo-merge-task');
}));

// ---------------------------------------------------------------- locations

function fillLocations() {
  used = new Set([...diskLocations, ...dvdLocations]);
  const isFree = ([t, b, d]) => !used.has(locKey(t, b, d));
  for (const [id, all] of [['disk-add-location', [...IDE_LOCATIONS, ...scsiLocations()]], ['dvd-add-location', IDE_LOCATIONS]]) {
    const free = all.filter(isFree);
    const select = $(id);
    const keep = select.value;
    fillSelect(select, free.map(([t, b, d, label]) => [locKey(t, b, d), label]), keep);
    select.disabled = free.length === 0;
    if (!free.length) fillSelect(select, [['', 'No free location']]);
  }
}

function splitLoc(value) {
  const [type, bus, dev] = String(value).split(':').map(Number);
  return { busType: type, busNumber: bus, deviceNumber: dev };
}

// ---------------------------------------------------------------- hard disks

async function readConnection(ref) {
  const [disk, undo, type, bus, dev] = await Promise.all([
    call('IVMHardDiskConnection_get_HardDisk', { _this: ref }),
    call('IVMHardDiskConnection_get_UndoHardDisk', { _this: ref }),
    call('IVMHardDiskConnection_get_BusType', { _this: ref }),
    call('IVMHardDiskConnection_get_BusNumber', { _this: ref }),
    call('IVMHardDiskConnection_get_DeviceNumber', { _this: ref }),
  ]);
  return { ref, disk, undo, type: Number(type), bus: Number(bus), dev: Number(dev) };
}

let diskLocations = [];
let dvdLocations = [];

async function loadDisks() {
  const region = $('disks-message');
  try {
    const refs = await callList('IVMVirtualMachine_get_HardDiskConnections', { _this: vmRef });
    const disks = await Promise.all(refs.map(readConnection));
    diskLocations = disks.map((d) => locKey(d.type, d.bus, d.dev));
    $('disk-rows').replaceChildren(...disks.map(diskRow));
    if (!disks.length) {
      $('disk-rows').append(el('tr', {}, el('td', { colspan: 4, class: 'empty' }, 'No hard disks attached.')));
    }
  } catch (err) {
    fail(region, 'Reading the hard disks', err);
    throw err;
  }
}

function diskRow(d) {
  const move = el('select', { 'aria-label': `Move ${baseName(d.disk)} to`, testid: 'vm-disk-move-location' });
  const here = locKey(d.type, d.bus, d.dev);
  const places = [...IDE_LOCATIONS, ...scsiLocations()].map(([t, b, dev, label]) => [locKey(t, b, dev), label]);
  if (!places.some(([key]) => key === here)) places.push([here, locLabel(d.type, d.bus, d.dev)]);
  fillSelect(move, places, here);
  move.addEventListener('change', () => change(null, $('disks-message'), 'Moving the disk', () =>
    call('IVMHardDiskConnection_SetBusLocation', { _this: d.ref, ...splitLoc(move.value) })));
  const remove = el('button', {
    class: 'button button-small', type: 'button', testid: 'vm-disk-remove',
    'aria-label': `Detach ${baseName(d.disk)}`,
  }, 'Detach');
  remove.addEventListener('click', async () => {
    if (!(await confirmDialog('Detach hard disk', `Detach ${d.disk}? The file is kept.`, 'Detach'))) return;
    await change(remove, $('disks-message'), 'Detaching the disk',
      () => call('IVMVirtualMachine_RemoveHardDiskConnection', { _this: vmRef, hardDiskConnection: d.ref }));
  });
  return el('tr', { testid: 'vm-disk-row', dataset: { busType: d.type, bus: d.bus, device: d.dev, path: d.disk } },
    el('td', { dataset: { label: 'Location' } }, move),
    el('td', { class: 'path', dataset: { label: 'Disk' } },
      el('a', { href: `disks.html?disk=${encodeURIComponent(d.disk)}` }, d.disk)),
    el('td', { class: 'path', dataset: { label: 'Undo disk' } }, d.undo || '—'),
    el('td', { dataset: { label: 'Actions' } }, remove));
}

$('disk-add-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!event.currentTarget.reportValidity()) return;
  const path = $('disk-add-path').value.trim();
  const ok = await change(event.submitter, $('disks-message'), 'Attaching the disk', () =>
    call('IVMVirtualMachine_AddHardDiskConnection', { _this: vmRef, hardDiskPath: path, ...splitLoc($('disk-add-location').value) }));
  if (ok) $('disk-add-path').value = '';
});

// ---------------------------------------------------------------- DVD drives

async function readDvd(ref) {
  const [attachment, image, host, bus, dev] = await Promise.all([
    call('IVMDVDDrive_get_Attachment', { _this: ref }),
    call('IVMDVDDrive_get_ImageFile', { _this: ref }),
    call('IVMDVDDrive_get_HostDriveLetter', { _this: ref }),
    call('IVMDVDDrive_get_BusNumber', { _this: ref }),
    call('IVMDVDDrive_get_DeviceNumber', { _this: ref }),
  ]);
  return { ref, attachment: Number(attachment), image, host, bus: Number(bus), dev: Number(dev) };
}

async function loadDvds() {
  const region = $('dvd-message');
  try {
    const refs = await callList('IVMVirtualMachine_get_DVDROMDrives', { _this: vmRef });
    const drives = await Promise.all(refs.map(readDvd));
    dvdLocations = drives.map((d) => locKey(0, d.bus, d.dev));
    $('dvd-rows').replaceChildren(...drives.map(dvdRow));
    if (!drives.length) {
      $('dvd-rows').append(el('tr', {}, el('td', { colspan: 4, class: 'empty' }, 'No CD/DVD drives.')));
    }
  } catch (err) {
    fail(region, 'Reading the CD/DVD drives', err);
    throw err;
  }
}

function dvdRow(d) {
  const region = $('dvd-message');
  const where = locLabel(0, d.bus, d.dev);
  let media = 'Empty';
  if (d.attachment === 1) media = d.image;
  else if (d.attachment === 2) media = `Host drive ${d.host}`;
  const controls = el('div', { class: 'actions' });
  if (d.attachment === 1) {
    controls.append(el('button', {
      class: 'button button-small', type: 'button', testid: 'vm-dvd-release-image',
      onclick: (e) => change(e.currentTarget, region, 'Ejecting the image', () => call('IVMDVDDrive_ReleaseImage', { _this: d.ref })),
    }, 'Eject image'));
  } else if (d.attachment === 2) {
    controls.append(el('button', {
      class: 'button button-small', type: 'button', testid: 'vm-dvd-release-host',
      onclick: (e) => change(e.currentTarget, region, 'Releasing the host drive', () => call('IVMDVDDrive_ReleaseHostDrive', { _this: d.ref })),
    }, 'Release host drive'));
  } else {
    const id = `dvd-image-${d.bus}-${d.dev}`;
    const input = el('input', { id, type: 'text', list: 'iso-files', spellcheck: 'false', testid: 'vm-dvd-image-path', placeholder: '.iso path' });
    const insert = el('form', { class: 'field-inline' },
      el('div', { class: 'field' }, el('label', { for: id }, 'Image'), input),
      el('button', { class: 'button button-small', type: 'submit', testid: 'vm-dvd-attach-image' }, 'Insert'));
    insert.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!input.value.trim()) { input.focus(); return; }
      change(e.submitter, region, 'Inserting the image', () => call('IVMDVDDrive_AttachImage', { _this: d.ref, imagePath: input.value.trim() }));
    });
    controls.append(insert);
    if (hostDvd.length) {
      const hid = `dvd-host-${d.bus}-${d.dev}`;
      const select = el('select', { id: hid, testid: 'vm-dvd-host-select' });
      fillSelect(select, hostDvd.map((h) => [h, h]));
      const capture = el('form', { class: 'field-inline' },
        el('div', { class: 'field' }, el('label', { for: hid }, 'Host drive'), select),
        el('button', { class: 'button button-small', type: 'submit', testid: 'vm-dvd-attach-host' }, 'Capture'));
      capture.addEventListener('submit', (e) => {
        e.preventDefault();
        change(e.submitter, region, 'Capturing the host drive', () => call('IVMDVDDrive_AttachHostDrive', { _this: d.ref, driveLetter: select.value }));
      });
      controls.append(capture);
    }
  }
  const remove = el('button', {
    class: 'button button-small', type: 'button', testid: 'vm-dvd-remove', 'aria-label': `Remove the drive at ${where}`,
  }, 'Remove drive');
  remove.addEventListener('click', async () => {
    if (!(await confirmDialog('Remove CD/DVD drive', `Remove the drive at ${where}?`, 'Remove'))) return;
    await change(remove, region, 'Removing the drive', () => call('IVMVirtualMachine_RemoveDVDROMDrive', { _this: vmRef, dvdDrive: d.ref }));
  });
  return el('tr', { testid: 'vm-dvd-row', dataset: { bus: d.bus, device: d.dev, attachment: d.attachment } },
    el('td', { dataset: { label: 'Location' } }, where),
    el('td', { class: d.attachment === 1 ? 'path' : '', dataset: { label: 'Media' } }, media),
    el('td', { dataset: { label: 'Change media' } }, controls),
    el('td', { dataset: { label: 'Actions' } }, remove));
}

$('dvd-add-form').addEventListener('submit', (event) => {
  event.preventDefault();
  if (!$('dvd-add-location').value) return;
  change(event.submitter, $('dvd-message'), 'Adding the drive', () =>
    call('IVMVirtualMachine_AddDVDROMDrive', { _this: vmRef, ...splitLoc($('dvd-add-location').value) }));
});

// ---------------------------------------------------------------- floppy

async function loadFloppy() {
  const region = $('floppy-message');
  try {
    const refs = await callList('IVMVirtualMachine_get_FloppyDrives', { _this: vmRef });
    const items = await Promise.all(refs.map(async (ref, i) => {
      const [attachment, image] = await Promise.all([
        call('IVMFloppyDrive_get_Attachment', { _this: ref }),
        call('IVMFloppyDrive_get_ImageFile', { _this: ref }),
      ]);
      const holds = Number(attachment) === 1;
      const id = `floppy-path-${i}`;
      const input = el('input', { id, type: 'text', list: 'floppy-files', spellcheck: 'false', testid: 'vm-floppy-path' });
      const form = el('form', { class: 'field-inline' },
        el('div', { class: 'field' }, el('label', { for: id }, 'Image (.vfd/.flp)'), input),
        el('button', { class: 'button button-small', type: 'submit', testid: 'vm-floppy-insert' }, 'Insert'));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        if (!input.value.trim()) { input.focus(); return; }
        change(e.submitter, region, 'Inserting the floppy image', () => call('IVMFloppyDrive_AttachImage', { _this: ref, mediaImagePath: input.value.trim() }));
      });
      return el('div', { testid: 'vm-floppy-drive', dataset: { attachment: String(attachment) } },
        el('p', {}, 'Drive ', String(i + 1), ': ', el('span', { class: holds ? 'path' : 'muted' }, holds ? image : 'Empty')),
        holds ? el('button', {
          class: 'button button-small', type: 'button', testid: 'vm-floppy-eject',
          onclick: (e) => change(e.currentTarget, region, 'Ejecting the floppy image', () => call('IVMFloppyDrive_ReleaseImage', { _this: ref })),
        }, 'Eject') : form);
    }));
    $('floppy-list').replaceChildren(...items);
  } catch (err) {
    fail(region, 'Reading the floppy drive', err);
    throw err;
  }
}

// ---------------------------------------------------------------- NICs

async function loadNics() {
  const region = $('nic-message');
  try {
    const refs = await callList('IVMVirtualMachine_get_NetworkAdapters', { _this: vmRef });
    const nics = await Promise.all(refs.map(async (ref) => {
      const [mac, dynamic, network] = await Promise.all([
        call('IVMNetworkAdapter_get_EthernetAddress', { _this: ref }),
        call('IVMNetworkAdapter_get_IsEthernetAddressDynamic', { _this: ref }),
        call('IVMNetworkAdapter_get_VirtualNetwork', { _this: ref }),
      ]);
      return { ref, mac, dynamic: isTrue(dynamic), network: network ?? '' };
    }));
    $('nic-list').replaceChildren(...nics.map(nicItem));
    if (!nics.length) $('nic-list').append(el('li', { class: 'muted' }, 'No network adapters.'));
  } catch (err) {
    fail(region, 'Reading the network adapters', err);
    throw err;
  }
}

function nicItem(nic, index) {
  const region = $('nic-message');
  const n = index + 1;
  const netId = `nic-net-${n}`;
  const macId = `nic-mac-${n}`;
  const dynId = `nic-dyn-${n}`;
  const select = el('select', { id: netId, testid: 'vm-nic-network' });
  fillSelect(select, [['', 'Not connected'], ...networks.map((x) => [x.ref, x.name])], nic.network);
  select.addEventListener('change', () => change(select, region, 'Connecting the adapter', () => (select.value
    ? call('IVMNetworkAdapter_AttachToVirtualNetwork', { _this: nic.ref, virtualNetwork: select.value })
    : call('IVMNetworkAdapter_DetachFromVirtualNetwork', { _this: nic.ref }))));
  const dyn = el('input', { id: dynId, type: 'checkbox', checked: nic.dynamic, testid: 'vm-nic-dynamic' });
  dyn.addEventListener('change', () => change(dyn, region, 'Changing the MAC address mode', () =>
    call('IVMNetworkAdapter_set_IsEthernetAddressDynamic', { _this: nic.ref, dynamic: dyn.checked })));
  const mac = el('input', {
    id: macId, type: 'text', value: nic.mac, disabled: nic.dynamic, testid: 'vm-nic-mac',
    pattern: '[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){5}', spellcheck: 'false',
  });
  const macForm = el('form', { class: 'field-inline' },
    el('div', { class: 'field' }, el('label', { for: macId }, 'MAC address'), mac),
    el('button', { class: 'button button-small', type: 'submit', disabled: nic.dynamic, testid: 'vm-nic-mac-save' }, 'Set'));
  macForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!macForm.reportValidity()) return;
    change(e.submitter, region, 'Setting the MAC address', () =>
      call('IVMNetworkAdapter_set_EthernetAddress', { _this: nic.ref, address: mac.value.trim().toUpperCase() }));
  });
  const remove = el('button', { class: 'button button-small', type: 'button', testid: 'vm-nic-remove', 'aria-label': `Remove adapter ${n}` }, 'Remove');
  remove.addEventListener('click', async () => {
    if (!(await confirmDialog('Remove network adapter', `Remove network adapter ${n} (${nic.mac})?`, 'Remove'))) return;
    await change(remove, region, 'Removing the adapter', () => call('IVMVirtualMachine_RemoveNetworkAdapter', { _this: vmRef, networkAdapter: nic.ref }));
  });
  return el('li', { testid: 'vm-nic', dataset: { mac: nic.mac, network: nic.network } },
    el('div', { class: 'stack nic-body' },
      el('h3', {}, `Adapter ${n}`),
      el('div', { class: 'field' }, el('label', { for: netId }, 'Virtual network'), select),
      el('div', { class: 'check' }, dyn, el('label', { for: dynId }, 'Generated (dynamic) MAC address')),
      macForm,
      remove));
}

$('nic-add').addEventListener('click', (event) => change(event.currentTarget, $('nic-message'), 'Adding a network adapter',
  () => call('IVMVirtualMachine_AddNetworkAdapter', { _this: vmRef })));

// ---------------------------------------------------------------- lists for pickers

async function loadPickers() {
  try {
    const netRefs = await callList('IVMVirtualServer_get_VirtualNetworks');
    networks = await Promise.all(netRefs.map(async (ref) => ({ ref, name: await call('IVMVirtualNetwork_get_Name', { _this: ref }) })));
  } catch (err) {
    handleAuth(err);
  }
  const lists = [
    ['vhd-files', 'IVMVirtualServer_GetHardDiskFiles'],
    ['iso-files', 'IVMVirtualServer_GetDVDFiles'],
    ['floppy-files', 'IVMVirtualServer_GetFloppyDiskFiles'],
  ];
  await Promise.all(lists.map(async ([id, op]) => {
    try {
      const files = await callList(op, { inAdditionalSearchPaths: [] });
      $(id).replaceChildren(...files.map((f) => el('option', { value: f })));
    } catch (err) {
      handleAuth(err);
    }
  }));
  try {
    const host = await call('IVMVirtualServer_get_HostInfo');
    hostDvd = await callList('IVMHostInfo_get_DVDDrives', { _this: host });
  } catch (err) {
    handleAuth(err);
  }
  try {
    const [min, max] = await Promise.all([
      call('IVMVirtualServer_get_MinimumMemoryPerVM'), call('IVMVirtualServer_get_MaximumMemoryPerVM')]);
    $('vm-memory').min = min;
    $('vm-memory').max = max;
    $('vm-memory-hint').textContent = `${min} to ${max} MB; the virtual machine must be off.`;
  } catch (err) {
    handleAuth(err);
  }
}

// ---------------------------------------------------------------- security, removal

async function loadSecurity() {
  try {
    const ref = await call('IVMVirtualMachine_get_Security', { _this: vmRef });
    await aclEditor($('vm-acl'), ref, 'vm-acl');
  } catch (err) {
    if (!handleAuth(err) && !$('vm-acl').firstChild) {
      const region = el('div');
      $('vm-acl').append(region);
      showMessage(region, errorText('Reading the security settings', err));
    }
  }
}

async function removeVm(button, op, title, text) {
  if (!(await confirmDialog(title, text, title, true))) return;
  button.disabled = true;
  try {
    await call(op, { virtualMachine: vmRef });
    window.location.assign('index.html');
  } catch (err) {
    button.disabled = false;
    fail($('delete-message'), title, err);
  }
}

$('vm-unregister').addEventListener('click', (e) => removeVm(e.currentTarget, 'IVMVirtualServer_UnregisterVirtualMachine',
  'Remove from the list', `Remove ${props.Name} from the list? Its files are kept and it can be registered again.`));
$('vm-delete').addEventListener('click', (e) => removeVm(e.currentTarget, 'IVMVirtualServer_DeleteVirtualMachine',
  'Delete virtual machine', `Delete ${props.Name}? Its configuration, saved state and undo disks are deleted; its .vhd files are kept.`));

// ---------------------------------------------------------------- start

if (!vmRef) {
  showMessage(messages, 'No virtual machine was named: open this page from the master status list.');
  document.body.dataset.state = 'error';
} else {
  loadPickers().then(loadAll);
  setInterval(async () => {
    // The state changes by itself (a guest powers off); follow it.
    if (document.visibilityState !== 'visible' || document.body.dataset.state !== 'loaded') return;
    try {
      const state = await call('IVMVirtualMachine_get_State', { _this: vmRef });
      if (Number(state) !== Number(props.State)) loadAll();
    } catch (err) {
      handleAuth(err);
    }
  }, 5000);
}
