# SPDX-License-Identifier: GPL-2.0-or-later
"""Start a real vsad on a free loopback port with a temporary data directory.

Used by the integration tests and the benchmarks. vsad prints the generated
administrator password and a "vsad ready: https://ADDR:PORT/" line on stdout;
this reads both, so nothing about the daemon is faked.
"""
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time


class Vsad:
    def __init__(self, binary, extra_args=(), defines=None, data_dir=None, ready_timeout=60.0):
        self.binary = binary
        self.own_data_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="vsad-test-")
        args = [binary, f"--data-dir={self.data_dir}", "--port=0", "--bind=127.0.0.1",
                "-D", "https.longpoll_port=0", "--log-level=warning"]
        for key, value in (defines or {}).items():
            args += ["-D", f"{key}={value}"]
        args += list(extra_args)
        self.stderr_path = os.path.join(self.data_dir, "vsad.stderr")
        self._stderr = open(self.stderr_path, "ab")
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._stderr, stdin=subprocess.DEVNULL)
        self.password = None
        self.user = "admin"
        self.url = None
        self._read_banner(ready_timeout)
        self.certificate = os.path.join(self.data_dir, "tls", "server.crt")
        self.host, self.port = re.match(r"https://([^/]+):(\d+)/", self.url).groups()
        self.port = int(self.port)
        self.endpoint = self.url + "VirtualServer"

    def _read_banner(self, timeout):
        deadline = time.monotonic() + timeout
        buffer = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 4096)
                if not chunk:
                    break
                buffer += chunk
                text = buffer.decode(errors="replace")
                m = re.search(r"password: (\S+)", text)
                if m:
                    self.password = m.group(1)
                m = re.search(r"vsad ready: (https://\S+/)", text)
                if m:
                    self.url = m.group(1)
                    return
            elif self.process.poll() is not None:
                break
        self.stop()
        with open(self.stderr_path, errors="replace") as f:
            raise RuntimeError(f"vsad did not become ready; stdout={buffer!r} stderr={f.read()}")

    def alive(self):
        return self.process.poll() is None

    def stop(self, timeout=15):
        """SIGTERM, then wait: a clean shutdown exits 0."""
        code = self.process.poll()
        if code is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                code = self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                code = self.process.wait()
        self._stderr.close()
        return code

    def cleanup(self):
        self.stop()
        if self.own_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


def soap_envelope(operation, params=None, header_token=None, ns="urn:vsa:virtualserver:1"):
    """A SOAP 1.1 request body for `operation` with ordered (name, value) params."""
    from xml.sax.saxutils import escape
    header = ""
    if header_token is not None:
        header = f"<soap:Header><vs:SessionToken>{escape(header_token)}</vs:SessionToken></soap:Header>"
    inner = "".join(f"<vs:{k}>{escape(str(v))}</vs:{k}>" for k, v in (params or []))
    return (f'<?xml version="1.0" encoding="utf-8"?>'
            f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:vs="{ns}">'
            f"{header}<soap:Body><vs:{operation}>{inner}</vs:{operation}></soap:Body></soap:Envelope>").encode()
