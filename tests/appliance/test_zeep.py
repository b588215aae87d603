#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A real SOAP client (python3-zeep) against a real vsad on loopback.

Usage: test_zeep.py PATH/TO/vsad

The WSDL comes from the server itself; the operations to call are read from
it, so a new IVMVirtualServer_get_* or IVMHostInfo_* operation is called (and
type-checked) without touching this file. Values are compared with what the
host itself reports (/proc, /sys, /etc/os-release).
"""
import datetime
import decimal
import http.client
import ipaddress
import os
import re
import socket
import ssl
import sys
import time
import unittest
import xml.etree.ElementTree as ET

import requests
import zeep
import zeep.exceptions
from zeep.transports import Transport

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad, soap_envelope  # noqa: E402

VSAD_BINARY = None  # argv[1]
NS = "urn:vsa:virtualserver:1"
NS_WSDL = "http://schemas.xmlsoap.org/wsdl/"
NS_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
NS_XSD = "http://www.w3.org/2001/XMLSchema"
E_INVALIDARG = 0x80070057
E_ACCESSDENIED = 0x80070005
VM_E_HOST_DRIVE_NOT_FOUND = 0xA004067E
TIMEOUT = 60  # seconds per call; generous for ASan builds

vsad = None  # the one daemon of this script


def setUpModule():
    global vsad
    vsad = Vsad(VSAD_BINARY)


vsad_stderr = ""  # kept for the report: cleanup removes the data directory


def tearDownModule():
    global vsad_stderr
    if vsad is not None:
        code = vsad.stop()
        try:
            with open(vsad.stderr_path, errors="replace") as f:
                vsad_stderr = f.read()
        except OSError:
            pass
        vsad.cleanup()
        if code != 0:
            raise AssertionError(f"vsad exited with status {code} on SIGTERM")


class RecordingTransport(Transport):
    """Remembers the HTTP status of the last SOAP POST (zeep hides it behind a Fault)."""

    last_status = None

    def post_xml(self, *args, **kwargs):
        response = super().post_xml(*args, **kwargs)
        self.last_status = response.status_code
        return response


def wsdl_url():
    return f"https://127.0.0.1:{vsad.port}/VirtualServer?wsdl"


def make_session(basic=True):
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE etc. must not override verify
    session.verify = vsad.certificate
    if basic:
        session.auth = (vsad.user, vsad.password)
    return session


def make_client(session):
    transport = RecordingTransport(session=session, timeout=TIMEOUT, operation_timeout=TIMEOUT)
    return zeep.Client(wsdl_url(), transport=transport)


def fault_info(fault):
    """(hresult, hresultName, message) from a zeep Fault's VirtualServerFault detail."""
    detail = fault.detail
    if detail is None:
        raise AssertionError(f"fault without detail: {fault.message!r}")
    node = detail.find(f"{{{NS}}}VirtualServerFault")
    if node is None:
        raise AssertionError(f"no VirtualServerFault in detail: {ET.tostring(detail)!r}")
    return (int(node.findtext(f"{{{NS}}}hresult")), node.findtext(f"{{{NS}}}hresultName"),
            node.findtext(f"{{{NS}}}message"))


def https_connection():
    context = ssl.create_default_context(cafile=vsad.certificate)
    return http.client.HTTPSConnection("127.0.0.1", vsad.port, context=context, timeout=TIMEOUT)


# --- facts about this host, read the way a Linux admin would ---------------------------------

def os_release_pretty_name():
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith("PRETTY_NAME="):
                        value = line.split("=", 1)[1].strip()
                        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                            value = value[1:-1]
                        return value
        except OSError:
            continue
    return None


def meminfo_kib(key):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def cpuinfo_first(key):
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if ":" in line and line.split(":", 1)[0].strip() == key:
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


class WsdlContract:
    """Operation names and returnval types, read from the served WSDL."""

    def __init__(self, text):
        root = ET.fromstring(text)
        self.address = root.find(f".//{{{NS_WSDL}}}service/{{{NS_WSDL}}}port/{{{NS_SOAP}}}address").get("location")
        port_type = root.find(f".//{{{NS_WSDL}}}portType")
        self.operations = [op.get("name") for op in port_type.findall(f"{{{NS_WSDL}}}operation")]
        self.return_types = {}
        self.input_params = {}
        schema = root.find(f".//{{{NS_XSD}}}schema")
        for element in schema.findall(f"{{{NS_XSD}}}element"):
            name = element.get("name")
            children = element.findall(f".//{{{NS_XSD}}}sequence/{{{NS_XSD}}}element")
            if name.endswith("Response"):
                for child in children:
                    if child.get("name") == "returnval":
                        self.return_types[name[: -len("Response")]] = child.get("type")
            else:
                self.input_params[name] = [child.get("name") for child in children]


# xsd type -> accepted Python types of zeep's answer (None: empty string or empty array)
PYTHON_TYPES = {
    "xsd:string": (str, type(None)),
    "tns:ObjectRef": (str,),
    "xsd:int": (int,),
    "xsd:unsignedInt": (int,),
    "xsd:long": (int,),
    "xsd:boolean": (bool,),
    "xsd:decimal": (decimal.Decimal,),
    "xsd:double": (float,),
    "xsd:dateTime": (datetime.datetime,),
    "tns:ArrayOfString": (list, type(None)),
}


class BasicAuthTest(unittest.TestCase):
    """(a) HTTP Basic: the WSDL, every getter, values checked against the host."""

    @classmethod
    def setUpClass(cls):
        cls.session = make_session(basic=True)
        response = cls.session.get(wsdl_url(), timeout=TIMEOUT)
        response.raise_for_status()
        cls.wsdl_text = response.content
        cls.contract = WsdlContract(cls.wsdl_text)
        cls.client = make_client(cls.session)
        cls.service = cls.client.service
        cls.host_ref = cls.service.IVMVirtualServer_get_HostInfo()

    def check_type(self, operation, value):
        xsd_type = self.contract.return_types[operation]
        self.assertIn(xsd_type, PYTHON_TYPES, f"{operation}: no type check for {xsd_type}")
        accepted = PYTHON_TYPES[xsd_type]
        self.assertIsInstance(value, accepted, f"{operation} returned {value!r}, expected {xsd_type}")
        if xsd_type in ("xsd:int", "xsd:unsignedInt", "xsd:long"):
            self.assertNotIsInstance(value, bool, operation)
        if xsd_type == "xsd:int":
            self.assertTrue(-2**31 <= value < 2**31, f"{operation}: {value} out of xsd:int range")
        if xsd_type == "xsd:unsignedInt":
            self.assertTrue(0 <= value < 2**32, f"{operation}: {value} out of xsd:unsignedInt range")
        if xsd_type == "tns:ArrayOfString" and value is not None:
            for item in value:
                self.assertIsInstance(item, str, f"{operation} item {item!r}")

    def call_all(self, prefix, **kwargs):
        names = [op for op in self.contract.operations if op.startswith(prefix)]
        self.assertTrue(names, f"no {prefix}* operations in the WSDL")
        values = {}
        for name in names:
            value = getattr(self.service, name)(**kwargs)
            self.check_type(name, value)
            values[name] = value
        return values

    def test_served_wsdl_points_at_this_server(self):
        self.assertEqual(self.contract.address, f"https://127.0.0.1:{vsad.port}/VirtualServer")
        # zeep posts to the address it read, i.e. to us
        ports = [port for service in self.client.wsdl.services.values() for port in service.ports.values()]
        self.assertEqual([p.binding_options["address"] for p in ports],
                         [f"https://127.0.0.1:{vsad.port}/VirtualServer"])
        # the served contract is the committed one, apart from the address
        committed = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "wsdl",
                                 "VirtualServer.wsdl")
        if os.path.exists(committed):
            with open(committed, "rb") as f:
                expected = f.read()
            served = self.wsdl_text.replace(f"https://127.0.0.1:{vsad.port}/VirtualServer".encode(),
                                            b"https://localhost:8443/VirtualServer")
            self.assertEqual(served, expected, "the served WSDL is not the committed wsdl/VirtualServer.wsdl")

    def test_virtual_server_getters(self):
        v = self.call_all("IVMVirtualServer_get_")
        self.assertTrue(v["IVMVirtualServer_get_Name"])
        self.assertRegex(v["IVMVirtualServer_get_Version"], r"^\d+\.\d+\.\d{3}\.\d+ EE$")
        self.assertRegex(v["IVMVirtualServer_get_ProductID"], r"^\d{5}(-\d{5}){3}$")
        self.assertGreaterEqual(v["IVMVirtualServer_get_UpTime"], 0)
        self.assertGreater(v["IVMVirtualServer_get_DefaultLocale"], 0)  # a Windows LCID, e.g. 1033
        self.assertTrue(0.0 <= v["IVMVirtualServer_get_AvailableSystemCapacity"] <= 100.0)
        self.assertGreater(v["IVMVirtualServer_get_MaximumNumberOfVMs"], 0)
        low, high = v["IVMVirtualServer_get_MinimumMemoryPerVM"], v["IVMVirtualServer_get_MaximumMemoryPerVM"]
        self.assertTrue(0 < low < high, (low, high))
        self.assertTrue(low <= v["IVMVirtualServer_get_SuggestedMaximumMemoryPerVM"] <= high)
        for name in ("MaximumFloppyDrivesPerVM", "MaximumNetworkAdaptersPerVM", "MaximumNumberOfIDEBuses",
                     "MaximumNumberOfSCSIControllers", "MaximumParallelPortsPerVM", "MaximumSerialPortsPerVM"):
            value = v["IVMVirtualServer_get_" + name]
            self.assertTrue(1 <= value <= 16, f"{name} = {value}")
        self.assertEqual(v["IVMVirtualServer_get_HostInfo"], self.host_ref)
        self.assertTrue(self.host_ref)

    def test_uptime_increases(self):
        first = self.service.IVMVirtualServer_get_UpTime()
        time.sleep(1.1)
        second = self.service.IVMVirtualServer_get_UpTime()
        self.assertGreater(second, first)

    def test_host_info_getters(self):
        v = self.call_all("IVMHostInfo_get_", _this=self.host_ref)
        g = lambda name: v["IVMHostInfo_get_" + name]  # noqa: E731

        self.assertEqual(g("LogicalProcessorCount"), os.cpu_count())
        self.assertTrue(1 <= g("PhysicalProcessorCount") <= g("LogicalProcessorCount"))

        mem_mb = meminfo_kib("MemTotal") / 1024
        self.assertLessEqual(abs(float(g("Memory")) - mem_mb), mem_mb * 0.01, (g("Memory"), mem_mb))
        self.assertEqual(int(g("MemoryTotalString")), int(g("Memory")))
        self.assertTrue(0 < g("MemoryAvail") <= g("Memory"))
        # MemoryAvail moves; the string comes from a separate call
        self.assertLessEqual(abs(int(g("MemoryAvailString")) - float(g("MemoryAvail"))), mem_mb * 0.1)

        pretty = os_release_pretty_name()
        if pretty:
            self.assertEqual(g("OperatingSystem"), pretty)
        release = os.uname().release
        major, minor = (int(x) for x in re.match(r"(\d+)\.(\d+)", release).groups())
        self.assertEqual((g("OSMajorVersion"), g("OSMinorVersion")), (major, minor))
        self.assertIn(release, g("OSVersionString"))
        if g("OSServicePackString"):
            self.assertTrue(release.endswith(g("OSServicePackString")), (release, g("OSServicePackString")))

        vendor, model, flags = cpuinfo_first("vendor_id"), cpuinfo_first("model name"), cpuinfo_first("flags")
        if vendor:
            self.assertEqual(g("ProcessorManufacturerString"), vendor)
        if model:
            self.assertTrue(g("ProcessorVersionString"))
        if flags is not None:
            flag_set = set(flags.split())
            self.assertEqual(set(g("ProcessorFeaturesString").split(",")), flag_set)
            self.assertEqual(g("MMX"), "mmx" in flag_set)
            self.assertEqual(g("SSE"), "sse" in flag_set)
            self.assertEqual(g("SSE2"), "sse2" in flag_set)
            self.assertEqual(g("ThreeDNow"), "3dnow" in flag_set)
        if cpuinfo_first("cpu MHz"):
            self.assertGreater(g("ProcessorSpeed"), 0)
        self.assertEqual(g("ProcessorSpeedString"), str(g("ProcessorSpeed")))

        interfaces = {name for _, name in socket.if_nameindex()}
        adapters = g("NetworkAdapters") or []
        self.assertEqual(adapters[0], "NAT")  # a virtual network's NAT, then the host's interfaces
        self.assertNotIn("lo", adapters)
        self.assertLessEqual(set(adapters[1:]), interfaces)
        for address in g("NetworkAddresses") or []:
            self.assertFalse(ipaddress.ip_address(address.split("%")[0]).is_loopback, address)

        for drive in g("HostDrives") or []:
            self.assertTrue(drive.startswith("/dev/"), drive)
            self.assertTrue(os.path.exists("/sys/block/" + drive[5:]), drive)
        # Floppy drives by id (AttachHostDrive's driveLetter), "fd0" for /dev/fd0.
        for drive in g("FloppyDrives") or []:
            self.assertTrue(os.path.exists("/sys/block/" + drive), drive)
        # Optical drives by id (AttachHostDrive's driveLetter), "sr0" for /dev/sr0.
        for drive in g("DVDDrives") or []:
            self.assertTrue(os.path.exists("/sys/class/block/" + drive), drive)
        for port in (g("SerialPorts") or "").split(";"):
            if port:
                self.assertTrue(port.startswith("/dev/"), port)
        if g("ParallelPort"):
            self.assertTrue(g("ParallelPort").startswith("/dev/"))

        utc = g("UTCTime")
        self.assertIsNotNone(utc.tzinfo, "UTCTime must carry a time zone")
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((utc - now).total_seconds()), 5.0, (utc, now))

    def test_host_drive_methods(self):
        methods = [op for op in self.contract.operations
                   if op.startswith("IVMHostInfo_") and not op.startswith("IVMHostInfo_get_")]
        self.assertIn("IVMHostInfo_GetHostDriveSize", methods)
        self.assertIn("IVMHostInfo_IsHostDriveMounted", methods)
        drives = self.service.IVMHostInfo_get_HostDrives(_this=self.host_ref) or []
        for method in methods:
            params = self.contract.input_params[method]
            self.assertEqual(params, ["_this", "hostDriveIdentifier"], method)
            if drives:
                value = getattr(self.service, method)(_this=self.host_ref, hostDriveIdentifier=drives[0])
                self.check_type(method, value)
            # an id that is no host drive faults with the Virtual Server HRESULT
            with self.assertRaises(zeep.exceptions.Fault) as caught:
                getattr(self.service, method)(_this=self.host_ref, hostDriveIdentifier="/dev/nonexistent")
            hresult, name, _ = fault_info(caught.exception)
            self.assertEqual((hresult, name), (VM_E_HOST_DRIVE_NOT_FOUND, "VM_E_HOST_DRIVE_NOT_FOUND"))
        if drives:
            name = drives[0][5:]
            with open(f"/sys/block/{name}/size") as f:
                expected_mb = int(f.read()) // 2048
            self.assertEqual(self.service.IVMHostInfo_GetHostDriveSize(
                _this=self.host_ref, hostDriveIdentifier=drives[0]), min(expected_mb, 2**31 - 1))
            with open("/proc/self/mounts") as f:
                mounted = any(re.fullmatch(rf"/dev/{re.escape(name)}(p?\d+)?", line.split()[0]) for line in f)
            if mounted:
                self.assertTrue(self.service.IVMHostInfo_IsHostDriveMounted(
                    _this=self.host_ref, hostDriveIdentifier=drives[0]))


class SessionTest(unittest.TestCase):
    """(b) Session_Logon -> SessionToken header -> Session_Logoff, no Basic."""

    def test_token_in_soap_header(self):
        session = make_session(basic=False)
        client = make_client(session)
        service = client.service
        token = service.Session_Logon(userName=vsad.user, password=vsad.password)
        self.assertIsInstance(token, str)
        self.assertGreaterEqual(len(token), 16)
        # the logon also set a cookie; drop it so only the header authenticates
        session.cookies.clear()
        header = {"SessionToken": token}
        self.assertEqual(service.Session_CurrentUser(_soapheaders=header), "admin")
        host_ref = service.IVMVirtualServer_get_HostInfo(_soapheaders=header)
        self.assertEqual(service.IVMHostInfo_get_LogicalProcessorCount(_this=host_ref, _soapheaders=header),
                         os.cpu_count())
        service.Session_Logoff(_soapheaders=header)
        session.cookies.clear()
        self.assert_rejected_401(client, lambda: service.Session_CurrentUser(_soapheaders=header))
        self.assert_rejected_401(client, lambda: service.IVMVirtualServer_get_Name(_soapheaders=header))

    def test_no_credentials_rejected(self):
        client = make_client(make_session(basic=False))
        self.assert_rejected_401(client, lambda: client.service.IVMVirtualServer_get_Name())
        self.assert_rejected_401(client, lambda: client.service.Session_CurrentUser(
            _soapheaders={"SessionToken": "not-a-token-" + "x" * 40}))

    def assert_rejected_401(self, client, call):
        client.transport.last_status = None
        try:
            call()
        except zeep.exceptions.TransportError as e:
            self.assertEqual(e.status_code, 401)
        except zeep.exceptions.Fault as e:
            self.assertEqual(client.transport.last_status, 401)
            self.assertEqual(fault_info(e)[:2], (E_ACCESSDENIED, "E_ACCESSDENIED"))
        else:
            self.fail("the call was accepted")


class CookieTest(unittest.TestCase):
    """(c) The VSASESSION cookie set by Session_Logon."""

    def logon_raw(self):
        connection = https_connection()
        body = soap_envelope("Session_Logon", [("userName", vsad.user), ("password", vsad.password)])
        connection.request("POST", "/VirtualServer", body=body, headers={"Content-Type": "text/xml; charset=utf-8"})
        response = connection.getresponse()
        content = response.read()
        cookies = response.headers.get_all("Set-Cookie") or []
        connection.close()
        self.assertEqual(response.status, 200, content)
        token = ET.fromstring(content).findtext(f".//{{{NS}}}Session_LogonResponse/{{{NS}}}returnval")
        return token, cookies

    def test_cookie_attributes_and_use(self):
        token, cookies = self.logon_raw()
        self.assertTrue(token)
        session_cookies = [c for c in cookies if c.startswith("VSASESSION=")]
        self.assertEqual(len(session_cookies), 1, cookies)
        parts = [p.strip() for p in session_cookies[0].split(";")]
        self.assertEqual(parts[0], "VSASESSION=" + token)
        attributes = {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else True) for p in parts[1:]}
        self.assertIs(attributes.get("secure"), True, parts)
        self.assertIs(attributes.get("httponly"), True, parts)
        self.assertEqual(str(attributes.get("samesite")).lower(), "strict", parts)
        self.assertEqual(attributes.get("path"), "/", parts)

        # a zeep client whose only credential is that cookie
        session = make_session(basic=False)
        session.headers["Cookie"] = "VSASESSION=" + token
        client = make_client(session)
        self.assertTrue(client.service.IVMVirtualServer_get_Name())
        self.assertEqual(client.service.Session_CurrentUser(), "admin")

        # logging off through the cookie clears it and ends the session
        connection = https_connection()
        connection.request("POST", "/VirtualServer", body=soap_envelope("Session_Logoff"),
                           headers={"Content-Type": "text/xml", "Cookie": "VSASESSION=" + token})
        response = connection.getresponse()
        response.read()
        self.assertEqual(response.status, 200)
        cleared = [c for c in response.headers.get_all("Set-Cookie") or [] if c.startswith("VSASESSION=")]
        self.assertEqual(len(cleared), 1)
        self.assertIn("max-age=0", cleared[0].lower().replace(" ", ""))
        connection.close()
        with self.assertRaises((zeep.exceptions.Fault, zeep.exceptions.TransportError)):
            client.service.IVMVirtualServer_get_Name()
        self.assertEqual(client.transport.last_status, 401)


class FaultTest(unittest.TestCase):
    """(d) Faults carry VirtualServerFault with the HRESULT."""

    @classmethod
    def setUpClass(cls):
        cls.client = make_client(make_session(basic=True))

    def test_wrong_this_is_invalidarg(self):
        for bad in ("not-a-reference", "", "hostinfo " * 3):
            with self.assertRaises(zeep.exceptions.Fault) as caught:
                self.client.service.IVMHostInfo_get_Memory(_this=bad)
            fault = caught.exception
            self.assertTrue(str(fault.code).endswith("Client"), fault.code)
            hresult, name, message = fault_info(fault)
            self.assertEqual(hresult, 2147942487)
            self.assertEqual(hresult, E_INVALIDARG)
            self.assertEqual(name, "E_INVALIDARG")
            self.assertTrue(message)
            self.assertEqual(self.client.transport.last_status, 500)

    def test_logon_wrong_password_is_accessdenied(self):
        client = make_client(make_session(basic=False))
        with self.assertRaises(zeep.exceptions.Fault) as caught:
            client.service.Session_Logon(userName=vsad.user, password=vsad.password + "-wrong")
        hresult, name, _ = fault_info(caught.exception)
        self.assertEqual((hresult, name), (E_ACCESSDENIED, "E_ACCESSDENIED"))
        self.assertIn(client.transport.last_status, (401, 500))
        # the right password still works afterwards (one failure is no lockout)
        self.assertTrue(client.service.Session_Logon(userName=vsad.user, password=vsad.password))
        self.assertTrue(vsad.alive())


def main():
    global VSAD_BINARY
    if len(sys.argv) < 2:
        print("usage: test_zeep.py PATH/TO/vsad", file=sys.stderr)
        return 2
    VSAD_BINARY = os.path.abspath(sys.argv[1])
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for case in (BasicAuthTest, SessionTest, CookieTest, FaultTest):
        suite.addTests(loader.loadTestsFromTestCase(case))
    started = time.monotonic()
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - len(result.failures) - len(result.errors) - len(result.unexpectedSuccesses) \
        - len(result.skipped)
    if failed and vsad_stderr:
        print("--- vsad stderr (tail) ---\n" + vsad_stderr[-4000:])
    print(f"runtime {time.monotonic() - started:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or result.testsRun == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
