#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The generated API reference page (wsdl/gen_api_html.py) against the WSDL.

Runs the generator on vsa-api.txt into a temporary folder and checks that
every operation of VirtualServer.wsdl has its entry on the page (an element
whose id is the operation's name, with a link to itself), every structure
and event kind its anchor, every in-page link a target, the members of
api_fault_only.txt their mark, and that the checker itself reports a page
with an operation missing.

Usage: test_api_reference.py SOURCE_DIR
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest
from html.parser import HTMLParser

SOURCE = None


class PageIndex(HTMLParser):
    """Ids, in-page links and operation entries of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = []
        self.links = set()
        self.operations = {}  # id -> data-operation of the element
        self.classes = {}  # id -> class attribute
        self.fault_marked = set()  # ids of operation articles with the fault-only badge
        self._article = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
            self.classes[a["id"]] = a.get("class", "")
            if tag == "article":
                self._article = a["id"]
        if "data-operation" in a:
            self.operations[a.get("id")] = a["data-operation"]
        href = a.get("href")
        if tag == "a" and href and href.startswith("#"):
            self.links.add(href[1:])
        if tag == "li" and "api-badge-fault" in a.get("class", "") and self._article:
            self.fault_marked.add(self._article)


def wsdl_operations(wsdl_text):
    port_type = wsdl_text.split("<wsdl:portType", 1)[1].split("</wsdl:portType>", 1)[0]
    return re.findall(r'<wsdl:operation name="([^"]+)"', port_type)


def missing_operations(page_html, operations):
    """The operations without an entry (id = name, data-operation = name, a self link)."""
    index = PageIndex()
    index.feed(page_html)
    return [op for op in operations
            if index.operations.get(op) != op or op not in index.links]


def generate(out_dir):
    page = os.path.join(out_dir, "api.html")
    subprocess.run([sys.executable, os.path.join(SOURCE, "wsdl", "gen_api_html.py"),
                    os.path.join(SOURCE, "wsdl", "vsa-api.txt"), page,
                    "--fault-only", os.path.join(SOURCE, "tests", "coverage", "api_fault_only.txt")],
                   check=True)
    with open(page, encoding="utf-8") as f:
        return f.read()


class ApiReferenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with tempfile.TemporaryDirectory() as tmp:
            cls.page = generate(tmp)
        with open(os.path.join(SOURCE, "wsdl", "VirtualServer.wsdl"), encoding="utf-8") as f:
            cls.wsdl = f.read()
        cls.operations = wsdl_operations(cls.wsdl)
        cls.index = PageIndex()
        cls.index.feed(cls.page)

    def test_the_wsdl_has_operations(self):
        self.assertGreater(len(self.operations), 400)

    def test_every_wsdl_operation_has_its_anchor(self):
        self.assertEqual(missing_operations(self.page, self.operations), [])
        # And nothing on the page that the WSDL does not have.
        self.assertEqual(sorted(set(self.index.operations.values()) - set(self.operations)), [])

    def test_a_missing_operation_is_reported(self):
        victim = "IVMVirtualServer_get_Name"
        self.assertIn(victim, self.operations)
        start = self.page.index(f'<article class="api-op" id="{victim}"')
        end = self.page.index("</article>", start) + len("</article>")
        without = self.page[:start] + self.page[end:]
        self.assertEqual(missing_operations(without, self.operations), [victim])
        renamed = self.page.replace(f'id="{victim}"', f'id="{victim}x"', 1)
        self.assertEqual(missing_operations(renamed, self.operations), [victim])

    def test_anchors_are_unique_and_every_link_has_a_target(self):
        duplicates = sorted({i for i in self.index.ids if self.index.ids.count(i) > 1})
        self.assertEqual(duplicates, [])
        self.assertEqual(sorted(self.index.links - set(self.index.ids)), [])

    def test_structures_events_and_interfaces(self):
        ids = set(self.index.ids)
        for name in re.findall(r'<xsd:complexType name="([^"]+)"', self.wsdl):
            if name.startswith("ArrayOf"):
                continue
            self.assertIn(f"type-{name}", ids)
        events = re.findall(r'<xsd:enumeration value="([^"]+)"', self.wsdl)
        self.assertGreater(len(events), 10)
        for name in events:
            self.assertIn(f"event-{name}", ids)
        for op in self.operations:
            self.assertIn(f"interface-{op.split('_', 1)[0]}", ids, op)
        for anchor in ("endpoint", "faults", "fault-only", "interfaces", "types", "events"):
            self.assertIn(anchor, ids)
            self.assertIn(anchor, self.index.links)  # in the table of contents
        self.assertIn("urn:vsa:virtualserver:1", self.page)
        self.assertIn("hresultName", self.page)

    def test_flags_and_fault_only_members(self):
        fault_only = []
        with open(os.path.join(SOURCE, "tests", "coverage", "api_fault_only.txt"), encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    fault_only.append(line.split(" -- ", 1)[0].strip())
        self.assertTrue(fault_only)
        self.assertEqual(sorted(self.index.fault_marked), sorted(fault_only))
        session_logon = self.page.split('id="Session_Logon"', 1)[1].split("</article>", 1)[0]
        self.assertIn("Callable without credentials", session_logon)
        extension = self.page.split('id="IVMVirtualServer_get_MaximumNumberOfVMs"', 1)[1].split("</article>", 1)[0]
        self.assertIn("VSA extension", extension)

    def test_no_inline_style_or_script_and_no_other_origin(self):
        # vsad's CSP allows neither; the page must also work offline.
        self.assertNotIn("<style", self.page)
        self.assertNotIn("style=", self.page)
        self.assertIsNone(re.search(r"<script(?![^>]*\bsrc=)", self.page))
        self.assertIsNone(re.search(r'(?:src|href)="(?:https?:)?//', self.page))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    SOURCE = sys.argv.pop(1)
    unittest.main()
