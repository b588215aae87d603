#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the SOAP API reference page (api.html) from vsa-api.txt.

The page is the human-readable twin of VirtualServer.wsdl: both come from
the same description, read by gen_wsdl.py's parser (imported, not
repeated), so the two can never disagree. The build writes the page into
the web root vsad serves (web/CMakeLists.txt); it is never committed.

It is one static HTML file: its styling is in the web UI's css/style.css
and its only script is js/api.js (the shared header and navigation), as
vsad's Content-Security-Policy allows nothing inline.

Usage: gen_api_html.py DESCRIPTION OUTPUT [--fault-only FILE]
  --fault-only: tests/coverage/api_fault_only.txt, the operations that
  always answer a documented HRESULT on this platform ("NAME -- HRESULT:
  why" lines); they are marked on the page.
"""
import os
import re
import sys
from html import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_wsdl  # noqa: E402  (the one parser of vsa-api.txt)

SCALARS = {
    "string": "string",
    "long": "32-bit integer",
    "ulong": "unsigned 32-bit integer",
    "int64": "64-bit integer",
    "bool": "boolean",
    "double": "double",
    "decimal": "decimal",
    "date": "date and time",
    "string[]": "array of string",
    "ulong[]": "array of unsigned 32-bit integer",
    "base64": "bytes (base64)",
}

KIND_TEXT = {
    "root": "The root server object: its operations take no <code>_this</code> reference.",
    "interface": "A server object: every operation takes the object's reference as <code>_this</code> "
                 "(an <code>ObjectRef</code> another operation returned).",
    "session": "Operations outside the Virtual Server COM model (VSA's own); no <code>_this</code>.",
}


def read_fault_only(path):
    """NAME -> (HRESULT name, why) from api_fault_only.txt ('#' comments)."""
    entries = {}
    if not path:
        return entries
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            name, _, reason = line.partition(" -- ")
            hresult, _, why = reason.partition(": ")
            entries[name.strip()] = (hresult.strip(), why.strip())
    return entries


def interface_anchor(name):
    return f"interface-{name}"


def type_html(t):
    """The description's type as text, with links to interfaces and structs."""
    wsdl = escape(gen_wsdl.xsd_type(t, "type"))
    if t.startswith("ref:"):
        target = t[4:]
        return (f'<a href="#{interface_anchor(target)}"><code>{escape(target)}</code></a> reference '
                f'<span class="muted">({wsdl})</span>')
    if t.endswith("[]") and t[:-2] in gen_wsdl.STRUCTS:
        s = t[:-2]
        return f'array of <a href="#type-{s}"><code>{s}</code></a> <span class="muted">({wsdl})</span>'
    if t in gen_wsdl.STRUCTS:
        return f'<a href="#type-{t}"><code>{t}</code></a> <span class="muted">({wsdl})</span>'
    return f'{escape(SCALARS.get(t, t))} <span class="muted">({wsdl})</span>'


def code_text(text):
    """Description text with `quoted` words as code, everything escaped."""
    parts = escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def note_text(note):
    """A comment block as page text, without its contributors' bookkeeping:
    the "---" rulers and "(issue N, area ...)" tags."""
    note = re.sub(r"\s*\(issue \d+[^()]*\)", "", note)
    return note.replace("---", "").strip()


def grouped(ops):
    """[(name, kind, [(note, [ops])])]: reopened interfaces merged, in order."""
    groups = {}
    sections = gen_wsdl.SECTIONS
    for i, sec in enumerate(sections):
        end = sections[i + 1].first_op if i + 1 < len(sections) else len(ops)
        kind = "session" if sec.kind == "session" else ("root" if sec.root else "interface")
        _kind, blocks = groups.setdefault(sec.name, (kind, []))
        members = ops[sec.first_op:end]
        current = (sec.note, [])
        for op in members:
            if op.note and current[1]:
                blocks.append(current)
                current = (op.note, [])
            elif op.note:
                current = ((current[0] + " " + op.note).strip(), [])
            current[1].append(op)
        if current[0] or current[1]:
            blocks.append(current)
    return [(name, kind, blocks) for name, (kind, blocks) in groups.items()]


def render_op(op, fault_only):
    o = [f'<article class="api-op" id="{op.name}" data-operation="{op.name}">']
    o.append(f'<h4><a class="api-anchor" href="#{op.name}"><code>{op.name}</code></a></h4>')
    badges = []
    if "ext" in op.flags:
        badges.append('<li class="api-badge api-badge-ext">VSA extension</li>')
    if "anon" in op.flags:
        badges.append('<li class="api-badge api-badge-anon">Callable without credentials</li>')
    if op.name in fault_only:
        badges.append('<li class="api-badge api-badge-fault">Always a fault on this platform</li>')
    if badges:
        o.append('<ul class="api-badges">' + "".join(badges) + "</ul>")
    if op.doc:
        o.append(f"<p>{code_text(op.doc)}</p>")
    if op.name in fault_only:
        hresult, why = fault_only[op.name]
        o.append(f'<p class="api-fault-only">Answers <code>{escape(hresult)}</code>: {code_text(why)}</p>')
    o.append('<dl class="api-sig">')
    params = []
    if op.takes_this:
        params.append(f'<li><code>_this</code>: <a href="#{interface_anchor(op.owner)}"><code>{op.owner}</code></a> '
                      'reference <span class="muted">(tns:ObjectRef)</span></li>')
    params += [f"<li><code>{escape(n)}</code>: {type_html(t)}</li>" for n, t in op.params]
    o.append("<dt>Parameters</dt>")
    o.append(f'<dd><ul class="api-params">{"".join(params)}</ul></dd>' if params else "<dd>none</dd>")
    o.append("<dt>Returns</dt>")
    if op.returns == "void":
        o.append("<dd>nothing (an empty response)</dd>")
    else:
        o.append(f"<dd><code>returnval</code>: {type_html(op.returns)}</dd>")
    o.append("</dl>")
    o.append("</article>")
    return o


def render(namespace, service, ops, events, fault_only):
    groups = grouped(ops)
    structs = list(gen_wsdl.STRUCTS.values())
    o = []
    o.append("<!-- SPDX-License-Identifier: GPL-2.0-or-later -->")
    o.append("<!-- Generated by wsdl/gen_api_html.py from wsdl/vsa-api.txt at build time: not committed. -->")
    o.append("<!DOCTYPE html>")
    o.append('<html lang="en">')
    o.append("<head>")
    o.append('  <meta charset="utf-8">')
    o.append('  <meta name="viewport" content="width=device-width, initial-scale=1">')
    o.append('  <meta name="color-scheme" content="light dark">')
    o.append('  <meta name="referrer" content="no-referrer">')
    o.append("  <title>API reference – Virtual Server Appliance</title>")
    o.append('  <link rel="icon" href="favicon.svg" type="image/svg+xml">')
    o.append('  <link rel="stylesheet" href="css/style.css">')
    o.append('  <script type="module" src="js/api.js"></script>')
    o.append("</head>")
    o.append('<body class="api-page" data-state="loading">')
    o.append('<main id="main">')
    o.append('<div class="page-head">')
    o.append("<h1>SOAP API reference</h1>")
    o.append(f'<p class="muted">{len(ops)} operations, {len(structs)} structures, {len(events)} event kinds; '
             "generated from <code>wsdl/vsa-api.txt</code>, like the WSDL.</p>")
    o.append("</div>")

    # Contents.
    o.append('<nav class="api-toc card" aria-labelledby="toc-heading">')
    o.append('<h2 id="toc-heading">Contents</h2>')
    o.append("<ul>")
    o.append('<li><a href="#endpoint">Endpoint and namespace</a></li>')
    o.append('<li><a href="#faults">Faults</a></li>')
    if fault_only:
        o.append('<li><a href="#fault-only">Members that cannot apply here</a></li>')
    o.append('<li><a href="#interfaces">Interfaces</a><ul class="api-toc-interfaces">')
    for name, _kind, blocks in groups:
        count = sum(len(b[1]) for b in blocks)
        o.append(f'<li><a href="#{interface_anchor(name)}">{name}</a> <span class="muted">({count})</span></li>')
    o.append("</ul></li>")
    o.append('<li><a href="#types">Structures</a></li>')
    o.append('<li><a href="#events">Events</a></li>')
    o.append("</ul>")
    o.append("</nav>")

    # Endpoint.
    o.append('<section id="endpoint" class="section" aria-labelledby="endpoint-heading">')
    o.append('<h2 id="endpoint-heading">Endpoint and namespace</h2>')
    o.append('<div class="card"><dl class="props">')
    o.append(f"<div><dt>Service</dt><dd><code>{escape(service)}</code></dd></div>")
    o.append(f"<div><dt>Endpoint</dt><dd><code>POST /{escape(service)}</code> on this server (HTTPS, "
             "SOAP 1.1 or 1.2, document/literal wrapped)</dd></div>")
    o.append(f"<div><dt>Target namespace</dt><dd><code>{escape(namespace)}</code></dd></div>")
    o.append(f"<div><dt>SOAPAction</dt><dd><code>{escape(namespace)}#</code><var>operation</var></dd></div>")
    o.append(f'<div><dt>WSDL</dt><dd><a href="/{escape(service)}?wsdl"><code>/{escape(service)}?wsdl</code></a> '
             "(no authentication)</dd></div>")
    o.append("<div><dt>Authentication</dt><dd>HTTP Basic over TLS, or <a href=\"#Session_Logon\"><code>"
             "Session_Logon</code></a>'s token in the <code>SessionToken</code> SOAP header (or the "
             "<code>VSASESSION</code> cookie)</dd></div>")
    o.append("</dl>")
    o.append("<p>Every request element is named after its operation and holds the parameters in order; "
             "operations of objects other than the root server take a <code>_this</code> reference first. "
             "The response element is the operation's name plus <code>Response</code> and wraps the value in "
             "<code>returnval</code>. Operations are named after the Virtual Server 2005 COM members "
             "(<code>IVMHostInfo_get_Memory</code> reads <code>IVMHostInfo.Memory</code>).</p>")
    o.append("</div>")
    o.append("</section>")

    # Faults.
    o.append('<section id="faults" class="section" aria-labelledby="faults-heading">')
    o.append('<h2 id="faults-heading">Faults</h2>')
    o.append('<div class="card">')
    o.append("<p>Any operation may fail with a SOAP fault (HTTP 500; <code>Client</code>/<code>Sender</code> "
             "for what the request got wrong, <code>Server</code>/<code>Receiver</code> otherwise). Its detail "
             "is one <code>VirtualServerFault</code> element:</p>")
    o.append('<dl class="props">')
    o.append("<div><dt><code>hresult</code></dt><dd>the Virtual Server HRESULT, an unsigned 32-bit integer "
             "(e.g. 2147942487 = 0x80070057)</dd></div>")
    o.append("<div><dt><code>hresultName</code></dt><dd>its name: <code>E_INVALIDARG</code>, "
             "<code>VM_E_VM_RUNNING</code>, <code>E_ACCESSDENIED</code>, ...</dd></div>")
    o.append("<div><dt><code>message</code></dt><dd>what went wrong, in words (also the fault string)</dd></div>")
    o.append("</dl>")
    o.append('<pre class="api-example"><code>' + escape(
        "<SOAP-ENV:Fault>\n"
        "  <faultcode>SOAP-ENV:Client</faultcode>\n"
        "  <faultstring>(why the call failed)</faultstring>\n"
        "  <detail>\n"
        f'    <VirtualServerFault xmlns="{namespace}">\n'
        "      <hresult>2147942487</hresult>\n"
        "      <hresultName>E_INVALIDARG</hresultName>\n"
        "      <message>(why the call failed)</message>\n"
        "    </VirtualServerFault>\n"
        "  </detail>\n"
        "</SOAP-ENV:Fault>") + "</code></pre>")
    o.append("<p>A request without valid credentials gets HTTP 401 instead, except for the operations marked "
             "<em>Callable without credentials</em>; an operation the caller has no right to call answers "
             "<code>E_ACCESSDENIED</code>.</p>")
    o.append("</div>")
    o.append("</section>")

    if fault_only:
        o.append('<section id="fault-only" class="section" aria-labelledby="fault-only-heading">')
        o.append('<h2 id="fault-only-heading">Members that cannot apply here</h2>')
        o.append("<p>These operations exist but always answer a documented HRESULT on this platform, with a "
                 "message that says why (never a silent success):</p>")
        o.append('<div class="table-box"><table class="table api-fault-table">')
        o.append('<thead><tr><th scope="col">Operation</th><th scope="col">Answer</th><th scope="col">Why</th>'
                 "</tr></thead><tbody>")
        for name, (hresult, why) in sorted(fault_only.items()):
            o.append(f'<tr><th scope="row"><a href="#{escape(name)}"><code>{escape(name)}</code></a></th>'
                     f"<td><code>{escape(hresult)}</code></td><td>{code_text(why)}</td></tr>")
        o.append("</tbody></table></div>")
        o.append("</section>")

    # Interfaces.
    o.append('<section id="interfaces" class="section" aria-labelledby="interfaces-heading">')
    o.append('<h2 id="interfaces-heading">Interfaces</h2>')
    for name, kind, blocks in groups:
        o.append(f'<section class="api-interface" id="{interface_anchor(name)}" aria-labelledby="h-{name}">')
        o.append(f'<h3 id="h-{name}"><a class="api-anchor" href="#{interface_anchor(name)}">{name}</a></h3>')
        o.append(f'<p class="muted">{KIND_TEXT[kind]}</p>')
        own_events = [(n, d) for i, n, d in events if i == name]
        if own_events:
            links = ", ".join(f'<a href="#event-{n}"><code>{n}</code></a>' for n, _ in own_events)
            o.append(f"<p>Events: {links}.</p>")
        for note, members in blocks:
            if note:
                o.append(f'<p class="api-note">{code_text(note_text(note))}</p>')
            for op in members:
                o += render_op(op, fault_only)
        o.append("</section>")
    o.append("</section>")

    # Structures.
    o.append('<section id="types" class="section" aria-labelledby="types-heading">')
    o.append('<h2 id="types-heading">Structures</h2>')
    o.append("<p>Each structure also has an array type <code>ArrayOf</code><var>Name</var> (its elements are "
             "<code>item</code>). An optional field is left out when it has its default.</p>")
    for st in structs:
        o.append(f'<article class="api-op" id="type-{st.name}">')
        o.append(f'<h4><a class="api-anchor" href="#type-{st.name}"><code>{st.name}</code></a></h4>')
        if st.doc:
            o.append(f"<p>{code_text(st.doc)}</p>")
        if st.note:
            o.append(f'<p class="api-note">{code_text(note_text(st.note))}</p>')
        fields = "".join(
            f"<li><code>{escape(fname)}</code>: {type_html(ftype)}{' <em>(optional)</em>' if optional else ''}</li>"
            for fname, ftype, optional in st.fields)
        o.append(f'<ul class="api-params">{fields}</ul>')
        o.append("</article>")
    o.append("</section>")

    # Events.
    o.append('<section id="events" class="section" aria-labelledby="events-heading">')
    o.append('<h2 id="events-heading">Events</h2>')
    o.append("<p>Virtual Server's COM event callbacks are delivered as entries of vsad's event log (a "
             '<a href="#type-VsaEvent"><code>VsaEvent</code></a> whose <code>kind</code> is one of these, '
             "the WSDL's <code>EventKind</code>): read them with <a href=\"#IVMVirtualServer_GetEvents\"><code>"
             "IVMVirtualServer_GetEvents</code></a>, or wait for them with the long poll <a "
             "href=\"#IVMVirtualServer_WaitForUpdates\"><code>IVMVirtualServer_WaitForUpdates</code></a> on the "
             "long-poll listener.</p>")
    o.append('<div class="table-box"><table class="table api-event-table">')
    o.append('<thead><tr><th scope="col">Kind</th><th scope="col">Interface</th><th scope="col">Meaning</th>'
             "</tr></thead><tbody>")
    for iface, name, doc in events:
        o.append(f'<tr id="event-{name}"><th scope="row"><code>{name}</code></th>'
                 f'<td><a href="#{interface_anchor(iface)}">{iface}</a></td><td>{code_text(doc)}</td></tr>')
    o.append("</tbody></table></div>")
    o.append("</section>")
    o.append("</main>")
    o.append("</body>")
    o.append("</html>")
    return "\n".join(o) + "\n"


def main(argv):
    fault_only_path = None
    args = []
    it = iter(argv)
    for a in it:
        if a == "--fault-only":
            fault_only_path = next(it, None)
        else:
            args.append(a)
    if len(args) != 2 or (("--fault-only" in argv) and not fault_only_path):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(args[0], encoding="utf-8") as f:
            namespace, service, ops, events = gen_wsdl.parse(f.read())
        fault_only = read_fault_only(fault_only_path)
    except (OSError, gen_wsdl.DescriptionError) as e:
        print(f"gen_api_html: {e}", file=sys.stderr)
        return 2
    names = {op.name for op in ops}
    unknown = sorted(set(fault_only) - names)
    if unknown:
        print(f"gen_api_html: {fault_only_path} names operations not in the description: {unknown}", file=sys.stderr)
        return 2
    text = render(namespace, service, ops, events, fault_only)
    tmp = args[1] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, args[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
