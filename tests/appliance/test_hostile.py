#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile HTTP, XML and TLS input against a real vsad on loopback.

Usage: test_hostile.py PATH/TO/vsad

Raw HTTP over TLS (ssl + http.client, or plain sockets where http.client
would refuse to send the request), the certificate verified against the one
vsad generated. After each hostile input the test checks that the daemon
process is still running AND answers an authenticated
IVMVirtualServer_get_Name correctly. Special configurations (lockout, short
receive timeout) get their own vsad. The last test stops the main vsad with
SIGTERM and expects exit status 0.
"""
import base64
import http.client
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad, soap_envelope  # noqa: E402

VSAD_BINARY = None  # argv[1]
NS = "urn:vsa:virtualserver:1"
NS_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
NS_WSDL = "http://schemas.xmlsoap.org/wsdl/"
E_INVALIDARG = 0x80070057
E_ACCESSDENIED = 0x80070005
TIMEOUT = 60  # seconds for one exchange; generous for ASan builds
MAX_BODY = 1 << 20  # limits.max_body_bytes of the main vsad
MAX_STRING = 64 << 10  # limits.soap_max_string of the main vsad

ENVELOPE_OPEN = ('<?xml version="1.0" encoding="utf-8"?>'
                 '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:vs="urn:vsa:virtualserver:1">')
ENVELOPE_CLOSE = "</soap:Envelope>"


class Server:
    """A running vsad plus the client side: TLS context, credentials, request helpers."""

    def __init__(self, defines=None):
        self.vsad = Vsad(VSAD_BINARY, defines=defines)
        self.port = self.vsad.port
        self.context = ssl.create_default_context(cafile=self.vsad.certificate)  # verifies cert and 127.0.0.1
        self.basic = self.basic_header(self.vsad.user, self.vsad.password)
        self.stderr_text = ""

    @staticmethod
    def basic_header(user, password):
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def request(self, method, path, body=None, headers=None, auth=True, content_type="text/xml; charset=utf-8"):
        """One request on a fresh connection; returns (status, headers, body)."""
        connection = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=TIMEOUT)
        all_headers = {}
        if auth:
            all_headers["Authorization"] = self.basic
        if body is not None and content_type is not None:
            all_headers["Content-Type"] = content_type
        all_headers.update(headers or {})
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def soap(self, body, **kwargs):
        return self.request("POST", "/VirtualServer", body=body, **kwargs)

    def tls_socket(self, maximum_version=None):
        context = self.context
        if maximum_version is not None:
            context = ssl.create_default_context(cafile=self.vsad.certificate)
            context.maximum_version = maximum_version
        raw = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)
        return context.wrap_socket(raw, server_hostname="127.0.0.1")

    def raw_exchange(self, data, timeout=TIMEOUT):
        """Send bytes as they are and read the answer until the server closes or it is complete.

        TLS 1.2, so that a readable socket means the server answered (TLS 1.3 sends session
        tickets after the handshake); the data goes in pieces so that an early answer (the
        server refusing before reading everything) stops the sending instead of failing it.
        """
        sock = self.tls_socket(maximum_version=ssl.TLSVersion.TLSv1_2)
        try:
            for at in range(0, len(data), 4096):
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                try:
                    sock.sendall(data[at:at + 4096])
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    break
            return read_response(sock, timeout)
        finally:
            sock.close()

    def stop(self):
        code = self.vsad.stop()
        try:
            with open(self.vsad.stderr_path, errors="replace") as f:
                self.stderr_text = f.read()
        except OSError:
            pass
        self.vsad.cleanup()
        return code


def read_response(sock, timeout):
    """Bytes of one HTTP response: until Content-Length is satisfied, EOF, reset or timeout."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            m = re.search(rb"\r\ncontent-length:\s*(\d+)", data[:head_end], re.I)
            if m and len(data) >= head_end + 4 + int(m.group(1)):
                break
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, socket.timeout, OSError):
            break
        if not chunk:
            break
        data += chunk
    return data


def status_of(response_bytes):
    m = re.match(rb"HTTP/1\.[01] (\d{3})", response_bytes)
    return int(m.group(1)) if m else None


def parse_fault(body):
    """faultcode, faultstring, hresult, hresultName of a SOAP 1.1 fault body (raises if not one)."""
    root = ET.fromstring(body)
    fault = root.find(f"{{{NS_ENV}}}Body/{{{NS_ENV}}}Fault")
    if fault is None:
        raise AssertionError(f"not a SOAP fault: {body[:300]!r}")
    vs_fault = fault.find(f"detail/{{{NS}}}VirtualServerFault")
    hresult = name = None
    if vs_fault is not None:
        hresult = int(vs_fault.findtext(f"{{{NS}}}hresult"))
        name = vs_fault.findtext(f"{{{NS}}}hresultName")
    return {"code": fault.findtext("faultcode") or "", "string": fault.findtext("faultstring") or "",
            "hresult": hresult, "name": name}


main_server = None  # the vsad most tests share
expected_name = None  # its answer to IVMVirtualServer_get_Name


def get_name(server):
    status, _, body = server.soap(soap_envelope("IVMVirtualServer_get_Name"))
    if status != 200:
        return status, None
    return status, ET.fromstring(body).findtext(f".//{{{NS}}}IVMVirtualServer_get_NameResponse/{{{NS}}}returnval")


def setUpModule():
    global main_server, expected_name
    main_server = Server({"limits.max_body_bytes": MAX_BODY, "limits.soap_max_string": MAX_STRING})
    status, expected_name = get_name(main_server)
    if status != 200 or not expected_name:
        raise RuntimeError(f"vsad does not answer IVMVirtualServer_get_Name: {status}")


def tearDownModule():
    if main_server is not None:
        main_server.stop()  # SIGTERM if still running; keeps stderr, removes the data directory


class VsadTestCase(unittest.TestCase):
    server = None  # set by subclasses; default: the main vsad

    def srv(self):
        return self.server or main_server

    def assert_healthy(self, server=None):
        """The process runs and answers the next real SOAP call correctly."""
        server = server or self.srv()
        self.assertTrue(server.vsad.alive(), f"vsad died (exit status {server.vsad.process.poll()})")
        status, name = get_name(server)
        self.assertEqual(status, 200, "vsad does not answer IVMVirtualServer_get_Name after hostile input")
        self.assertEqual(name, expected_name)

    def assert_client_fault(self, status, body, mention=None):
        self.assertEqual(status, 500, body[:300])
        fault = parse_fault(body)
        self.assertTrue(fault["code"].endswith("Client"), fault)
        self.assertEqual((fault["hresult"], fault["name"]), (E_INVALIDARG, "E_INVALIDARG"), fault)
        if mention:
            self.assertIn(mention, fault["string"])
        return fault

    def assert_fault_response(self, status, body):
        """Any 4xx/5xx; if the body is XML it must be a well-formed SOAP fault."""
        self.assertTrue(400 <= status < 600, f"status {status}: {body[:300]!r}")
        if body.lstrip().startswith(b"<"):
            parse_fault(body)


class HttpTest(VsadTestCase):
    """Authentication answers, content types, HTTP limits and static pages of the main vsad."""

    def test_no_credentials_challenge(self):
        status, headers, body = self.srv().soap(soap_envelope("IVMVirtualServer_get_Name"), auth=False)
        self.assertEqual(status, 401)
        self.assertTrue((headers.get("WWW-Authenticate") or "").startswith("Basic"), headers)
        fault = parse_fault(body)
        self.assertEqual((fault["hresult"], fault["name"]), (E_ACCESSDENIED, "E_ACCESSDENIED"))
        self.assert_healthy()

    def test_xhr_gets_no_challenge_and_its_status_in_a_header(self):
        # The admin UI's requests: no browser login dialog, and HTTP 200
        # with the real status in X-VSA-Status (a browser logs every 4xx/5xx
        # as a failed load, even one the page handles), same fault body.
        status, headers, body = self.srv().soap(soap_envelope("IVMVirtualServer_get_Name"), auth=False,
                                                headers={"X-Requested-With": "XMLHttpRequest"})
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("X-VSA-Status"), "401")
        self.assertIsNone(headers.get("WWW-Authenticate"))
        self.assertEqual(parse_fault(body)["name"], "E_ACCESSDENIED")
        status, headers, body = self.srv().soap(soap_envelope("IVMVirtualMachine_get_Name", [("_this", "{nope}")]),
                                                headers={"X-Requested-With": "XMLHttpRequest"})
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("X-VSA-Status"), "500")
        self.assertIsNotNone(parse_fault(body)["name"])
        # Any other client gets what SOAP 1.1 prescribes.
        status, headers, _ = self.srv().soap(soap_envelope("IVMVirtualMachine_get_Name", [("_this", "{nope}")]))
        self.assertEqual(status, 500)
        self.assertIsNone(headers.get("X-VSA-Status"))
        self.assert_healthy()

    def test_wrong_content_type(self):
        for content_type in ("text/plain", "application/json", "text/xmlx", None):
            status, _, _ = self.srv().soap(soap_envelope("IVMVirtualServer_get_Name"), content_type=content_type)
            self.assertEqual(status, 415, content_type)
        # parameters and case do not matter
        status, _, _ = self.srv().soap(soap_envelope("IVMVirtualServer_get_Name"),
                                       content_type='Text/XML; charset="utf-8"')
        self.assertEqual(status, 200)
        self.assert_healthy()

    def test_empty_body(self):
        status, _, _ = self.srv().soap(b"")
        self.assertEqual(status, 400)
        self.assert_healthy()

    def test_declared_oversize_body(self):
        # Only the headers and 3 bytes are sent: a quick 413 proves vsad did not wait for the body.
        for length in (MAX_BODY + 1, 1 << 31, 1 << 62):
            started = time.monotonic()
            response = self.srv().raw_exchange(
                b"POST /VirtualServer HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + self.srv().basic.encode() +
                b"\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n<a>" % length, timeout=20)
            self.assertEqual(status_of(response), 413, response[:200])
            self.assertLess(time.monotonic() - started, 15)
        self.assert_healthy()

    def test_chunked_oversize_body(self):
        # TLS 1.2: no post-handshake messages, so a readable socket means the answer has come.
        sock = self.srv().tls_socket(maximum_version=ssl.TLSVersion.TLSv1_2)
        sent = 0
        chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"
        try:
            sock.sendall(b"POST /VirtualServer HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " +
                         self.srv().basic.encode() +
                         b"\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n")
            while sent < 64 * MAX_BODY:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                try:
                    sock.sendall(chunk)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
                    break
                sent += 0x10000
            response = read_response(sock, 20)
        finally:
            sock.close()
        self.assertEqual(status_of(response), 413, response[:200])
        self.assertGreater(sent, MAX_BODY // 2)  # it did read a good part before refusing
        self.assertLess(sent, 64 * MAX_BODY)  # and stopped reading long before the end
        self.assert_healthy()

    def test_get_nonexistent(self):
        for path in ("/nonexistent", "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/index.html/.."):
            status, _, body = self.srv().request("GET", path, auth=False)
            self.assertIn(status, (400, 404), path)
            self.assertNotIn(b"root:", body)
        status, _, _ = self.srv().request("GET", "/nonexistent", auth=False)
        self.assertEqual(status, 404)
        self.assert_healthy()

    def test_wsdl_without_credentials(self):
        status, headers, body = self.srv().request("GET", "/VirtualServer?wsdl", auth=False)
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("Content-Type", "").startswith("text/xml"), headers.get("Content-Type"))
        root = ET.fromstring(body)
        address = root.find(f".//{{{NS_SOAP}}}address").get("location")
        self.assertEqual(address, f"https://127.0.0.1:{self.srv().port}/VirtualServer")
        self.assert_healthy()

    def test_static_pages_security_headers_and_etag(self):
        for path in ("/index.html", "/login.html"):
            status, headers, body = self.srv().request("GET", path, auth=False)
            self.assertEqual(status, 200, path)
            self.assertTrue(body)
            self.assertIn("default-src", headers.get("Content-Security-Policy", ""), path)
            self.assertIn("frame-ancestors 'none'", headers.get("Content-Security-Policy", ""), path)
            self.assertIn("max-age=", headers.get("Strict-Transport-Security", ""), path)
            self.assertEqual(headers.get("X-Frame-Options"), "DENY", path)
            self.assertEqual(headers.get("X-Content-Type-Options"), "nosniff", path)
            etag = headers.get("ETag")
            self.assertTrue(etag, path)
            status, headers2, body2 = self.srv().request("GET", path, auth=False, headers={"If-None-Match": etag})
            self.assertEqual(status, 304, path)
            self.assertEqual(body2, b"")
            self.assertEqual(headers2.get("ETag"), etag)
            status, _, _ = self.srv().request("GET", path, auth=False, headers={"If-None-Match": '"other"'})
            self.assertEqual(status, 200, path)
        self.assert_healthy()

    def test_api_reference_page(self):
        # Generated at build time into the web root (wsdl/gen_api_html.py):
        # served like the other static pages, with an entry per operation
        # of the WSDL this vsad publishes.
        status, headers, body = self.srv().request("GET", "/api.html", auth=False)
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("Content-Type", "").startswith("text/html"), headers.get("Content-Type"))
        self.assertIn("default-src", headers.get("Content-Security-Policy", ""))
        status, _, wsdl = self.srv().request("GET", "/VirtualServer?wsdl", auth=False)
        self.assertEqual(status, 200)
        port_type = ET.fromstring(wsdl).find(f"{{{NS_WSDL}}}portType")
        operations = [op.get("name") for op in port_type.findall(f"{{{NS_WSDL}}}operation")]
        self.assertGreater(len(operations), 400)
        page = body.decode("utf-8")
        missing = [op for op in operations if f'id="{op}" data-operation="{op}"' not in page]
        self.assertEqual(missing, [])
        self.assert_healthy()

    def test_put_soap_endpoint(self):
        status, headers, _ = self.srv().request("PUT", "/VirtualServer", body=soap_envelope("IVMVirtualServer_get_Name"))
        self.assertEqual(status, 405)
        self.assertIn("POST", headers.get("Allow", ""))
        for method in ("DELETE", "PATCH", "OPTIONS"):
            status, _, _ = self.srv().request(method, "/VirtualServer")
            self.assertEqual(status, 405, method)
        self.assert_healthy()

    def test_long_uri(self):
        response = self.srv().raw_exchange(b"GET /" + b"a" * (64 << 10) + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        self.assertIn(status_of(response), (414, 400), response[:200])
        status, _, _ = self.srv().request("GET", "/VirtualServer?" + "w" * 5000, auth=False)
        self.assertIn(status, (414, 400))
        self.assert_healthy()

    def test_many_header_fields(self):
        headers = b"".join(b"X-Field-%d: %d\r\n" % (i, i) for i in range(200))
        response = self.srv().raw_exchange(b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n")
        self.assertIn(status_of(response), (431, 400), response[:200])
        # and one huge header value
        response = self.srv().raw_exchange(b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " +
                                           b"b" * (256 << 10) + b"\r\n\r\n")
        self.assertIn(status_of(response), (431, 400), response[:200])
        self.assert_healthy()

    def test_malformed_host_not_reflected_in_wsdl(self):
        for host in (b'evil"><x', b"evil.example/<script>", b"a b", b"x" * 300, b"\xff\xfe", b"h'ost"):
            response = self.srv().raw_exchange(b"GET /VirtualServer?wsdl HTTP/1.1\r\nHost: " + host +
                                               b"\r\nConnection: close\r\n\r\n")
            status = status_of(response)
            self.assertIn(status, (200, 400), response[:200])
            if status == 200:
                body = response.split(b"\r\n\r\n", 1)[1]
                # As a URL's host part (the WSDL's own prose may hold "a b").
                self.assertNotIn(b"//" + host, body)
                address = ET.fromstring(body).find(f".//{{{NS_SOAP}}}address").get("location")
                self.assertRegex(address, r"^https://[A-Za-z0-9.\-:\[\]]+/VirtualServer$")
        self.assert_healthy()

    def test_malformed_host_falls_back_to_the_served_address(self):
        response = self.srv().raw_exchange(b"GET /VirtualServer?wsdl HTTP/1.1\r\nHost: evil\"><x\r\n"
                                           b"Connection: close\r\n\r\n")
        body = response.split(b"\r\n\r\n", 1)[1]
        address = ET.fromstring(body).find(f".//{{{NS_SOAP}}}address").get("location")
        self.assertEqual(address, f"https://127.0.0.1:{self.srv().port}/VirtualServer")


class XmlTest(VsadTestCase):
    """Hostile SOAP bodies against the main vsad."""

    def test_malformed_xml(self):
        body = (ENVELOPE_OPEN + "<soap:Body><vs:IVMVirtualServer_get_Name></soap:Body>").encode()
        status, _, response = self.srv().soap(body)
        self.assert_client_fault(status, response)
        status, _, response = self.srv().soap(soap_envelope("IVMVirtualServer_get_Name")[:-20])
        self.assert_client_fault(status, response)
        self.assert_healthy()

    def test_non_xml_body(self):
        for body in (b"hello, this is not XML", b"\x00\x01\x02\x03" * 64, b"{\"json\": true}", b"<"):
            status, _, response = self.srv().soap(body)
            self.assert_client_fault(status, response)
        self.assert_healthy()

    def test_doctype_refused(self):
        for body in (b'<?xml version="1.0"?><!DOCTYPE soap:Envelope []>' + soap_envelope("IVMVirtualServer_get_Name")[21:],
                     b"<!doctype x>" + soap_envelope("IVMVirtualServer_get_Name"),
                     b"<! DOCTYPE x>" + soap_envelope("IVMVirtualServer_get_Name")):
            status, _, _ = self.srv().soap(body)
            self.assertEqual(status, 400, body[:60])
        self.assert_healthy()

    def test_billion_laughs_refused(self):
        entities = '<!ENTITY lol "lol">' + "".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
        body = (f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]>'
                '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:vs="urn:vsa:virtualserver:1">'
                "<soap:Body><vs:IVMHostInfo_get_Memory><vs:_this>&lol9;</vs:_this></vs:IVMHostInfo_get_Memory>"
                "</soap:Body></soap:Envelope>").encode()
        started = time.monotonic()
        status, _, _ = self.srv().soap(body)
        self.assertEqual(status, 400)
        self.assertLess(time.monotonic() - started, 10)
        self.assert_healthy()

    def test_external_entity_refused(self):
        for decl, ref in (('<!ENTITY xxe SYSTEM "file:///etc/passwd">', "&xxe;"),
                          ('<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;', "x"),
                          ('<!ENTITY xxe PUBLIC "-//x//y" "file:///etc/passwd">', "&xxe;")):
            body = (f'<?xml version="1.0"?><!DOCTYPE foo [{decl}]>'
                    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:vs="urn:vsa:virtualserver:1">'
                    f"<soap:Body><vs:IVMHostInfo_get_Memory><vs:_this>{ref}</vs:_this></vs:IVMHostInfo_get_Memory>"
                    "</soap:Body></soap:Envelope>").encode()
            status, _, response = self.srv().soap(body)
            self.assertEqual(status, 400, decl)
            self.assertNotIn(b"root:", response)
        # without a DOCTYPE an entity reference is just an error, never a file read
        status, _, response = self.srv().soap(soap_envelope("IVMHostInfo_get_Memory", [("_this", "X")])
                                              .replace(b">X<", b">&xxe;<"))
        self.assertTrue(400 <= status < 600)
        self.assertNotIn(b"root:", response)
        self.assert_healthy()

    def test_deep_nesting_in_operation(self):
        body = (ENVELOPE_OPEN + "<soap:Body><vs:IVMVirtualServer_get_Name>" + "<a>" * 100000 + "</a>" * 100000 +
                "</vs:IVMVirtualServer_get_Name></soap:Body>" + ENVELOPE_CLOSE).encode()
        status, _, response = self.srv().soap(body)
        self.assert_fault_response(status, response)
        self.assert_healthy()

    def test_deep_nesting_in_header_does_not_crash(self):
        status, _, response = self.srv().soap(self.deep_header_body())
        self.assertIn(status, (200, 400, 413, 500))
        if status != 400:
            ET.fromstring(response)  # well-formed answer or fault
        self.assert_healthy()

    def test_deep_nesting_in_header_is_refused(self):
        status, _, response = self.srv().soap(self.deep_header_body())
        self.assert_fault_response(status, response)

    @staticmethod
    def deep_header_body():
        return (ENVELOPE_OPEN + "<soap:Header>" + "<a>" * 100000 + "</a>" * 100000 +
                "</soap:Header><soap:Body><vs:IVMVirtualServer_get_Name/></soap:Body>" + ENVELOPE_CLOSE).encode()

    def test_unknown_operation(self):
        status, _, response = self.srv().soap(soap_envelope("IVMVirtualServer_get_NoSuchThing"))
        self.assert_client_fault(status, response, mention="IVMVirtualServer_get_NoSuchThing")
        # a known operation name in another namespace is unknown too
        status, _, response = self.srv().soap(soap_envelope("IVMVirtualServer_get_Name", ns="urn:other"))
        self.assert_client_fault(status, response, mention="IVMVirtualServer_get_Name")
        self.assert_healthy()

    def test_parameter_in_wrong_namespace(self):
        body = (ENVELOPE_OPEN + '<soap:Body><vs:IVMHostInfo_get_Memory><x:_this xmlns:x="urn:other">hostinfo</x:_this>'
                "</vs:IVMHostInfo_get_Memory></soap:Body>" + ENVELOPE_CLOSE).encode()
        status, _, response = self.srv().soap(body)
        self.assert_client_fault(status, response)
        # unqualified, too (the schema is elementFormDefault="qualified")
        body = (ENVELOPE_OPEN + "<soap:Body><vs:IVMHostInfo_get_Memory><_this>hostinfo</_this>"
                "</vs:IVMHostInfo_get_Memory></soap:Body>" + ENVELOPE_CLOSE).encode()
        status, _, response = self.srv().soap(body)
        self.assert_client_fault(status, response)
        self.assert_healthy()

    def test_huge_string_value(self):
        for size in (MAX_STRING + 1, 4 * MAX_STRING, MAX_BODY - 4096):
            status, _, response = self.srv().soap(soap_envelope("IVMHostInfo_get_Memory", [("_this", "h" * size)]))
            self.assert_client_fault(status, response)
            self.assertLess(len(response), 16384)  # the value is not echoed back whole
        self.assert_healthy()

    def test_repeated_elements(self):
        # 2000 copies of a parameter: a schema violation
        status, _, response = self.srv().soap(soap_envelope("IVMHostInfo_get_Memory", [("_this", "hostinfo")] * 2000))
        self.assert_client_fault(status, response)
        # 2000 operation elements in one Body, 2000 header blocks: no crash, one well-formed answer
        ops = "<vs:IVMHostInfo_get_Memory><vs:_this>hostinfo</vs:_this></vs:IVMHostInfo_get_Memory>" * 2000
        status, _, response = self.srv().soap((ENVELOPE_OPEN + "<soap:Body>" + ops + "</soap:Body>" +
                                               ENVELOPE_CLOSE).encode())
        self.assertIn(status, (200, 500))
        root = ET.fromstring(response)
        self.assertLessEqual(len(list(root.find(f"{{{NS_ENV}}}Body"))), 1)
        headers = "<vs:SessionToken>x</vs:SessionToken>" * 2000
        status, _, response = self.srv().soap((ENVELOPE_OPEN + "<soap:Header>" + headers + "</soap:Header><soap:Body>"
                                               "<vs:IVMVirtualServer_get_Name/></soap:Body>" + ENVELOPE_CLOSE).encode())
        self.assertIn(status, (200, 500))
        ET.fromstring(response)
        self.assert_healthy()

    INVALID_UTF8 = b"\xff\xfe\xc3\x28\xed\xa0\x80\xf8\x88\x80\x80\x80\xc0\xaf"  # bad bytes, surrogate, overlong

    def test_invalid_utf8(self):
        bad = self.INVALID_UTF8
        for body in (soap_envelope("IVMHostInfo_get_Memory", [("_this", "X")]).replace(b">X<", b">" + bad + b"<"),
                     soap_envelope("IVMVirtualServer_get_X").replace(b"get_X", b"get_" + bad),
                     soap_envelope("Session_Logon", [("userName", "X"), ("password", "p")]).replace(b">X<", b">" + bad + b"<"),
                     bad * 100):
            status, _, response = self.srv().soap(body)
            self.assertEqual(status, 500, body[:80])
            self.assertIn(b"Fault>", response)
        # where nothing is echoed, the fault is well-formed
        status, _, response = self.srv().soap(
            soap_envelope("Session_Logon", [("userName", "X"), ("password", "p")]).replace(b">X<", b">" + bad + b"<"),
            auth=False)
        self.assertEqual(parse_fault(response)["name"], "E_ACCESSDENIED")
        self.assert_healthy()

    def test_echoed_input_in_fault_is_well_formed_xml(self):
        for body in (soap_envelope("IVMHostInfo_get_Memory", [("_this", "X")]).replace(b">X<", b">\xed\xa0\x80<"),
                     soap_envelope("IVMHostInfo_get_Memory", [("_this", "X")]).replace(b">X<", b">&#1;<"),
                     soap_envelope("IVMVirtualServer_get_X").replace(b"get_X", b"get_" + self.INVALID_UTF8)):
            status, _, response = self.srv().soap(body)
            self.assertEqual(status, 500)
            response.decode("utf-8")
            parse_fault(response)  # what XML parsers (zeep, browsers) will do with it

    def test_fault_text_cut_keeps_utf8_valid(self):
        status, _, response = self.srv().soap(soap_envelope("IVMHostInfo_get_Memory", [("_this", "a" + "\u00e9" * 40)]))
        self.assertEqual(status, 500)
        response.decode("utf-8")
        self.assertEqual(parse_fault(response)["name"], "E_INVALIDARG")


class TlsTest(VsadTestCase):
    """Protocol versions and cipher suites, probed with openssl s_client."""

    def s_client(self, *args):
        openssl = shutil.which("openssl")
        self.assertIsNotNone(openssl, "openssl not installed")
        result = subprocess.run([openssl, "s_client", "-connect", f"127.0.0.1:{self.srv().port}",
                                 "-CAfile", self.srv().vsad.certificate, *args],
                                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT)
        m = re.search(r"Cipher is (\S+)", result.stdout)
        cipher = m.group(1) if m and m.group(1) != "(NONE)" else None
        return result.returncode, cipher, result.stdout + result.stderr

    def test_old_protocols_refused(self):
        for version in ("-tls1", "-tls1_1"):
            code, cipher, output = self.s_client(version, "-cipher", "DEFAULT:@SECLEVEL=0")
            self.assertTrue(code != 0 or cipher is None, f"{version} negotiated {cipher}:\n{output[-800:]}")
            self.assertIsNone(cipher, version)
        self.assert_healthy()

    def test_modern_protocols_accepted(self):
        for version, protocol in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
            code, cipher, output = self.s_client(version, "-verify_return_error", "-verify_ip", "127.0.0.1")
            self.assertEqual(code, 0, output[-800:])
            self.assertIsNotNone(cipher, output[-800:])
            self.assertIn(protocol, output)
            self.assertIn("Verify return code: 0 (ok)", output)
            if protocol == "TLSv1.2":
                self.assertRegex(cipher, r"GCM|CHACHA20", "TLS 1.2 must negotiate an AEAD suite")
        self.assert_healthy()

    def test_non_aead_tls12_ciphers_refused(self):
        for suite in ("AES128-SHA", "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES128-SHA256"):
            code, cipher, output = self.s_client("-tls1_2", "-cipher", suite + ":@SECLEVEL=0")
            self.assertTrue(code != 0 or cipher is None, f"{suite} negotiated {cipher}:\n{output[-800:]}")
            self.assertIsNone(cipher, suite)
        self.assert_healthy()

    def test_garbage_instead_of_handshake(self):
        for junk in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x16\x03\x01\xff\xff" + b"\x00" * 100, os.urandom(4096)):
            with socket.create_connection(("127.0.0.1", self.srv().port), timeout=TIMEOUT) as sock:
                try:
                    sock.sendall(junk)
                    sock.settimeout(TIMEOUT)
                    while sock.recv(4096):
                        pass
                except (ConnectionResetError, BrokenPipeError):
                    pass
        self.assert_healthy()


class LockoutTest(VsadTestCase):
    """auth.max_failures=3, lockout 3 s: 429 with Retry-After, even for the right password, then accepted."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server({"auth.max_failures": 3, "auth.lockout_seconds": 3, "auth.failure_delay_ms": 50,
                             "auth.failure_window_seconds": 60})

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        if code != 0:
            raise AssertionError(f"lockout vsad exited with {code}:\n{cls.server.stderr_text[-2000:]}")

    def test_lockout(self):
        server = self.server
        body = soap_envelope("IVMVirtualServer_get_Name")
        wrong = Server.basic_header(server.vsad.user, server.vsad.password + "x")
        # the right password works, and is now in the credential cache
        self.assert_healthy(server)
        for attempt in range(3):
            status, headers, response = server.soap(body, auth=False, headers={"Authorization": wrong})
            self.assertEqual(status, 401, f"attempt {attempt + 1}")
            self.assertTrue((headers.get("WWW-Authenticate") or "").startswith("Basic"))
            self.assertEqual(parse_fault(response)["name"], "E_ACCESSDENIED")
        locked_at = time.monotonic()
        status, headers, response = server.soap(body, auth=False, headers={"Authorization": wrong})
        self.assertEqual(status, 429)
        retry_after = int(headers.get("Retry-After"))
        self.assertTrue(1 <= retry_after <= 3, retry_after)
        self.assertEqual(parse_fault(response)["name"], "E_ACCESSDENIED")
        # the right password, cached or not, through Basic or Session_Logon: refused while locked
        status, headers, _ = server.soap(body)
        self.assertEqual(status, 429)
        self.assertIsNotNone(headers.get("Retry-After"))
        status, _, _ = server.soap(soap_envelope("Session_Logon", [("userName", server.vsad.user),
                                                                   ("password", server.vsad.password)]), auth=False)
        self.assertEqual(status, 429)
        # a malformed Authorization header is refused too
        status, _, _ = server.soap(body, auth=False, headers={"Authorization": "Basic !!!"})
        self.assertEqual(status, 429)
        self.assertTrue(server.vsad.alive())
        # after the lockout the right password is accepted again
        remaining = locked_at + 3.0 - time.monotonic()
        if remaining > 0:
            time.sleep(remaining + 0.3)
        self.assert_healthy(server)


class SlowClientTest(VsadTestCase):
    """limits.receive_timeout_ms=1500: silent and half-sent connections neither block others nor stay open."""

    RECEIVE_TIMEOUT = 1.5
    order = ("test_slow_clients", "test_trickling_client_is_cut_off", "test_sigterm_after_slow_clients")

    @classmethod
    def setUpClass(cls):
        cls.server = Server({"limits.receive_timeout_ms": int(cls.RECEIVE_TIMEOUT * 1000)})

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_slow_clients(self):
        server = self.server
        opened = time.monotonic()
        silent = [socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) for _ in range(3)]
        half = server.tls_socket()
        half.sendall(b"POST /Virtu")
        try:
            started = time.monotonic()
            self.assert_healthy(server)
            self.assertLess(time.monotonic() - started, 2.0, "a SOAP call waited behind the slow clients")
            # The server closes them: recv gives b"" (or a reset). A silent connection gets one
            # receive timeout, the half request line at most two (poll, then the read).
            for name, sock, limit in ([("silent", s, 3.0) for s in silent] +
                                      [("half request line", half, 2 * self.RECEIVE_TIMEOUT + 1.5)]):
                sock.settimeout(max(0.1, opened + limit - time.monotonic()))
                try:
                    data = sock.recv(4096)
                    closed = data == b"" or status_of(data) in (400, 408)
                except (ConnectionResetError, BrokenPipeError):
                    closed = True
                except (socket.timeout, TimeoutError, ssl.SSLError):
                    closed = False
                self.assertTrue(closed, f"{name} connection still open after {time.monotonic() - opened:.1f} s")
        finally:
            for sock in silent + [half]:
                sock.close()
        self.assert_healthy(server)

    def test_trickling_client_is_cut_off(self):
        server = self.server
        sock = server.tls_socket()
        request = b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 64
        started = time.monotonic()
        limit = 4 * self.RECEIVE_TIMEOUT  # generous: a whole request may take a few timeouts, not forever
        closed = False
        try:
            for byte in request:
                if time.monotonic() - started > limit + 1.0:
                    break
                sock.sendall(bytes([byte]))
                time.sleep(self.RECEIVE_TIMEOUT / 3)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            closed = True
        finally:
            sock.close()
        self.assertTrue(server.vsad.alive())
        self.assertTrue(closed, f"a client sending one byte every {self.RECEIVE_TIMEOUT / 3:.1f} s kept its "
                                f"connection for {time.monotonic() - started:.1f} s")

    def test_sigterm_after_slow_clients(self):
        server = self.server
        self.assert_healthy(server)
        server.vsad.process.send_signal(signal.SIGTERM)
        try:
            code = server.vsad.process.wait(10)
        except subprocess.TimeoutExpired:
            self.fail("vsad did not exit within 10 s of SIGTERM")
        self.assertEqual(code, 0)


class SilentConnectionShutdownTest(VsadTestCase):
    """A TCP connection that never starts TLS must not hold up SIGTERM."""

    def test_sigterm_with_connection_before_tls_handshake(self):
        server = Server({"limits.receive_timeout_ms": 20000})
        silent = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
        try:
            self.assert_healthy(server)  # the silent connection has been accepted by now
            server.vsad.process.send_signal(signal.SIGTERM)
            try:
                code = server.vsad.process.wait(10)
            except subprocess.TimeoutExpired:
                self.fail("vsad did not exit within 10 s of SIGTERM (a connection without TLS handshake open)")
            self.assertEqual(code, 0)
        finally:
            silent.close()
            if server.vsad.alive():
                server.vsad.process.kill()
            server.stop()


class ShutdownTest(VsadTestCase):
    """Runs last: SIGTERM stops the main vsad, with idle connections open, with exit status 0 in 10 s."""

    def test_sigterm_clean_exit(self):
        server = main_server
        self.assert_healthy(server)
        # a kept-alive connection after a request, an idle TLS connection, half a request line
        keep_alive = http.client.HTTPSConnection("127.0.0.1", server.port, context=server.context, timeout=TIMEOUT)
        keep_alive.request("POST", "/VirtualServer", body=soap_envelope("IVMVirtualServer_get_Name"),
                           headers={"Authorization": server.basic, "Content-Type": "text/xml"})
        response = keep_alive.getresponse()
        response.read()
        self.assertEqual(response.status, 200)
        idle_tls = server.tls_socket()
        half = server.tls_socket()
        half.sendall(b"POST /VirtualServer HTTP/1.1\r\nContent-Le")
        time.sleep(0.2)  # let the workers pick them up
        started = time.monotonic()
        server.vsad.process.send_signal(signal.SIGTERM)
        try:
            code = server.vsad.process.wait(10)
        except subprocess.TimeoutExpired:
            self.fail("vsad did not exit within 10 s of SIGTERM")
        finally:
            for closable in (keep_alive, idle_tls, half):
                closable.close()
        self.assertEqual(code, 0, f"exit status {code}")
        self.assertLess(time.monotonic() - started, 10)


def main():
    global VSAD_BINARY
    if len(sys.argv) < 2:
        print("usage: test_hostile.py PATH/TO/vsad", file=sys.stderr)
        return 2
    VSAD_BINARY = os.path.abspath(sys.argv[1])
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for case in (HttpTest, XmlTest, TlsTest, LockoutTest, SlowClientTest, SilentConnectionShutdownTest,
                 ShutdownTest):
        order = getattr(case, "order", None)  # classes whose tests depend on each other
        suite.addTests([case(name) for name in order] if order else loader.loadTestsFromTestCase(case))
    started = time.monotonic()
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    for test, _ in result.expectedFailures:
        print(f"known daemon bug (expected failure, counted as passed): {test.id()}")
    for test in result.unexpectedSuccesses:
        print(f"unexpected success: {test.id()} -- the daemon bug seems fixed; drop @expectedFailure")
    if failed and main_server is not None:
        text = main_server.stderr_text
        if not text:
            try:
                with open(main_server.vsad.stderr_path, errors="replace") as f:
                    text = f.read()
            except OSError:
                pass
        if text:
            print("--- main vsad stderr (tail) ---\n" + text[-4000:])
    print(f"runtime {time.monotonic() - started:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or result.testsRun == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
