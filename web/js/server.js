// SPDX-License-Identifier: GPL-2.0-or-later
//
// Server page: the overview (overview.js fills the data-prop cells), then
// the settings (default VM folder, search paths), configuration values
// (config-values.js), event scripts (scripts.js), the server's access
// control list, the user accounts (users.js), the recent tasks (IVMVirtualServer.Tasks) and the event
// log (GetEvents) with filters.

import './overview.js';
import { call, callList, callStruct } from './soap.js';
import { initLayout, handleAuth } from './layout.js';
import {
  el, isTrue, showMessage, errorText, formatTime, TASK_RESULTS, readTask,
} from './ui.js';
import { aclEditor } from './acl.js';
import { usersEditor } from './users.js';
import { configValuesEditor } from './config-values.js';
import { scriptsEditor, scriptSwitch } from './scripts.js';

initLayout('server');

const $ = (id) => document.getElementById(id);

function fail(region, what, err) {
  if (!handleAuth(err)) showMessage(region, errorText(what, err));
}

// ---------------------------------------------------------------- folders

async function loadFolders() {
  const region = $('folders-message');
  try {
    const [vmFolder, vnFolder, paths] = await Promise.all([
      call('IVMVirtualServer_get_DefaultVMConfigurationPath'),
      call('IVMVirtualServer_get_DefaultVNConfigurationPath'),
      callList('IVMVirtualServer_get_SearchPaths'),
    ]);
    $('default-vm-folder').value = vmFolder ?? '';
    $('default-vn-folder').textContent = vnFolder ?? '';
    $('search-paths').value = paths.join('\n');
  } catch (err) {
    fail(region, 'Reading the folders', err);
  }
}

$('default-folder-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const button = event.submitter;
  button.disabled = true;
  try {
    await call('IVMVirtualServer_set_DefaultVMConfigurationPath', { path: $('default-vm-folder').value.trim() });
    showMessage($('folders-message'), 'Default virtual machine folder saved.', 'ok');
  } catch (err) {
    fail($('folders-message'), 'Setting the default folder', err);
  } finally {
    button.disabled = false;
  }
});

$('search-paths-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const button = event.submitter;
  const paths = $('search-paths').value.split('\n').map((s) => s.trim()).filter(Boolean);
  button.disabled = true;
  try {
    await call('IVMVirtualServer_set_SearchPaths', { paths });
    showMessage($('folders-message'), 'Search paths saved.', 'ok');
    await loadFolders();
  } catch (err) {
    fail($('folders-message'), 'Setting the search paths', err);
  } finally {
    button.disabled = false;
  }
});

// ---------------------------------------------------------------- security

async function loadSecurity() {
  try {
    const ref = await call('IVMVirtualServer_get_Security');
    await aclEditor($('server-acl'), ref, 'server-acl');
  } catch (err) {
    if (!$('server-acl').firstChild) {
      const region = el('div');
      $('server-acl').append(region);
      fail(region, 'Reading the server security', err);
    }
  }
}

// ---------------------------------------------------------------- tasks

async function loadTasks() {
  const region = $('tasks-message');
  try {
    const refs = await callList('IVMVirtualServer_get_Tasks');
    const tasks = await Promise.all(refs.map((ref) => readTask(ref).catch((err) => ({ ref, err }))));
    const rows = tasks.reverse().map(taskRow);
    $('task-rows').replaceChildren(...rows);
    $('tasks-empty').hidden = rows.length > 0;
    showMessage(region, '');
  } catch (err) {
    fail(region, 'Reading the tasks', err);
  }
}

function taskRow(task) {
  if (task.err) {
    return el('tr', { testid: 'task-row' }, el('td', { colspan: 5 }, errorText('Reading a task', task.err)));
  }
  const complete = isTrue(task.IsComplete);
  const pct = Number(task.PercentCompleted) || 0;
  const result = complete ? (TASK_RESULTS[Number(task.Result)] ?? task.Result) : 'Running';
  const cancel = complete || !isTrue(task.IsCancelable) ? '' : el('button', {
    class: 'button button-small', type: 'button', testid: 'task-cancel',
    'aria-label': `Cancel ${task.Description}`,
    onclick: async (event) => {
      event.currentTarget.disabled = true;
      try {
        await call('IVMTask_Cancel', { _this: task.ref });
      } catch (err) {
        fail($('tasks-message'), 'Cancelling the task', err);
      }
      loadTasks();
    },
  }, 'Cancel');
  const bar = el('progress', { max: 100, value: pct, 'aria-label': `Progress of ${task.Description}` });
  return el('tr', { testid: 'task-row', dataset: { task: task.ref, complete: String(complete) } },
    el('th', { scope: 'row', dataset: { label: 'Task' } }, task.Description ?? ''),
    el('td', { dataset: { label: 'Progress' } }, el('span', { class: 'task-progress' }, bar, `${pct} %`)),
    el('td', { dataset: { label: 'Result' } }, result),
    el('td', { dataset: { label: 'Error' } }, task.ErrorDescription || ''),
    el('td', { dataset: { label: 'Actions' } }, cancel));
}

// ---------------------------------------------------------------- events

let events = [];

async function loadEvents() {
  const region = $('events-message');
  try {
    const count = Number($('event-count').value) || 250;
    const last = Number(await call('IVMVirtualServer_get_LastEventSequence')) || 0;
    const after = Math.max(0, last - count);
    events = last === 0 ? [] : await callStruct('IVMVirtualServer_GetEvents',
      { afterSequence: after, maxCount: Math.min(1000, count) });
    if (!Array.isArray(events)) events = [];
    const kinds = Array.from(new Set(events.map((e) => e.kind))).sort();
    const kindSelect = $('event-kind');
    const chosen = kindSelect.value;
    kindSelect.replaceChildren(el('option', { value: '' }, 'All'),
      ...kinds.map((k) => el('option', { value: k, selected: k === chosen }, k)));
    showMessage(region, '');
    renderEvents();
  } catch (err) {
    fail(region, 'Reading the event log', err);
  }
}

function renderEvents() {
  const severity = $('event-severity').value;
  const kind = $('event-kind').value;
  const text = $('event-text').value.trim().toLowerCase();
  const shown = events.filter((e) =>
    (!severity || e.severity === severity) &&
    (!kind || e.kind === kind) &&
    (!text || `${e.objectName} ${e.message} ${e.object}`.toLowerCase().includes(text))).reverse();
  $('event-rows').replaceChildren(...shown.map((e) => el('tr', {
    testid: 'event-row', dataset: { sequence: e.sequence, kind: e.kind, severity: e.severity },
  },
  el('td', { dataset: { label: '#' } }, e.sequence),
  el('td', { dataset: { label: 'Time' } }, formatTime(e.time)),
  el('td', { dataset: { label: 'Severity' } }, el('span', { class: `sev-${e.severity}` }, e.severity)),
  el('td', { dataset: { label: 'Kind' } }, e.kind),
  el('td', { dataset: { label: 'Object' } }, e.objectName || e.object || ''),
  el('td', { dataset: { label: 'Message' } }, e.message))));
  $('events-summary').textContent = `Showing ${shown.length} of the ${events.length} newest events.`;
}

$('event-filters').addEventListener('submit', (event) => event.preventDefault());
for (const id of ['event-severity', 'event-kind']) $(id).addEventListener('change', renderEvents);
$('event-text').addEventListener('input', renderEvents);
$('event-count').addEventListener('change', loadEvents);
$('events-refresh').addEventListener('click', loadEvents);
$('tasks-refresh').addEventListener('click', loadTasks);

loadFolders();
configValuesEditor($('server-config'), 'server-config');
scriptSwitch($('server-scripts-enabled'), 'VSScriptsEnabled', 'Run the server\'s scripts', 'server-scripts-enabled');
scriptSwitch($('server-scripts-enabled'), 'VMScriptsEnabled', 'Run the scripts attached to virtual machines', 'server-vm-scripts-enabled');
scriptsEditor($('server-scripts'), { iface: 'IVMVirtualServer', events: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], testid: 'server-script' });
loadSecurity();
usersEditor($('users')).catch((err) => fail($('folders-message'), 'Showing the users', err));
loadTasks();
loadEvents();
