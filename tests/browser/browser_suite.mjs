// SPDX-License-Identifier: GPL-2.0-or-later
//
// The admin UI in Debian's chromium, driven by playwright-core (issue 7,
// item 4). run_browser_suite.py starts vsad and sets:
//   VSA_URL VSA_USER VSA_PASSWORD   the daemon and its administrator
//   VSA_ISO                         the typewriter CD (tests/progs), inside
//                                   vsad's data folder
//   VSA_ARTIFACTS                   where the screenshots go
// The scenario: a wrong password is refused; sign in; create a VM with a
// new disk and the CD in the wizard; start it from the master status list;
// open its console and see the guest's boot text (the API's display Text
// says it; the console shows the same picture CaptureScreen reports); type into the guest (its COM1 log must echo
// the keys, the console and CaptureScreen must show them); move and click
// the mouse (the guest's PS/2 packet handler reports both on COM1); save and
// restore (the typed text survives); turn off; delete. On the way, the
// configuration sections: COM2 into a text file and LPT1 (read back through
// the API), an event script of the VM, the scheduling parameters (and the
// byte counters of the running VM), the network statistics, the server's
// configuration values and event scripts; in each a wrong value must show
// the SOAP fault's own message. Every page is
// photographed at 1280x800 and at phone width (390x844), must not overflow
// sideways at phone width, and must log no console error or warning.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const URL_BASE = process.env.VSA_URL;
const USER = process.env.VSA_USER;
const PASSWORD = process.env.VSA_PASSWORD;
const ISO = process.env.VSA_ISO;
const ARTIFACTS = process.env.VSA_ARTIFACTS;
const VM_NAME = 'browser-vm';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const TYPED = 'hello vsa 42';

const STARTED = Date.now();
const elapsed = () => `${((Date.now() - STARTED) / 1000).toFixed(1)} s`;
let checks = 0;
let failures = 0;
const problems = []; // console errors and warnings, page errors
let allowedConsole = null; // a RegExp tolerated during one step
let currentPage = null; // photographed when the scenario stops early

function check(condition, what) {
  checks += 1;
  if (condition) {
    console.log(`ok ${checks} - ${what}`);
  } else {
    failures += 1;
    console.log(`not ok ${checks} - ${what}`);
  }
  return condition;
}

function must(condition, what) {
  if (!check(condition, what)) throw new Error(`cannot go on: ${what}`);
}

async function shot(page, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`# screenshot ${file} (at ${elapsed()})`);
}

function watch(page) {
  page.on('console', (message) => {
    const type = message.type();
    if (type !== 'error' && type !== 'warning') return;
    const text = message.text();
    if (allowedConsole && allowedConsole.test(text)) return;
    problems.push(`${type} on ${page.url()}: ${text}`);
  });
  page.on('pageerror', (error) => problems.push(`page error on ${page.url()}: ${error.message}`));
}

async function loaded(page) {
  await page.waitForFunction(() => ['loaded', 'connected', 'ready'].includes(document.body.dataset.state)
    || document.body.dataset.state === 'error', null, { timeout: 30000 });
  const [state, ms, where] = await page.evaluate(() => [document.body.dataset.state, Math.round(performance.now()),
    window.location.pathname]);
  console.log(`# ${where} ${state} ${ms} ms after its navigation`);
  return state;
}

// No sideways scrolling at phone width.
async function fitsWidth(page) {
  return page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
}

async function soap(page, operation, params = {}) {
  return page.evaluate(async ([op, p]) => {
    const { call } = await import('/js/soap.js');
    return call(op, p);
  }, [operation, params]);
}

// The message of the fault an operation answers (called from the page, as
// the UI calls it); '' when it succeeds.
async function faultOf(page, operation, params) {
  return page.evaluate(async ([op, p]) => {
    const { call } = await import('/js/soap.js');
    try {
      await call(op, p);
      return '';
    } catch (error) {
      return error.message;
    }
  }, [operation, params]);
}

// A section of a page, photographed on its own.
async function shotOf(locator, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await locator.scrollIntoViewIfNeeded();
  await locator.screenshot({ path: file });
  console.log(`# screenshot ${file} (at ${elapsed()})`);
}

// Waits for an alert in `region` and checks it carries the fault's message.
async function showsFault(page, region, expected, what) {
  const alert = region.locator('[role="alert"]').filter({ hasText: /\S/ });
  await alert.first().waitFor();
  const text = await alert.first().textContent();
  check(expected !== '' && text.includes(expected), `${what}: the page shows the fault's message (${JSON.stringify(text)})`);
}

async function vmRow(page) {
  return page.locator(`[data-testid="vm-row"][data-vm-name="${VM_NAME}"]`);
}

async function waitRowState(page, state, timeout = 90000) {
  await page.waitForFunction(([name, s]) => {
    const row = document.querySelector(`[data-testid="vm-row"][data-vm-name="${name}"]`);
    return row && row.dataset.vmState === String(s);
  }, [VM_NAME, state], { timeout });
}

// Compares the console's canvas with CaptureScreen (same picture, both
// drawn by the worker's renderer) inside the page: the share of pixels
// that differ, or -1 when the sizes differ.
async function consoleVersusApi(page, vmRef) {
  return page.evaluate(async (ref) => {
    const { call } = await import('/js/soap.js');
    const canvas = document.querySelector('[data-testid="console-screen"] canvas');
    if (!canvas) return { diff: -1, why: 'no canvas' };
    const display = await call('IVMVirtualMachine_get_Display', { _this: ref });
    const png = await call('IVMDisplay_CaptureScreen', { _this: display, width: 0, height: 0 });
    const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
    const image = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    if (image.width !== canvas.width || image.height !== canvas.height) {
      return { diff: -1, why: `API ${image.width}x${image.height}, console ${canvas.width}x${canvas.height}` };
    }
    // Read both through fresh canvases: repeated readbacks of the page's
    // own canvas would make chromium warn about the page, not the test.
    const pixels = (source) => {
      const copy = new OffscreenCanvas(source.width, source.height).getContext('2d', { willReadFrequently: true });
      copy.drawImage(source, 0, 0);
      return copy.getImageData(0, 0, source.width, source.height).data;
    };
    const a = pixels(image);
    const b = pixels(canvas);
    let differ = 0;
    let lit = 0;
    for (let i = 0; i < a.length; i += 4) {
      if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) differ += 1;
      if (b[i] + b[i + 1] + b[i + 2] > 0) lit += 1;
    }
    return { diff: differ / (a.length / 4), lit: lit / (a.length / 4), size: `${canvas.width}x${canvas.height}` };
  }, vmRef);
}

// The console matches the API within the text cursor's blink (a few
// cells), retried while frames are in flight (up to 30 s: CI runs this
// beside ASan builds of the CPU tests on two cores).
async function consoleShowsApiScreen(page, vmRef, what) {
  let last = null;
  for (let i = 0; i < 120; i += 1) {
    last = await consoleVersusApi(page, vmRef);
    if (last.diff >= 0 && last.diff < 0.002 && last.lit > 0.01) break;
    await page.waitForTimeout(250);
  }
  check(last.diff >= 0 && last.diff < 0.002 && last.lit > 0.01,
    `${what}: the console shows what CaptureScreen reports (${JSON.stringify(last)})`);
}

function com1Log(vmFile) {
  const log = path.join(path.dirname(vmFile), `${VM_NAME}.com1.log`);
  try {
    return fs.readFileSync(log, 'latin1');
  } catch {
    return '';
  }
}

async function waitFor(condition, timeout, step = 200) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, step));
  }
  return condition();
}

async function photographPages(page, label) {
  for (const name of ['index', 'vm-new', 'disks', 'networks', 'server']) {
    await page.goto(`${URL_BASE}${name}.html`);
    const state = await loaded(page);
    check(state !== 'error', `${name}.html loads at ${label} (state ${state})`);
    if (label === 'phone') check(await fitsWidth(page), `${name}.html fits the phone's width`);
    if (label === 'desktop') await allLabelled(page, `${name}.html`);
    await shot(page, `${name}-${label}`);
  }
}

// The VM's page while the VM is off: ports, event scripts, resources.
async function configureVm(page, vmRef, vmFile) {
  // COM2 into a text file in the VM's folder. A relative path is refused
  // first, with the fault's message.
  const ports = page.locator('section[aria-labelledby="ports-heading"]');
  const [, com2Ref] = await soap(page, 'IVMVirtualMachine_get_SerialPorts', { _this: vmRef });
  await page.selectOption('[data-testid="vm-com2-type"]', '1');
  await page.fill('[data-testid="vm-com2-name"]', 'com2.txt');
  await page.click('[data-testid="vm-com2-save"]');
  await showsFault(page, ports, await faultOf(page, 'IVMSerialPort_Configure',
    { _this: com2Ref, portType: 1, portName: 'com2.txt', connectImmediately: false }), 'COM2 with a relative path');
  await shotOf(ports, 'vm-ports-fault-desktop');
  const com2File = path.join(path.dirname(vmFile), 'com2.txt');
  await page.selectOption('[data-testid="vm-com2-type"]', '1');
  await page.fill('[data-testid="vm-com2-name"]', com2File);
  await page.click('[data-testid="vm-com2-save"]');
  await ports.locator('[role="status"]').filter({ hasText: 'COM2 is set' }).waitFor();
  check(await soap(page, 'IVMSerialPort_get_Type', { _this: com2Ref }) === '1'
    && await soap(page, 'IVMSerialPort_get_Name', { _this: com2Ref }) === com2File,
  'COM2 is a text file in the API after Set COM2');
  check(await page.getAttribute('[data-testid="vm-com2"]', 'data-name') === com2File
    && await page.inputValue('[data-testid="vm-com2-name"]') === com2File, 'the page reads COM2\'s file back');
  await page.selectOption('[data-testid="vm-lpt1-mode"]', 'host');
  await page.click('[data-testid="vm-lpt1-save"]');
  await ports.locator('[role="status"]').filter({ hasText: 'LPT1 is set' }).waitFor();
  const [lptRef] = await soap(page, 'IVMVirtualMachine_get_ParallelPorts', { _this: vmRef }).then((r) => [].concat(r));
  check(await soap(page, 'IVMParallelPort_get_Name', { _this: lptRef }) === 'LPT1', 'LPT1 prints to the host LPT1 file in the API');
  await shotOf(ports, 'vm-ports-desktop');

  // An event script of the VM: a program without a path is refused, then
  // one is set and replaced.
  const scripts = page.locator('section[aria-labelledby="scripts-heading"]');
  const launched = scripts.locator('[data-testid="vm-script-row"][data-event="2"]');
  await launched.locator('[data-testid="vm-script-command"]').fill('true');
  await launched.locator('[data-testid="vm-script-save"]').click();
  await showsFault(page, scripts, await faultOf(page, 'IVMVirtualMachine_AttachScriptToEvent',
    { _this: vmRef, eventType: 2, scriptCommandLine: 'true' }), 'a script without an absolute path');
  for (const command of ['/usr/bin/true started', '/usr/bin/true "started again"']) {
    await launched.locator('[data-testid="vm-script-command"]').fill(command);
    await launched.locator('[data-testid="vm-script-save"]').click();
    await page.waitForFunction((c) => document.querySelector('[data-testid="vm-script-row"][data-event="2"]')?.dataset.command === c, command);
    check(await soap(page, 'IVMVirtualMachine_FetchScriptByEvent', { _this: vmRef, eventType: 2 }) === command,
      `the VM's script for "started" is ${command} in the API`);
  }
  // Let VM scripts run (a server-wide switch, also on the VM's page): the
  // script above runs (and exits 0) when the VM starts below.
  await page.check('[data-testid="vm-scripts-enabled"]');
  check(await waitFor(async () => await soap(page, 'IVMVirtualServer_get_VMScriptsEnabled') === 'true', 10000),
    'the switch on the VM page lets VM scripts run (VMScriptsEnabled)');
  await shotOf(scripts, 'vm-scripts-desktop');

  // Scheduling: a weight over 10,000 is refused with the fault's message;
  // then reserve 1 %, the largest cap, weight 250.
  const resources = page.locator('section[aria-labelledby="resources-heading"]');
  const accountant = await soap(page, 'IVMVirtualMachine_get_Accountant', { _this: vmRef });
  const maxCap = Number(await page.getAttribute('[data-testid="vm-res-cap"]', 'max'));
  check(maxCap > 0 && (await page.textContent('#res-cap-hint')).includes('%'), `the page shows the largest cap (${maxCap} %)`);
  await page.fill('[data-testid="vm-res-reserve"]', '1');
  await page.fill('[data-testid="vm-res-cap"]', String(maxCap));
  await page.fill('[data-testid="vm-res-weight"]', '20000');
  await page.click('[data-testid="vm-res-save"]');
  await showsFault(page, resources, await faultOf(page, 'IVMAccountant_SetSchedulingParameters',
    { _this: accountant, reservedSystemCapacity: 1, maxSystemCapacity: maxCap, relativeWeight: 20000 }), 'weight 20000');
  await shotOf(resources, 'vm-resources-fault-desktop');
  await page.fill('[data-testid="vm-res-reserve"]', '1');
  await page.fill('[data-testid="vm-res-cap"]', String(maxCap));
  await page.fill('[data-testid="vm-res-weight"]', '250');
  await page.click('[data-testid="vm-res-save"]');
  await resources.locator('[role="status"]').filter({ hasText: 'saved' }).waitFor();
  const [reserve, cap, weight] = await Promise.all(['ReservedSystemCapacity', 'MaximumSystemCapacity', 'RelativeWeight']
    .map((p) => soap(page, `IVMAccountant_get_${p}`, { _this: accountant })));
  check(Number(reserve) === 1 && Number(cap) === maxCap && Number(weight) === 250,
    `the scheduling parameters are in the API (reserve ${reserve}, cap ${cap}, weight ${weight})`);
  check(await page.inputValue('[data-testid="vm-res-weight"]') === '250', 'the page reads the weight back');
  // BIOS: a boot order and Num Lock set on the page reach the VM's
  // hardware/bios keys in the API.
  const bios = page.locator('section[aria-labelledby="bios-heading"]');
  await page.selectOption('[data-testid="vm-bios-boot-order"]', 'cdrom,floppy,disk');
  await page.check('[data-testid="vm-bios-num-lock"]');
  await page.click('[data-testid="vm-bios-save"]');
  await bios.locator('[role="status"]').filter({ hasText: 'BIOS settings are saved' }).waitFor();
  const order = await soap(page, 'IVMVirtualMachine_GetConfigurationValue', { _this: vmRef, configurationKey: 'hardware/bios/boot_order' });
  const numLock = await soap(page, 'IVMVirtualMachine_GetConfigurationValue', { _this: vmRef, configurationKey: 'hardware/bios/num_lock' });
  check(String(order).includes('cdrom,floppy,disk') && String(numLock).includes('true'),
    `the BIOS settings are in the API after Save (${order}, ${numLock})`);
  await shotOf(bios, 'vm-bios-desktop');
}

// ---------------------------------------------------------------- keyboard, labels, SCSI (issue 7)
// The keyboard alone: Tab walks every action button and form field of a
// page (each drawn with a visible focus ring), Shift+Tab goes back, dialogs
// take the focus and give it back on Escape; every form control has an
// accessible name. The SCSI controllers section of the VM page.

const FOCUSABLE = 'a[href], button, input:not([type="hidden"]), select, textarea, summary, [tabindex]:not([tabindex="-1"])';

// The controls of the page a keyboard user must reach (shown, enabled,
// outside closed dialogs and inert parts), each marked data-kw=<index>, and
// a focusin recorder: window.__kwLog gets [index, description, outlined].
async function markFocusable(page) {
  return page.evaluate((selector) => {
    const describe = (n) => `${n.tagName.toLowerCase()}${n.id ? `#${n.id}` : ''}${n.dataset.testid ? `[${n.dataset.testid}]` : ''}`
      + ` "${(n.getAttribute('aria-label') || n.textContent || n.value || '').trim().slice(0, 30)}"`;
    const shown = (n) => n.getClientRects().length > 0 && getComputedStyle(n).visibility !== 'hidden';
    const radios = new Set();
    const list = [...document.querySelectorAll(selector)].filter((n) => {
      if (n.disabled || !shown(n) || n.closest('[inert], dialog:not([open])')) return false;
      if (n.type !== 'radio') return true;
      if (radios.has(n.name)) return false; // Tab enters a radio group once
      radios.add(n.name);
      return true;
    });
    list.forEach((n, i) => { n.dataset.kw = String(i); });
    window.__kwLog = [];
    if (!window.__kwRecorder) {
      window.__kwRecorder = true;
      document.addEventListener('focusin', (event) => {
        const n = event.target;
        const style = getComputedStyle(n);
        const outlined = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
        const group = n.type === 'radio' ? document.querySelector(`input[type="radio"][name="${CSS.escape(n.name)}"][data-kw]`) : n;
        window.__kwLog.push([group?.dataset.kw ?? null, describe(n), outlined]);
      });
    }
    return list.map(describe);
  }, FOCUSABLE);
}

// Walks the freshly loaded page with Tab: every control reached, each
// outlined, Shift+Tab returns to the one before.
async function keyboardWalk(page, what) {
  // Sections that load after the page (the ACL editor) first: no nodes
  // added or removed for 300 ms.
  await page.evaluate(() => new Promise((resolve) => {
    const observer = new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(done, 300); });
    let timer = setTimeout(done, 300);
    const limit = setTimeout(done, 5000);
    function done() { observer.disconnect(); clearTimeout(limit); resolve(); }
    observer.observe(document.body, { subtree: true, childList: true });
  }));
  const expected = await markFocusable(page);
  // From the first control on (the focus may be anywhere on the page).
  await page.focus('[data-kw="0"]');
  await page.evaluate(() => { window.__kwLog = []; });
  // Scrolling boxes take a Tab stop of their own too: go on until every
  // control is reached or the focus has gone round three times.
  let log = [];
  let missing = expected;
  for (let round = 0; round < 3 && missing.length; round += 1) {
    for (let i = 0; i < expected.length + 2; i += 1) await page.keyboard.press('Tab');
    log = await page.evaluate(() => window.__kwLog);
    const reached = new Set(log.map(([kw]) => kw));
    missing = expected.filter((_, i) => !reached.has(String(i)));
  }
  check(expected.length > 0 && missing.length === 0,
    `${what}: Tab reaches all ${expected.length} controls${missing.length ? ` (not: ${missing.join(', ')})` : ''}`);
  const extra = [...new Set(log.filter(([kw]) => kw === null).map(([, d]) => d))];
  if (extra.length) console.log(`# ${what}: Tab also stops at ${extra.join(', ')}`);
  const plain = [...new Set(log.filter(([, , outlined]) => !outlined).map(([, d]) => d))];
  check(log.length > 0 && plain.length === 0,
    `${what}: every focused control is outlined${plain.length ? ` (not: ${plain.join(', ')})` : ''}`);
  // Tab, Tab, Shift+Tab from the second control: back on the third.
  await page.focus('[data-kw="1"]');
  await page.evaluate(() => { window.__kwLog = []; });
  for (const key of ['Tab', 'Tab', 'Shift+Tab']) await page.keyboard.press(key);
  const back = await page.evaluate(() => window.__kwLog.map(([kw]) => kw));
  check(back.length === 3 && back[0] === '2' && back[2] === '2', `${what}: Shift+Tab goes back (${JSON.stringify(back)})`);
}

// Presses Tab until the focus is on `selector` (at most `max` times).
async function tabTo(page, selector, max = 400) {
  for (let i = 0; i < max; i += 1) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return true;
    await page.keyboard.press('Tab');
  }
  return false;
}

const activeId = (page) => page.evaluate(() => document.activeElement?.id ?? '');

// Every form control of the page has an accessible name.
async function allLabelled(page, what) {
  const unlabelled = await page.evaluate(() => {
    const text = (s) => (s ?? '').replace(/\s+/g, ' ').trim();
    const nameOf = (n) => {
      const by = n.getAttribute('aria-labelledby');
      if (by) return text(by.split(/\s+/).map((id) => document.getElementById(id)?.textContent).join(' '));
      if (text(n.getAttribute('aria-label'))) return text(n.getAttribute('aria-label'));
      const labels = n.labels ? [...n.labels].map((l) => text(l.textContent)).join(' ') : '';
      if (text(labels)) return labels;
      if (n.tagName === 'BUTTON' || n.getAttribute('role') === 'button') return text(n.textContent) || text(n.title);
      if (['submit', 'button', 'reset'].includes(n.type)) return text(n.value);
      if (n.type === 'image') return text(n.alt);
      return text(n.title);
    };
    return [...document.querySelectorAll('input:not([type="hidden"]), select, textarea, button, [role="button"], [role="checkbox"], [role="textbox"], [role="combobox"]')]
      .filter((n) => !nameOf(n))
      .map((n) => `${n.tagName.toLowerCase()}${n.id ? `#${n.id}` : ''}${n.dataset.testid ? `[${n.dataset.testid}]` : ''}`);
  });
  check(unlabelled.length === 0, `${what}: every form control has an accessible name${unlabelled.length ? ` (not: ${unlabelled.join(', ')})` : ''}`);
}

// The master status page by keyboard: the walk, then Start on the VM's
// row with Enter.
async function keyboardStart(page) {
  const started = Date.now();
  await keyboardWalk(page, 'index.html');
  must(await tabTo(page, `[data-testid="vm-row"][data-vm-name="${VM_NAME}"] [data-testid="vm-action-start"]`),
    'Tab reaches Start on the VM\'s row');
  await page.keyboard.press('Enter');
  console.log(`# the status page by keyboard took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// The SCSI controllers section (the VM is off), partly by keyboard; leaves
// the VM as it found it (its disk at IDE 0:0, no controller).
async function scsiSection(page, vmRef) {
  const started = Date.now();
  const section = page.locator('section[aria-labelledby="scsi-heading"]');
  const controller = section.locator('[data-testid="vm-scsi-controller"][data-id="0"]');
  const diskRow = page.locator('[data-testid="vm-disk-row"]');
  const inDialog = () => page.evaluate(() => Boolean(document.activeElement?.closest('dialog[open]')));
  await section.locator('[data-testid="vm-scsi-add"]').click();
  await controller.waitFor();
  const [c0] = [].concat(await soap(page, 'IVMVirtualMachine_get_SCSIControllers', { _this: vmRef }) || []);
  check(c0 && await soap(page, 'IVMSCSIController_get_SCSIID', { _this: c0 }) === '7'
    && await soap(page, 'IVMSCSIController_get_IsBusShared', { _this: c0 }) === 'false',
  'Add SCSI controller: controller 0 (ID 7, not shared) is in the API');
  const hdcAt = async () => {
    const [hdc] = [].concat(await soap(page, 'IVMVirtualMachine_get_HardDiskConnections', { _this: vmRef }) || []);
    return Promise.all(['BusType', 'BusNumber', 'DeviceNumber'].map((p) => soap(page, `IVMHardDiskConnection_get_${p}`, { _this: hdc })))
      .then((v) => v.join(':'));
  };
  // The wizard's disk is detached (confirm dialog) and attached again at
  // SCSI 0:0 (AddHardDiskConnection, busType 1).
  const diskPath = await diskRow.first().getAttribute('data-path');
  await diskRow.first().locator('[data-testid="vm-disk-remove"]').click();
  await page.locator('dialog[open] [data-testid="confirm-ok"]').click();
  await diskRow.first().waitFor({ state: 'detached' });
  await page.fill('[data-testid="vm-disk-add-path"]', diskPath);
  await page.selectOption('[data-testid="vm-disk-add-location"]', '1:0:0');
  await page.click('[data-testid="vm-disk-add"]');
  await page.locator('[data-testid="vm-disk-row"][data-bus-type="1"][data-device="0"]').waitFor();
  check(await hdcAt() === '1:0:0', 'the disk is attached at SCSI 0:0 in the API');

  // The whole page by keyboard, with a controller and a SCSI disk.
  await allLabelled(page, 'vm.html');
  await keyboardWalk(page, 'vm.html');

  // By keyboard: Remove of controller 0 opens the dialog (focus inside,
  // Tab stays there, Escape gives the focus back); confirmed, the server
  // refuses while the disk is on it, with the fault's message.
  await page.focus('[data-testid="vm-disk-add"]'); // the last control before the SCSI section
  must(await tabTo(page, '#scsi-0-remove', 10), 'Tab reaches Remove of controller 0');
  await page.keyboard.press('Enter');
  const dialog = page.locator('dialog[open]');
  await dialog.waitFor();
  check(await inDialog(), 'the dialog takes the focus');
  const outside = [];
  for (let i = 0; i < 4; i += 1) {
    await page.keyboard.press('Tab');
    const where = await page.evaluate(() => (!document.activeElement || document.activeElement === document.body
      || document.activeElement.closest('dialog[open]') ? '' : document.activeElement.outerHTML.slice(0, 60)));
    if (where) outside.push(where);
  }
  check(outside.length === 0, `Tab stays inside the dialog${outside.length ? ` (went to ${outside.join(', ')})` : ''}`);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  check(await activeId(page) === 'scsi-0-remove', 'Escape closes the dialog and gives the focus back to Remove');
  await page.keyboard.press('Enter');
  await dialog.waitFor();
  must(await tabTo(page, 'dialog[open] [data-testid="confirm-ok"]', 5), 'Tab reaches the dialog\'s Remove');
  await page.keyboard.press('Enter');
  await showsFault(page, section, await faultOf(page, 'IVMVirtualMachine_RemoveSCSIController',
    { _this: vmRef, controller: c0 }), 'removing a controller with a disk on it');
  await shotOf(section, 'vm-scsi-fault-desktop');

  // By keyboard: SCSI ID 6 (arrow key in the list) and a shared bus.
  await page.focus('[data-testid="vm-disk-add"]');
  must(await tabTo(page, '#scsi-0-id', 10), 'Tab reaches the SCSI ID of controller 0');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Tab');
  check(await activeId(page) === 'scsi-0-shared', 'Tab goes from the SCSI ID to the shared-bus box');
  await page.keyboard.press('Space');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await section.locator('[role="status"]').filter({ hasText: 'SCSI controller 0 is set' }).waitFor();
  check(await soap(page, 'IVMSCSIController_get_SCSIID', { _this: c0 }) === '6'
    && await soap(page, 'IVMSCSIController_get_IsBusShared', { _this: c0 }) === 'true',
  'set by keyboard: controller 0 is shared with SCSI ID 6 in the API');
  check(await controller.getAttribute('data-scsi-id') === '6' && await controller.getAttribute('data-shared') === 'true'
    && await page.inputValue('#scsi-0-id') === '6', 'the page reads the controller back');
  check(await activeId(page) === 'scsi-0-save', 'the focus stays on Set controller 0 after the page reads the VM again');
  await shotOf(section, 'vm-scsi-desktop');
  await shotOf(page.locator('section[aria-labelledby="disks-heading"]'), 'vm-disks-scsi-desktop');
  await page.setViewportSize(PHONE);
  check(await fitsWidth(page), 'vm.html with a SCSI controller fits the phone\'s width');
  await shotOf(section, 'vm-scsi-phone');
  await page.setViewportSize(DESKTOP);

  // Back to IDE 0:0 (SetBusLocation), then the controller goes.
  await page.locator('[data-testid="vm-disk-move-location"]').first().selectOption('0:0:0');
  await page.locator('[data-testid="vm-disk-row"][data-bus-type="0"][data-device="0"]').waitFor();
  check(await hdcAt() === '0:0:0', 'the disk moved back to IDE 0:0 in the API');
  await section.locator('[data-testid="vm-scsi-remove"]').click();
  await page.locator('dialog[open] [data-testid="confirm-ok"]').click();
  await section.locator('[data-testid="vm-scsi-none"]').waitFor();
  check(!await soap(page, 'IVMVirtualMachine_get_SCSIControllers', { _this: vmRef }), 'Remove: no SCSI controller in the API');
  // (the page reads the rest of the VM first)
  await page.waitForFunction(() => document.activeElement?.id === 'scsi-add', null, { timeout: 10000 }).catch(() => {});
  check(await activeId(page) === 'scsi-add', 'the focus goes to Add SCSI controller after the removal');
  console.log(`# the SCSI section and the VM page by keyboard took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
// ---------------------------------------------------------------- end of keyboard, labels, SCSI

// A network for the VM's adapter, created on the networks page; its
// statistics and host connectivity.
let netRef = '';
async function networkStatistics(page, vmRef) {
  await page.goto(`${URL_BASE}networks.html`);
  await loaded(page);
  await page.fill('[data-testid="net-create-name"]', 'browser-net');
  await page.click('[data-testid="net-create-submit"]');
  await page.waitForURL(/networks\.html\?net=/);
  netRef = new URL(page.url()).searchParams.get('net');
  let nics = [].concat(await soap(page, 'IVMVirtualMachine_get_NetworkAdapters', { _this: vmRef }) || []);
  if (!nics.length) nics = [await soap(page, 'IVMVirtualMachine_AddNetworkAdapter', { _this: vmRef })];
  await soap(page, 'IVMNetworkAdapter_AttachToVirtualNetwork', { _this: nics[0], virtualNetwork: netRef });
  await page.reload();
  await loaded(page);
  const stats = page.locator('[data-testid="net-stats"]');
  await stats.locator('[data-testid="net-stats-vm"]').waitFor();
  check(await stats.locator('[data-testid="net-stats-row"]').count() === 3, 'the statistics show received, sent and dropped');
  check(await stats.locator('[data-testid="net-stats-vm"] a').textContent() === VM_NAME, 'the VM on the network is listed with its traffic');
  const host = await soap(page, 'IVMVirtualServer_get_HostInfo');
  const adapters = [].concat(await soap(page, 'IVMHostInfo_get_NetworkAdapters', { _this: host }) || []);
  const options = await page.locator('[data-testid="net-host-adapter"] option').evaluateAll((o) => o.map((x) => x.value));
  check(options[0] === '' && adapters.every((a) => options.includes(a)),
    `host connectivity offers none and every host adapter (${JSON.stringify(adapters)})`);
  await shotOf(page.locator('section[aria-labelledby="stats-heading"]'), 'networks-stats-desktop');
  await shot(page, 'networks-detail-desktop');
}

// The server page: configuration values and event scripts.
async function serverSettings(page) {
  const config = page.locator('article[aria-labelledby="config-heading"]');
  await page.fill('[data-testid="server-config-key"]', 'browser/missing');
  await page.click('[data-testid="server-config-read"]');
  await showsFault(page, config, await faultOf(page, 'IVMVirtualServer_GetConfigurationValue',
    { preferenceKey: 'browser/missing' }), 'reading a missing key');
  await page.fill('[data-testid="server-config-key"]', 'browser/greeting');
  await page.selectOption('[data-testid="server-config-type"]', 'string');
  await page.fill('[data-testid="server-config-value"]', 'hello from the browser');
  await page.click('[data-testid="server-config-write"]');
  await config.locator('[role="status"]').filter({ hasText: 'written' }).waitFor();
  await page.fill('[data-testid="server-config-value"]', '');
  await page.click('[data-testid="server-config-read"]');
  await config.locator('[role="status"]').filter({ hasText: 'read' }).waitFor();
  check(await page.inputValue('[data-testid="server-config-value"]') === 'hello from the browser',
    'a configuration value written on the Server page reads back');
  const stored = await page.evaluate(async () => {
    const { callStruct } = await import('/js/soap.js');
    return callStruct('IVMVirtualServer_GetConfigurationValue', { preferenceKey: 'browser/greeting' });
  });
  check(stored?.stringValue === 'hello from the browser', 'the value is in the API');
  await shotOf(config, 'server-config-desktop');

  const scripts = page.locator('article[aria-labelledby="server-scripts-heading"]');
  const started = scripts.locator('[data-testid="server-script-row"][data-event="0"]');
  await started.locator('[data-testid="server-script-command"]').fill('/usr/bin/true server');
  await started.locator('[data-testid="server-script-save"]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="server-script-row"][data-event="0"]')?.dataset.command === '/usr/bin/true server');
  check(await soap(page, 'IVMVirtualServer_FetchScriptByEvent', { eventType: 0 }) === '/usr/bin/true server',
    'a server script set on the Server page is in the API');
  await shotOf(scripts, 'server-scripts-desktop');
  await started.locator('[data-testid="server-script-remove"]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="server-script-row"][data-event="0"]')?.dataset.command === '');
  check(!await soap(page, 'IVMVirtualServer_FetchScriptByEvent', { eventType: 0 }), 'Remove unbinds it');
}

async function scenario(browser) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: DESKTOP });
  const page = await context.newPage();
  currentPage = page;
  watch(page);
  page.setDefaultTimeout(30000);

  // A wrong password is refused, on the login page, with a message. The
  // browser itself logs the refused request (HTTP 401) as a failed load.
  allowedConsole = /status of 401/;
  await page.goto(`${URL_BASE}login.html`);
  await page.fill('#username', USER);
  await page.fill('#password', `${PASSWORD}-wrong`);
  await page.click('#login-submit');
  await page.locator('#login-error').filter({ hasText: /\S/ }).waitFor();
  check(page.url().endsWith('login.html'), 'a wrong password keeps the user on the login page');
  check(/password/i.test(await page.textContent('#login-error')), 'the refusal says why');
  await shot(page, 'login-refused-desktop');
  allowedConsole = null;

  // Sign in: the master status page.
  await page.fill('#password', PASSWORD);
  await page.click('#login-submit');
  await page.waitForURL(/index\.html$|\/$/);
  must(await loaded(page) === 'loaded', 'signed in: the master status page loads');

  // The wizard: a VM with a new dynamic disk and the typewriter CD.
  await page.goto(`${URL_BASE}vm-new.html`);
  await loaded(page);
  await page.fill('[data-testid="wizard-name"]', VM_NAME);
  await page.fill('[data-testid="wizard-memory"]', '32');
  await page.check('[data-testid="wizard-disk-new"]');
  await page.fill('[data-testid="wizard-disk-size"]', '64');
  const dvd = page.locator('[data-testid="wizard-dvd"]');
  if (await dvd.evaluate((node) => node.tagName) === 'SELECT') {
    await dvd.selectOption(ISO);
  } else {
    await dvd.fill(ISO);
  }
  await shot(page, 'vm-new-filled-desktop');
  await page.click('[data-testid="wizard-submit"]');
  await page.waitForURL(/vm\.html\?vm=/, { timeout: 60000 });
  must(await loaded(page) === 'loaded', 'the wizard created the VM and shows its page');
  const vmRef = new URL(page.url()).searchParams.get('vm');
  await shot(page, 'vm-desktop');
  const vmFile = await soap(page, 'IVMVirtualMachine_get_File', { _this: vmRef });
  const disks = await soap(page, 'IVMVirtualMachine_get_HardDiskConnections', { _this: vmRef });
  check((Array.isArray(disks) ? disks.length : disks ? 1 : 0) === 1, 'the VM has the new disk');
  const drives = await soap(page, 'IVMVirtualMachine_get_DVDROMDrives', { _this: vmRef });
  const drive = Array.isArray(drives) ? drives[0] : drives;
  check(drive && await soap(page, 'IVMDVDDrive_get_ImageFile', { _this: drive }) === ISO,
    'the VM has the CD in its DVD drive');

  await configureVm(page, vmRef, vmFile);
  await scsiSection(page, vmRef);
  await networkStatistics(page, vmRef);

  // Start from the master status list.
  await page.goto(`${URL_BASE}index.html`);
  await loaded(page);
  const row = await vmRow(page);
  await keyboardStart(page);
  await waitRowState(page, 5);
  check(true, 'Start from the list (by keyboard): the row says Running');
  must(await waitFor(() => com1Log(vmFile).includes('VSA-TYPEWRITER-READY'), 60000),
    'the guest booted the CD (its banner is on COM1)');
  // The thumbnail follows the screen: not blank once the banner is up.
  check(await waitFor(() => row.locator('[data-testid="vm-thumbnail"]').evaluate((node) => {
    const canvas = node.tagName === 'CANVAS' ? node : node.querySelector('canvas');
    if (canvas) {
      const copy = new OffscreenCanvas(canvas.width, canvas.height).getContext('2d', { willReadFrequently: true });
      copy.drawImage(canvas, 0, 0);
      const data = copy.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < data.length; i += 4) if (data[i] + data[i + 1] + data[i + 2] > 0) return true;
      return false;
    }
    const img = node.tagName === 'IMG' ? node : node.querySelector('img');
    return Boolean(img && img.complete && img.naturalWidth > 0);
  }), 40000, 500), 'the live thumbnail shows the screen');
  await shot(page, 'index-running-desktop');

  // The console: boot text, the same picture as the API's.
  await row.locator('[data-testid="vm-console-link"]').click();
  await page.waitForURL(/console\.html\?vm=/);
  await page.waitForFunction(() => document.body.dataset.state === 'connected', null, { timeout: 30000 });
  check(true, 'the console connects over the WebSocket');
  await consoleShowsApiScreen(page, vmRef, 'boot text');
  const display = await soap(page, 'IVMVirtualMachine_get_Display', { _this: vmRef });
  const bootText = await soap(page, 'IVMDisplay_get_Text', { _this: display });
  check(bootText.includes('VSA typewriter') && bootText.includes('Type here:'),
    `the display text the API reports is the guest's boot text (${JSON.stringify(bootText.split('\n')[0])})`);
  await shot(page, 'console-boot-desktop');
  await allLabelled(page, 'console.html');

  // Type into the guest through the console.
  await page.click('[data-testid="console-screen"] canvas');
  await page.keyboard.type(TYPED, { delay: 40 });
  await page.keyboard.press('Enter');
  check(await waitFor(() => com1Log(vmFile).includes(`${TYPED}\n`), 20000),
    `the keys reached the guest (COM1 echoes "${TYPED}")`);
  await consoleShowsApiScreen(page, vmRef, 'typed text');
  check((await soap(page, 'IVMDisplay_get_Text', { _this: display })).includes(`Type here: ${TYPED}`),
    'the display text shows what was typed');
  // The host key gives the keyboard back to the page (keyboard users
  // could not leave the screen otherwise: it takes Tab too).
  await page.keyboard.press('AltRight');
  check(await page.evaluate(() => !document.querySelector('[data-testid="console-screen"]')
    .contains(document.activeElement)), 'Right Alt (the host key) releases the keyboard');
  await shot(page, 'console-typed-desktop');

  // The mouse: the guest's BIOS found the PS/2 mouse, and motion and a
  // left click over the console reach the guest's packet handler.
  check(com1Log(vmFile).includes('VSA-TYPEWRITER-MOUSE-ON'), 'the guest found the PS/2 mouse');
  const box = await page.locator('[data-testid="console-screen"] canvas').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let i = 1; i <= 10; i += 1) await page.mouse.move(box.x + box.width / 2 + 8 * i, box.y + box.height / 2 + 5 * i);
  await page.mouse.down();
  await page.mouse.up();
  check(await waitFor(() => com1Log(vmFile).includes('VSA-MOUSE-MOVE'), 20000), 'mouse motion reached the guest');
  check(await waitFor(() => com1Log(vmFile).includes('VSA-MOUSE-LEFT'), 20000), 'a left click reached the guest');

  // The running VM's counters on its page: CPU use, bytes the guest read.
  await page.goto(`${URL_BASE}vm.html?vm=${encodeURIComponent(vmRef)}`);
  await loaded(page);
  check(await waitFor(() => page.evaluate(() => {
    const c = document.querySelector('[data-testid="vm-res-counters"]').dataset;
    return Number(c.DiskBytesRead) > 0 && c.CPUUtilization !== undefined;
  }), 20000), 'the resources card shows the running VM\'s counters (disk bytes read > 0)');
  check(await page.locator('[data-testid="vm-res-cpu-history"] .bar').count() === 60, 'the CPU chart has the last 60 seconds');
  await shotOf(page.locator('section[aria-labelledby="resources-heading"]'), 'vm-resources-running-desktop');

  // Save and restore: the typed text survives.
  await page.goto(`${URL_BASE}index.html`);
  await loaded(page);
  await row.locator('[data-testid="vm-action-save"]').click();
  await waitRowState(page, 2);
  check(true, 'Save from the list: the row says Saved');
  await shot(page, 'index-saved-desktop');
  await row.locator('[data-testid="vm-action-start"]').click();
  await waitRowState(page, 5);
  check(true, 'Start restores the saved VM: Running again');
  await row.locator('[data-testid="vm-console-link"]').click();
  await page.waitForFunction(() => document.body.dataset.state === 'connected', null, { timeout: 30000 });
  await consoleShowsApiScreen(page, vmRef, 'after the restore');
  await page.click('[data-testid="console-screen"] canvas');
  const logged = com1Log(vmFile).length;
  await page.keyboard.type('x', { delay: 40 });
  check(await waitFor(() => com1Log(vmFile).slice(logged).includes('x'), 20000),
    `the restored guest still takes keys (COM1 ends ${JSON.stringify(com1Log(vmFile).slice(-40))})`);
  await shot(page, 'console-desktop');

  // Turn off, then delete from the VM's page.
  await page.goto(`${URL_BASE}index.html`);
  await loaded(page);
  await row.locator('[data-testid="vm-action-turnoff"]').click();
  await waitRowState(page, 1);
  check(true, 'Turn off from the list: the row says Turned off');

  // Users: add an operator account from the Server page, see it listed,
  // remove it again (through the confirm dialog).
  await page.goto(`${URL_BASE}server.html`);
  await loaded(page);
  await page.fill('[data-testid="user-add-name"]', 'operator');
  await page.fill('[data-testid="user-add-password"]', 'operator-password-1');
  await page.fill('[data-testid="user-add-groups"]', 'ops');
  await page.click('[data-testid="user-add-submit"]');
  const operator = page.locator('[data-testid="users-row"][data-user-name="operator"]');
  await operator.waitFor();
  const accounts = await soap(page, 'Accounts_List');
  check(JSON.stringify(accounts).includes('operator'), 'a user added on the Server page exists in the API');
  await operator.scrollIntoViewIfNeeded();
  await shot(page, 'server-users-desktop');
  await operator.locator('[data-testid="user-remove"]').click();
  await page.locator('dialog[open] [data-testid="confirm-ok"]').click();
  await operator.waitFor({ state: 'detached' });
  check(true, 'the user is removed again');
  await serverSettings(page);

  // --- begin: API reference (api.html, generated from wsdl/vsa-api.txt) ---
  await page.click('[data-testid="nav-api"]');
  await page.waitForURL(/api\.html/);
  await loaded(page);
  check(await page.locator('[data-testid="nav-api"][aria-current="page"]').count() === 1,
    'the navigation leads to the API reference and marks it current');
  check(await page.locator('article[id="IVMVirtualServer_get_Name"]').count() === 1,
    'the API reference has an entry per operation');
  // The viewport only: the whole page (every operation) is too tall for a full-page shot.
  const apiShot = path.join(ARTIFACTS, 'api-reference-desktop.png');
  await page.screenshot({ path: apiShot });
  console.log(`# screenshot ${apiShot} (at ${elapsed()})`);
  await page.setViewportSize(PHONE);
  check(await fitsWidth(page), 'api.html fits the phone\'s width');
  await page.setViewportSize(DESKTOP);
  // --- end: API reference ---

  // Every page, at both sizes, with the VM still there.
  await photographPages(page, 'desktop');
  await page.setViewportSize(PHONE);
  await photographPages(page, 'phone');
  await page.goto(`${URL_BASE}networks.html?net=${encodeURIComponent(netRef)}`);
  await loaded(page);
  await page.locator('[data-testid="net-stats-table"]').waitFor();
  check(await fitsWidth(page), 'networks.html with a network\'s statistics fits the phone\'s width');
  await shot(page, 'networks-detail-phone');
  await page.goto(`${URL_BASE}vm.html?vm=${encodeURIComponent(vmRef)}`);
  await loaded(page);
  check(await fitsWidth(page), 'vm.html fits the phone\'s width');
  await shot(page, 'vm-phone');
  for (const [section, name] of [['ports', 'vm-ports'], ['resources', 'vm-resources'], ['scripts', 'vm-scripts']]) {
    await shotOf(page.locator(`section[aria-labelledby="${section}-heading"]`), `${name}-phone`);
  }
  await page.goto(`${URL_BASE}console.html?vm=${encodeURIComponent(vmRef)}`);
  await page.waitForFunction(() => ['disconnected', 'error'].includes(document.body.dataset.state));
  check(await fitsWidth(page), 'console.html fits the phone\'s width');
  await shot(page, 'console-off-phone');
  await page.setViewportSize(DESKTOP);

  await page.goto(`${URL_BASE}vm.html?vm=${encodeURIComponent(vmRef)}`);
  await loaded(page);
  await page.click('[data-testid="vm-delete"]');
  const confirm = page.locator('dialog[open] [data-testid="confirm-ok"]');
  if (await confirm.count()) await confirm.click();
  await page.waitForURL(/index\.html/, { timeout: 30000 });
  await loaded(page);
  check(await (await vmRow(page)).count() === 0, 'the deleted VM is gone from the list');
  const vms = await soap(page, 'IVMVirtualServer_get_VirtualMachines');
  check(!(Array.isArray(vms) ? vms : [vms]).includes(vmRef), 'the API no longer lists the VM');

  await page.click('[data-testid="sign-out"]');
  await page.waitForURL(/login\.html/);
  check(true, 'sign out returns to the login page');
  await shot(page, 'login-desktop');
  await allLabelled(page, 'login.html');
  await context.close();
}

const browser = await chromium.launch({
  executablePath: process.env.VSA_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  await scenario(browser);
} catch (error) {
  failures += 1;
  console.log(`not ok - the scenario stopped: ${error.stack || error}`);
  if (currentPage) {
    console.log(`# on ${currentPage.url()}`);
    await shot(currentPage, 'failure').catch(() => {});
  }
} finally {
  await browser.close();
}
for (const problem of problems) console.log(`# console: ${problem}`);
check(problems.length === 0, `no console errors or warnings (${problems.length})`);
console.log(`${checks - failures} passed, ${failures} failed, in ${elapsed()}`);
process.exit(failures === 0 ? 0 : 1);
