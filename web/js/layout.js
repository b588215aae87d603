// SPDX-License-Identifier: GPL-2.0-or-later
//
// The frame every signed-in page shares: a skip link, the header with the
// product name, navigation, the current user, Change password (a dialog:
// Accounts_ChangeOwnPassword, which any signed-in user may call) and Sign
// out, and a message region at the top of <main>. A page calls initLayout() once; the header
// is built here so the pages do not repeat it.
//
// On narrow screens the navigation collapses behind a Menu button
// (aria-expanded); at 1280 px it is a row of links.

import { call, SoapFault } from './soap.js';
import { goToLogin } from './nav.js';
import { el, showMessage, errorText, openDialog } from './ui.js';

const PAGES = [
  ['status', 'index.html', 'Status'],
  ['vm-new', 'vm-new.html', 'New VM'],
  ['disks', 'disks.html', 'Disks'],
  ['networks', 'networks.html', 'Networks'],
  ['server', 'server.html', 'Server'],
  ['api', 'api.html', 'API'],
];

let leaving = false;

/** True once the page is on its way to the login page. */
export function isLeaving() {
  return leaving;
}

/** Leaves for the login page when err means the session ended; returns whether it did. */
export function handleAuth(err) {
  if (err instanceof SoapFault && err.httpStatus === 401) {
    if (!leaving) {
      leaving = true;
      goToLogin('expired');
    }
    return true;
  }
  return false;
}

function buildHeader(active) {
  const navId = 'site-nav';
  const toggle = el('button', {
    class: 'button button-header nav-toggle', type: 'button',
    'aria-expanded': 'false', 'aria-controls': navId, testid: 'nav-toggle',
  }, 'Menu');
  const links = PAGES.map(([key, href, label]) => el('li', {},
    el('a', {
      href, class: 'nav-link', testid: `nav-${key}`,
      'aria-current': key === active ? 'page' : null,
    }, label)));
  const nav = el('nav', { id: navId, class: 'site-nav', 'aria-label': 'Main' },
    el('ul', {}, links));
  const user = el('strong', { id: 'current-user', testid: 'current-user' });
  const signOut = el('button', {
    id: 'sign-out', class: 'button button-header', type: 'button', testid: 'sign-out',
  }, 'Sign out');
  const changePassword = el('button', {
    id: 'change-password-open', class: 'button button-header', type: 'button', testid: 'change-password-open',
    'aria-haspopup': 'dialog',
  }, 'Change password');
  const header = el('header', { class: 'topbar' },
    el('a', { class: 'brand', href: 'index.html' },
      el('img', { class: 'brand-logo', src: 'favicon.svg', alt: '', width: 28, height: 28 }),
      el('span', { class: 'brand-name' }, 'Virtual Server Appliance')),
    toggle,
    nav,
    el('div', { class: 'session' },
      el('span', { class: 'session-user' }, 'Signed in as ', user),
      changePassword,
      signOut));

  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    header.classList.toggle('nav-open', open);
  });
  header.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && header.classList.contains('nav-open')) {
      toggle.setAttribute('aria-expanded', 'false');
      header.classList.remove('nav-open');
      toggle.focus();
    }
  });
  return { header, user, signOut, changePassword };
}

/**
 * The Change password dialog: the current password and a new one. The
 * server ends every session of the account and answers with a new one (its
 * cookie), so this page stays signed in; other browsers sign in again.
 */
function openChangePassword(messages) {
  const titleId = 'change-password-title';
  const current = el('input', {
    id: 'change-password-current', type: 'password', required: true, autocomplete: 'current-password',
    maxlength: 1024, testid: 'change-password-current',
  });
  const next = el('input', {
    id: 'change-password-new', type: 'password', required: true, minlength: 8, maxlength: 1024,
    autocomplete: 'new-password', testid: 'change-password-new', 'aria-describedby': 'change-password-hint',
  });
  const region = el('div', { class: 'section-message', hidden: true, testid: 'change-password-message' });
  const submit = el('button', {
    class: 'button button-primary', type: 'submit', testid: 'change-password-submit',
  }, 'Change password');
  const cancel = el('button', { class: 'button', type: 'button', testid: 'change-password-cancel' }, 'Cancel');
  const form = el('form', { novalidate: true },
    el('h2', { id: titleId }, 'Change your password'),
    region,
    el('div', { class: 'field' }, el('label', { for: current.id }, 'Current password'), current),
    el('div', { class: 'field' }, el('label', { for: next.id }, 'New password'), next,
      el('span', { class: 'hint', id: 'change-password-hint' },
        'At least 8 characters. Your sessions in other browsers end.')),
    el('div', { class: 'dialog-buttons' }, cancel, submit));
  const dialog = el('dialog', {
    class: 'dialog', 'aria-labelledby': titleId, testid: 'change-password-dialog',
  }, form);
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const field of [current, next]) {
      if (!field.checkValidity()) { field.reportValidity(); field.focus(); return; }
    }
    submit.disabled = true;
    try {
      await call('Accounts_ChangeOwnPassword', { currentPassword: current.value, newPassword: next.value });
      dialog.close();
      showMessage(messages, 'Your password was changed. Sessions in other browsers were signed out.', 'ok');
    } catch (err) {
      if (!handleAuth(err)) showMessage(region, errorText('Changing the password', err));
      submit.disabled = false;
    }
  });
  document.body.append(dialog);
  openDialog(dialog, current);
}

/**
 * Builds the frame. active: the PAGES key of this page. Returns
 * { messages } (the page-wide message region).
 */
export function initLayout(active) {
  const main = document.getElementById('main');
  const { header, user, signOut, changePassword } = buildHeader(active);
  const skip = el('a', { class: 'skip-link', href: '#main' }, 'Skip to content');
  document.body.prepend(skip, header);

  let messages = document.getElementById('page-messages');
  if (!messages) {
    messages = el('div', { id: 'page-messages', hidden: true, testid: 'page-messages' });
    main.prepend(messages);
  }

  call('Session_CurrentUser').then((name) => {
    user.textContent = name ?? '';
  }).catch((err) => {
    if (!handleAuth(err)) user.textContent = '?';
  });

  changePassword.addEventListener('click', () => openChangePassword(messages));

  signOut.addEventListener('click', async () => {
    signOut.disabled = true;
    try {
      await call('Session_Logoff');
    } catch (err) {
      if (!(err instanceof SoapFault && err.httpStatus === 401)) {
        showMessage(messages, errorText('Signing out', err));
        signOut.disabled = false;
        return;
      }
    }
    leaving = true;
    goToLogin('signedout');
  });
  return { messages };
}
