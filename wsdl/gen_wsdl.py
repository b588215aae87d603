#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write VirtualServer.wsdl from the compact contract description vsa-api.txt.

The WSDL is the published contract: WSDL 1.1, SOAP 1.1, document/literal
wrapped, elementFormDefault="qualified". Operation names follow the Virtual
Server COM members (IVMHostInfo_get_Memory); members of objects other than the
root server take a `_this` object reference. Every response wraps its value in
`returnval`. Every operation may fail with one typed fault, VirtualServerFault,
carrying the Virtual Server HRESULT.

Usage: gen_wsdl.py [--check] DESCRIPTION OUTPUT
  --check: exit 1 (and say why) if OUTPUT differs from what would be written.
"""
import sys
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

XSD_TYPES = {
    "string": "xsd:string",
    "long": "xsd:int",
    "ulong": "xsd:unsignedInt",
    "bool": "xsd:boolean",
    "double": "xsd:double",
    "decimal": "xsd:decimal",
    "date": "xsd:dateTime",
    "int64": "xsd:long",
    "string[]": "tns:ArrayOfString",
    "ulong[]": "tns:ArrayOfUnsignedInt",
    "base64": "xsd:base64Binary",
}

# Structures declared with `struct` (name -> Struct), in declaration order.
# Set by parse(); xsd_type resolves NAME and NAME[] against it.
STRUCTS = {}

# Every `interface` and `session` line, in order (an interface may be
# reopened further down). Set by parse(); the WSDL does not use it, the API
# reference page (gen_api_html.py) does.
SECTIONS = []


@dataclass
class Struct:
    name: str
    fields: list  # [(name, type, optional)]
    doc: str
    note: str = ""  # the comment block right above the declaration


@dataclass
class Operation:
    owner: str
    name: str  # full operation name, e.g. IVMHostInfo_get_Memory
    params: list  # [(name, type)]
    returns: str  # type or "void"
    doc: str
    flags: set = field(default_factory=set)
    takes_this: bool = False
    note: str = ""  # the comment block right above the declaration


@dataclass
class Section:
    kind: str  # "interface" or "session"
    name: str
    root: bool
    note: str  # the comment block right above the declaration
    first_op: int  # index in parse()'s operations of its first member


class DescriptionError(Exception):
    pass


def xsd_type(t, where):
    if t.startswith("ref:"):
        return "tns:ObjectRef"
    if t.endswith("[]") and t[:-2] in STRUCTS:
        return f"tns:ArrayOf{t[:-2]}"
    if t in STRUCTS:
        return f"tns:{t}"
    if t not in XSD_TYPES:
        raise DescriptionError(f"{where}: unknown type {t!r}")
    return XSD_TYPES[t]


def parse(text):
    namespace = service = None
    owner = None
    owner_is_object = False
    ops = []
    STRUCTS.clear()
    SECTIONS.clear()
    events = []  # [(interface, name, doc)]
    comment = []  # the comment lines since the last blank line or declaration
    for number, raw in enumerate(text.splitlines(), 1):
        where = f"line {number}"
        if raw.lstrip().startswith("#"):
            comment.append(raw.lstrip()[1:].strip())
            continue
        note = " ".join(comment)
        comment = []
        line, _, doc = raw.partition(" -- ")
        line = line.split("#", 1)[0].strip()
        doc = doc.strip()
        if not line:
            continue
        words = line.split()
        kind = words[0]
        if kind == "namespace":
            namespace = words[1]
        elif kind == "service":
            service = words[1]
        elif kind == "struct":
            if len(words) < 3:
                raise DescriptionError(f"{where}: malformed struct")
            fields = []
            for f in words[2:]:
                fname, _, ftype = f.partition(":")
                if not ftype:
                    raise DescriptionError(f"{where}: field {f!r} has no type")
                xsd_type(ftype, where)
                # NAME?:TYPE is optional (minOccurs 0): left out of a message
                # when it has its default, so long answers stay small.
                optional = fname.endswith("?")
                fields.append((fname.rstrip("?"), ftype, optional))
            if words[1] in STRUCTS or words[1] in XSD_TYPES:
                raise DescriptionError(f"{where}: duplicate type {words[1]!r}")
            STRUCTS[words[1]] = Struct(words[1], fields, doc, note)
        elif kind == "event":
            if owner is None or len(words) != 2:
                raise DescriptionError(f"{where}: malformed event")
            events.append((owner, words[1], doc))
        elif kind in ("interface", "session"):
            owner = words[1]
            owner_is_object = kind == "interface" and "root" not in words[2:]
            SECTIONS.append(Section(kind, owner, "root" in words[2:], note, len(ops)))
        elif kind == "get":
            if owner is None or len(words) < 3:
                raise DescriptionError(f"{where}: malformed property")
            _, prop, typ, *flags = words
            xsd_type(typ, where)
            ops.append(Operation(owner, f"{owner}_get_{prop}", [], typ, doc, set(flags), owner_is_object, note))
        elif kind == "method":
            if owner is None or "->" not in words:
                raise DescriptionError(f"{where}: malformed method")
            arrow = words.index("->")
            name = words[1]
            params = []
            for p in words[2:arrow]:
                pname, _, ptype = p.partition(":")
                if not ptype:
                    raise DescriptionError(f"{where}: parameter {p!r} has no type")
                xsd_type(ptype, where)
                params.append((pname, ptype))
            returns, *flags = words[arrow + 1 :]
            if returns != "void":
                xsd_type(returns, where)
            ops.append(Operation(owner, f"{owner}_{name}", params, returns, doc, set(flags), owner_is_object, note))
        else:
            raise DescriptionError(f"{where}: unknown declaration {kind!r}")
        if ops and not ops[-1].flags <= {"ext", "anon"}:
            raise DescriptionError(f"{where}: unknown flag in {sorted(ops[-1].flags)}")
    if not namespace or not service:
        raise DescriptionError("namespace and service are required")
    names = [op.name for op in ops]
    if len(names) != len(set(names)):
        raise DescriptionError("duplicate operation names")
    return namespace, service, ops, events


def element(name, children, indent):
    pad = " " * indent
    if not children:
        return [f'{pad}<xsd:element name="{name}"><xsd:complexType><xsd:sequence/></xsd:complexType></xsd:element>']
    out = [f'{pad}<xsd:element name="{name}">', f"{pad}  <xsd:complexType>", f"{pad}    <xsd:sequence>"]
    for cname, ctype, extra in children:
        out.append(f'{pad}      <xsd:element name="{cname}" type="{ctype}"{extra}/>')
    out += [f"{pad}    </xsd:sequence>", f"{pad}  </xsd:complexType>", f"{pad}</xsd:element>"]
    return out


def render(namespace, service, ops, events):
    o = []
    o.append('<?xml version="1.0" encoding="UTF-8"?>')
    o.append("<!-- Generated by wsdl/gen_wsdl.py from wsdl/vsa-api.txt: edit those, not this file. -->")
    o.append("<!-- SPDX-License-Identifier: GPL-2.0-or-later -->")
    o.append(
        f'<wsdl:definitions name="{service}" targetNamespace="{namespace}"\n'
        f'    xmlns:tns="{namespace}"\n'
        '    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"\n'
        '    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"\n'
        '    xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
    )
    o.append(
        "  <wsdl:documentation>VSA, the Virtual Server Appliance: the Virtual Server 2005 management model "
        "over SOAP. Authenticate with HTTP Basic over TLS, or call Session_Logon and pass the token in the "
        "SessionToken header (or the VSASESSION cookie). Errors are VirtualServerFault faults carrying the "
        "Virtual Server HRESULT.</wsdl:documentation>"
    )
    o.append("  <wsdl:types>")
    o.append(f'    <xsd:schema targetNamespace="{namespace}" elementFormDefault="qualified">')
    o.append('      <xsd:simpleType name="ObjectRef">')
    o.append("        <xsd:annotation><xsd:documentation>Opaque reference to a server object, as returned by the "
             "server; pass it back as _this.</xsd:documentation></xsd:annotation>")
    o.append('        <xsd:restriction base="xsd:string"/>')
    o.append("      </xsd:simpleType>")
    o.append('      <xsd:complexType name="ArrayOfString">')
    o.append("        <xsd:sequence>")
    o.append('          <xsd:element name="item" type="xsd:string" minOccurs="0" maxOccurs="unbounded"/>')
    o.append("        </xsd:sequence>")
    o.append("      </xsd:complexType>")
    o.append('      <xsd:complexType name="ArrayOfUnsignedInt">')
    o.append("        <xsd:sequence>")
    o.append('          <xsd:element name="item" type="xsd:unsignedInt" minOccurs="0" maxOccurs="unbounded"/>')
    o.append("        </xsd:sequence>")
    o.append("      </xsd:complexType>")
    o.append('      <xsd:element name="SessionToken" type="xsd:string"/>')
    for st in STRUCTS.values():
        o.append(f'      <xsd:complexType name="{st.name}">')
        if st.doc:
            o.append(f"        <xsd:annotation><xsd:documentation>{escape(st.doc)}</xsd:documentation></xsd:annotation>")
        o.append("        <xsd:sequence>")
        for fname, ftype, optional in st.fields:
            occurs = ' minOccurs="0"' if optional else ""
            o.append(f'          <xsd:element name="{fname}" type="{xsd_type(ftype, st.name)}"{occurs}/>')
        o.append("        </xsd:sequence>")
        o.append("      </xsd:complexType>")
        o.append(f'      <xsd:complexType name="ArrayOf{st.name}">')
        o.append("        <xsd:sequence>")
        o.append(f'          <xsd:element name="item" type="tns:{st.name}" minOccurs="0" maxOccurs="unbounded"/>')
        o.append("        </xsd:sequence>")
        o.append("      </xsd:complexType>")
    if events:
        # The kinds of event GetEvents and WaitForUpdates report: Virtual
        # Server's COM event callbacks, delivered as log entries.
        o.append('      <xsd:simpleType name="EventKind">')
        o.append("        <xsd:restriction base=\"xsd:string\">")
        for iface, name, doc in events:
            o.append(f'          <xsd:enumeration value="{name}"><xsd:annotation><xsd:documentation>'
                     f"{escape(iface)}: {escape(doc)}</xsd:documentation></xsd:annotation></xsd:enumeration>")
        o.append("        </xsd:restriction>")
        o.append("      </xsd:simpleType>")
    o += element(
        "VirtualServerFault",
        [("hresult", "xsd:unsignedInt", ""), ("hresultName", "xsd:string", ""), ("message", "xsd:string", "")],
        6,
    )
    for op in ops:
        request = []
        if op.takes_this:
            request.append(("_this", "tns:ObjectRef", ""))
        request += [(n, xsd_type(t, op.name), "") for n, t in op.params]
        o += element(op.name, request, 6)
        response = [] if op.returns == "void" else [("returnval", xsd_type(op.returns, op.name), "")]
        o += element(op.name + "Response", response, 6)
    o.append("    </xsd:schema>")
    o.append("  </wsdl:types>")

    o.append('  <wsdl:message name="SessionTokenHeader">')
    o.append('    <wsdl:part name="SessionToken" element="tns:SessionToken"/>')
    o.append("  </wsdl:message>")
    o.append('  <wsdl:message name="VirtualServerFaultMessage">')
    o.append('    <wsdl:part name="fault" element="tns:VirtualServerFault"/>')
    o.append("  </wsdl:message>")
    for op in ops:
        for suffix, elem in (("Request", op.name), ("Response", op.name + "Response")):
            o.append(f'  <wsdl:message name="{op.name}{suffix}">')
            o.append(f'    <wsdl:part name="parameters" element="tns:{elem}"/>')
            o.append("  </wsdl:message>")

    o.append(f'  <wsdl:portType name="{service}PortType">')
    for op in ops:
        doc = op.doc
        if "ext" in op.flags:
            doc = "VSA extension. " + doc
        if "anon" in op.flags:
            doc += " Callable without credentials."
        o.append(f'    <wsdl:operation name="{op.name}">')
        if doc:
            o.append(f"      <wsdl:documentation>{escape(doc)}</wsdl:documentation>")
        o.append(f'      <wsdl:input message="tns:{op.name}Request"/>')
        o.append(f'      <wsdl:output message="tns:{op.name}Response"/>')
        o.append('      <wsdl:fault name="VirtualServerFault" message="tns:VirtualServerFaultMessage"/>')
        o.append("    </wsdl:operation>")
    o.append("  </wsdl:portType>")

    o.append(f'  <wsdl:binding name="{service}Binding" type="tns:{service}PortType">')
    o.append('    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>')
    for op in ops:
        o.append(f'    <wsdl:operation name="{op.name}">')
        o.append(f"      <soap:operation soapAction={quoteattr(namespace + '#' + op.name)} style=\"document\"/>")
        o.append("      <wsdl:input>")
        o.append('        <soap:body use="literal"/>')
        o.append('        <soap:header message="tns:SessionTokenHeader" part="SessionToken" use="literal"/>')
        o.append("      </wsdl:input>")
        o.append('      <wsdl:output><soap:body use="literal"/></wsdl:output>')
        o.append('      <wsdl:fault name="VirtualServerFault"><soap:fault name="VirtualServerFault" use="literal"/>'
                 "</wsdl:fault>")
        o.append("    </wsdl:operation>")
    o.append("  </wsdl:binding>")

    o.append(f'  <wsdl:service name="{service}">')
    o.append(f'    <wsdl:port name="{service}Port" binding="tns:{service}Binding">')
    o.append(f'      <soap:address location="https://localhost:8443/{service}"/>')
    o.append("    </wsdl:port>")
    o.append("  </wsdl:service>")
    o.append("</wsdl:definitions>")
    return "\n".join(o) + "\n"


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(args[0], encoding="utf-8") as f:
            text = render(*parse(f.read()))
    except (OSError, DescriptionError) as e:
        print(f"gen_wsdl: {e}", file=sys.stderr)
        return 2
    if check:
        try:
            with open(args[1], encoding="utf-8") as f:
                current = f.read()
        except OSError:
            current = None
        if current != text:
            print(f"gen_wsdl: {args[1]} is out of date; run wsdl/gen_wsdl.py {args[0]} {args[1]}", file=sys.stderr)
            return 1
        return 0
    with open(args[1], "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
