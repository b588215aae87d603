// SPDX-License-Identifier: GPL-2.0-or-later
//
// The appliance's user accounts (the Accounts_* SOAP extension): a table of
// accounts where an administrator edits each one's groups and
// administrator flag in place, sets a new password (a dialog) or removes it
// (a confirmation), and a form to add one. Only administrators may manage
// accounts; anyone else sees why, and changes their own password from the
// header (layout.js).
//
// The container's data-state goes loading -> loaded, or denied (not an
// administrator) or error.

import { call, callStruct } from './soap.js';
import { handleAuth } from './layout.js';
import {
  el, isTrue, showMessage, errorText, confirmDialog, openDialog,
} from './ui.js';

/** "a, b  c" -> ["a", "b", "c"] */
export function parseGroups(text) {
  return String(text ?? '').split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

function sameGroups(a, b) {
  return a.length === b.length && a.every((g, i) => g === b[i]);
}

/** Builds the editor into `container`; resolves once the list is shown. */
export async function usersEditor(container) {
  const message = el('div', { class: 'section-message', hidden: true, testid: 'users-message' });
  const rows = el('tbody', { id: 'user-rows' });
  const table = el('table', { class: 'table table-stack users-table', testid: 'users-table' },
    el('caption', { class: 'visually-hidden' }, 'User accounts'),
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, 'Name'),
      el('th', { scope: 'col' }, 'Administrator'),
      el('th', { scope: 'col' }, 'Groups'),
      el('th', { scope: 'col' }, el('span', { class: 'visually-hidden' }, 'Actions')))),
    rows);

  const addName = el('input', {
    id: 'user-add-name', type: 'text', required: true, autocomplete: 'off', spellcheck: 'false',
    maxlength: 64, pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]*', testid: 'user-add-name',
    'aria-describedby': 'user-add-name-hint',
  });
  const addPassword = el('input', {
    id: 'user-add-password', type: 'password', required: true, minlength: 8, maxlength: 1024,
    autocomplete: 'new-password', testid: 'user-add-password', 'aria-describedby': 'user-add-password-hint',
  });
  const addGroups = el('input', {
    id: 'user-add-groups', type: 'text', autocomplete: 'off', spellcheck: 'false', testid: 'user-add-groups',
    'aria-describedby': 'user-add-groups-hint',
  });
  const addAdmin = el('input', { id: 'user-add-admin', type: 'checkbox', testid: 'user-add-admin' });
  const addButton = el('button', { class: 'button button-primary', type: 'submit', testid: 'user-add-submit' },
    'Add user');
  const addForm = el('form', { class: 'user-add-form', novalidate: true, 'aria-labelledby': 'user-add-heading' },
    el('h4', { class: 'subhead', id: 'user-add-heading' }, 'Add a user'),
    el('div', { class: 'form-grid' },
      el('div', { class: 'field' }, el('label', { for: addName.id }, 'Name'), addName,
        el('span', { class: 'hint', id: 'user-add-name-hint' }, 'Letters, digits, . _ - (up to 64).')),
      el('div', { class: 'field' }, el('label', { for: addPassword.id }, 'Password'), addPassword,
        el('span', { class: 'hint', id: 'user-add-password-hint' }, 'At least 8 characters.')),
      el('div', { class: 'field' }, el('label', { for: addGroups.id }, 'Groups'), addGroups,
        el('span', { class: 'hint', id: 'user-add-groups-hint' }, 'Separated by commas; used in access control lists.'))),
    el('label', { class: 'check' }, addAdmin, 'Administrator (may do everything, including managing users)'),
    addButton);

  container.dataset.state = 'loading';
  container.replaceChildren(message, el('div', { class: 'table-box' }, table), addForm);

  const fail = (what, err) => {
    if (!handleAuth(err)) showMessage(message, errorText(what, err));
  };

  let me = '';
  try {
    me = (await call('Session_CurrentUser')) ?? '';
  } catch (err) {
    if (handleAuth(err)) return;
  }

  function passwordDialog(name) {
    const titleId = `pw-title-${Math.random().toString(36).slice(2)}`;
    const input = el('input', {
      id: 'user-password-new', type: 'password', required: true, minlength: 8, maxlength: 1024,
      autocomplete: 'new-password', testid: 'user-password-new',
    });
    const region = el('div', { class: 'section-message', hidden: true });
    const submit = el('button', { class: 'button button-primary', type: 'submit', testid: 'user-password-submit' },
      'Set password');
    const cancel = el('button', { class: 'button', type: 'button', testid: 'user-password-cancel' }, 'Cancel');
    const form = el('form', { method: 'dialog', novalidate: true },
      el('h2', { id: titleId }, `New password for ${name}`),
      el('p', { class: 'muted' }, 'Every session of this user ends; they sign in again with the new password.'),
      region,
      el('div', { class: 'field' }, el('label', { for: input.id }, 'New password'), input),
      el('div', { class: 'dialog-buttons' }, cancel, submit));
    const dialog = el('dialog', { class: 'dialog', 'aria-labelledby': titleId, testid: 'user-password-dialog' }, form);
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => dialog.remove());
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!input.checkValidity()) { input.reportValidity(); return; }
      submit.disabled = true;
      try {
        await call('Accounts_SetPassword', { name, password: input.value });
        dialog.close();
        showMessage(message, `New password set for ${name}; their sessions were ended.`, 'ok');
      } catch (err) {
        if (!handleAuth(err)) showMessage(region, errorText('Setting the password', err));
      } finally {
        submit.disabled = false;
      }
    });
    document.body.append(dialog);
    openDialog(dialog, input);
  }

  function userRow(account) {
    const name = account.name;
    const groups = Array.isArray(account.groups) ? account.groups : [];
    const admin = isTrue(account.administrator);
    const self = name.toLowerCase() === me.toLowerCase();
    const adminBox = el('input', {
      type: 'checkbox', checked: admin, testid: 'user-admin', 'aria-label': `${name} is an administrator`,
    });
    const groupsInput = el('input', {
      type: 'text', value: groups.join(', '), testid: 'user-groups', autocomplete: 'off', spellcheck: 'false',
      'aria-label': `Groups of ${name}`,
    });
    const save = el('button', { class: 'button button-small', type: 'button', testid: 'user-groups-save' }, 'Save');
    const setPassword = el('button', {
      class: 'button button-small', type: 'button', testid: 'user-set-password',
      'aria-label': `Set a new password for ${name}`,
    }, 'Set password');
    const remove = el('button', {
      class: 'button button-small button-danger', type: 'button', testid: 'user-remove',
      'aria-label': `Remove ${name}`, disabled: self,
      title: self ? 'You cannot remove the account you are signed in with.' : null,
    }, 'Remove');

    save.addEventListener('click', async () => {
      const wanted = parseGroups(groupsInput.value);
      save.disabled = true;
      try {
        if (!sameGroups(wanted, groups)) await call('Accounts_SetGroups', { name, groups: wanted });
        if (adminBox.checked !== admin) {
          await call('Accounts_SetAdministrator', { name, administrator: adminBox.checked });
        }
        showMessage(message, `Saved ${name}.`, 'ok');
        await load();
      } catch (err) {
        fail(`Saving ${name}`, err);
        // Show what the server holds now (a refused change left it as it was).
        await load();
      }
    });
    setPassword.addEventListener('click', () => passwordDialog(name));
    remove.addEventListener('click', async () => {
      if (!(await confirmDialog('Remove user', `Remove the account ${name}? Their sessions end at once.`,
        'Remove', true))) return;
      remove.disabled = true;
      try {
        await call('Accounts_Remove', { name });
        showMessage(message, `Removed ${name}.`, 'ok');
        await load();
      } catch (err) {
        fail(`Removing ${name}`, err);
        remove.disabled = false;
      }
    });

    return el('tr', { testid: 'users-row', dataset: { userName: name, administrator: String(admin) } },
      el('th', { scope: 'row', dataset: { label: 'Name' } },
        el('span', {}, name, self ? el('span', { class: 'muted' }, ' (you)') : null)),
      el('td', { dataset: { label: 'Administrator' } }, el('label', { class: 'check check-inline' }, adminBox,
        el('span', { class: 'visually-hidden' }, 'Administrator'))),
      el('td', { dataset: { label: 'Groups' } }, groupsInput),
      el('td', { dataset: { label: 'Actions' } }, el('div', { class: 'actions' }, save, setPassword, remove)));
  }

  async function load() {
    try {
      const accounts = await callStruct('Accounts_List', {}, {
        arrays: new Set(['returnval', 'groups']),
      });
      const list = Array.isArray(accounts) ? accounts : [];
      rows.replaceChildren(...list.map(userRow));
      container.dataset.state = 'loaded';
    } catch (err) {
      if (handleAuth(err)) return;
      if (err?.hresultName === 'E_ACCESSDENIED') {
        container.dataset.state = 'denied';
        container.replaceChildren(el('p', { class: 'muted', testid: 'users-denied' },
          'Only administrators manage user accounts. You can change your own password with ',
          el('strong', {}, 'Change password'), ' at the top of the page.'));
        return;
      }
      container.dataset.state = 'error';
      fail('Reading the user accounts', err);
    }
  }

  addForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const field of [addName, addPassword]) {
      if (!field.checkValidity()) { field.reportValidity(); field.focus(); return; }
    }
    const name = addName.value.trim();
    addButton.disabled = true;
    try {
      await call('Accounts_Add', {
        name, password: addPassword.value, administrator: addAdmin.checked, groups: parseGroups(addGroups.value),
      });
      addForm.reset();
      showMessage(message, `Added ${name}.`, 'ok');
      await load();
    } catch (err) {
      fail(`Adding ${name}`, err);
    } finally {
      addButton.disabled = false;
    }
  });

  await load();
}
