// SPDX-License-Identifier: GPL-2.0-or-later
//
// Configuration values of the server (IVMVirtualServer Get/Set/
// RemoveConfigurationValue: the signed-in user's own preferences, by slash
// key). The API lists no keys, so the editor reads, writes and removes one
// named key at a time; a value travels as a ConfigurationValue (type and
// the field of that type; bytes as base64).

import { callStruct, call } from './soap.js';
import { handleAuth } from './layout.js';
import { el, showMessage, errorText, fillSelect } from './ui.js';

const TYPES = [['string', 'Text'], ['integer', 'Number (0-4294967295)'], ['boolean', 'Yes/no'], ['bytes', 'Bytes (base64)']];

/** The ConfigurationValue for a type and the text typed for it. */
function toValue(type, text) {
  switch (type) {
    case 'integer': return { type, integerValue: text.trim() };
    case 'boolean': return { type, booleanValue: /^(true|1|yes)$/i.test(text.trim()) };
    case 'bytes': return { type, bytesValue: text.trim() };
    default: return { type: 'string', stringValue: text };
  }
}

function fromValue(v) {
  switch (v?.type) {
    case 'integer': return v.integerValue ?? '';
    case 'boolean': return v.booleanValue ?? '';
    case 'bytes': return v.bytesValue ?? '';
    default: return v?.stringValue ?? '';
  }
}

/** Fills `container` with the key/value editor; testid prefixes its controls. */
export function configValuesEditor(container, testid) {
  const region = el('div', { class: 'section-message', hidden: true });
  const key = el('input', { id: `${testid}-key`, type: 'text', required: true, spellcheck: 'false', autocomplete: 'off', testid: `${testid}-key`, placeholder: 'e.g. ui/theme' });
  const type = el('select', { id: `${testid}-type`, testid: `${testid}-type` });
  fillSelect(type, TYPES, 'string');
  const value = el('input', { id: `${testid}-value`, type: 'text', spellcheck: 'false', autocomplete: 'off', testid: `${testid}-value` });
  const button = (label, id) => el('button', { class: 'button', type: 'button', testid: `${testid}-${id}` }, label);
  const read = button('Read', 'read');
  const write = button('Write', 'write');
  const remove = button('Remove', 'remove');
  const form = el('form', { testid },
    el('div', { class: 'form-grid' },
      el('div', { class: 'field' }, el('label', { for: key.id }, 'Key'), key),
      el('div', { class: 'field' }, el('label', { for: type.id }, 'Type'), type),
      el('div', { class: 'field' }, el('label', { for: value.id }, 'Value'), value)),
    el('div', { class: 'button-row' }, read, write, remove));
  container.replaceChildren(region, form);

  async function run(btn, what, fn) {
    if (!form.reportValidity()) return;
    btn.disabled = true;
    try {
      showMessage(region, await fn(), 'ok');
    } catch (err) {
      if (!handleAuth(err)) showMessage(region, errorText(what, err));
    } finally {
      btn.disabled = false;
    }
  }
  const k = () => key.value.trim();
  read.addEventListener('click', () => run(read, 'Reading the value', async () => {
    const v = await callStruct('IVMVirtualServer_GetConfigurationValue', { preferenceKey: k() });
    type.value = v?.type ?? 'string';
    value.value = fromValue(v);
    form.dataset.value = value.value;
    return `${k()} read.`;
  }));
  write.addEventListener('click', () => run(write, 'Writing the value', async () => {
    await call('IVMVirtualServer_SetConfigurationValue', { preferenceKey: k(), preferenceValue: toValue(type.value, value.value) });
    return `${k()} written.`;
  }));
  remove.addEventListener('click', () => run(remove, 'Removing the value', async () => {
    await call('IVMVirtualServer_RemoveConfigurationValue', { preferenceKey: k() });
    value.value = '';
    return `${k()} removed.`;
  }));
  form.addEventListener('submit', (event) => { event.preventDefault(); read.click(); });
}
