#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A running VM's keyboard and mouse over SOAP (IVMKeyboard, IVMMouse) and
IVMDisplay's _GenerateThumbnail and SetDimensions: python3-zeep against a
live vsad that runs a real vsa-vm worker.

Usage: test_zeep_input.py vsad vsa-vhd vsa-vm keys_disk.img

The guest is tests/appliance/keys_disk.asm: it prints "VSA-KEYS-READY" on
COM1, then echoes every key the BIOS reads (INT 16h, filled from the PS/2
keyboard) to the screen and to COM1. So what the API types is read back
from the guest's serial log and screen: it went through the scan codes,
the i8042 (translating to set 1 for the BIOS) and SeaBIOS's keyboard
handler, with Shift as the guest saw it.

The guest never enables the PS/2 mouse, so the mouse checks are vsad's
state and its answers; a second administrator, "bob", checks exclusive
access to the keyboard.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad  # noqa: E402
from zeep_support import ZeepTestCase, make_client, make_counter_vm, run_tests, strings, wait_for  # noqa: E402

VSAD = VSA_VHD = VSA_VM = KEYS_DISK = None  # argv
BOB_PASSWORD = "bob-input-Secret-1"
state = {}


def read_text(path):
    try:
        with open(path, encoding="latin-1", newline="") as f:
            return f.read()
    except OSError:
        return ""


def echoed():
    """What the guest echoed since it got ready."""
    return read_text(state["com1"]).split("VSA-KEYS-READY\n", 1)[-1]


class Input(ZeepTestCase):
    def setUp(self):
        self.s = state["s"]
        self.vm = state["vm"]
        self.keyboard = self.s.IVMVirtualMachine_get_Keyboard(_this=self.vm)

    def expect_echo(self, tail, limit=20):
        """The guest's echo ends with `tail` within `limit` seconds."""
        self.assertTrue(wait_for(lambda: echoed().endswith(tail), limit),
                        "the guest echoed %r, not ending with %r" % (echoed()[-60:], tail))

    def test_1_off(self):
        """Before the VM starts: references, and the refusals of a VM that is off."""
        s, kb = self.s, self.keyboard
        self.assertEqual(kb, self.vm + "/keyboard")
        self.assert_fault(lambda: s.IVMVirtualMachine_get_Mouse(_this=self.vm), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMKeyboard_PressKey(_this=kb, key="Key_A"), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMKeyboard_TypeAsciiText(_this=kb, text="a"), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMKeyboard_IsPressed(_this=kb, key="Key_A"), "VM_E_VM_NOT_RUNNING")
        # A bad key is a bad argument whatever the state.
        self.assert_fault(lambda: s.IVMKeyboard_IsPressed(_this=kb, key="Key_Nope"), "E_INVALIDARG", text="Key_Nope")
        self.assertFalse(s.IVMKeyboard_get_HasExclusiveAccess(_this=kb))
        self.assert_fault(lambda: s.IVMKeyboard_set_HasExclusiveAccess(_this=kb, makeExclusive=True),
                          "VM_E_SET_EXCLUSIVE_MODE_FAIL")
        self.assertFalse(s.IVMKeyboard_set_HasExclusiveAccess(_this=kb, makeExclusive=False))
        mouse = self.vm + "/mouse"
        self.assert_fault(lambda: s.IVMMouse_GetButton(_this=mouse, buttonIndex=1), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMMouse_Click(_this=mouse, buttonIndex=1), "VM_E_VM_NOT_RUNNING")
        self.assertFalse(s.IVMMouse_get_UsingAbsoluteCoordinates(_this=mouse))
        display = s.IVMVirtualMachine_get_Display(_this=self.vm)
        self.assert_fault(lambda: s.IVMDisplay__GenerateThumbnail(_this=display), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMDisplay_SetDimensions(_this=display, displayPixelWidth=800,
                                                             displayPixelHeight=600), "VM_E_VM_NOT_RUNNING")
        # References of something else, or of no VM.
        self.assert_fault(lambda: s.IVMKeyboard_PressKey(_this=self.vm + "/mouse", key="Key_A"), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMKeyboard_PressKey(_this="{00000000-0000-0000-0000-000000000001}/keyboard",
                                                         key="Key_A"), "VM_E_VM_UNKNOWN")

        task = s.IVMVirtualMachine_Startup(_this=self.vm)
        self.wait_task(task)
        self.assertTrue(wait_for(lambda: "VSA-KEYS-READY" in read_text(state["com1"]), 60),
                        "the keys guest did not start: " + read_text(state["com1"]))

    def test_2_typing(self):
        s, kb = self.s, self.keyboard
        s.IVMKeyboard_TypeAsciiText(_this=kb, text="Hello, World! ~{vsa}_42?")
        self.expect_echo("Hello, World! ~{vsa}_42?")
        # The reference's example (with its Key_Left_Shift), then HOLD, spaces
        # around the items, and a lower-case identifier.
        s.IVMKeyboard_TypeKeySequence(
            _this=kb, keySequence="DOWN,Key_LeftShift,Key_H,UP,Key_LeftShift,Key_E,Key_L,Key_L,Key_O,Key_Space,"
                                  "DOWN,Key_LeftShift,Key_W,UP,Key_LeftShift,Key_O,Key_R,Key_L,Key_D,DOWN,"
                                  "Key_LeftShift,Key_1,UP,Key_Left_Shift")
        self.expect_echo("Hello World!")
        s.IVMKeyboard_TypeKeySequence(_this=kb, keySequence=" Key_Space , HOLD, key_x ,KeyPad_Multiply, Key_Tab")
        self.expect_echo(" x*\t")
        # What the guest echoed is on its screen too (row 12; before an
        # Enter, which only returns the teletype's cursor to column 0).
        text = s.IVMDisplay_get_Text(_this=s.IVMVirtualMachine_get_Display(_this=self.vm))
        self.assertIn("\nHello, World! ~{vsa}_42?Hello World! x*", text)
        s.IVMKeyboard_PressAndReleaseKey(_this=kb, key="Key_Z")
        self.expect_echo("z")
        s.IVMKeyboard_TypeAsciiText(_this=kb, text="a\r\nb\n")
        self.expect_echo("za\rb\r")

    def test_3_held_keys(self):
        s, kb = self.s, self.keyboard
        self.assertFalse(s.IVMKeyboard_IsPressed(_this=kb, key="Key_LeftShift"))
        s.IVMKeyboard_PressKey(_this=kb, key="Key_LeftShift")
        self.assertTrue(s.IVMKeyboard_IsPressed(_this=kb, key="Key_LeftShift"))
        self.assertTrue(s.IVMKeyboard_IsPressed(_this=kb, key="key_left_shift"))
        self.assertFalse(s.IVMKeyboard_IsPressed(_this=kb, key="Key_RightShift"))
        # The guest sees Shift held: Q, then q once it is released.
        s.IVMKeyboard_PressAndReleaseKey(_this=kb, key="Key_Q")
        self.expect_echo("Q")
        s.IVMKeyboard_ReleaseKey(_this=kb, key="Key_LeftShift")
        self.assertFalse(s.IVMKeyboard_IsPressed(_this=kb, key="Key_LeftShift"))
        s.IVMKeyboard_PressAndReleaseKey(_this=kb, key="Key_Q")
        self.expect_echo("Qq")
        # DOWN in a sequence holds the key after the call.
        s.IVMKeyboard_TypeKeySequence(_this=kb, keySequence="DOWN,Key_RightShift,Key_K")
        self.assertTrue(s.IVMKeyboard_IsPressed(_this=kb, key="Key_RightShift"))
        self.expect_echo("QqK")
        s.IVMKeyboard_TypeKeySequence(_this=kb, keySequence="UP,Key_RightShift,Key_K")
        self.assertFalse(s.IVMKeyboard_IsPressed(_this=kb, key="Key_RightShift"))
        self.expect_echo("QqKk")

    def test_4_bad_keys(self):
        s, kb = self.s, self.keyboard
        before = echoed()
        self.assert_fault(lambda: s.IVMKeyboard_PressKey(_this=kb, key="Key_Foo"), "E_INVALIDARG", text="Key_Foo")
        self.assert_fault(lambda: s.IVMKeyboard_PressAndReleaseKey(_this=kb, key=""), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMKeyboard_ReleaseKey(_this=kb, key="A"), "E_INVALIDARG")
        # Sequences and text are checked whole before anything is typed.
        self.assert_fault(lambda: s.IVMKeyboard_TypeKeySequence(_this=kb, keySequence="Key_A,,Key_B"),
                          "E_INVALIDARG", text="item 2")
        self.assert_fault(lambda: s.IVMKeyboard_TypeKeySequence(_this=kb, keySequence="Key_A,DOWN"),
                          "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMKeyboard_TypeKeySequence(_this=kb, keySequence="Key_A,Key_Bad"),
                          "E_INVALIDARG", text="Key_Bad")
        self.assert_fault(lambda: s.IVMKeyboard_TypeAsciiText(_this=kb, text="ab\u00e9"), "E_INVALIDARG",
                          text="character 3")
        self.assert_fault(lambda: s.IVMKeyboard_TypeAsciiText(_this=kb, text=""), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMKeyboard_TypeKeySequence(_this=kb, keySequence=",".join(["HOLD"] * 26)),
                          "E_INVALIDARG")
        time.sleep(0.5)
        self.assertEqual(echoed(), before, "a refused call typed something")

    def test_5_exclusive_access(self):
        s, kb = self.s, self.keyboard
        bob = state["bob"]
        self.assertFalse(s.IVMKeyboard_get_HasExclusiveAccess(_this=kb))
        self.assertTrue(s.IVMKeyboard_set_HasExclusiveAccess(_this=kb, makeExclusive=True))
        self.assertFalse(s.IVMKeyboard_set_HasExclusiveAccess(_this=kb, makeExclusive=True))  # S_FALSE
        self.assertTrue(s.IVMKeyboard_get_HasExclusiveAccess(_this=kb))
        self.assertFalse(bob.IVMKeyboard_get_HasExclusiveAccess(_this=kb))
        self.assert_fault(lambda: bob.IVMKeyboard_set_HasExclusiveAccess(_this=kb, makeExclusive=True),
                          "VM_E_SET_EXCLUSIVE_MODE_FAIL", text="admin")
        self.assert_fault(lambda: bob.IVMKeyboard_set_HasExclusiveAccess(_this=kb, makeExclusive=False),
                          "VM_E_SET_EXCLUSIVE_MODE_FAIL")
        # Bob's keys are ignored, as the reference says; the holder's arrive.
        bob.IVMKeyboard_TypeAsciiText(_this=kb, text="BOB")
        s.IVMKeyboard_TypeAsciiText(_this=kb, text="mine")
        self.expect_echo("Kkmine")
        self.assertTrue(s.IVMKeyboard_set_HasExclusiveAccess(_this=kb, makeExclusive=False))
        self.assertFalse(s.IVMKeyboard_set_HasExclusiveAccess(_this=kb, makeExclusive=False))
        bob.IVMKeyboard_TypeAsciiText(_this=kb, text="bob")
        self.expect_echo("Kkminebob")

    def test_6_mouse(self):
        s = self.s
        mouse = s.IVMVirtualMachine_get_Mouse(_this=self.vm)
        self.assertEqual(mouse, self.vm + "/mouse")
        for button in (1, 2, 3):
            self.assertFalse(s.IVMMouse_GetButton(_this=mouse, buttonIndex=button))
        s.IVMMouse_SetButton(_this=mouse, buttonIndex=1, down=True)
        self.assertTrue(s.IVMMouse_GetButton(_this=mouse, buttonIndex=1))
        self.assertFalse(s.IVMMouse_GetButton(_this=mouse, buttonIndex=2))
        # A click leaves the button up and the others as they were.
        s.IVMMouse_Click(_this=mouse, buttonIndex=2)
        self.assertFalse(s.IVMMouse_GetButton(_this=mouse, buttonIndex=2))
        self.assertTrue(s.IVMMouse_GetButton(_this=mouse, buttonIndex=1))
        s.IVMMouse_SetButton(_this=mouse, buttonIndex=3, down=True)
        self.assertTrue(s.IVMMouse_GetButton(_this=mouse, buttonIndex=3))
        s.IVMMouse_SetButton(_this=mouse, buttonIndex=1, down=False)
        s.IVMMouse_SetButton(_this=mouse, buttonIndex=3, down=False)
        for button in (1, 2, 3):
            self.assertFalse(s.IVMMouse_GetButton(_this=mouse, buttonIndex=button))
        for bad in (0, 4, -1):
            self.assert_fault(lambda: s.IVMMouse_Click(_this=mouse, buttonIndex=bad), "E_INVALIDARG")
            self.assert_fault(lambda: s.IVMMouse_GetButton(_this=mouse, buttonIndex=bad), "E_INVALIDARG")
            self.assert_fault(lambda: s.IVMMouse_SetButton(_this=mouse, buttonIndex=bad, down=True), "E_INVALIDARG")
        # Relative motion and the wheel; no position to read, no absolute mode.
        s.IVMMouse_set_HorizontalPosition(_this=mouse, position=25)
        s.IVMMouse_set_VerticalPosition(_this=mouse, position=-10)
        s.IVMMouse_set_ScrollWheelPosition(_this=mouse, position=2)
        s.IVMMouse_set_HorizontalPosition(_this=mouse, position=2**31 - 1)  # clamped
        self.assert_fault(lambda: s.IVMMouse_get_HorizontalPosition(_this=mouse), "VM_E_USING_RELATIVE_COORDINATES")
        self.assert_fault(lambda: s.IVMMouse_get_VerticalPosition(_this=mouse), "VM_E_USING_RELATIVE_COORDINATES")
        self.assertFalse(s.IVMMouse_get_UsingAbsoluteCoordinates(_this=mouse))
        s.IVMMouse_set_UsingAbsoluteCoordinates(_this=mouse, usingAbsoluteCoordinates=False)
        self.assert_fault(lambda: s.IVMMouse_set_UsingAbsoluteCoordinates(_this=mouse, usingAbsoluteCoordinates=True),
                          "VM_E_ADDITIONS_FEATURE_NOT_AVAIL", text="Additions")

    def test_7_display(self):
        s = self.s
        display = s.IVMVirtualMachine_get_Display(_this=self.vm)
        fast = list(s.IVMDisplay__GenerateThumbnail(_this=display))
        scripted = list(s.IVMDisplay_get_Thumbnail(_this=display))
        self.assertEqual(len(fast), 64 * 48)
        self.assertEqual(fast, scripted)
        # keys_disk paints rows 0-4 light red (DAC 12): blue << 24 | green << 16 | red << 8.
        self.assertEqual(fast[0], 0x55 << 24 | 0x55 << 16 | 0xFF << 8)
        for width, height in ((639, 480), (1608, 600), (800, 1208), (804, 600), (800, 604), (0, 0), (-800, 600)):
            self.assert_fault(lambda: s.IVMDisplay_SetDimensions(_this=display, displayPixelWidth=width,
                                                                 displayPixelHeight=height), "E_INVALIDARG")
        for width, height in ((800, 600), (640, 480), (1600, 1200)):
            self.assert_fault(lambda: s.IVMDisplay_SetDimensions(_this=display, displayPixelWidth=width,
                                                                 displayPixelHeight=height),
                              "VM_E_ADDITIONS_FEATURE_NOT_AVAIL", text="inside the guest")

    def test_8_stopped(self):
        """Held keys and buttons end with the worker."""
        s, kb = self.s, self.keyboard
        mouse = s.IVMVirtualMachine_get_Mouse(_this=self.vm)
        s.IVMKeyboard_PressKey(_this=kb, key="Key_LeftCtrl")
        s.IVMMouse_SetButton(_this=mouse, buttonIndex=2, down=True)
        self.assertTrue(s.IVMKeyboard_set_HasExclusiveAccess(_this=kb, makeExclusive=True))
        self.wait_task(s.IVMVirtualMachine_TurnOff(_this=self.vm))
        self.assert_fault(lambda: s.IVMKeyboard_IsPressed(_this=kb, key="Key_LeftCtrl"), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMKeyboard_PressAndReleaseKey(_this=kb, key="Key_A"), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMKeyboard_TypeKeySequence(_this=kb, keySequence="Key_A"),
                          "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMMouse_GetButton(_this=mouse, buttonIndex=2), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMMouse_set_ScrollWheelPosition(_this=mouse, position=1), "VM_E_VM_NOT_RUNNING")
        self.assertFalse(s.IVMKeyboard_get_HasExclusiveAccess(_this=kb))


def main():
    global VSAD, VSA_VHD, VSA_VM, KEYS_DISK
    VSAD, VSA_VHD, VSA_VM, KEYS_DISK = sys.argv[1:5]
    vsad = Vsad(VSAD, defines={"vm.worker_binary": VSA_VM})
    try:
        s = make_client(vsad).service
        s.Accounts_Add(name="bob", password=BOB_PASSWORD, administrator=True, groups=strings([]))
        state["s"] = s
        state["bob"] = make_client(vsad, user="bob", password=BOB_PASSWORD).service
        state["vm"], state["com1"], _ = make_counter_vm(s, VSA_VHD, KEYS_DISK, "input")

        def note():
            with open(vsad.stderr_path, errors="replace") as f:
                return "".join(f.readlines()[-40:])

        code = run_tests([Input], failfast=True, failure_note=note)
        if not vsad.alive():
            print("vsad died")
            code = 1
        if vsad.stop() != 0:
            print("vsad did not stop cleanly")
            code = 1
        return code
    finally:
        vsad.stop()
        vsad.cleanup()


if __name__ == "__main__":
    sys.exit(main())
