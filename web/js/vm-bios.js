// SPDX-License-Identifier: GPL-2.0-or-later
//
// A VM's BIOS settings: the boot order of the kinds of drive and Num Lock at
// boot, the .vmc keys hardware/bios/boot_order and hardware/bios/num_lock
// (IVMVirtualMachine Get/SetConfigurationValue; README "Configuration
// values"). Like every hardware/ key they change only while the VM is off;
// the server's fault says so otherwise.

import { call, callStruct } from './soap.js';
import { handleAuth } from './layout.js';
import { el, showMessage, errorText, fillSelect } from './ui.js';

const ORDER_KEY = 'hardware/bios/boot_order';
const NUM_LOCK_KEY = 'hardware/bios/num_lock';
const NAMES = { disk: 'Hard disk', cdrom: 'CD/DVD', floppy: 'Floppy' };
const ORDERS = [
  'disk,cdrom,floppy', 'disk,floppy,cdrom', 'cdrom,disk,floppy',
  'cdrom,floppy,disk', 'floppy,disk,cdrom', 'floppy,cdrom,disk',
];

/** "cdrom,disk" -> the full order the BIOS uses (kinds left out follow). */
function fullOrder(text) {
  const kinds = (text ?? '').split(',').map((k) => k.trim()).filter((k) => k in NAMES);
  for (const k of ['disk', 'cdrom', 'floppy']) if (!kinds.includes(k)) kinds.push(k);
  return kinds.join(',');
}

/** Fills `container` with the BIOS form of the VM `ref`. */
export async function biosEditor(container, ref) {
  const region = el('div', { class: 'section-message', hidden: true });
  try {
    const [order, numLock] = await Promise.all([
      callStruct('IVMVirtualMachine_GetConfigurationValue', { _this: ref, configurationKey: ORDER_KEY }),
      callStruct('IVMVirtualMachine_GetConfigurationValue', { _this: ref, configurationKey: NUM_LOCK_KEY }),
    ]);
    const current = fullOrder(order?.stringValue);
    const select = el('select', { id: 'bios-boot-order', testid: 'vm-bios-boot-order' });
    fillSelect(select, ORDERS.map((o) => [o, o.split(',').map((k) => NAMES[k]).join(', then ')]), current);
    const on = String(numLock?.booleanValue) === 'true';
    const box = el('input', { id: 'bios-num-lock', type: 'checkbox', checked: on, testid: 'vm-bios-num-lock' });
    const save = el('button', { class: 'button', type: 'submit', testid: 'vm-bios-save' }, 'Save BIOS settings');
    const form = el('form', { testid: 'vm-bios', dataset: { order: current, numLock: String(on) } },
      el('div', { class: 'field' }, el('label', { for: select.id }, 'Boot order'), select),
      el('div', { class: 'check' }, box, el('label', { for: box.id }, 'Num Lock on at boot')),
      save);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      save.disabled = true;
      try {
        await call('IVMVirtualMachine_SetConfigurationValue', {
          _this: ref, configurationKey: ORDER_KEY, configurationValue: { type: 'string', stringValue: select.value },
        });
        await call('IVMVirtualMachine_SetConfigurationValue', {
          _this: ref, configurationKey: NUM_LOCK_KEY, configurationValue: { type: 'boolean', booleanValue: box.checked },
        });
        form.dataset.order = select.value;
        form.dataset.numLock = String(box.checked);
        showMessage(region, 'The BIOS settings are saved.', 'ok');
      } catch (err) {
        if (!handleAuth(err)) showMessage(region, errorText('Saving the BIOS settings', err));
      } finally {
        save.disabled = false;
      }
    });
    container.replaceChildren(region, form);
  } catch (err) {
    if (!handleAuth(err)) {
      container.replaceChildren(region);
      showMessage(region, errorText('Reading the BIOS settings', err));
    }
  }
}
