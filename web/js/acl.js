// SPDX-License-Identifier: GPL-2.0-or-later
//
// Access control list editor for one IVMSecurity object (the server's, a
// VM's, a network's or a disk's): the owner, one row per IVMAccessRights
// entry with a checkbox per right (each change is sent at once), adding
// and removing entries, and the caller's effective rights.

import { call, callList } from './soap.js';
import { el, isTrue, showMessage, errorText, confirmDialog } from './ui.js';
import { handleAuth } from './layout.js';

const RIGHTS = [
  ['ReadAccess', 'Read'],
  ['WriteAccess', 'Write'],
  ['ExecuteAccess', 'Execute'],
  ['DeleteAccess', 'Delete'],
  ['ReadPermissions', 'Read permissions'],
  ['ChangePermissions', 'Change permissions'],
];

const TYPES = { 0: 'Allow', 1: 'Deny' };

/**
 * Builds the editor into `container` for the security object `securityRef`.
 * Returns a promise that settles once the first read is shown.
 */
export async function aclEditor(container, securityRef, idPrefix = 'acl') {
  const message = el('div', { class: 'section-message', hidden: true, testid: 'acl-message' });
  const ownerInput = el('input', { id: `${idPrefix}-owner`, type: 'text', testid: 'acl-owner', autocomplete: 'off' });
  const ownerSave = el('button', { class: 'button', type: 'button', testid: 'acl-owner-save' }, 'Set owner');
  const mine = el('p', { class: 'muted', testid: 'acl-current-rights' });
  const rows = el('tbody');
  const table = el('table', { class: 'table table-stack', testid: 'acl-table' },
    el('caption', { class: 'visually-hidden' }, 'Access control entries'),
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, 'Account or group'),
      el('th', { scope: 'col' }, 'Type'),
      RIGHTS.map(([, label]) => el('th', { scope: 'col' }, label)),
      el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Actions')))),
    rows);
  const addName = el('input', { id: `${idPrefix}-add-name`, type: 'text', required: true, testid: 'acl-add-name', autocomplete: 'off' });
  const addType = el('select', { id: `${idPrefix}-add-type`, testid: 'acl-add-type' },
    el('option', { value: '0' }, 'Allow'), el('option', { value: '1' }, 'Deny'));
  const addButton = el('button', { class: 'button', type: 'submit', testid: 'acl-add' }, 'Add entry');
  const addForm = el('form', { class: 'field-inline' },
    el('div', { class: 'field' }, el('label', { for: addName.id }, 'Account or group'), addName),
    el('div', { class: 'field' }, el('label', { for: addType.id }, 'Type'), addType),
    addButton);

  container.replaceChildren(message,
    el('div', { class: 'field-inline' },
      el('div', { class: 'field' }, el('label', { for: ownerInput.id }, 'Owner'), ownerInput),
      ownerSave),
    mine,
    el('div', { class: 'table-box' }, table),
    el('h4', { class: 'subhead' }, 'Add an entry'),
    addForm);

  const fail = (what, err) => {
    if (!handleAuth(err)) showMessage(message, errorText(what, err));
  };

  async function readRights(ref) {
    const values = await Promise.all([
      call('IVMAccessRights_get_Name', { _this: ref }),
      call('IVMAccessRights_get_Type', { _this: ref }),
      ...RIGHTS.map(([prop]) => call(`IVMAccessRights_get_${prop}`, { _this: ref })),
    ]);
    const [name, type, ...flags] = values;
    return { ref, name, type: Number(type), flags: flags.map(isTrue) };
  }

  function entryRow(entry) {
    const typeLabel = TYPES[entry.type] ?? String(entry.type);
    const boxes = RIGHTS.map(([prop, label], i) => {
      const box = el('input', {
        type: 'checkbox', checked: entry.flags[i], testid: `acl-right-${prop}`,
        'aria-label': `${label} for ${entry.name} (${typeLabel})`,
      });
      box.addEventListener('change', async () => {
        box.disabled = true;
        try {
          await call(`IVMAccessRights_set_${prop}`, { _this: entry.ref, [lowerFirst(prop)]: box.checked });
          showMessage(message, '');
        } catch (err) {
          box.checked = !box.checked;
          fail(`Changing ${label} for ${entry.name}`, err);
        } finally {
          box.disabled = false;
        }
      });
      return el('td', { dataset: { label } }, box);
    });
    const remove = el('button', {
      class: 'button button-small', type: 'button', testid: 'acl-remove',
      'aria-label': `Remove the ${typeLabel} entry for ${entry.name}`,
    }, 'Remove');
    remove.addEventListener('click', async () => {
      if (!(await confirmDialog('Remove entry', `Remove the ${typeLabel.toLowerCase()} entry for ${entry.name}?`, 'Remove', true))) return;
      remove.disabled = true;
      try {
        await call('IVMSecurity_RemoveEntry', { _this: securityRef, entryToDelete: entry.ref });
        await reload();
      } catch (err) {
        remove.disabled = false;
        fail(`Removing the entry for ${entry.name}`, err);
      }
    });
    return el('tr', { testid: 'acl-row', dataset: { name: entry.name, type: String(entry.type) } },
      el('th', { scope: 'row', dataset: { label: 'Account' } }, entry.name),
      el('td', { dataset: { label: 'Type' } }, typeLabel),
      boxes,
      el('td', { dataset: { label: 'Actions' } }, remove));
  }

  async function reload() {
    try {
      const [owner, listRef, currentRef] = await Promise.all([
        call('IVMSecurity_get_OwnerName', { _this: securityRef }),
        call('IVMSecurity_get_AccessRights', { _this: securityRef }),
        call('IVMSecurity_get_CurrentUserAccessRights', { _this: securityRef }),
      ]);
      ownerInput.value = owner ?? '';
      const refs = await callList('IVMAccessRightsCollection_get__NewEnum', { _this: listRef });
      const entries = await Promise.all(refs.map(readRights));
      rows.replaceChildren(...entries.map(entryRow));
      try {
        const current = await readRights(currentRef);
        const granted = RIGHTS.filter((_, i) => current.flags[i]).map(([, label]) => label);
        mine.textContent = `Your rights here: ${granted.length ? granted.join(', ') : 'none'}.`;
      } catch (err) {
        mine.textContent = '';
        fail('Reading your rights', err);
      }
    } catch (err) {
      fail('Reading the permissions', err);
      throw err;
    }
  }

  ownerSave.addEventListener('click', async () => {
    ownerSave.disabled = true;
    try {
      await call('IVMSecurity_set_OwnerName', { _this: securityRef, ownerName: ownerInput.value.trim() });
      showMessage(message, 'Owner changed.', 'ok');
    } catch (err) {
      fail('Setting the owner', err);
    } finally {
      ownerSave.disabled = false;
    }
  });

  addForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!addForm.reportValidity()) return;
    addButton.disabled = true;
    try {
      await call('IVMSecurity_AddEntry', {
        _this: securityRef, nameOrSid: addName.value.trim(), type: Number(addType.value),
      });
      addName.value = '';
      showMessage(message, '');
      await reload();
    } catch (err) {
      fail('Adding the entry', err);
    } finally {
      addButton.disabled = false;
    }
  });

  return reload();
}

function lowerFirst(s) {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
