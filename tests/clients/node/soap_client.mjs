// SPDX-License-Identifier: GPL-2.0-or-later
//
// The management scenario with node's `soap` package (npm), a client that
// builds every message from the WSDL vsad serves (GET /VirtualServer?wsdl),
// as a node.js management tool would. Run by
// tests/appliance/run_client_scenario.py, which starts vsad with two
// accounts (an administrator and "viewer") and passes:
//
//   node soap_client.mjs URL CA_FILE ADMIN ADMIN_PASSWORD VIEWER VIEWER_PASSWORD ISO
//
// Scenario: log on (Session_Logon, then the SessionToken header); create a
// dynamic VHD (task), a VM, attach the disk and a DVD image, start it
// (task), see it Running with a non-empty 64x48 thumbnail, pause, resume,
// save (task), start it again from the saved state, turn it off, read the
// event log, and delete it; an ACL step where the viewer is denied reading
// a VM (the fault names the right) until the administrator allows it.
// Faults are checked for their VirtualServerFault detail (HRESULT, name,
// message). Prints one line per check and "N passed, N failed"; exits 1 on
// any failure.
//
// Runs on node 18 (Debian 12) and later: no newer language features.
import fs from 'node:fs';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import soap from 'soap';

const NS = 'urn:vsa:virtualserver:1';
const E_ACCESSDENIED = 0x80070005;
const E_INVALIDARG = 0x80070057;
// VMVMState (vs-api.md section 4).
const State = { TurnedOff: 1, Saved: 2, Running: 5, Paused: 6 };

const args = process.argv.slice(2);
if (args.length !== 7) {
  console.error('usage: soap_client.mjs URL CA ADMIN PASSWORD VIEWER PASSWORD ISO');
  process.exit(2);
}
const [url, caFile, admin, adminPassword, viewer, viewerPassword, iso] = args;

// vsad's certificate is self-signed: trust exactly it, with host-name
// checking left on (the certificate names 127.0.0.1).
const httpsAgent = new https.Agent({ ca: fs.readFileSync(caFile), keepAlive: true });
// Passed to axios with every call: the agent, and a bound on a hung call.
const callOptions = { httpsAgent, timeout: 120000 };

let passed = 0;
let failed = 0;

function check(condition, what) {
  if (condition) {
    passed++;
    console.log(`PASS ${what}`);
  } else {
    failed++;
    console.log(`FAIL ${what}`);
  }
  return condition;
}

// The VirtualServerFault detail of a SOAP fault, or null for an error that
// is not one (a transport failure, a parse error).
function faultOf(error) {
  const fault = error?.root?.Envelope?.Body?.Fault;
  const detail = fault?.detail?.VirtualServerFault;
  if (!detail) return null;
  return {
    faultstring: fault.faultstring,
    hresult: Number(detail.hresult),
    hresultName: detail.hresultName,
    message: detail.message,
  };
}

// One client per session: the SessionToken header belongs to the client.
// The WSDL is parsed once (node soap caches it by URL) so the later
// clients are cheap.
async function newClient() {
  return soap.createClientAsync(`${url}?wsdl`, { wsdl_options: { httpsAgent } });
}

// The result of an operation that may fault: { result } or { fault }.
// Anything else (TLS, HTTP, parse) is not part of the scenario: it throws.
async function call(client, operation, params = {}) {
  try {
    const [result] = await client[`${operation}Async`](params, callOptions);
    return { result };
  } catch (error) {
    const fault = faultOf(error);
    if (!fault) throw error;
    return { fault };
  }
}

// The returnval of an operation that must succeed (null after a fault,
// which fails a check naming the operation and the fault).
async function value(client, operation, params = {}) {
  const { result, fault } = await call(client, operation, params);
  if (fault) {
    check(false, `${operation}: ${fault.hresultName} ${fault.message}`);
    return null;
  }
  return result?.returnval ?? null;
}

// The items of an operation answering an ArrayOf*: an empty array comes
// back as a null returnval, a single item as a bare value.
async function items(client, operation, params = {}) {
  const answer = await value(client, operation, params);
  if (answer === null || answer.item === undefined) return [];
  return Array.isArray(answer.item) ? answer.item : [answer.item];
}

async function logon(user, password) {
  const client = await newClient();
  const token = await value(client, 'Session_Logon', { userName: user, password });
  if (token) client.addSoapHeader({ SessionToken: token }, '', 'vs', NS);
  return { client, token };
}

// Polls the task until it completes, then checks its Result.
async function waitTask(client, task, what) {
  if (!check(task, `${what} returns a task`)) return;
  const deadline = Date.now() + 120000;
  for (;;) {
    const done = await value(client, 'IVMTask_WaitForCompletion', { _this: task, timeout: 5000 });
    if (done === null || done === true || Date.now() > deadline) break;
  }
  const result = await value(client, 'IVMTask_get_Result', { _this: task });
  const error = await value(client, 'IVMTask2_get_ErrorDescription', { _this: task });
  check(result !== null && Number(result) === 0, `${what} completes (Result ${result}: ${error ?? ''})`);
}

async function state(client, vm) {
  return Number(await value(client, 'IVMVirtualMachine_get_State', { _this: vm }));
}

// A fault with the given HRESULT whose message matches, and whose
// faultstring is that message (vsad puts the same text in both).
function checkFault(answer, hresult, name, messagePattern, what) {
  const fault = answer.fault;
  check(
    fault &&
      fault.hresult === hresult &&
      fault.hresultName === name &&
      messagePattern.test(fault.message) &&
      fault.faultstring === fault.message,
    `${what} (${fault ? `${fault.hresultName} 0x${fault.hresult.toString(16)}: ${fault.message}` : 'no fault'})`,
  );
}

async function main() {
  const { client: a, token } = await logon(admin, adminPassword);
  check(typeof token === 'string' && token.length > 20, 'Session_Logon returns a token');
  check((await value(a, 'Session_CurrentUser')) === admin, 'the token authenticates as the administrator');
  const anonymous = await newClient();
  checkFault(
    await call(anonymous, 'IVMVirtualServer_get_Name'),
    E_ACCESSDENIED,
    'E_ACCESSDENIED',
    /authentication required/,
    'no token, no access',
  );
  checkFault(
    await call(a, 'IVMVirtualMachine_get_Name', { _this: 'not-a-vm' }),
    E_INVALIDARG,
    'E_INVALIDARG',
    /not-a-vm/,
    'a bad reference faults with E_INVALIDARG naming it',
  );

  // The disk: a dynamic VHD inside the default VM folder.
  const folder = await value(a, 'IVMVirtualServer_get_DefaultVMConfigurationPath');
  const vhd = `${folder}/node/node.vhd`;
  await waitTask(
    a,
    await value(a, 'IVMVirtualServer_CreateDynamicVirtualHardDisk', { imagePath: vhd, size: 64 }),
    'CreateDynamicVirtualHardDisk',
  );
  check(fs.existsSync(vhd), 'the VHD exists');

  const vm = await value(a, 'IVMVirtualServer_CreateVirtualMachine', {
    configurationName: 'node-vm',
    configurationPath: '',
  });
  check(vm, 'CreateVirtualMachine');
  await value(a, 'IVMVirtualMachine_set_Memory', { _this: vm, memory: 32 });
  const disk = await value(a, 'IVMVirtualMachine_AddHardDiskConnection', {
    _this: vm,
    hardDiskPath: vhd,
    busType: 0,
    busNumber: 0,
    deviceNumber: 0,
  });
  check(disk, 'AddHardDiskConnection');
  const dvd = await value(a, 'IVMVirtualMachine_AddDVDROMDrive', {
    _this: vm,
    busType: 0,
    busNumber: 1,
    deviceNumber: 0,
  });
  await value(a, 'IVMDVDDrive_AttachImage', { _this: dvd, imagePath: iso });
  check((await value(a, 'IVMDVDDrive_get_ImageFile', { _this: dvd })) === iso, 'the DVD image is attached');

  // The power cycle, from the event-log sequence number before it.
  const mark = await value(a, 'IVMVirtualServer_get_LastEventSequence');
  await waitTask(a, await value(a, 'IVMVirtualMachine_Startup', { _this: vm }), 'Startup');
  check((await state(a, vm)) === State.Running, 'the VM is Running');
  const display = await value(a, 'IVMVirtualMachine_get_Display', { _this: vm });
  let pixels = [];
  // The firmware needs a moment to draw something.
  for (let i = 0; i < 50; i++) {
    pixels = (await items(a, 'IVMDisplay_get_Thumbnail', { _this: display })).map(Number);
    if (pixels.some((p) => p !== 0)) break;
    await sleep(200);
  }
  check(pixels.length === 64 * 48, `the thumbnail has 64 x 48 pixels (${pixels.length})`);
  check(
    pixels.some((p) => p !== 0),
    'the thumbnail is not blank',
  );

  await value(a, 'IVMVirtualMachine_Pause', { _this: vm });
  check((await state(a, vm)) === State.Paused, 'Pause: the VM is Paused');
  await value(a, 'IVMVirtualMachine_Resume', { _this: vm });
  check((await state(a, vm)) === State.Running, 'Resume: the VM is Running');
  await waitTask(a, await value(a, 'IVMVirtualMachine_Save', { _this: vm }), 'Save');
  check((await state(a, vm)) === State.Saved, 'the VM is Saved');
  await waitTask(a, await value(a, 'IVMVirtualMachine_Startup', { _this: vm }), 'Startup from the saved state');
  check((await state(a, vm)) === State.Running, 'restored and Running');
  await waitTask(a, await value(a, 'IVMVirtualMachine_TurnOff', { _this: vm }), 'TurnOff');
  check((await state(a, vm)) === State.TurnedOff, 'the VM is TurnedOff');

  // Every state change of the cycle, in order: Starting, Running, Paused,
  // Running, Saving, Saved, Starting, Restoring, Running, TurningOff,
  // TurnedOff.
  const events = await items(a, 'IVMVirtualServer_GetEvents', { afterSequence: mark, maxCount: 1000 });
  const states = events.filter((e) => e.kind === 'OnVMStateChange' && e.object === vm).map((e) => Number(e.state));
  check(states.join(',') === '3,5,6,5,7,2,3,4,5,8,1', `the event log has every state in order (${states.join(',')})`);

  // ACLs: the viewer may not read the VM until the administrator allows it.
  const { client: v } = await logon(viewer, viewerPassword);
  const vm2 = await value(a, 'IVMVirtualServer_CreateVirtualMachine', {
    configurationName: 'node-acl',
    configurationPath: '',
  });
  checkFault(
    await call(v, 'IVMVirtualMachine_get_Name', { _this: vm2 }),
    E_ACCESSDENIED,
    'E_ACCESSDENIED',
    /'viewer' lacks the read right/,
    'the viewer is denied, and told which right',
  );
  const security = await value(a, 'IVMVirtualMachine_get_Security', { _this: vm2 });
  const entry = await value(a, 'IVMSecurity_AddEntry', { _this: security, nameOrSid: viewer, type: 0 });
  await value(a, 'IVMAccessRights_set_ReadAccess', { _this: entry, readAccess: true });
  check((await value(v, 'IVMVirtualMachine_get_Name', { _this: vm2 })) === 'node-acl', 'allowed, the viewer reads it');
  checkFault(
    await call(v, 'IVMVirtualMachine_Startup', { _this: vm2 }),
    E_ACCESSDENIED,
    'E_ACCESSDENIED',
    /lacks the execute right/,
    'but may not start it',
  );

  check(
    (await value(a, 'IVMVirtualServer_DeleteVirtualMachine', { virtualMachine: vm })) === true,
    'DeleteVirtualMachine',
  );
  check(
    (await value(a, 'IVMVirtualServer_DeleteVirtualMachine', { virtualMachine: vm2 })) === true,
    'DeleteVirtualMachine (ACL VM)',
  );
  check(!(await items(a, 'IVMVirtualServer_get_VirtualMachines')).includes(vm), 'the VM is gone');
  await value(a, 'Session_Logoff');
  checkFault(
    await call(a, 'IVMVirtualServer_get_Name'),
    E_ACCESSDENIED,
    'E_ACCESSDENIED',
    /./,
    'Session_Logoff ends the session',
  );
}

try {
  await main();
} catch (error) {
  // A transport or client failure ends the scenario: report it as a
  // failed check so the summary line still comes out.
  check(false, `the scenario runs to its end (${error?.stack ?? error})`);
}
httpsAgent.destroy();
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
