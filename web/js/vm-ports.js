// SPDX-License-Identifier: GPL-2.0-or-later
//
// A VM's COM1, COM2 (IVMSerialPort: Type, Name, ConnectImmediately,
// Configure) and LPT1 (IVMParallelPort: Name, set_Name). The settings are
// kept in the .vmc and change only while the VM is off with no saved
// state; the server's fault says so otherwise.

import { call, callList } from './soap.js';
import { handleAuth } from './layout.js';
import { el, isTrue, showMessage, errorText, fillSelect } from './ui.js';

// VMSerialPortType
const SERIAL_TYPES = [
  ['3', 'Not connected'],
  ['1', 'Text file'],
  ['2', 'Named pipe or TCP socket'],
  ['0', 'Host serial port'],
];
const SERIAL_HINTS = {
  3: 'Not connected.',
  1: 'An absolute path inside the server\'s folders; the guest\'s output is appended.',
  2: 'An absolute path (FIFOs PATH.in and PATH.out) or tcp:HOST:PORT, e.g. tcp:localhost:5001.',
  0: 'COM1 to COM4 (the host\'s /dev/ttyS0-3) or a /dev/ttyS, ttyUSB or ttyACM device.',
};

let region = null;
let reload = async () => {};

function fail(what, err) {
  if (!handleAuth(err)) showMessage(region, errorText(what, err));
}

async function serialForm(ref, index) {
  const [type, name, immediate] = await Promise.all([
    call('IVMSerialPort_get_Type', { _this: ref }),
    call('IVMSerialPort_get_Name', { _this: ref }),
    call('IVMSerialPort_get_ConnectImmediately', { _this: ref }),
  ]);
  const port = `COM${index + 1}`;
  const key = port.toLowerCase();
  const typeSelect = el('select', { id: `${key}-type`, testid: `vm-${key}-type` });
  fillSelect(typeSelect, SERIAL_TYPES, String(Number(type)));
  const nameInput = el('input', {
    id: `${key}-name`, type: 'text', value: name ?? '', spellcheck: 'false', autocomplete: 'off',
    testid: `vm-${key}-name`, 'aria-describedby': `${key}-hint`,
  });
  const hint = el('span', { id: `${key}-hint`, class: 'hint' });
  const nowBox = el('input', { id: `${key}-now`, type: 'checkbox', checked: isTrue(immediate), testid: `vm-${key}-immediate` });
  const nowRow = el('div', { class: 'check' }, nowBox, el('label', { for: `${key}-now` }, 'Open the host port as the VM starts'));
  const follow = () => {
    const t = Number(typeSelect.value);
    hint.textContent = t === 3 && index === 0 ? 'COM1 still logs to <VM name>.com1.log in the VM folder.' : SERIAL_HINTS[t];
    nameInput.disabled = t === 3;
    nowRow.hidden = t !== 0;
  };
  typeSelect.addEventListener('change', follow);
  follow();
  const form = el('form', { class: 'port-form', testid: `vm-${key}`, dataset: { type: String(type), name: name ?? '' } },
    el('h3', { class: 'subhead' }, port),
    el('div', { class: 'form-grid' },
      el('div', { class: 'field' }, el('label', { for: `${key}-type` }, 'Connected to'), typeSelect),
      el('div', { class: 'field' }, el('label', { for: `${key}-name` }, 'Port, file or pipe'), nameInput, hint)),
    nowRow,
    el('button', { class: 'button', type: 'submit', testid: `vm-${key}-save` }, `Set ${port}`));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const t = Number(typeSelect.value);
    await change(event.submitter, `Setting ${port}`, () => call('IVMSerialPort_Configure', {
      _this: ref, portType: t, portName: t === 3 ? '' : nameInput.value.trim(), connectImmediately: t === 0 && nowBox.checked,
    }), `${port} is set.`);
  });
  return form;
}

async function parallelForm(ref) {
  const name = (await call('IVMParallelPort_get_Name', { _this: ref })) ?? '';
  const mode = name === '' ? 'none' : name === 'LPT1' ? 'host' : 'file';
  const modeSelect = el('select', { id: 'lpt1-mode', testid: 'vm-lpt1-mode' });
  fillSelect(modeSelect, [['none', 'Not connected'], ['host', 'Host LPT1 (a file in the VM folder)'], ['file', 'Text file']], mode);
  const pathInput = el('input', {
    id: 'lpt1-path', type: 'text', value: mode === 'file' ? name : '', spellcheck: 'false', autocomplete: 'off',
    testid: 'vm-lpt1-path', placeholder: 'absolute path inside the server\'s folders',
  });
  const follow = () => { pathInput.disabled = modeSelect.value !== 'file'; };
  modeSelect.addEventListener('change', follow);
  follow();
  const form = el('form', { class: 'port-form', testid: 'vm-lpt1', dataset: { name } },
    el('h3', { class: 'subhead' }, 'LPT1'),
    el('div', { class: 'form-grid' },
      el('div', { class: 'field' }, el('label', { for: 'lpt1-mode' }, 'Connected to'), modeSelect),
      el('div', { class: 'field' }, el('label', { for: 'lpt1-path' }, 'File'), pathInput)),
    el('button', { class: 'button', type: 'submit', testid: 'vm-lpt1-save' }, 'Set LPT1'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const portName = { none: '', host: 'LPT1', file: pathInput.value.trim() }[modeSelect.value];
    await change(event.submitter, 'Setting LPT1', () => call('IVMParallelPort_set_Name', { _this: ref, portName }), 'LPT1 is set.');
  });
  return form;
}

async function change(button, what, fn, okText) {
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
  if (ok) showMessage(region, okText, 'ok');
}

/** Fills `container` with the COM and LPT forms of the VM; call again to re-read. */
export async function portsEditor(container, messageRegion, vmRef) {
  region = messageRegion;
  reload = () => portsEditor(container, messageRegion, vmRef);
  try {
    const [serial, parallel] = await Promise.all([
      callList('IVMVirtualMachine_get_SerialPorts', { _this: vmRef }),
      callList('IVMVirtualMachine_get_ParallelPorts', { _this: vmRef }),
    ]);
    const forms = await Promise.all([...serial.map(serialForm), ...parallel.map(parallelForm)]);
    const focused = document.activeElement?.id;
    container.replaceChildren(...forms);
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  } catch (err) {
    fail('Reading the ports', err);
  }
}
