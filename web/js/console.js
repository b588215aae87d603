// SPDX-License-Identifier: GPL-2.0-or-later
//
// The console page: one running VM's screen, keyboard and mouse through
// noVNC (npm @novnc/novnc, copied into vendor/novnc/ at build time). The
// RFB stream comes from vsad's console WebSocket, which admits the
// session cookie (and checks this page's Origin), so RFB itself needs no
// password here. The page talks SOAP only to learn the VM's name and
// state and to explain a refused or ended connection.

import RFB from '../vendor/novnc/core/rfb.js';
import { call } from './soap.js';
import { initLayout, handleAuth } from './layout.js';
import { param, showMessage, stateName, errorText } from './ui.js';

const RUNNING = 5;
const PAUSED = 6;

const { messages } = initLayout(null);
const vm = param('vm');
const screen = document.getElementById('console-screen');
const title = document.getElementById('console-title');
const stateLabel = document.getElementById('console-state');
const message = document.getElementById('console-message');
const cadButton = document.getElementById('console-cad');
const scaleButton = document.getElementById('console-scale');
const reconnectButton = document.getElementById('console-reconnect');

let rfb = null;
let vmName = '';

function setState(state, label) {
  document.body.dataset.state = state;
  stateLabel.textContent = label;
}

function websocketUrl() {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/console/websocket?vm=${encodeURIComponent(vm)}`;
}

async function vmState() {
  return Number(await call('IVMVirtualMachine_get_State', { _this: vm }));
}

// Why a connection could not be made or ended: the WebSocket tells the
// page nothing about a refusal, the SOAP API does.
async function explain(clean) {
  try {
    const state = await vmState();
    if (state !== RUNNING && state !== PAUSED) {
      return `${vmName || 'The virtual machine'} is ${stateName(state).toLowerCase()}: the console shows a running virtual machine.`;
    }
    return clean ? 'The console connection was closed.'
      : 'The console connection failed or was refused (the console needs the right to control this virtual machine).';
  } catch (err) {
    if (handleAuth(err)) return '';
    return errorText('Reading the virtual machine', err);
  }
}

function connect() {
  showMessage(message, '');
  reconnectButton.hidden = true;
  setState('connecting', 'Connecting…');
  screen.replaceChildren();
  rfb = new RFB(screen, websocketUrl(), { shared: true });
  rfb.scaleViewport = scaleButton.getAttribute('aria-pressed') === 'true';
  rfb.resizeSession = false;
  rfb.focusOnClick = true;
  rfb.background = 'transparent';
  rfb.addEventListener('connect', () => {
    setState('connected', 'Connected');
    cadButton.disabled = false;
    rfb.focus();
  });
  rfb.addEventListener('disconnect', async (event) => {
    rfb = null;
    cadButton.disabled = true;
    setState('disconnected', 'Disconnected');
    reconnectButton.hidden = false;
    const why = await explain(event.detail?.clean);
    if (why) showMessage(message, why, event.detail?.clean ? 'info' : 'error');
  });
  rfb.addEventListener('securityfailure', (event) => {
    showMessage(message, `The console refused the connection: ${event.detail?.reason || 'security failure'}`);
  });
}

// The host key (Right Alt, as VMRC's default): while the screen has the
// keyboard every key goes to the guest, Tab included, so this is how a
// keyboard user leaves it. Caught before noVNC sees it (capture phase).
window.addEventListener('keydown', (event) => {
  if (event.code !== 'AltRight' || !rfb || !screen.contains(document.activeElement)) return;
  event.preventDefault();
  event.stopPropagation();
  rfb.blur();
  (cadButton.disabled ? scaleButton : cadButton).focus();
}, true);

cadButton.addEventListener('click', () => {
  if (rfb) {
    rfb.sendCtrlAltDel();
    rfb.focus();
  }
});
scaleButton.addEventListener('click', () => {
  const on = scaleButton.getAttribute('aria-pressed') !== 'true';
  scaleButton.setAttribute('aria-pressed', String(on));
  if (rfb) rfb.scaleViewport = on;
});
reconnectButton.addEventListener('click', () => connect());

async function start() {
  if (!vm) {
    setState('error', '');
    showMessage(messages, 'No virtual machine given: open the console from the master status page.');
    return;
  }
  document.getElementById('console-vm-link').href = `vm.html?vm=${encodeURIComponent(vm)}`;
  try {
    vmName = (await call('IVMVirtualMachine_get_Name', { _this: vm })) ?? '';
    title.textContent = `Console: ${vmName}`;
    document.title = `${vmName} – Console – Virtual Server Appliance`;
    const state = await vmState();
    if (state !== RUNNING && state !== PAUSED) {
      setState('disconnected', stateName(state));
      reconnectButton.hidden = false;
      showMessage(message, await explain(true), 'info');
      return;
    }
  } catch (err) {
    if (handleAuth(err)) return;
    setState('error', '');
    showMessage(messages, errorText('Opening the console', err));
    return;
  }
  connect();
}

start();
