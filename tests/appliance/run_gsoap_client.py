#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Start vsad, check it serves the contract the client was generated from,
then run the gSOAP-generated C++ client against it.

usage: run_gsoap_client.py VSAD CLIENT COMMITTED_WSDL
"""
import os
import ssl
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad  # noqa: E402


def main(vsad_binary, client, committed_wsdl):
    with Vsad(vsad_binary) as vsad:
        context = ssl.create_default_context(cafile=vsad.certificate)
        with urllib.request.urlopen(vsad.endpoint + "?wsdl", context=context, timeout=30) as response:
            served = response.read().decode()
        with open(committed_wsdl, encoding="utf-8") as f:
            committed = f.read()
        expected = committed.replace("https://localhost:8443/VirtualServer", vsad.endpoint)
        if served != expected:
            print("FAIL: the served WSDL differs from the committed contract the client was built from")
            print("0 passed, 1 failed")
            return 1
        print("served WSDL == committed WSDL (address rewritten to", vsad.endpoint + ")")
        result = subprocess.run([client, "--color_output=no", "--log_level=test_suite", "--",
                                 vsad.endpoint, vsad.certificate, vsad.user, vsad.password], timeout=300)
        if not vsad.alive():
            print("FAIL: vsad died")
            return 1
        code = vsad.stop()
        if code != 0:
            print(f"FAIL: vsad exited with {code} on SIGTERM")
            return 1
        return result.returncode


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
