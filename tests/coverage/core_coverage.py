#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Member coverage: every member of a list (the core members that vs-api.md,
section 3, marks Core = C; or all of its server-side members) must have an
operation in the WSDL and must have been called successfully by the
integration tests.

  core_coverage.py --extract VS-API.MD > core_members.txt
  core_coverage.py --extract-all VS-API.MD > api_members.txt
      (re)write the committed member lists from the reference digest, which
      lives outside this repository. The full list leaves out the VMRC
      client control (IVMRCClientControl and its events): an ActiveX control
      in the administrator's browser, not a member of the server.
  core_coverage.py MEMBERS WSDL OPERATION_LOG PENDING [FAULT_ONLY]
      the check. OPERATION_LOG is what vsad wrote during the integration
      tests (VSA_OPERATION_LOG: one successful operation, or "event:<kind>"
      for each event a client read, per line). PENDING lists members not
      implemented yet, each with the reason; a pending member that is
      implemented and called after all fails too, so the list only shrinks.
      FAULT_ONLY lists operations that cannot apply here (a Windows-only
      concept, a feature of Virtual Machine Additions): each answers a
      documented HRESULT, which its test checks, so it needs no successful
      call; one that succeeds after all fails the check.

How a member maps to operations: property Name (R) -> I_get_Name, (W) ->
I_set_Name; "Item(long index)" -> I_get_Item; _NewEnum -> I_get__NewEnum;
method M -> I_M; an event of an *Events interface -> an EventKind value of
the WSDL that a client read from the event log.
"""
import re
import sys


CLIENT_SIDE = {"IVMRCClientControl", "_IVMRCClientControlEvents"}


def extract(md_path, core_only=True):
    text = open(md_path, encoding="utf-8").read()
    section = text.split("## 3. Interfaces")[1].split("## 4. Enumerations")[0]
    out = []
    for block in section.split("\n### ")[1:]:
        iface = block.split("\n")[0].strip()
        if not core_only and iface in CLIENT_SIDE:
            continue
        kind = None
        for line in block.split("\n"):
            if line.startswith("| Property |"):
                kind = "property"
            elif line.startswith("| Method |"):
                kind = "method"
            elif line.startswith("|") and kind and not line.startswith("|---"):
                cells = [c.strip() for c in line.strip("|").split("|")]
                if core_only and cells[3] != "C":
                    continue
                access = cells[2].rstrip("†") if kind == "property" else ""
                out.append(f"{iface} {kind} {cells[0].replace(' ', '_')} {access}".rstrip())
    return out


# Event members that the event log delivers under another kind: the per-VM
# interface's events are the server-wide entries about that VM (a client
# filters them by object), and OnServiceEvent ("start, stop, fatal error")
# is the service's own start and stop entries. The other event members are
# kinds of their own name.
EVENT_DELIVERY = {
    "IVMVirtualServerEvents.OnServiceEvent": ["VirtualServerStarted", "VirtualServerStopped"],
    "IVMVirtualMachineEvents.OnStateChange": ["OnVMStateChange"],
    "IVMVirtualMachineEvents.OnTripleFault": ["VirtualMachineProcessorError"],
    "IVMVirtualMachineEvents.OnConfigurationChanged": ["VirtualMachineConfigurationChange"],
}


def required_operations(member_line):
    parts = member_line.split()
    iface, kind, name = parts[0], parts[1], parts[2].replace("_", " ") if parts[2].startswith("Item(") else parts[2]
    access = parts[3] if len(parts) > 3 else ""
    if iface.endswith("Events"):
        return [("event", EVENT_DELIVERY.get(f"{iface}.{name}", [name]))]
    if kind == "method":
        return [("op", f"{iface}_{name}")]
    if name.startswith("Item("):
        return [("op", f"{iface}_get_Item")]
    ops = []
    if "R" in access:
        ops.append(("op", f"{iface}_get_{name}"))
    if "W" in access:
        ops.append(("op", f"{iface}_set_{name}"))
    return ops


def read_reasons(path):
    """{first field: reason} of a "name -- reason" list ('#' comments)."""
    reasons = {}
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, reason = line.partition(" -- ")
            reasons[name.strip()] = reason.strip()
    return reasons


def check(members_path, wsdl_path, log_path, pending_path, fault_only_path=None):
    members = [l.strip() for l in open(members_path) if l.strip() and not l.startswith("#")]
    wsdl = open(wsdl_path, encoding="utf-8").read()
    wsdl_ops = set(re.findall(r'<wsdl:operation name="([^"]+)"', wsdl))
    event_kinds = set(re.findall(r'<xsd:enumeration value="([^"]+)"', wsdl))
    try:
        called = {l.strip().replace("_USCORE", "_") for l in open(log_path)}
    except OSError as e:
        print(f"core_coverage: no operation log ({e}): run the integration tests first")
        return 1
    pending = read_reasons(pending_path)
    # Operations that cannot apply on this platform: they exist and always
    # answer a documented HRESULT (the tests check the fault), so no
    # successful call is expected.
    fault_only = read_reasons(fault_only_path) if fault_only_path else {}
    problems, covered = [], 0
    for operation, reason in sorted(fault_only.items()):
        if operation not in wsdl_ops:
            problems.append(f"{operation}: listed as answering only a fault ({reason}) but not in the WSDL")
        elif operation in called:
            problems.append(f"{operation}: listed as answering only a fault ({reason}) but a call succeeded")
    for member in members:
        iface, _, name = member.split()[:3]
        key = f"{iface}.{name.replace('_', ' ') if name.startswith('Item(') else name}"
        missing = []
        for kind, target in required_operations(member):
            if kind == "event":
                names = " or ".join(target)
                if not any(t in event_kinds for t in target):
                    missing.append(f"event kind {names} not in the WSDL")
                elif not any(f"event:{t}" in called for t in target):
                    missing.append(f"no test read a {names} event")
            elif target not in wsdl_ops:
                missing.append(f"no operation {target} in the WSDL")
            elif target not in called and target not in fault_only:
                missing.append(f"no successful call of {target} in the tests")
        if key in pending:
            if not missing:
                problems.append(f"{key}: listed as pending ({pending[key]}) but covered: remove it from the list")
            continue
        if missing:
            problems.append(f"{key}: " + "; ".join(missing))
        else:
            covered += 1
    unknown = set(pending) - {
        f"{m.split()[0]}.{m.split()[2].replace('_', ' ') if m.split()[2].startswith('Item(') else m.split()[2]}"
        for m in members}
    for key in sorted(unknown):
        problems.append(f"{key}: in the pending list but not a core member")
    print(f"members: {len(members)}, covered: {covered}, pending: {len(pending)}")
    for key, reason in sorted(pending.items()):
        print(f"  pending {key} -- {reason}")
    for operation, reason in sorted(fault_only.items()):
        print(f"  fault only {operation} -- {reason}")
    for problem in problems:
        print(f"MISSING {problem}")
    return 1 if problems else 0


def main(argv):
    if len(argv) == 3 and argv[1] in ("--extract", "--extract-all"):
        core_only = argv[1] == "--extract"
        if core_only:
            print("# Core members of vs-api.md section 3 (Core = C): interface kind member access.")
        else:
            print("# Server-side members of vs-api.md section 3: interface kind member access.")
        print(f"# Generated by tests/coverage/core_coverage.py {argv[1]}; do not edit.")
        for line in extract(argv[2], core_only):
            print(line)
        return 0
    if len(argv) not in (5, 6):
        print(__doc__, file=sys.stderr)
        return 2
    return check(*argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
