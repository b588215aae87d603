// SPDX-License-Identifier: GPL-2.0-or-later
//
// Virtual disks: create dynamic, fixed and differencing VHDs (tasks with
// progress; a fixed disk's can be cancelled), inspect one (IVMHardDisk,
// with the free space of its volume), compact, merge, convert to a new
// fixed or dynamic disk, merge a chain to a new disk (both cancelable
// tasks), re-link a differencing disk's parent, its ACL, and the
// .vhd/.iso/.vfd files found in the search paths.

import { call, callList } from './soap.js';
import { initLayout, handleAuth } from './layout.js';
import {
  el, showMessage, errorText, runTask, formatBytes, param, baseName, confirmDialog,
} from './ui.js';
import { aclEditor } from './acl.js';

initLayout('disks');
const $ = (id) => document.getElementById(id);
const TYPES = { 0: 'Dynamically expanding', 1: 'Fixed size', 2: 'Differencing' };

function fail(region, what, err) {
  if (!handleAuth(err)) showMessage(region, errorText(what, err));
}

// ---------------------------------------------------------------- create

function updateCreateFields() {
  const diff = $('create-type').value === 'differencing';
  $('create-size-field').hidden = diff;
  $('create-parent-field').hidden = !diff;
  $('create-size').required = !diff;
  $('create-parent').required = diff;
}
$('create-type').addEventListener('change', updateCreateFields);

$('create-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  for (const f of form.querySelectorAll('input')) {
    if (!f.closest('[hidden]') && !f.checkValidity()) { f.reportValidity(); f.focus(); return; }
  }
  const type = $('create-type').value;
  const imagePath = $('create-path').value.trim();
  const size = Number($('create-size').value);
  const parentPath = $('create-parent').value.trim();
  const button = event.submitter;
  button.disabled = true;
  showMessage($('create-message'), '');
  $('create-progress').replaceChildren();
  const start = {
    dynamic: () => call('IVMVirtualServer_CreateDynamicVirtualHardDisk', { imagePath, size }),
    fixed: () => call('IVMVirtualServer_CreateFixedVirtualHardDisk', { imagePath, size }),
    differencing: () => call('IVMVirtualServer_CreateDifferencingVirtualHardDisk', { imagePath, parentPath }),
  }[type];
  try {
    await runTask($('create-progress'), `Creating ${baseName(imagePath)}`, start, 'disk-create-task');
    showMessage($('create-message'), `Created ${imagePath}.`, 'ok');
    loadFiles();
    inspect(imagePath);
  } catch (err) {
    fail($('create-message'), 'Creating the disk', err);
  } finally {
    button.disabled = false;
  }
});

// ---------------------------------------------------------------- inspect

let current = null; // { ref, type }

async function inspect(path) {
  const region = $('inspect-message');
  $('inspect-path').value = path;
  showMessage(region, '');
  try {
    const ref = await call('IVMVirtualServer_GetHardDisk', { imagePath: path });
    const [file, type, guest, host, parent, free] = await Promise.all([
      call('IVMHardDisk_get_File', { _this: ref }),
      call('IVMHardDisk_get_Type', { _this: ref }),
      call('IVMHardDisk_get_SizeInGuest', { _this: ref }),
      call('IVMHardDisk_get_SizeOnHost', { _this: ref }),
      call('IVMHardDisk_get_Parent', { _this: ref }),
      call('IVMHardDisk_get_HostFreeDiskSpace', { _this: ref }),
    ]);
    current = { ref, type: Number(type) };
    $('hd-file').textContent = file;
    $('hd-type').textContent = TYPES[Number(type)] ?? String(type);
    $('hd-type').dataset.value = String(type);
    $('hd-guest').textContent = formatBytes(guest);
    $('hd-host').textContent = formatBytes(host);
    $('hd-parent').textContent = parent || 'none';
    $('hd-free').textContent = formatBytes(free);
    $('hd-free').dataset.value = String(free ?? '');
    $('hd-compact').hidden = current.type !== 0;
    $('hd-merge').hidden = current.type !== 2;
    $('hd-parent-form').hidden = current.type !== 2;
    $('hd-merge-to-form').hidden = current.type !== 2;
    suggestTarget('hd-convert-path', file, 'copy');
    suggestTarget('hd-merge-to-path', file, 'merged');
    $('inspect-result').hidden = false;
    const security = await call('IVMHardDisk_get_Security', { _this: ref }).catch((err) => {
      handleAuth(err);
      return null;
    });
    if (security) aclEditor($('hd-acl'), security, 'hd-acl').catch(() => {});
  } catch (err) {
    $('inspect-result').hidden = true;
    current = null;
    fail(region, `Reading ${path}`, err);
  }
}

$('inspect-form').addEventListener('submit', (event) => {
  event.preventDefault();
  if (!event.currentTarget.reportValidity()) return;
  inspect($('inspect-path').value.trim());
});

async function diskTask(button, label, op) {
  if (!current) return;
  const disk = current;
  button.disabled = true;
  $('hd-progress').replaceChildren();
  try {
    await runTask($('hd-progress'), label, () => call(op, { _this: disk.ref }), 'disk-task');
    showMessage($('inspect-message'), `${label}: done.`, 'ok');
  } catch (err) {
    fail($('inspect-message'), label, err);
  } finally {
    button.disabled = false;
    inspect(disk.ref);
  }
}

// A new disk's path beside this one ("<stem>-copy.vhd"), unless the user
// typed one of their own for this disk.
function suggestTarget(id, file, suffix) {
  const input = $(id);
  if (input.value && input.dataset.suggested !== input.value) return;
  const dir = String(file).slice(0, String(file).lastIndexOf('/') + 1);
  const stem = baseName(file).replace(/\.vhd$/i, '');
  input.value = `${dir}${stem}-${suffix}.vhd`;
  input.dataset.suggested = input.value;
}

// Convert and MergeTo: a new disk from this one, with the task's progress
// (both can be cancelled). The new disk is inspected when it is done.
async function copyTask(event, op, pathId, typeId, label, params) {
  event.preventDefault();
  if (!current) return;
  const input = $(pathId);
  if (!input.checkValidity()) { input.reportValidity(); input.focus(); return; }
  const target = input.value.trim();
  const type = Number($(typeId).value);
  const button = event.submitter;
  const disk = current;
  button.disabled = true;
  $('hd-progress').replaceChildren();
  showMessage($('inspect-message'), '');
  try {
    await runTask($('hd-progress'), `${label} ${baseName(target)}`,
      () => call(op, { _this: disk.ref, ...params(target, type) }), 'disk-task');
    showMessage($('inspect-message'), `${label} ${target}: done.`, 'ok');
    loadFiles();
  } catch (err) {
    fail($('inspect-message'), `${label} ${target}`, err);
  } finally {
    button.disabled = false;
  }
}

$('hd-convert-form').addEventListener('submit', (event) => copyTask(event, 'IVMHardDisk_Convert',
  'hd-convert-path', 'hd-convert-type', 'Converting to',
  (path, type) => ({ convertedDiskImagePath: path, convertedDiskImageType: type })));
$('hd-merge-to-form').addEventListener('submit', (event) => copyTask(event, 'IVMHardDisk_MergeTo',
  'hd-merge-to-path', 'hd-merge-to-type', 'Merging to',
  (path, type) => ({ newDiskImagePath: path, newDiskImageType: type })));

$('hd-compact').addEventListener('click', (e) => diskTask(e.currentTarget, 'Compacting', 'IVMHardDisk_Compact'));
$('hd-merge').addEventListener('click', async (e) => {
  const button = e.currentTarget;
  if (!(await confirmDialog('Merge into parent', 'Write this differencing disk\'s sectors into its parent? Every other child of the parent sees the change.', 'Merge', true))) return;
  diskTask(button, 'Merging into the parent', 'IVMHardDisk_Merge');
});
$('hd-parent-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!current || !event.currentTarget.reportValidity()) return;
  const button = event.submitter;
  button.disabled = true;
  try {
    await call('IVMHardDisk_set_Parent', { _this: current.ref, parent: $('hd-parent-path').value.trim() });
    showMessage($('inspect-message'), 'Parent re-linked.', 'ok');
    inspect(current.ref);
  } catch (err) {
    fail($('inspect-message'), 'Re-linking the parent', err);
  } finally {
    button.disabled = false;
  }
});

// ---------------------------------------------------------------- files

function fileItem(path, inspectable) {
  return el('li', { testid: 'disk-file-row', dataset: { path } },
    el('span', { class: 'path' }, path),
    inspectable ? el('button', {
      class: 'button button-small', type: 'button', testid: 'disk-file-inspect',
      'aria-label': `Inspect ${baseName(path)}`,
      onclick: () => { inspect(path); $('inspect-heading').scrollIntoView(); $('inspect-path').focus(); },
    }, 'Inspect') : null);
}

async function loadFiles() {
  const lists = [
    ['vhd-list', 'IVMVirtualServer_GetHardDiskFiles', true],
    ['iso-list', 'IVMVirtualServer_GetDVDFiles', false],
    ['vfd-list', 'IVMVirtualServer_GetFloppyDiskFiles', false],
  ];
  const results = await Promise.allSettled(lists.map(async ([id, op, inspectable]) => {
    const files = await callList(op, { inAdditionalSearchPaths: [] });
    $(id).replaceChildren(...files.map((f) => fileItem(f, inspectable)));
    if (!files.length) $(id).append(el('li', { class: 'muted' }, 'None found.'));
    if (id === 'vhd-list') $('vhd-files').replaceChildren(...files.map((f) => el('option', { value: f })));
  }));
  const errors = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  if (errors.length) fail($('files-message'), 'Listing the files', errors[0]);
  else showMessage($('files-message'), '');
}

$('files-refresh').addEventListener('click', loadFiles);

async function start() {
  updateCreateFields();
  try {
    const folder = await call('IVMVirtualServer_get_DefaultVMConfigurationPath');
    if (!$('create-path').value) $('create-path').value = `${folder}/new-disk.vhd`;
  } catch (err) {
    handleAuth(err);
  }
  await loadFiles();
  const wanted = param('disk');
  if (wanted) await inspect(wanted);
  document.body.dataset.state = 'loaded';
}

start();
