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
// restore (the typed text survives); turn off; delete. Every page is
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
  console.log(`# screenshot ${file}`);
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
  return page.evaluate(() => document.body.dataset.state);
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
    await shot(page, `${name}-${label}`);
  }
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

  // Start from the master status list.
  await page.goto(`${URL_BASE}index.html`);
  await loaded(page);
  const row = await vmRow(page);
  await row.locator('[data-testid="vm-action-start"]').click();
  await waitRowState(page, 5);
  check(true, 'Start from the list: the row says Running');
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

  // Every page, at both sizes, with the VM still there.
  await photographPages(page, 'desktop');
  await page.setViewportSize(PHONE);
  await photographPages(page, 'phone');
  await page.goto(`${URL_BASE}vm.html?vm=${encodeURIComponent(vmRef)}`);
  await loaded(page);
  check(await fitsWidth(page), 'vm.html fits the phone\'s width');
  await shot(page, 'vm-phone');
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
console.log(`${checks - failures} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
