// SPDX-License-Identifier: GPL-2.0-or-later
//
// Create VM wizard: CreateVirtualMachine, set_Memory, then a new dynamic
// disk (a task, with progress) or an existing one attached at IDE 0:0, a
// CD/DVD drive at IDE 1:0 with the chosen image, a network adapter plugged
// into the chosen network; then on to the VM's page. A step that fails
// stops the wizard and says which steps were done (the VM stays, to be
// fixed on its page).

import { call, callList } from './soap.js';
import { initLayout, handleAuth } from './layout.js';
import { el, showMessage, errorText, runTask, fillSelect } from './ui.js';

initLayout('vm-new');
const $ = (id) => document.getElementById(id);
const form = $('wizard');
const message = $('wizard-message');

function diskChoice() {
  return form.querySelector('input[name="disk"]:checked').value;
}

function updateDiskFields() {
  const choice = diskChoice();
  $('disk-size-field').hidden = choice !== 'new';
  $('disk-path-field').hidden = choice !== 'existing';
  $('wizard-disk-size').required = choice === 'new';
  $('wizard-disk-path').required = choice === 'existing';
}

for (const radio of form.querySelectorAll('input[name="disk"]')) radio.addEventListener('change', updateDiskFields);

async function loadChoices() {
  const tasks = [
    (async () => {
      const [min, max, suggested] = await Promise.all([
        call('IVMVirtualServer_get_MinimumMemoryPerVM'),
        call('IVMVirtualServer_get_MaximumMemoryPerVM'),
        call('IVMVirtualServer_get_SuggestedMaximumMemoryPerVM'),
      ]);
      const memory = $('wizard-memory');
      memory.min = min;
      memory.max = max;
      memory.value = String(Math.min(Math.max(Number(memory.value), Number(min)), Number(max)));
      $('wizard-memory-hint').textContent = `${min} to ${max} MB (the host can give about ${suggested} MB per machine).`;
    })(),
    (async () => {
      const refs = await callList('IVMVirtualServer_get_VirtualNetworks');
      const names = await Promise.all(refs.map((ref) => call('IVMVirtualNetwork_get_Name', { _this: ref })));
      fillSelect($('wizard-network'), [['', 'Not connected'], ...refs.map((ref, i) => [ref, names[i]])]);
    })(),
    (async () => {
      const files = await callList('IVMVirtualServer_GetHardDiskFiles', { inAdditionalSearchPaths: [] });
      $('vhd-files').replaceChildren(...files.map((f) => el('option', { value: f })));
    })(),
    (async () => {
      const files = await callList('IVMVirtualServer_GetDVDFiles', { inAdditionalSearchPaths: [] });
      $('iso-files').replaceChildren(...files.map((f) => el('option', { value: f })));
    })(),
  ];
  const results = await Promise.allSettled(tasks);
  const errors = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  if (errors.some(handleAuth)) return;
  if (errors.length) showMessage(message, errorText('Reading the server limits and lists', errors[0]));
  document.body.dataset.state = 'loaded';
}

function validate() {
  const fields = [$('wizard-name'), $('wizard-memory')];
  if (diskChoice() === 'new') fields.push($('wizard-disk-size'));
  if (diskChoice() === 'existing') fields.push($('wizard-disk-path'));
  $('wizard-name').value = $('wizard-name').value.trim();
  for (const f of fields) {
    if (!f.checkValidity()) {
      f.reportValidity();
      f.focus();
      return false;
    }
  }
  return true;
}

function folderOf(path) {
  const i = String(path).lastIndexOf('/');
  return i > 0 ? path.slice(0, i) : '';
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!validate()) return;
  const name = $('wizard-name').value;
  const memory = Number($('wizard-memory').value);
  const choice = diskChoice();
  const size = Number($('wizard-disk-size').value);
  const existing = $('wizard-disk-path').value.trim();
  const dvd = $('wizard-dvd').value.trim();
  const network = $('wizard-network').value;

  const submit = $('wizard-submit');
  const steps = $('wizard-steps');
  steps.replaceChildren();
  steps.hidden = false;
  $('wizard-progress').replaceChildren();
  showMessage(message, '');
  submit.disabled = true;
  document.body.dataset.state = 'creating';
  let vmRef = '';

  const step = async (label, fn) => {
    const li = el('li', { dataset: { stepState: 'running' } }, `${label}…`);
    steps.append(li);
    try {
      const value = await fn();
      li.textContent = `${label}: done`;
      li.dataset.stepState = 'done';
      return value;
    } catch (err) {
      li.textContent = `${label}: failed`;
      li.dataset.stepState = 'error';
      throw Object.assign(err, { step: label });
    }
  };

  try {
    vmRef = await step(`Create ${name}`, () => call('IVMVirtualServer_CreateVirtualMachine', { configurationName: name, configurationPath: '' }));
    await step('Set the memory', () => call('IVMVirtualMachine_set_Memory', { _this: vmRef, memory }));
    if (choice === 'new') {
      const file = await call('IVMVirtualMachine_get_File', { _this: vmRef });
      const diskPath = `${folderOf(file)}/${name}.vhd`;
      await step(`Create the disk ${diskPath}`, () => runTask($('wizard-progress'), 'Creating the disk',
        () => call('IVMVirtualServer_CreateDynamicVirtualHardDisk', { imagePath: diskPath, size }), 'wizard-disk-task'));
      await step('Attach the disk at IDE 0:0', () => call('IVMVirtualMachine_AddHardDiskConnection',
        { _this: vmRef, hardDiskPath: diskPath, busType: 0, busNumber: 0, deviceNumber: 0 }));
    } else if (choice === 'existing') {
      await step('Attach the disk at IDE 0:0', () => call('IVMVirtualMachine_AddHardDiskConnection',
        { _this: vmRef, hardDiskPath: existing, busType: 0, busNumber: 0, deviceNumber: 0 }));
    }
    const drive = await step('Add a CD/DVD drive at IDE 1:0', () => call('IVMVirtualMachine_AddDVDROMDrive',
      { _this: vmRef, busType: 0, busNumber: 1, deviceNumber: 0 }));
    if (dvd) await step('Insert the CD/DVD image', () => call('IVMDVDDrive_AttachImage', { _this: drive, imagePath: dvd }));
    const nic = await step('Add a network adapter', () => call('IVMVirtualMachine_AddNetworkAdapter', { _this: vmRef }));
    if (network) await step('Connect it to the network', () => call('IVMNetworkAdapter_AttachToVirtualNetwork', { _this: nic, virtualNetwork: network }));
    document.body.dataset.state = 'created';
    document.body.dataset.vmRef = vmRef;
    window.location.assign(`vm.html?vm=${encodeURIComponent(vmRef)}`);
  } catch (err) {
    if (handleAuth(err)) return;
    document.body.dataset.state = 'error';
    showMessage(message, errorText(err.step ?? 'Creating the virtual machine', err));
    if (vmRef) {
      steps.append(el('li', {}, 'The virtual machine was created: ',
        el('a', { href: `vm.html?vm=${encodeURIComponent(vmRef)}`, testid: 'wizard-vm-link' }, 'finish its configuration'), '.'));
    } else {
      submit.disabled = false;
    }
    message.querySelector('.banner-text')?.setAttribute('tabindex', '-1');
    message.querySelector('.banner-text')?.focus();
  }
});

updateDiskFields();
loadChoices().catch((err) => {
  if (!handleAuth(err)) showMessage(message, errorText('Loading the wizard', err));
});
