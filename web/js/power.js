// SPDX-License-Identifier: GPL-2.0-or-later
//
// The power actions of a VM and the states in which each is offered; used by
// the master status list and the VM page. Startup, TurnOff, Save and Reset
// return an IVMTask; Pause and Resume answer at once.

import { STATE } from './ui.js';

export const ACTIONS = {
  start: { label: 'Start', op: 'IVMVirtualMachine_Startup', task: true, verb: 'Starting' },
  turnoff: { label: 'Turn off', op: 'IVMVirtualMachine_TurnOff', task: true, verb: 'Turning off' },
  save: { label: 'Save', op: 'IVMVirtualMachine_Save', task: true, verb: 'Saving' },
  pause: { label: 'Pause', op: 'IVMVirtualMachine_Pause', task: false, verb: 'Pausing' },
  resume: { label: 'Resume', op: 'IVMVirtualMachine_Resume', task: false, verb: 'Resuming' },
  reset: { label: 'Reset', op: 'IVMVirtualMachine_Reset', task: true, verb: 'Resetting' },
};

/** The ACTIONS keys offered in a VMVMState. */
export function actionsFor(state) {
  switch (Number(state)) {
    case STATE.TurnedOff:
    case STATE.Saved: return ['start'];
    case STATE.Running: return ['turnoff', 'save', 'pause', 'reset'];
    case STATE.Paused: return ['resume', 'turnoff', 'save'];
    default: return [];
  }
}

/** Whether the VM is on (its display, guest and console exist). */
export function isOnState(state) {
  const s = Number(state);
  return s === STATE.Running || s === STATE.Paused;
}
