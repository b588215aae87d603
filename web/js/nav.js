// SPDX-License-Identifier: GPL-2.0-or-later
//
// Moving between the login page and the rest of the UI. A short reason is
// handed to the login page in sessionStorage (never the URL), so it can say
// why the user landed there.

const NOTICE_KEY = 'vsa.loginNotice';

const NOTICES = {
  expired: 'Your session has ended. Sign in again to continue.',
  signedout: 'You have signed out.',
};

/** Leaves for the login page; reason is "expired" or "signedout". */
export function goToLogin(reason = 'expired') {
  try {
    sessionStorage.setItem(NOTICE_KEY, reason);
  } catch {
    // Storage may be disabled; the notice is only a courtesy.
  }
  window.location.replace('login.html');
}

/** Returns (and forgets) the text of the pending login notice, or "". */
export function takeLoginNotice() {
  let reason = null;
  try {
    reason = sessionStorage.getItem(NOTICE_KEY);
    sessionStorage.removeItem(NOTICE_KEY);
  } catch {
    return '';
  }
  return (reason && NOTICES[reason]) || '';
}
