// SPDX-License-Identifier: GPL-2.0-or-later
//
// Small DOM and formatting helpers shared by the admin pages. Everything the
// server sends is put in the page as text (textContent), never parsed as HTML.

import { call, callStruct, describeError, SoapFault } from './soap.js';

/**
 * el('button', { class: 'button', testid: 'x', onclick: fn }, 'Label', child)
 * Keys: class, text, testid, dataset (object), on<event> (listener), any
 * other key becomes an attribute (false/null/undefined leave it out, true
 * sets it empty). Children: nodes or strings (as text).
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'testid') node.dataset.testid = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      node.addEventListener(key.slice(2), value);
    } else if (key in node && typeof value !== 'string' && typeof value !== 'boolean') {
      node[key] = value;
    } else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function isTrue(raw) {
  const v = String(raw ?? '').trim().toLowerCase();
  return v === 'true' || v === '1';
}

// VMVMState
export const VM_STATES = {
  1: 'Turned off', 2: 'Saved', 3: 'Turning on', 4: 'Restoring', 5: 'Running',
  6: 'Paused', 7: 'Saving', 8: 'Turning off', 9: 'Merging drives',
};
export const STATE = {
  TurnedOff: 1, Saved: 2, TurningOn: 3, Restoring: 4, Running: 5,
  Paused: 6, Saving: 7, TurningOff: 8, MergingDrives: 9,
};

export function stateName(raw) {
  return VM_STATES[Number(raw)] ?? `Unknown (${raw})`;
}

const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

export function formatNumber(n) {
  return Number.isFinite(Number(n)) ? numberFormat.format(Number(n)) : String(n ?? '');
}

export function formatBytes(raw) {
  const n = Number(raw);
  if (!Number.isFinite(n) || String(raw ?? '').trim() === '') return String(raw ?? '');
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${numberFormat.format(v)} ${units[i]}`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric',
  hour: '2-digit', minute: '2-digit', second: '2-digit',
});

/** xsd:dateTime (UTC when it has no zone) -> local text. */
export function formatTime(raw) {
  let text = String(raw ?? '').trim();
  if (/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) text += 'Z';
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? dateFormat.format(new Date(ms)) : String(raw ?? '');
}

/** The file name part of a path. */
export function baseName(path) {
  return String(path ?? '').split('/').filter(Boolean).pop() ?? '';
}

/** Reads a query-string parameter of the page's URL. */
export function param(name) {
  return new URLSearchParams(window.location.search).get(name);
}

// ---------------------------------------------------------------- messages

/**
 * Shows a message in a region (an element with role=status or alert);
 * kind is "error", "ok" or "info". An empty text clears it.
 */
export function showMessage(region, text, kind = 'error') {
  if (!region) return;
  region.replaceChildren();
  region.hidden = !text;
  if (!text) return;
  region.className = `banner banner-${kind === 'error' ? 'error' : kind === 'ok' ? 'ok' : 'info'}`;
  region.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  region.append(el('span', { class: 'banner-text' }, text));
  region.append(el('button', {
    class: 'button button-small button-quiet banner-close', type: 'button',
    'aria-label': 'Dismiss message', onclick: () => { region.hidden = true; },
  }, '×'));
}

/** "Starting web failed: VM_E_... (0x...): message" */
export function errorText(what, err) {
  return `${what} failed: ${describeError(err)}`;
}

export { describeError, SoapFault };

/**
 * Runs an action for a button: the button is disabled (aria-busy) meanwhile;
 * an error is shown in `region` unless it means the session ended.
 * Returns the action's value, or undefined when it failed.
 */
export async function runAction(button, what, region, fn, onAuth) {
  if (button) {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
  }
  try {
    const value = await fn();
    return value;
  } catch (err) {
    if (err instanceof SoapFault && err.httpStatus === 401 && onAuth) onAuth(err);
    else showMessage(region, errorText(what, err), 'error');
    return undefined;
  } finally {
    if (button) {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }
}

// ---------------------------------------------------------------- tasks

export const TASK_RESULTS = {
  0: 'Success', 1: 'Cancelled', 2: 'Unexpected error', 3: 'Out of memory',
  4: 'Disk-related error', 5: 'Incompatible saved state', 6: 'Timed out',
};

/** A failed IVMTask, with the task's Error/ErrorDescription. */
export class TaskError extends Error {
  constructor(task) {
    const result = TASK_RESULTS[Number(task.Result)] ?? `Result ${task.Result}`;
    super(task.ErrorDescription ? `${result}: ${task.ErrorDescription}` : result);
    this.name = 'TaskError';
    this.task = task;
  }
}

const TASK_PROPS = ['Description', 'IsComplete', 'PercentCompleted', 'Result', 'Error', 'ErrorDescription', 'IsCancelable'];

/** Reads a task's properties in one call: { Description, IsComplete, ... }. */
export async function readTask(ref) {
  const [obj] = await callStruct('IVMVirtualServer_RetrieveProperties',
    { objects: [ref], properties: TASK_PROPS });
  const out = { ref };
  for (const p of obj?.properties ?? []) {
    if (p.hresult && Number(p.hresult) !== 0) {
      throw new SoapFault(p.message || 'The task cannot be read', {
        hresult: Number(p.hresult) >>> 0, operation: `IVMTask_get_${p.property}`,
      });
    }
    out[p.property] = p.value;
  }
  return out;
}

/**
 * Waits for an IVMTask, calling onProgress(task) after every read (about
 * twice a second). Resolves with the task when it succeeded, rejects with
 * TaskError when it failed or was cancelled.
 */
export async function waitTask(ref, onProgress = () => {}) {
  for (;;) {
    const task = await readTask(ref);
    onProgress(task);
    if (isTrue(task.IsComplete)) {
      if (Number(task.Result) !== 0) throw new TaskError(task);
      return task;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * A progress line for a task: label, <progress> bound to PercentCompleted,
 * and (for cancelable tasks) a Cancel button. Returns { node, update(task),
 * done(text, kind) }.
 */
export function taskProgress(label, taskRef = '', testid = 'task-progress') {
  const bar = el('progress', { max: 100, value: 0, testid: `${testid}-bar` });
  const text = el('span', { class: 'task-text' }, 'starting…');
  const cancel = el('button', {
    class: 'button button-small', type: 'button', hidden: true, testid: `${testid}-cancel`,
  }, 'Cancel');
  const labelId = `tp-${Math.random().toString(36).slice(2)}`;
  const node = el('div', { class: 'task-progress', testid, dataset: { task: taskRef } },
    el('span', { class: 'task-label', id: labelId }, label), bar, text, cancel);
  bar.setAttribute('aria-labelledby', labelId);
  let cancelRef = taskRef;
  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    try {
      await call('IVMTask_Cancel', { _this: cancelRef });
    } catch (err) {
      text.textContent = `Cancel failed: ${describeError(err)}`;
    }
  });
  return {
    node,
    setTask(ref) { cancelRef = ref; node.dataset.task = ref; },
    update(task) {
      const pct = Math.max(0, Math.min(100, Number(task.PercentCompleted) || 0));
      bar.value = pct;
      text.textContent = `${pct} %`;
      cancel.hidden = !isTrue(task.IsCancelable) || isTrue(task.IsComplete);
    },
    done(message, kind = 'ok') {
      cancel.hidden = true;
      if (kind === 'ok') bar.value = 100;
      text.textContent = message;
      node.dataset.result = kind;
    },
  };
}

/**
 * Starts a task-returning operation and shows its progress in `container`
 * (appended there). Resolves with the completed task; rejects on faults or
 * a failed task, after showing the error in the progress line.
 */
export async function runTask(container, label, start, testid = 'task-progress') {
  const progress = taskProgress(label, '', testid);
  container.append(progress.node);
  try {
    const ref = await start();
    progress.setTask(ref);
    const task = await waitTask(ref, (t) => progress.update(t));
    progress.done('Done');
    return task;
  } catch (err) {
    progress.done(describeError(err), 'error');
    throw err;
  }
}

// ---------------------------------------------------------------- dialogs

/**
 * Opens a modal <dialog> (which makes the rest of the page inert and keeps
 * focus inside) and puts focus back where it was when it closes.
 */
export function openDialog(dialog, focusEl = null) {
  const returnTo = document.activeElement;
  dialog.addEventListener('close', () => {
    if (returnTo && typeof returnTo.focus === 'function' && returnTo.isConnected) returnTo.focus();
  }, { once: true });
  dialog.showModal();
  (focusEl ?? dialog.querySelector('[autofocus], input, select, textarea, button'))?.focus();
}

/** A yes/no question in a modal dialog; resolves true when confirmed. */
export function confirmDialog(title, message, confirmLabel = 'OK', danger = false) {
  return new Promise((resolve) => {
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const ok = el('button', {
      class: `button ${danger ? 'button-danger' : 'button-primary'}`, type: 'button', testid: 'confirm-ok',
    }, confirmLabel);
    const cancel = el('button', { class: 'button', type: 'button', testid: 'confirm-cancel' }, 'Cancel');
    const dialog = el('dialog', { class: 'dialog', 'aria-labelledby': titleId, testid: 'confirm-dialog' },
      el('h2', { id: titleId }, title),
      el('p', {}, message),
      el('div', { class: 'dialog-buttons' }, cancel, ok));
    let answer = false;
    ok.addEventListener('click', () => { answer = true; dialog.close(); });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    openDialog(dialog, cancel);
  });
}

/** Fills a <select> with [value, label] pairs, keeping `selected`. */
export function fillSelect(select, options, selected = '') {
  select.replaceChildren(...options.map(([value, label]) =>
    el('option', { value, selected: value === selected }, label)));
}
