"""``nslookup`` and ``dig``, answered by the same resolver as the DNS tab.

``nslookup`` walks the search list as the pod's resolver does (BIND 9's nslookup output);
``dig`` asks for exactly the name it is given unless ``+search`` (dig 9.18's output), which
is why ``dig web`` fails where ``nslookup web`` works: a lesson in itself.
"""

from __future__ import annotations

import hashlib
from typing import Any

from app.cluster import families
from app.errors import PodpathError
from app.network import dns
from app.network.dns_records import QTYPES, fqdn, is_ip, reverse_name
from app.terminal.output import Output, failed, printed
from app.terminal.session import Session, pod_of

DIG_VERSION = "9.18.33"


def _client(cluster: Any, session: Session) -> dict[str, Any] | None:
    """The pod whose resolv.conf applies: None on a node or the learner's machine."""
    return pod_of(cluster, session) if session.kind == "pod" else None


def _reaches(session: Session, server: str) -> bool:
    """The learner's machine is outside the cluster: the kube-dns ClusterIP and pod addresses
    mean nothing there."""
    inside = server in families.dns_ips() or server.startswith(("10.", "fd00:10:"))
    return session.kind != "cluster" or not inside


def nslookup(cluster: Any, session: Session, args: list[str]) -> Output:
    """``nslookup [-type=T] NAME [SERVER]``.

    >>> from app.cluster.scenarios import build
    >>> nslookup(build("web-service"), Session("pod/default/client"), ["web"]).text.splitlines()
    ['Server:\\t\\t10.96.0.10', 'Address:\\t10.96.0.10#53', '', 'Name:\\tweb.default.svc.cluster.local', 'Address: 10.101.124.92', '']
    """
    qtype = ""
    names = []
    for arg in args:
        lowered = arg.lower()
        if lowered.startswith(("-type=", "-query=", "-q=")):
            qtype = lowered.split("=", 1)[1].upper()
        elif arg.startswith("-"):
            continue
        else:
            names.append(arg)
    if not names:
        return failed("Usage: nslookup [-type=T] NAME [SERVER]\n", 1)
    name = names[0]
    # BusyBox's nslookup (FEATURE_NSLOOKUP_BIG) with no -type asks PTR for an address and
    # A then AAAA for a name, printing each reply in turn. An IPv4-only cluster shows the A
    # reply alone, as Podpath always has.
    qtypes = [qtype] if qtype else ["A"]
    if is_ip(name):
        qtypes = ["PTR"]
    elif not qtype and families.IPV6 in families.of(cluster.config):
        qtypes = ["A", "AAAA"]
    client = _client(cluster, session)
    server = dns.resolv_conf(cluster, client)["nameserver"]
    if not _reaches(session, server):
        return failed(";; connection timed out; no servers could be reached\n\n", 1)
    output = printed(f"Server:\t\t{server}\nAddress:\t{server}#53\n\n")
    statuses = []
    for each in qtypes:
        try:
            result = dns.resolve(cluster, client, name, each)
        except PodpathError as error:
            return failed(f"nslookup: {error.message}\n", 1)
        text, status = _reply_text(name, result)
        output.out(text)
        statuses.append((status, result.rcode))
        output.lookups.append((session.source, name, each, result))
    # An error answer fails the command; "No answer" to one of A/AAAA does not when the
    # other one answered (BusyBox sets its exit code on an rcode only).
    failing = [s for s, rcode in statuses if rcode != dns.NOERROR]
    output.status = max(failing) if failing else min(s for s, _ in statuses)
    return output


def _reply_text(name: str, result: Any) -> tuple[str, int]:
    """One query's reply as nslookup prints it, and the exit status it gives."""
    if result.rcode != dns.NOERROR:
        return f"** server can't find {name}: {result.rcode}\n\n", 1
    if not result.answers:
        last = result.tried[-1].name.rstrip(".") if result.tried else name
        return f"*** Can't find {last}: No answer\n\n", 1
    lines = []
    for record in result.answers:
        owner = record.name.rstrip(".")
        if record.type in ("A", "AAAA"):  # the same two lines for both (BusyBox, BIND 9)
            lines.append(f"Name:\t{owner}\nAddress: {record.data}")
        elif record.type == "CNAME":
            lines.append(f"{owner}\tcanonical name = {record.data}")
        elif record.type == "PTR":
            lines.append(f"{owner}\tname = {record.data}")
        elif record.type == "SRV":
            lines.append(f"{owner}\tservice = {record.data}")
        elif record.type == "TXT":
            lines.append(f"{owner}\ttext = {record.data}")
        elif record.type == "NS":
            lines.append(f"{owner}\tnameserver = {record.data}")
        elif record.type == "SOA":  # BIND nslookup prints each SOA field on its own line
            fields = ("origin", "mail addr", "serial", "refresh", "retry", "expire", "minimum")
            values = record.data.split()
            values[:2] = [v.rstrip(".") for v in values[:2]]
            lines.append(
                owner + "".join(f"\n\t{k} = {v}" for k, v in zip(fields, values, strict=True))
            )
        else:
            lines.append(f"{owner}\thas {record.type} address {record.data}")
    return "\n".join(lines) + "\n\n", 0


def _looked_up(output: Output, lookup: tuple[str, str, str, Any]) -> Output:
    output.lookups.append(lookup)
    return output


def _message_id(name: str, qtype: str) -> int:
    return int(hashlib.sha1(f"{name}/{qtype}".encode()).hexdigest()[:4], 16)


def dig(cluster: Any, session: Session, args: list[str]) -> Output:
    """``dig [@SERVER] NAME [TYPE] [+short] [+search] [-x ADDR]``.

    >>> from app.cluster.scenarios import build
    >>> cluster = build("web-service")
    >>> dig(cluster, Session("pod/default/client"), ["+short", "web.default.svc.cluster.local"]).text
    '10.101.124.92\\n'
    >>> dig(cluster, Session("pod/default/client"), ["+short", "web"]).text
    ''
    >>> dig(cluster, Session("pod/default/client"), ["+short", "+search", "web"]).text
    '10.101.124.92\\n'
    """
    short = search = False
    searched = None
    server = None
    qtype = "A"
    name = ""
    words = iter(args)
    for arg in words:
        lowered = arg.lower()
        if lowered == "+short":
            short = True
        elif lowered == "+search":
            search = True
        elif lowered.startswith("+"):
            continue
        elif arg.startswith("@"):
            server = arg[1:]
        elif arg == "-x":
            address = next(words, "")
            name, qtype = reverse_name(address) if is_ip(address) else address, "PTR"
        elif arg == "-t":
            qtype = next(words, "A").upper()
        elif arg.upper() in QTYPES:
            qtype = arg.upper()
        elif arg.startswith("-"):
            return failed(
                f"Invalid option: {arg}\nUsage:  dig [@global-server] [domain] [q-type]\n", 1
            )
        else:
            name = arg
    if not name:
        name, qtype = ".", "NS"
    client = _client(cluster, session)
    conf = dns.resolv_conf(cluster, client)
    server = server or conf["nameserver"]
    if not _reaches(session, server):
        text = f";; communications error to {server}#53: timed out\n" * 3
        return failed(text + ";; no servers could be reached\n", 9)
    if qtype not in QTYPES:
        return failed(f";; Warning, ignoring invalid type {qtype}\n", 1)
    authority: list[Any] = []
    try:
        if search:
            result = dns.resolve(cluster, client, name, qtype)
            searched = (session.source, name, qtype, result)
            asked, rcode, answers = (
                (result.tried[-1].name if result.tried else fqdn(name)),
                result.rcode,
                result.answers,
            )
            authority = result.tried[-1].authority if result.tried else []
        else:
            dns_ips = families.dns_ips()
            cluster_dns = server in dns_ips or (server == conf["nameserver"] and server in dns_ips)
            attempt = dns.ask(cluster, name, qtype, cluster_dns)
            asked, rcode, answers, authority = (
                attempt.name,
                attempt.rcode,
                attempt.answers,
                attempt.authority,
            )
    except PodpathError as error:
        return failed(f"dig: '{name}' is not a legal name ({error.message})\n", 10)
    if short:
        output = printed("".join(f"{r.data}\n" for r in answers))
        return _looked_up(output, searched) if searched else output
    flags = "qr aa rd" if server in families.dns_ips() else "qr rd ra"
    lines = [
        f"; <<>> DiG {DIG_VERSION} <<>> {' '.join(args)}",
        ";; global options: +cmd",
        ";; Got answer:",
        f";; ->>HEADER<<- opcode: QUERY, status: {rcode}, id: {_message_id(asked, qtype)}",
        f";; flags: {flags}; QUERY: 1, ANSWER: {len(answers)}, AUTHORITY: {len(authority)}, "
        "ADDITIONAL: 1",
    ]
    if "ra" not in flags:
        lines.append(";; WARNING: recursion requested but not available")
    lines += [
        "",
        ";; OPT PSEUDOSECTION:",
        "; EDNS: version: 0, flags:; udp: 1232",
        ";; QUESTION SECTION:",
        f";{asked}\t\t\tIN\t{qtype}",
        "",
    ]
    if answers:
        lines.append(";; ANSWER SECTION:")
        lines += [f"{r.name}\t{r.ttl}\tIN\t{r.type}\t{r.data}" for r in answers]
        lines.append("")
    if authority:  # CoreDNS's SOA on an empty answer, as dig prints it
        lines.append(";; AUTHORITY SECTION:")
        lines += [f"{r.name}\t{r.ttl}\tIN\t{r.type}\t{r.data}" for r in authority]
        lines.append("")
    lines += [";; Query time: 0 msec", f";; SERVER: {server}#53({server}) (UDP)", "", ""]
    output = printed("\n".join(lines))
    return _looked_up(output, searched) if searched else output
