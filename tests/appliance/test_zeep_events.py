#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The event log, WaitForUpdates and RetrieveProperties over SOAP:
python3-zeep against a live vsad that runs a real vsa-vm worker.

Usage: test_zeep_events.py vsad vsa-vhd vsa-vm counter_disk.img hang_disk.img triple_disk.img

vsad runs with its long-poll listener on a free loopback port: waits go
there, and the main port refuses them. The guest is the counter disk
(tests/progs/counter_disk.asm), so the VM really starts, saves, restores
and turns off, and the log shows each state (OnVMStateChange) and each
task's completion in order. A restart of vsad keeps the log and its
numbering.
"""
import os
import shutil
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad  # noqa: E402
from zeep_support import ZeepTestCase, run_tests, make_client, make_counter_vm, service_at, strings, wait_for  # noqa: E402

VSAD = VSA_VHD = VSA_VM = COUNTER_DISK = HANG_DISK = TRIPLE_DISK = None  # argv
TURNED_OFF, SAVED, TURNING_ON, RESTORING, RUNNING, SAVING, TURNING_OFF = 1, 2, 3, 4, 5, 7, 8


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class EventsTest(ZeepTestCase):
    def start(self, data_dir=None, credentials=None):
        self.long_poll_port = free_port()
        daemon = Vsad(VSAD, data_dir=data_dir,
                      defines={"vm.worker_binary": VSA_VM, "https.longpoll_port": self.long_poll_port})
        if credentials:
            daemon.user, daemon.password = credentials
        self.vsad = daemon
        self.s = make_client(daemon).service
        self.poll = service_at(make_client(daemon), self.long_poll_port)

    def setUp(self):
        self.start()

    def tearDown(self):
        code = self.vsad.stop()
        shutil.rmtree(self.vsad.data_dir, ignore_errors=True)
        self.assertEqual(code, 0, "vsad exited with status %s" % code)

    def events(self, after=0):
        return self.s.IVMVirtualServer_GetEvents(afterSequence=after, maxCount=1000) or []

    def make_counter_vm(self, name, image=None):
        return make_counter_vm(self.s, VSA_VHD, image or COUNTER_DISK, name)[0]

    def test_the_log_records_a_power_cycle_in_order_and_survives_a_restart(self):
        s = self.s
        start = s.IVMVirtualServer_get_LastEventSequence()
        self.assertGreaterEqual(start, 1)
        self.assertIn("VirtualServerStarted", [e.kind for e in self.events()])

        vm = self.make_counter_vm("evented")
        mark = s.IVMVirtualServer_get_LastEventSequence()
        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        self.wait_task(s.IVMVirtualMachine_Save(_this=vm))
        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        self.wait_task(s.IVMVirtualMachine_TurnOff(_this=vm))

        events = self.events(mark)
        numbers = [e.sequence for e in events]
        self.assertEqual(numbers, list(range(mark + 1, mark + 1 + len(numbers))), "numbers are dense and ordered")
        states = [e.state for e in events if e.kind == "OnVMStateChange" and e.object == vm]
        self.assertEqual(states, [TURNING_ON, RUNNING, SAVING, SAVED, TURNING_ON, RESTORING, RUNNING, TURNING_OFF,
                                  TURNED_OFF])
        change = next(e for e in events if e.kind == "OnVMStateChange")
        self.assertEqual(change.objectKind, "IVMVirtualMachine")
        self.assertEqual(change.objectName, "evented")
        self.assertEqual(change.severity, "Information")
        self.assertTrue(change.message)
        self.assertGreater(change.time.year, 2000)
        self.assertEqual(len([e for e in events if e.kind == "TaskCompleted"]), 4)

        # Paging: maxCount bounds an answer, afterSequence moves on.
        page = s.IVMVirtualServer_GetEvents(afterSequence=mark, maxCount=2)
        self.assertEqual([e.sequence for e in page], [mark + 1, mark + 2])
        self.assertEqual(s.IVMVirtualServer_GetEvents(afterSequence=10**12, maxCount=5) or [], [])
        self.assert_fault(lambda: s.IVMVirtualServer_GetEvents(afterSequence=0, maxCount=0), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualServer_GetEvents(afterSequence=-1, maxCount=5), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualServer_GetEvents(afterSequence=0, maxCount=1001), "E_INVALIDARG")

        # vsad stops (an event), starts again on the same data (another one):
        # the old events are still there and the numbers go on.
        last = s.IVMVirtualServer_get_LastEventSequence()
        data_dir = self.vsad.data_dir
        credentials = (self.vsad.user, self.vsad.password)
        self.assertEqual(self.vsad.stop(), 0)
        self.start(data_dir, credentials)
        s = self.s
        after = self.events(last)
        self.assertEqual([e.kind for e in after][:2], ["VirtualServerStopped", "VirtualServerStarted"])
        self.assertEqual(after[0].sequence, last + 1)
        self.assertEqual([e.state for e in self.events(mark) if e.kind == "OnVMStateChange"], states)

    def test_a_hung_guest_raises_on_heartbeat_stopped(self):
        # The hang disk prints on COM1, then halts with interrupts off: the
        # VM stays Running but its guest stops retiring instructions.
        s = self.s
        vm = self.make_counter_vm("hung", HANG_DISK)
        mark = s.IVMVirtualServer_get_LastEventSequence()
        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        guest = s.IVMVirtualMachine_get_GuestOS(_this=vm)

        def stopped():
            return any(e.kind == "OnHeartbeatStopped" and e.object == vm for e in self.events(mark))

        deadline = time.monotonic() + 30
        while not stopped() and time.monotonic() < deadline:
            time.sleep(0.5)
        self.assertTrue(stopped(), "no OnHeartbeatStopped event for the hung guest")
        event = next(e for e in self.events(mark) if e.kind == "OnHeartbeatStopped")
        self.assertEqual((event.objectKind, event.objectName, event.severity), ("IVMVirtualMachine", "hung", "Warning"))
        self.assertFalse(s.IVMGuestOS_get_IsHeartbeating(_this=guest))
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), RUNNING)
        # vsad logged the trouble as a warning: OnEventLogged carries it.
        logged = [e for e in self.events(mark) if e.kind == "OnEventLogged"]
        self.assertTrue(any(e.severity == "Warning" and "hung" in e.message for e in logged),
                        [e.message for e in logged])
        self.assertTrue(all(e.objectKind == "IVMVirtualServer" and not e.object for e in logged))
        self.wait_task(s.IVMVirtualMachine_TurnOff(_this=vm))

    def test_reset_shutdown_media_and_triple_fault_events(self):
        # IVMVirtualMachineEvents, IVMDVDDriveEvents and IVMFloppyDriveEvents
        # as event-log entries about the VM or the drive.
        s = self.s
        vm = self.make_counter_vm("events")
        folder = os.path.dirname(s.IVMVirtualMachine_get_File(_this=vm))
        dvd = s.IVMVirtualMachine_AddDVDROMDrive(_this=vm, busType=0, busNumber=1, deviceNumber=0)
        floppy = s.IVMVirtualMachine_get_FloppyDrives(_this=vm)[0]
        iso = os.path.join(folder, "media.iso")
        vfd = os.path.join(folder, "media.vfd")
        with open(iso, "wb") as f:
            f.write(b"\0" * 64 * 2048)
        with open(vfd, "wb") as f:
            f.write(b"\0" * 1474560)
        mark = s.IVMVirtualServer_get_LastEventSequence()
        s.IVMDVDDrive_AttachImage(_this=dvd, imagePath=iso)
        s.IVMFloppyDrive_AttachImage(_this=floppy, mediaImagePath=vfd)
        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        self.wait_task(s.IVMVirtualMachine_Reset(_this=vm))
        s.IVMDVDDrive_ReleaseImage(_this=dvd)  # while running: the worker's drive first
        s.IVMFloppyDrive_ReleaseImage(_this=floppy)
        self.wait_task(s.IVMVirtualMachine_TurnOff(_this=vm))
        events = self.events(mark)
        media = [(e.kind, e.objectKind, e.object, e.objectName) for e in events if e.kind.startswith("OnMedia")]
        self.assertEqual(media, [("OnMediaInsert", "IVMDVDDrive", dvd, "events"),
                                 ("OnMediaInsert", "IVMFloppyDrive", floppy, "events"),
                                 ("OnMediaEject", "IVMDVDDrive", dvd, "events"),
                                 ("OnMediaEject", "IVMFloppyDrive", floppy, "events")])
        self.assertIn(iso, next(e.message for e in events if e.kind == "OnMediaInsert"))
        self.assertIn(vfd, next(e.message for e in events if e.kind == "OnMediaEject" and e.object == floppy))
        kinds = [e.kind for e in events if e.object == vm and e.kind in ("OnReset", "OnRequestShutdown")]
        self.assertEqual(kinds, ["OnReset", "OnRequestShutdown"])
        # The request comes before the VM leaves Running.
        order = [(e.kind, e.state) for e in events if e.object == vm
                 and e.kind in ("OnRequestShutdown", "OnVMStateChange")]
        self.assertLess(order.index(("OnRequestShutdown", 0)), order.index(("OnVMStateChange", TURNING_OFF)))

        # A guest whose processor shuts down: VirtualMachineProcessorError
        # (OnTripleFault), and the VM is off.
        crash = self.make_counter_vm("crash", TRIPLE_DISK)
        mark = s.IVMVirtualServer_get_LastEventSequence()
        self.wait_task(s.IVMVirtualMachine_Startup(_this=crash))

        def faulted():
            return [e for e in self.events(mark) if e.kind == "VirtualMachineProcessorError" and e.object == crash]

        self.assertTrue(wait_for(lambda: faulted(), 60), "no VirtualMachineProcessorError event")
        self.assertEqual((faulted()[0].objectKind, faulted()[0].severity), ("IVMVirtualMachine", "Error"))
        self.assertTrue(wait_for(lambda: s.IVMVirtualMachine_get_State(_this=crash) == TURNED_OFF, 30))

    def test_wait_for_updates_on_the_long_poll_port(self):
        s, poll = self.s, self.poll
        vms = [s.IVMVirtualServer_CreateVirtualMachine(configurationName=f"vm{i}", configurationPath="")
               for i in range(3)]
        net = s.IVMVirtualServer_CreateVirtualNetwork(configurationName="lan", configurationPath="")

        # Since 0: a snapshot of every VM and network, at once.
        snapshot = poll.IVMVirtualServer_WaitForUpdates(sinceSequence=0, timeout=0)
        self.assertTrue(snapshot.resync)
        self.assertEqual(sorted(o.object for o in snapshot.objects.item), sorted(vms + [net]))
        props = {p.property: p.value for p in snapshot.objects.item[0].properties.item}
        self.assertEqual(props["Name"], "vm0")
        self.assertEqual(props["State"], str(TURNED_OFF))

        # Nothing new: the wait ends at its timeout with the same number.
        started = time.monotonic()
        idle = poll.IVMVirtualServer_WaitForUpdates(sinceSequence=snapshot.sequence, timeout=300)
        self.assertGreaterEqual(time.monotonic() - started, 0.25)
        self.assertFalse(idle.resync)
        self.assertEqual(idle.sequence, snapshot.sequence)
        self.assertFalse(idle.objects.item if idle.objects else [])

        # A change made on the main port ends a waiting long poll with the
        # changed object and its new value.
        answer = {}

        def waiter():
            begun = time.monotonic()
            answer["set"] = poll.IVMVirtualServer_WaitForUpdates(sinceSequence=snapshot.sequence, timeout=20000)
            answer["took"] = time.monotonic() - begun

        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.5)
        # The main port keeps answering while the long poll waits.
        self.assertEqual(s.IVMVirtualMachine_get_Name(_this=vms[1]), "vm1")
        s.IVMVirtualMachine_set_Notes(_this=vms[1], notes="watched")
        thread.join(30)
        self.assertFalse(thread.is_alive())
        update = answer["set"]
        self.assertLess(answer["took"], 10)
        self.assertFalse(update.resync)
        self.assertGreater(update.sequence, snapshot.sequence)
        self.assertEqual([o.object for o in update.objects.item], [vms[1]])
        self.assertEqual([e.kind for e in update.events.item], ["VirtualMachineConfigurationChange"])
        notes = {p.property: p.value for p in update.objects.item[0].properties.item}["Notes"]
        self.assertEqual(notes, "watched")

        # A deleted VM comes back as removed.
        s.IVMVirtualServer_DeleteVirtualMachine(virtualMachine=vms[2])
        gone = poll.IVMVirtualServer_WaitForUpdates(sinceSequence=update.sequence, timeout=5000)
        self.assertEqual([(o.object, o.removed) for o in gone.objects.item], [(vms[2], True)])

        # Waits belong on the long-poll port; timeout 0 works everywhere.
        self.assert_fault(lambda: s.IVMVirtualServer_WaitForUpdates(sinceSequence=0, timeout=1000), "E_INVALIDARG",
                          text=str(self.long_poll_port))
        self.assertTrue(s.IVMVirtualServer_WaitForUpdates(sinceSequence=0, timeout=0).resync)
        self.assert_fault(lambda: poll.IVMVirtualServer_WaitForUpdates(sinceSequence=-5, timeout=0), "E_INVALIDARG")
        self.assert_fault(lambda: poll.IVMVirtualServer_WaitForUpdates(sinceSequence=0, timeout=-1), "E_INVALIDARG")

    def test_pages_of_the_main_port_may_long_poll_across_origins(self):
        # The admin UI is served by the main listener (its origin), so its
        # waits on the long-poll port are cross-origin: CORS, with the
        # session cookie.
        import requests
        self.assertEqual(self.s.IVMVirtualServer_get_LongPollPort(), self.long_poll_port)
        self.assertEqual(self.poll.IVMVirtualServer_get_LongPollPort(), self.long_poll_port)
        session = requests.Session()
        session.trust_env = False
        session.verify = self.vsad.certificate
        main = f"https://127.0.0.1:{self.vsad.port}"
        poll = f"https://127.0.0.1:{self.long_poll_port}/VirtualServer"
        # The main port's pages may connect to the long-poll origin (CSP).
        page = session.get(main + "/")
        self.assertIn(f"connect-src 'self' https://127.0.0.1:{self.long_poll_port};",
                      page.headers["Content-Security-Policy"])

        preflight = session.options(poll, headers={
            "Origin": main, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,soapaction,x-requested-with"})
        self.assertEqual(preflight.status_code, 204)
        self.assertEqual(preflight.headers["Access-Control-Allow-Origin"], main)
        self.assertEqual(preflight.headers["Access-Control-Allow-Credentials"], "true")
        self.assertIn("SOAPAction", preflight.headers["Access-Control-Allow-Headers"])
        foreign = session.options(poll, headers={"Origin": "https://evil.example:443",
                                                 "Access-Control-Request-Method": "POST"})
        self.assertEqual(foreign.status_code, 403)
        self.assertNotIn("Access-Control-Allow-Origin", foreign.headers)

        envelope = ('<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
                    'xmlns:vs="urn:vsa:virtualserver:1"><soap:Body>%s</soap:Body></soap:Envelope>')
        headers = {"Content-Type": "text/xml; charset=utf-8", "X-Requested-With": "XMLHttpRequest"}
        logon = session.post(main + "/VirtualServer", headers=headers, data=envelope % (
            "<vs:Session_Logon><vs:userName>%s</vs:userName><vs:password>%s</vs:password></vs:Session_Logon>"
            % (self.vsad.user, self.vsad.password)))
        self.assertEqual(logon.status_code, 200, logon.text)
        self.assertIn("VSASESSION", session.cookies)  # cookies ignore the port: the poll gets it
        wait = session.post(poll, headers=dict(headers, Origin=main), data=envelope % (
            "<vs:IVMVirtualServer_WaitForUpdates><vs:sinceSequence>0</vs:sinceSequence>"
            "<vs:timeout>100</vs:timeout></vs:IVMVirtualServer_WaitForUpdates>"))
        self.assertEqual(wait.status_code, 200, wait.text)
        self.assertEqual(wait.headers["Access-Control-Allow-Origin"], main)
        self.assertIn("resync>true<", wait.text)
        refused = session.post(poll, headers=dict(headers, Origin="https://127.0.0.1:1"), data=envelope % (
            "<vs:IVMVirtualServer_get_Name/>"))
        self.assertEqual(refused.status_code, 403)

    def test_retrieve_properties_reads_many_objects_in_one_call(self):
        s = self.s
        vms = [s.IVMVirtualServer_CreateVirtualMachine(configurationName=f"inv{i}", configurationPath="")
               for i in range(5)]
        s.IVMVirtualMachine_set_Memory(_this=vms[3], memory=256)
        names = ["Name", "State", "Memory", "Notes", "SavedStateFilePath", "NoSuchProperty"]
        unknown = "{00000000-0000-0000-0000-000000000009}"
        answer = s.IVMVirtualServer_RetrieveProperties(objects=strings(vms + [unknown]), properties=strings(names))
        # One entry per object and one value per property, both in the order asked.
        self.assertEqual([o.object for o in answer], vms + [unknown])
        for entry in answer:
            self.assertEqual([v.property for v in entry.properties.item], names)
        table = {(o.object, v.property): v for o in answer for v in o.properties.item}
        self.assertEqual(table[(vms[3], "Memory")].value, "256")
        self.assertEqual(table[(vms[0], "Name")].value, "inv0")
        self.assertEqual(table[(vms[0], "State")].value, str(TURNED_OFF))
        # A value read without error leaves the optional fields out.
        name = table[(vms[0], "Name")]
        self.assertEqual((name.hresult, name.message, name.isArray, name.items), (None, None, None, None))
        self.assertEqual(table[(vms[0], "SavedStateFilePath")].hresult, 0xA0040501)  # VM_E_VM_NO_SAVED_STATE
        self.assertTrue(table[(vms[0], "SavedStateFilePath")].message)
        self.assertNotIn(table[(vms[0], "NoSuchProperty")].hresult, (None, 0))
        self.assertNotIn(table[(unknown, "Name")].hresult, (None, 0))
        # Each value is what the single-property operation says.
        for vm in vms:
            self.assertEqual(table[(vm, "Name")].value, s.IVMVirtualMachine_get_Name(_this=vm))
            self.assertEqual(int(table[(vm, "Memory")].value), s.IVMVirtualMachine_get_Memory(_this=vm))
        # No names: every property the kind has.
        everything = s.IVMVirtualServer_RetrieveProperties(objects=strings([vms[0]]), properties=strings([]))
        self.assertIn("ConfigID", [v.property for v in everything[0].properties.item])
        self.assert_fault(lambda: s.IVMVirtualServer_RetrieveProperties(objects=strings(vms),
                                                                       properties=strings(["Name"] * 65)),
                          "E_INVALIDARG")


def main():
    global VSAD, VSA_VHD, VSA_VM, COUNTER_DISK, HANG_DISK, TRIPLE_DISK
    if len(sys.argv) < 7:
        print("usage: test_zeep_events.py vsad vsa-vhd vsa-vm counter_disk.img hang_disk.img triple_disk.img",
              file=sys.stderr)
        return 2
    VSAD, VSA_VHD, VSA_VM, COUNTER_DISK, HANG_DISK, TRIPLE_DISK = (os.path.abspath(a) for a in sys.argv[1:7])
    return run_tests((EventsTest,))


if __name__ == "__main__":
    sys.exit(main())
