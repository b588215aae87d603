// SPDX-License-Identifier: GPL-2.0-or-later
//
// The management scenario with node's `soap` package (npm), a client that
// builds every message from the WSDL vsad serves (GET /VirtualServer?wsdl),
// as a node.js management tool would. Run by
// tests/appliance/run_client_scenario.py, which starts vsad with two
// accounts (an administrator and "viewer") and passes:
//
//   node soap_client.mjs [--agent-disk=IMG] URL CA_FILE ADMIN ADMIN_PASSWORD VIEWER VIEWER_PASSWORD ISO
//
// IVMGuestOS2 answers only through a guest agent: a second VM boots
// --agent-disk (tests/progs/agent_disk.img, a guest answering the
// qemu-guest-agent protocol); without it that interface is not called and
// the run fails.
//
// Scenario: log on (Session_Logon, then the SessionToken header); create a
// dynamic VHD (task), a VM, attach the disk and a DVD image, start it
// (task), see it Running with a non-empty 64x48 thumbnail, call every
// non-event interface of the model once at least and check the answer
// (everyInterface: a table, "interfaces called: N/38"), pause, resume,
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
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import soap from 'soap';

const NS = 'urn:vsa:virtualserver:1';
const E_ACCESSDENIED = 0x80070005;
const E_INVALIDARG = 0x80070057;
// VMVMState (vs-api.md section 4).
const State = { TurnedOff: 1, Saved: 2, Running: 5, Paused: 6 };

const args = process.argv.slice(2);
const agentDisk = args[0]?.startsWith('--agent-disk=') ? args.shift().slice('--agent-disk='.length) : null;
if (args.length !== 7) {
  console.error('usage: soap_client.mjs [--agent-disk=IMG] URL CA ADMIN PASSWORD VIEWER PASSWORD ISO');
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

// Whether an operation answering nothing succeeded (a fault fails a check
// naming it).
async function ok(client, operation, params = {}) {
  const { fault } = await call(client, operation, params);
  if (fault) check(false, `${operation}: ${fault.hresultName} ${fault.message}`);
  return !fault;
}

// At least one call on every non-event interface of the model (the 38 of
// vs-api.md; the event interfaces are the event log, read in main), each
// with a check of its answer, while `vm` is Running (display, keyboard,
// mouse and guest need that). The parts that change only while a VM is off
// go on a second VM that never starts: a NIC on a new network, a SCSI
// controller, the ports. Prints "interfaces called: N/38"; fewer fail.
async function everyInterface(a, { vm, vhd, dvd, task, folder, agentVm }) {
  // INTERFACE_get_PROP of the object ref (null: the root object).
  const get = (iface, prop, ref = null) => value(a, `${iface}_get_${prop}`, ref === null ? {} : { _this: ref });
  const num = async (iface, prop, ref) => Number(await get(iface, prop, ref));
  const first = async (operation, params = {}) => (await items(a, operation, params))[0] ?? '';
  // Count, Item(1) and _NewEnum of a collection: Count is _NewEnum's
  // length, Item(1) its first, and member is in it.
  const collection = async (iface, col, member) => {
    const all = await items(a, `${iface}_get__NewEnum`, { _this: col });
    const count = await num(iface, 'Count', col);
    const one = await value(a, `${iface}_get_Item`, { _this: col, index: 1 });
    return count === all.length && all.includes(member) && one === all[0];
  };
  const pvm = await value(a, 'IVMVirtualServer_CreateVirtualMachine', {
    configurationName: 'node-parts',
    configurationPath: '',
  });
  const comFile = `${folder}/node/com2.txt`;
  const r = {}; // references the probes find, for the later ones
  const probes = [
    ['IVMVirtualServer', 'MinimumMemoryPerVM <= 32 <= MaximumMemoryPerVM', async () =>
      (await num('IVMVirtualServer', 'MinimumMemoryPerVM')) <= 32 &&
      32 <= (await num('IVMVirtualServer', 'MaximumMemoryPerVM'))],
    ['IVMVirtualMachine', 'Memory is the 32 set, Name the one given', async () =>
      (await num('IVMVirtualMachine', 'Memory', vm)) === 32 &&
      (await get('IVMVirtualMachine', 'Name', vm)) === 'node-vm'],
    ['IVMVirtualMachineCollection', 'server/VirtualMachines holds the VM', () =>
      collection('IVMVirtualMachineCollection', 'server/VirtualMachines', vm)],
    ['IVMVirtualNetwork', "a new network's Name is the one given", async () => {
      r.net = await value(a, 'IVMVirtualServer_CreateVirtualNetwork', {
        configurationName: 'node-net',
        configurationPath: '',
      });
      return (await get('IVMVirtualNetwork', 'Name', r.net)) === 'node-net';
    }],
    ['IVMVirtualNetworkCollection', 'server/VirtualNetworks holds it', () =>
      collection('IVMVirtualNetworkCollection', 'server/VirtualNetworks', r.net)],
    ['IVMDHCPVirtualNetworkServer', 'set_IsEnabled false reads back', async () => {
      const dhcp = await get('IVMVirtualNetwork', 'DHCPVirtualNetworkServer', r.net);
      return (await ok(a, 'IVMDHCPVirtualNetworkServer_set_IsEnabled', { _this: dhcp, enabled: false })) &&
        (await get('IVMDHCPVirtualNetworkServer', 'IsEnabled', dhcp)) === false;
    }],
    // A disk of its own: the running VM holds the scenario's open.
    ['IVMHardDisk', 'a new 3 MB fixed disk: File, Type 1 (fixed), SizeInGuest >= 3 MB', async () => {
      const path = `${folder}/node/fixed.vhd`;
      await waitTask(a, await value(a, 'IVMVirtualServer_CreateFixedVirtualHardDisk', { imagePath: path, size: 3 }),
        'CreateFixedVirtualHardDisk');
      const disk = await value(a, 'IVMVirtualServer_GetHardDisk', { imagePath: path });
      return (await get('IVMHardDisk', 'File', disk)) === path && (await num('IVMHardDisk', 'Type', disk)) === 1 &&
        (await num('IVMHardDisk', 'SizeInGuest', disk)) >= 3 * 1024 * 1024;
    }],
    ['IVMHardDiskConnection', 'HardDisk is the VHD attached', async () => {
      r.hdc = await first('IVMVirtualMachine_get_HardDiskConnections', { _this: vm });
      return (await get('IVMHardDiskConnection', 'HardDisk', r.hdc)) === vhd;
    }],
    ['IVMHardDiskConnectionCollection', 'holds the connection', () =>
      collection('IVMHardDiskConnectionCollection', `${vm}/HardDiskConnections`, r.hdc)],
    ['IVMDVDDrive', 'Attachment 1 (image), BusNumber 1', async () =>
      (await num('IVMDVDDrive', 'Attachment', dvd)) === 1 && (await num('IVMDVDDrive', 'BusNumber', dvd)) === 1],
    ['IVMDVDDriveCollection', 'holds the drive', () => collection('IVMDVDDriveCollection', `${vm}/DVDROMDrives`, dvd)],
    ['IVMFloppyDrive', 'drive A: (DriveNumber 0), empty (Attachment 0)', async () => {
      r.fdd = await first('IVMVirtualMachine_get_FloppyDrives', { _this: vm });
      return (await num('IVMFloppyDrive', 'DriveNumber', r.fdd)) === 0 &&
        (await num('IVMFloppyDrive', 'Attachment', r.fdd)) === 0;
    }],
    ['IVMFloppyDriveCollection', 'holds drive A:', () =>
      collection('IVMFloppyDriveCollection', `${vm}/FloppyDrives`, r.fdd)],
    ['IVMNetworkAdapter', 'a new NIC attached to the network names it', async () => {
      r.nic = await value(a, 'IVMVirtualMachine_AddNetworkAdapter', { _this: pvm });
      return (await ok(a, 'IVMNetworkAdapter_AttachToVirtualNetwork', { _this: r.nic, virtualNetwork: r.net })) &&
        (await get('IVMNetworkAdapter', 'VirtualNetwork', r.nic)) === r.net;
    }],
    ['IVMNetworkAdapterCollection', "the network's NICs hold it", () =>
      collection('IVMNetworkAdapterCollection', `${r.net}/NetworkAdapters`, r.nic)],
    ['IVMSerialPort', 'COM2 configured as a text file reads back', async () => {
      const ports = await items(a, 'IVMVirtualMachine_get_SerialPorts', { _this: pvm });
      r.com = ports.length === 2 ? ports[1] : '';
      const configure = { _this: r.com, portType: 1, portName: comFile, connectImmediately: false };
      return (await ok(a, 'IVMSerialPort_Configure', configure)) &&
        (await num('IVMSerialPort', 'Type', r.com)) === 1 && (await get('IVMSerialPort', 'Name', r.com)) === comFile &&
        (await num('IVMSerialPort', '_ID', r.com)) === 1;
    }],
    ['IVMSerialPortCollection', 'holds COM2', () => collection('IVMSerialPortCollection', `${pvm}/SerialPorts`, r.com)],
    ['IVMParallelPort', 'set_Name LPT1 reads back', async () => {
      r.lpt = await first('IVMVirtualMachine_get_ParallelPorts', { _this: pvm });
      return (await ok(a, 'IVMParallelPort_set_Name', { _this: r.lpt, portName: 'LPT1' })) &&
        (await get('IVMParallelPort', 'Name', r.lpt)) === 'LPT1';
    }],
    ['IVMParallelPortCollection', 'holds LPT1', () =>
      collection('IVMParallelPortCollection', `${pvm}/ParallelPorts`, r.lpt)],
    ['IVMSCSIController', 'a new controller configured to SCSI ID 6 reads back', async () => {
      r.scsi = await value(a, 'IVMVirtualMachine_AddSCSIController', { _this: pvm });
      return (await ok(a, 'IVMSCSIController_Configure', { _this: r.scsi, isBusShared: false, SCSIID: 6 })) &&
        (await num('IVMSCSIController', 'SCSIID', r.scsi)) === 6 &&
        (await get('IVMSCSIController', 'IsBusShared', r.scsi)) === false;
    }],
    ['IVMSCSIControllerCollection', 'holds it', () =>
      collection('IVMSCSIControllerCollection', `${pvm}/SCSIControllers`, r.scsi)],
    ['IVMDisplay', 'a text mode (VideoMode 0) of at least 640 x 400', async () => {
      const display = await get('IVMVirtualMachine', 'Display', vm);
      return (await num('IVMDisplay', 'VideoMode', display)) === 0 &&
        (await num('IVMDisplay', 'Width', display)) >= 640 &&
        (await num('IVMDisplay', 'Height', display)) >= 400;
    }],
    ['IVMKeyboard', 'PressKey / ReleaseKey Key_LeftShift: IsPressed follows', async () => {
      const kb = await get('IVMVirtualMachine', 'Keyboard', vm);
      const key = { _this: kb, key: 'Key_LeftShift' };
      const down = (await ok(a, 'IVMKeyboard_PressKey', key)) &&
        (await value(a, 'IVMKeyboard_IsPressed', key)) === true;
      return (await ok(a, 'IVMKeyboard_ReleaseKey', key)) && down &&
        (await value(a, 'IVMKeyboard_IsPressed', key)) === false;
    }],
    ['IVMMouse', 'SetButton right: GetButton follows; relative coordinates', async () => {
      const mouse = await get('IVMVirtualMachine', 'Mouse', vm);
      const button = { _this: mouse, buttonIndex: 2 };
      const down = (await ok(a, 'IVMMouse_SetButton', { ...button, down: true })) &&
        (await value(a, 'IVMMouse_GetButton', button)) === true;
      return (await ok(a, 'IVMMouse_SetButton', { ...button, down: false })) && down &&
        (await value(a, 'IVMMouse_GetButton', button)) === false &&
        (await get('IVMMouse', 'UsingAbsoluteCoordinates', mouse)) === false;
    }],
    ['IVMAccountant', 'SetSchedulingParameters weight 200 reads back', async () => {
      const acc = await get('IVMVirtualMachine', 'Accountant', vm);
      const cap = await num('IVMAccountant', 'AllowableMaximumSystemCapacity', acc);
      return cap > 0 && cap <= 100 &&
        (await ok(a, 'IVMAccountant_SetSchedulingParameters', {
          _this: acc, reservedSystemCapacity: 0, maxSystemCapacity: cap, relativeWeight: 200,
        })) && (await num('IVMAccountant', 'RelativeWeight', acc)) === 200;
    }],
    ['IVMGuestOS', 'set_IsHostTimeSyncEnabled false reads back; HeartbeatPercentage 0..100', async () => {
      r.guest = await get('IVMVirtualMachine', 'GuestOS', vm);
      const off = (await ok(a, 'IVMGuestOS_set_IsHostTimeSyncEnabled', { _this: r.guest, enabled: false })) &&
        (await get('IVMGuestOS', 'IsHostTimeSyncEnabled', r.guest)) === false;
      const beat = await num('IVMGuestOS', 'HeartbeatPercentage', r.guest);
      return (await ok(a, 'IVMGuestOS_set_IsHostTimeSyncEnabled', { _this: r.guest, enabled: true })) && off &&
        beat >= 0 && beat <= 100;
    }],
    // On the agent VM (startAgentVm), started before the power cycle: its
    // agent answers once the guest has booted.
    ['IVMGuestOS2', "the agent VM's ComputerName, GetParameter VirtualMachineName", async () => {
      if (!agentVm) return false;
      const guest = await get('IVMVirtualMachine', 'GuestOS', agentVm);
      for (let i = 0; i < 300; i++) {
        if ((await call(a, 'IVMGuestOS_get_CanShutdown', { _this: guest })).result?.returnval === true) break;
        await sleep(100);
      }
      return (await get('IVMGuestOS2', 'ComputerName', guest)) === 'vsa-agent-guest' &&
        (await value(a, 'IVMGuestOS2_GetParameter', { _this: guest, name: 'VirtualMachineName' })) === 'node-agent';
    }],
    ['IVMHostInfo', 'LogicalProcessorCount >= 1, OperatingSystem named', async () => {
      const host = await get('IVMVirtualServer', 'HostInfo');
      return (await num('IVMHostInfo', 'LogicalProcessorCount', host)) >= 1 &&
        Boolean(await get('IVMHostInfo', 'OperatingSystem', host));
    }],
    ['IVMSecurity', 'set_GroupName Everyone reads back', async () => {
      r.security = await get('IVMVirtualMachine', 'Security', pvm);
      return (await ok(a, 'IVMSecurity_set_GroupName', { _this: r.security, groupName: 'Everyone' })) &&
        (await get('IVMSecurity', 'GroupName', r.security)) === 'Everyone';
    }],
    ['IVMAccessRights', 'a new entry for the viewer: set_WriteAccess reads back, no read', async () => {
      r.entry = await value(a, 'IVMSecurity_AddEntry', { _this: r.security, nameOrSid: viewer, type: 0 });
      return (await ok(a, 'IVMAccessRights_set_WriteAccess', { _this: r.entry, writeAccess: true })) &&
        (await get('IVMAccessRights', 'WriteAccess', r.entry)) === true &&
        (await get('IVMAccessRights', 'ReadAccess', r.entry)) === false &&
        (await get('IVMAccessRights', 'Name', r.entry)) === viewer;
    }],
    ['IVMAccessRightsCollection', 'the ACL holds the entry', async () =>
      collection('IVMAccessRightsCollection', await get('IVMSecurity', 'AccessRights', r.security), r.entry)],
    ['IVMTask', 'the Startup task: IsComplete, PercentCompleted 100', async () =>
      (await get('IVMTask', 'IsComplete', task)) === true && (await num('IVMTask', 'PercentCompleted', task)) === 100],
    ['IVMTask2', 'the Startup task: Error 0', async () => (await num('IVMTask2', 'Error', task)) === 0],
    ['IVMTaskCollection', 'server/Tasks holds the Startup task', () =>
      collection('IVMTaskCollection', 'server/Tasks', task)],
    ['IVMSupportDriver', 'Provider is "Linux " + this kernel\'s release', async () => {
      r.driver = await first('IVMVirtualServer_get_SupportDrivers');
      if (!r.driver) {
        console.log('no support driver on this host (neither tun nor bridge): IVMSupportDriver cannot be called');
        return false;
      }
      return (await get('IVMSupportDriver', 'Provider', r.driver)) === `Linux ${os.release()}`;
    }],
    ['IVMSupportDriverCollection', 'holds it', () =>
      collection('IVMSupportDriverCollection', 'server/SupportDrivers', r.driver)],
    ['IVMRCAuthenticator', "the console's method: VNC, Type 0", async () => {
      r.auth = await first('IVMVirtualServer_get_VMRCAuthenticators');
      return (await get('IVMRCAuthenticator', 'Name', r.auth)) === 'VNC' &&
        (await num('IVMRCAuthenticator', 'Type', r.auth)) === 0;
    }],
    ['IVMRCAuthenticatorCollection', 'holds it', () =>
      collection('IVMRCAuthenticatorCollection', 'server/VMRCAuthenticators', r.auth)],
  ];
  let called = 0;
  for (const [iface, what, run] of probes) if (check(await run(), `${iface}: ${what}`)) called++;
  const listed = new Set(probes.map(([iface]) => iface)).size;
  console.log(`interfaces called: ${called}/38`);
  check(called === 38 && listed === 38, `interfaces called: ${called}/38 (${listed} listed)`);
  check(
    (await value(a, 'IVMVirtualServer_DeleteVirtualMachine', { virtualMachine: pvm })) === true &&
      (await value(a, 'IVMVirtualServer_DeleteVirtualNetwork', { virtualNetwork: r.net })) === true,
    'the parts VM and the network are deleted',
  );
}

// The agent VM for IVMGuestOS2: a fixed VHD holding --agent-disk (a fixed
// VHD is the raw disk plus a footer), 16 MB of memory, started; null (said
// why) without an agent disk.
async function startAgentVm(a, folder) {
  if (!agentDisk) {
    console.log('IVMGuestOS2 needs a guest agent: no --agent-disk was given');
    return null;
  }
  const path = `${folder}/node/agent.vhd`;
  await waitTask(a, await value(a, 'IVMVirtualServer_CreateFixedVirtualHardDisk', { imagePath: path, size: 3 }),
    'CreateFixedVirtualHardDisk (agent disk)');
  const fd = fs.openSync(path, 'r+');
  fs.writeSync(fd, fs.readFileSync(agentDisk), 0, undefined, 0);
  fs.closeSync(fd);
  const vm = await value(a, 'IVMVirtualServer_CreateVirtualMachine', { configurationName: 'node-agent', configurationPath: '' });
  await value(a, 'IVMVirtualMachine_set_Memory', { _this: vm, memory: 16 });
  await value(a, 'IVMVirtualMachine_AddHardDiskConnection', {
    _this: vm, hardDiskPath: path, busType: 0, busNumber: 0, deviceNumber: 0,
  });
  check(await value(a, 'IVMVirtualMachine_Startup', { _this: vm }), 'Startup (agent VM) returns a task');
  return vm;
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

  const agentVm = await startAgentVm(a, folder);

  // The power cycle, from the event-log sequence number before it.
  const mark = await value(a, 'IVMVirtualServer_get_LastEventSequence');
  const started = await value(a, 'IVMVirtualMachine_Startup', { _this: vm });
  await waitTask(a, started, 'Startup');
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
  await everyInterface(a, { vm, vhd, dvd, task: started, folder, agentVm });
  if (agentVm) {
    await waitTask(a, await value(a, 'IVMVirtualMachine_TurnOff', { _this: agentVm }), 'TurnOff (agent VM)');
    check((await value(a, 'IVMVirtualServer_DeleteVirtualMachine', { virtualMachine: agentVm })) === true,
      'DeleteVirtualMachine (agent VM)');
  }

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
  // And the other changes since the mark: the tasks, the parts VM and the
  // network of the per-interface step.
  const seen = new Set(events.flatMap((e) => [`${e.kind} ${e.object}`, `${e.kind} ${e.objectName}`]));
  for (const want of [
    `TaskCompleted ${started}`,
    'VirtualMachineRegistered node-parts',
    'VirtualMachineUnregistered node-parts',
    'VirtualNetworkRegistered node-net',
    'VirtualNetworkUnregistered node-net',
  ])
    check(seen.has(want), `the event log has ${want}`);

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
