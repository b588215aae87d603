// SPDX-License-Identifier: GPL-2.0-or-later
//
// The event scripts editor shared by the Server page (the server's scripts,
// IVMVirtualServer) and a VM's page (the VM's own, IVMVirtualMachine): one
// row per VMEventType with its command line, read with FetchScriptByEvent,
// bound with AttachScriptToEvent and unbound with RemoveScriptFromEvent.
// A changed command line is removed and attached again (Attach refuses to
// replace one). Whether scripts run at all is VSScriptsEnabled /
// VMScriptsEnabled on the server.

import { call } from './soap.js';
import { handleAuth } from './layout.js';
import { el, isTrue, showMessage, errorText } from './ui.js';

// VMEventType, as services/server_preferences.cpp names them.
export const EVENT_TYPES = [
  [0, 'Virtual Server started'],
  [1, 'Virtual Server stopped'],
  [2, 'Virtual machine started'],
  [3, 'Virtual machine restored'],
  [4, 'Virtual machine saved'],
  [5, 'Virtual machine turned off'],
  [6, 'Guest turned the machine off'],
  [7, 'Virtual machine reset'],
  [8, 'Heartbeat stopped'],
  [9, 'Processor error (triple fault)'],
  [10, 'Host disk space low'],
  [11, 'Host disk space critical'],
];

/**
 * Fills `container` with the editor. iface is 'IVMVirtualServer' (root) or
 * 'IVMVirtualMachine' with thisRef; events are the VMEventType numbers to
 * show. Resolves once the command lines are read.
 */
export async function scriptsEditor(container, { iface, thisRef = null, events, testid }) {
  const region = el('div', { class: 'section-message', hidden: true });
  const rows = el('ul', { class: 'list-plain script-list', testid: `${testid}-list` });
  container.replaceChildren(region, rows);
  const self = thisRef ? { _this: thisRef } : {};
  const op = (name, params = {}) => call(`${iface}_${name}`, { ...self, ...params });

  async function row([type, label]) {
    const current = (await op('FetchScriptByEvent', { eventType: type })) ?? '';
    const id = `${testid}-${type}`;
    const input = el('input', {
      id, type: 'text', value: current, spellcheck: 'false', testid: `${testid}-command`,
      placeholder: '/absolute/program argument…', autocomplete: 'off',
    });
    const save = el('button', { class: 'button button-small', type: 'submit', testid: `${testid}-save` }, 'Set');
    const remove = current ? el('button', {
      class: 'button button-small', type: 'button', testid: `${testid}-remove`, 'aria-label': `Remove the script for ${label}`,
    }, 'Remove') : '';
    const form = el('form', { class: 'script-form' }, input, save, remove);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const wanted = input.value.trim();
      save.disabled = true;
      try {
        if (current && wanted !== current) await op('RemoveScriptFromEvent', { eventType: type });
        if (wanted && wanted !== current) await op('AttachScriptToEvent', { eventType: type, scriptCommandLine: wanted });
        showMessage(region, wanted ? `The script for "${label}" is set.` : `The script for "${label}" is removed.`, 'ok');
      } catch (err) {
        if (!handleAuth(err)) showMessage(region, errorText(`Setting the script for "${label}"`, err));
      } finally {
        save.disabled = false;
      }
      await refresh();
    });
    if (remove) remove.addEventListener('click', async () => {
      remove.disabled = true;
      try {
        await op('RemoveScriptFromEvent', { eventType: type });
        showMessage(region, `The script for "${label}" is removed.`, 'ok');
      } catch (err) {
        if (!handleAuth(err)) showMessage(region, errorText(`Removing the script for "${label}"`, err));
      }
      await refresh();
    });
    return el('li', { class: 'script-row', testid: `${testid}-row`, dataset: { event: String(type), command: current } },
      el('label', { for: id }, label), form);
  }

  async function refresh() {
    try {
      const focused = document.activeElement?.id;
      rows.replaceChildren(...await Promise.all(EVENT_TYPES.filter(([type]) => events.includes(type)).map(row)));
      if (focused && container.contains(document.getElementById(focused))) document.getElementById(focused).focus();
    } catch (err) {
      if (!handleAuth(err)) showMessage(region, errorText('Reading the event scripts', err));
    }
  }
  await refresh();
}

/**
 * A checkbox bound to a boolean server property (VMScriptsEnabled,
 * VSScriptsEnabled): get_<prop> / set_<prop> { shouldEnable }.
 */
export async function scriptSwitch(container, prop, label, testid) {
  const region = el('div', { class: 'section-message', hidden: true });
  const id = `${testid}-box`;
  const box = el('input', { id, type: 'checkbox', testid });
  const read = async () => {
    box.checked = isTrue(await call(`IVMVirtualServer_get_${prop}`));
  };
  box.addEventListener('change', async () => {
    box.disabled = true;
    try {
      await call(`IVMVirtualServer_set_${prop}`, { shouldEnable: box.checked });
      showMessage(region, '');
    } catch (err) {
      if (!handleAuth(err)) showMessage(region, errorText(`Changing "${label}"`, err));
    } finally {
      box.disabled = false;
    }
    await read().catch(() => {});
  });
  container.append(el('div', { class: 'check' }, box, el('label', { for: id }, label)), region);
  try {
    await read();
  } catch (err) {
    if (!handleAuth(err)) showMessage(region, errorText(`Reading "${label}"`, err));
  }
}
