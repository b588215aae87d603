// SPDX-License-Identifier: GPL-2.0-or-later
//
// Login page: Session_Logon sets the HttpOnly session cookie, then we go to
// the overview. The returned token is deliberately not stored anywhere.

import { call, describeError, NetworkError, SoapFault } from './soap.js';
import { takeLoginNotice } from './nav.js';

const E_ACCESSDENIED = 0x80070005;

const form = document.getElementById('login-form');
const userInput = document.getElementById('username');
const passwordInput = document.getElementById('password');
const submit = document.getElementById('login-submit');
const errorBox = document.getElementById('login-error');
const noticeBox = document.getElementById('login-notice');

const submitLabel = submit.textContent;
let lockedUntil = 0;
let unlockTimer = 0;

function showError(text) {
  errorBox.textContent = text;
  document.body.dataset.state = text ? 'error' : 'ready';
}

function setBusy(busy) {
  form.setAttribute('aria-busy', busy ? 'true' : 'false');
  submit.textContent = busy ? 'Signing in…' : submitLabel;
  updateSubmit(busy);
}

function updateSubmit(busy = false) {
  submit.disabled = busy || Date.now() < lockedUntil;
}

function lockFor(seconds) {
  lockedUntil = Date.now() + seconds * 1000;
  clearTimeout(unlockTimer);
  unlockTimer = setTimeout(() => {
    lockedUntil = 0;
    updateSubmit();
    if (errorBox.textContent.startsWith('Too many failed attempts')) showError('');
  }, seconds * 1000);
  updateSubmit();
}

function isWrongCredentials(err) {
  return err.httpStatus === 401 || err.httpStatus === 403 ||
    err.hresult === E_ACCESSDENIED || err.hresultName === 'E_ACCESSDENIED';
}

function messageFor(err) {
  if (err instanceof NetworkError) {
    return 'Cannot reach the server. Check the network connection and try again.';
  }
  if (err instanceof SoapFault) {
    if (err.httpStatus === 429) {
      return err.retryAfter !== null
        ? `Too many failed attempts; try again in ${err.retryAfter} s`
        : 'Too many failed attempts; try again later';
    }
    if (isWrongCredentials(err)) {
      return 'The user name or password is incorrect.';
    }
    if (err.httpStatus >= 502 && err.httpStatus <= 504) {
      return 'Cannot reach the server. Check the network connection and try again.';
    }
    return `Sign-in failed: ${describeError(err)}`;
  }
  return `Sign-in failed: ${describeError(err)}`;
}

async function onSubmit(event) {
  event.preventDefault();
  if (submit.disabled) return;
  if (!form.reportValidity()) return;

  showError('');
  noticeBox.textContent = '';
  setBusy(true);
  let signedIn = false;
  try {
    await call('Session_Logon', {
      userName: userInput.value,
      password: passwordInput.value,
    });
    signedIn = true;
    passwordInput.value = '';
    document.body.dataset.state = 'signed-in';
    window.location.replace('index.html');
  } catch (err) {
    if (err instanceof SoapFault && err.httpStatus === 429 && err.retryAfter) {
      lockFor(err.retryAfter);
    }
    showError(messageFor(err));
    if (err instanceof SoapFault && isWrongCredentials(err)) {
      passwordInput.value = '';
    }
    passwordInput.focus();
  } finally {
    // After success the button stays disabled while the browser navigates.
    if (!signedIn) setBusy(false);
  }
}

form.addEventListener('submit', onSubmit);
noticeBox.textContent = takeLoginNotice();
if (!userInput.value) userInput.focus();
