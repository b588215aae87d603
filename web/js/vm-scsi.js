// SPDX-License-Identifier: GPL-2.0-or-later
//
// A VM's SCSI controllers (IVMVirtualMachine SCSIControllers,
// AddSCSIController, RemoveSCSIController; IVMSCSIController _ID,
// IsBusShared, SCSIID, Configure). A controller's number is the busNumber of
// the hard disks on it (busType 1); its own SCSI ID (6 or 7) is not free for
// a disk, and a shared bus takes one disk, at ID 0. Everything changes only
// while the VM is off; the server's fault says so otherwise. The hard disks
// section (vm.js) offers the free SCSI locations scsiLocations() lists.

import { call, callList } from './soap.js';
import { handleAuth } from './layout.js';
import { el, isTrue, showMessage, errorText, fillSelect, confirmDialog } from './ui.js';

export const SCSI_BUS = 1; // VMDriveBusType
const DEVICES = 7; // SCSI IDs 0-6 on the bus (plus the controller's own)

let controllers = []; // [{ ref, id, shared, scsiId }], by number

/** Every location a disk may take on the VM's controllers: [busType, bus, device, label]. */
export function scsiLocations() {
  const out = [];
  for (const c of controllers) {
    for (let dev = 0; dev < DEVICES; dev += 1) {
      if (dev === c.scsiId || (c.shared && dev !== 0)) continue;
      out.push([SCSI_BUS, c.id, dev, `SCSI controller ${c.id}, ID ${dev} (S${c.id}:${dev})`]);
    }
  }
  return out;
}

async function readController(ref) {
  const [id, shared, scsiId] = await Promise.all([
    call('IVMSCSIController_get__ID', { _this: ref }),
    call('IVMSCSIController_get_IsBusShared', { _this: ref }),
    call('IVMSCSIController_get_SCSIID', { _this: ref }),
  ]);
  return { ref, id: Number(id), shared: isTrue(shared), scsiId: Number(scsiId) };
}

/**
 * Fills `container` with the VM's SCSI controllers (one form each) and the
 * Add button; errors go to `region` with the fault's message. `reload`
 * reads the whole VM page again after a change (the hard disks' locations
 * follow the controllers); it calls this function back.
 */
export async function scsiEditor(container, region, vmRef, reload) {
  const fail = (what, err) => { if (!handleAuth(err)) showMessage(region, errorText(what, err)); };
  const change = async (button, what, fn, okText) => {
    button.disabled = true;
    let ok = false;
    try {
      await fn();
      ok = true;
    } catch (err) {
      fail(what, err);
    } finally {
      button.disabled = false;
    }
    await reload();
    // The forms are new: keep the keyboard where it was.
    if (button.id) document.getElementById(button.id)?.focus();
    if (ok) showMessage(region, okText, 'ok');
    return ok;
  };
  let max = 4;
  try {
    const refs = await callList('IVMVirtualMachine_get_SCSIControllers', { _this: vmRef });
    [controllers, max] = await Promise.all([Promise.all(refs.map(readController)),
      call('IVMVirtualServer_get_MaximumNumberOfSCSIControllers').then(Number)]);
  } catch (err) {
    controllers = [];
    fail('Reading the SCSI controllers', err);
    throw err;
  }

  const items = controllers.map((c) => {
    const key = `scsi-${c.id}`;
    const sharedBox = el('input', { id: `${key}-shared`, type: 'checkbox', checked: c.shared, testid: 'vm-scsi-shared' });
    const idSelect = el('select', { id: `${key}-id`, testid: 'vm-scsi-id' });
    fillSelect(idSelect, [['7', '7 (default)'], ['6', '6']], String(c.scsiId));
    const save = el('button', { id: `${key}-save`, class: 'button button-small', type: 'submit', testid: 'vm-scsi-save' },
      `Set controller ${c.id}`);
    const remove = el('button', {
      id: `${key}-remove`, class: 'button button-small', type: 'button', testid: 'vm-scsi-remove',
      'aria-label': `Remove SCSI controller ${c.id}`,
    }, 'Remove');
    const form = el('form', {
      class: 'scsi-form', testid: 'vm-scsi-controller',
      dataset: { id: String(c.id), shared: String(c.shared), scsiId: String(c.scsiId) },
    },
    el('h3', { class: 'subhead' }, `Controller ${c.id}`),
    el('div', { class: 'form-grid' },
      el('div', { class: 'field' }, el('label', { for: idSelect.id }, 'Its own SCSI ID'), idSelect),
      el('div', { class: 'check' }, sharedBox, el('label', { for: sharedBox.id }, 'Shared bus (one disk, at ID 0)'))),
    el('div', { class: 'button-row' }, save, remove));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      change(save, `Setting SCSI controller ${c.id}`, () => call('IVMSCSIController_Configure', {
        _this: c.ref, isBusShared: sharedBox.checked, SCSIID: Number(idSelect.value),
      }), `SCSI controller ${c.id} is set.`);
    });
    remove.addEventListener('click', async () => {
      if (!(await confirmDialog('Remove SCSI controller', `Remove SCSI controller ${c.id}? Detach or move its disks first.`, 'Remove'))) return;
      const ok = await change(remove, `Removing SCSI controller ${c.id}`,
        () => call('IVMVirtualMachine_RemoveSCSIController', { _this: vmRef, controller: c.ref }),
        `SCSI controller ${c.id} is removed.`);
      if (ok) document.getElementById('scsi-add')?.focus(); // its own button is gone
    });
    return form;
  });
  const add = el('button', {
    id: 'scsi-add', class: 'button', type: 'button', testid: 'vm-scsi-add', disabled: controllers.length >= max,
  }, 'Add SCSI controller');
  add.addEventListener('click', () => change(add, 'Adding a SCSI controller',
    () => call('IVMVirtualMachine_AddSCSIController', { _this: vmRef }), 'A SCSI controller is added.'));
  const focused = document.activeElement?.id;
  container.replaceChildren(
    ...(items.length ? items : [el('p', { class: 'muted', testid: 'vm-scsi-none' }, 'No SCSI controllers.')]),
    el('p', { class: 'hint muted' }, `Up to ${max}; disks attach to them in Hard disks.`),
    add);
  if (focused && container.querySelector(`#${CSS.escape(focused)}`)) document.getElementById(focused).focus();
  return controllers;
}
