"""``curl``, ``wget`` and ``nc``: each sends the request through the same trace as the Trace
tab, and prints what the real tool prints for its verdict (curl 8.11's messages and exit
codes, busybox wget's, OpenBSD nc's).
"""

from __future__ import annotations

import re
from typing import Any

from app.cluster.families import bracketed
from app.errors import PodpathError
from app.network import dns
from app.network.targets import parse_target
from app.network.trace import trace
from app.terminal.output import Output, failed
from app.terminal.session import Session, pod_of

CURL_VERSION = "8.11.1"
#: How long Linux keeps retrying a SYN nobody answers (tcp_syn_retries=6: 1+2+4+…+64 s).
SYN_TIMEOUT_MS = 127_000

NGINX_WELCOME = """\
<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""
REASONS = {200: "OK", 301: "Moved Permanently", 308: "Permanent Redirect", 404: "Not Found"}
REASONS |= {502: "Bad Gateway", 503: "Service Temporarily Unavailable"}


def _nginx_error(status: int) -> str:
    reason = REASONS.get(status, "")
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )


def response_body(cluster: Any, traced: Any) -> tuple[str, str]:
    """What the server that got the request answers: ``(server header, body)``. nginx images
    answer with their welcome page; other images as ``agnhost serve-hostname`` does, with
    the pod's name, so a learner sees which endpoint answered."""
    endpoint = traced.endpoint or {}
    if traced.http_status:
        return "nginx", _nginx_error(traced.http_status)
    if endpoint.get("kind") == "pod":
        pod = cluster.get("Pod", endpoint["namespace"], endpoint["name"]) or {}
        images = " ".join(c.get("image", "") for c in (pod.get("spec") or {}).get("containers", []))
        if "nginx" in images:
            return "nginx/1.27.3", NGINX_WELCOME
        return "", f"{endpoint['name']}\n"
    return (
        "ECAcc (nyd/D184)",
        "<!doctype html>\n<html><head><title>Example Domain</title></head></html>\n",
    )


def _expand_short(args: list[str], letters: str) -> list[str]:
    """``-sSv`` as ``-s -S -v``, for flags that take no value.

    >>> _expand_short(["-sSv", "-m", "5", "--head"], "vsSI")
    ['-s', '-S', '-v', '-m', '5', '--head']
    """
    expanded: list[str] = []
    for arg in args:
        if (
            arg.startswith("-")
            and not arg.startswith("--")
            and len(arg) > 2
            and all(ch in letters for ch in arg[1:])
        ):
            expanded.extend(f"-{ch}" for ch in arg[1:])
        else:
            expanded.append(arg)
    return expanded


def _url(text: str) -> str:
    return text if "://" in text else f"http://{text}"


def send(
    cluster: Any,
    session: Session,
    to: str,
    output: Output,
    host: str | None = None,
    family: str | None = None,
) -> Any:
    """Trace one request from the session's shell (``host``: the Host header the client sets;
    ``family``: ``IPv4`` / ``IPv6`` for ``curl -4`` / ``-6``) and attach it to ``output``."""
    session, request = session.sending(to, host, family)
    traced = trace(cluster, request[0], request[1], request[2], host=host, ip_family=family)
    output.session, output.trace, output.request = session, traced, request
    return traced


def curl(cluster: Any, session: Session, args: list[str]) -> Output:
    """``curl [-v] [-s] [-S] [-I] [-i] [-4|-6] [-m SECONDS] [-H HEADER] [--resolve H:P:ADDR]
    URL``. ``-4`` / ``--ipv4`` and ``-6`` / ``--ipv6`` make curl resolve the name to that
    family only (curl's docs: "use IPv6 addresses only when resolving host names"); a URL
    with an IP address is dialled as it is."""
    verbose = silent = head = include = fail = False
    family: str | None = None
    show_errors = False
    method, discard, write_out = "GET", False, ""
    timeout: float | None = None
    headers: list[str] = []
    resolve: dict[str, str] = {}
    url = ""
    words = iter(_expand_short(args, "vsSIiLkfo46"))
    for arg in words:
        if arg in ("-v", "--verbose"):
            verbose = True
        elif arg in ("-4", "--ipv4", "-6", "--ipv6"):
            family = "IPv6" if "6" in arg else "IPv4"  # the last one given wins (mutexed)
        elif arg in ("-s", "--silent"):
            silent = True
        elif arg in ("-S", "--show-error"):
            show_errors = True
        elif arg in ("-I", "--head"):
            head = True
        elif arg in ("-i", "--include"):
            include = True
        elif arg in ("-m", "--max-time", "--connect-timeout"):
            value = next(words, "")
            try:
                timeout = float(value)
            except ValueError:
                return failed(f"curl: option {arg}: expected a proper numerical parameter\n", 2)
        elif arg in ("-H", "--header"):
            headers.append(next(words, ""))
        elif arg == "--resolve":
            host, _, rest = next(words, "").partition(":")
            port, _, address = rest.partition(":")
            resolve[f"{host}:{port}"] = address
        elif arg in ("-f", "--fail"):
            fail = True
        elif arg in ("-o", "--output"):
            if next(words, "") != "/dev/null":
                return failed("curl: (23) Failure writing output to destination\n", 23)
            discard = True
        elif arg in ("-w", "--write-out"):
            write_out = next(words, "")
        elif arg in ("-X", "--request"):
            method = next(words, "GET").upper()
        elif arg in ("-d", "--data", "--data-raw", "--json"):
            next(words, "")
            method = "POST" if method == "GET" else method
        elif arg in ("-L", "--location", "-k", "--insecure"):
            continue
        elif arg.startswith("-"):
            return failed(
                f"curl: option {arg}: is unknown\ncurl: try 'curl --help' for more information\n", 2
            )
        else:
            url = arg
    if not url:
        return failed("curl: no URL specified\ncurl: try 'curl --help' for more information\n", 2)
    try:
        target = parse_target(_url(url))
    except PodpathError:
        return failed("curl: (3) URL rejected: Bad hostname\n", 3)
    address = resolve.get(f"{target.host}:{target.port}")
    to = _url(url) if address is None else _url(url).replace(target.host, address, 1)
    # --resolve dials the address and keeps the name as the Host header; -H "Host: …" sets it.
    host_header = next(
        (h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("host:")),
        target.host if address else None,
    )
    output = Output()
    # The family decides the name lookup only: an address in the URL is used as written.
    by_name = not (address or target.is_ip)
    traced = send(cluster, session, to, output, host_header, family if by_name else None)
    quiet_errors = silent and not show_errors
    host, port = target.host, target.port
    answers = (traced.dns or {}).get("answers", [])
    # The address curl dialled: the AAAA answer on a dual-stack pod (tried first), else the A.
    ip = address or next((a["data"] for a in answers if a["type"] in ("A", "AAAA")), host)
    src = traced.source or {}
    trying = f"*   Trying {bracketed(ip)}:{port}...\n"
    if traced.verdict == "nxdomain":
        if verbose:
            output.err(f"* Could not resolve host: {host}\n* shutting down connection #0\n")
        if not quiet_errors:
            output.err(f"curl: (6) Could not resolve host: {host}\n")
        output.status = 6
        return output
    if verbose:
        if traced.dns or address:
            six = ", ".join(a["data"] for a in answers if a["type"] == "AAAA") or "(none)"
            four = ", ".join(a["data"] for a in answers if a["type"] == "A")
            if not four and ":" in ip and family is None:  # curl asked for A too
                client = pod_of(cluster, session) if session.kind == "pod" else None
                four = ", ".join(dns.resolve(cluster, client, host, "A").addresses())
            four = four or "(none)"
            if address:
                six, four = (ip, "(none)") if ":" in ip else ("(none)", ip)
            output.err(f"* Host {host}:{port} was resolved.\n* IPv6: {six}\n* IPv4: {four}\n")
        output.err(trying)
    if traced.verdict in ("refused", "unreachable"):
        why = "Connection refused" if traced.verdict == "refused" else "No route to host"
        message = f"Failed to connect to {host} port {port} after 1 ms: Could not connect to server"
        if verbose:
            output.err(
                f"* connect to {ip} port {port} from {src.get('ip', '')} port "
                f"{traced.hops[0].packet.src_port if traced.hops else 0} failed: {why}\n"
                f"* {message}\n* closing connection #0\n"
            )
        if not quiet_errors:
            output.err(f"curl: (7) {message}\n")
        output.status = 7
        return output
    if traced.verdict == "dropped":
        if timeout is not None:
            message = f"Connection timed out after {int(timeout * 1000) + 1} milliseconds"
        else:
            message = (
                f"Failed to connect to {host} port {port} after {SYN_TIMEOUT_MS} ms: "
                "Could not connect to server"
            )
        if verbose:
            output.err(f"* {message}\n* closing connection #0\n")
        if not quiet_errors:
            output.err(f"curl: (28) {message}\n")
        output.status = 28
        return output
    server, body = response_body(cluster, traced)
    status = traced.http_status or 200
    path = target.path or "/"
    method = "HEAD" if head else method
    shown_host = host if port in (80, 443) else f"{host}:{port}"
    own_host = [h for h in headers if h.lower().startswith("host:")]
    sent = [f"{method} {path} HTTP/1.1", *(own_host or [f"Host: {shown_host}"])]
    sent += [f"User-Agent: curl/{CURL_VERSION}", "Accept: */*"]
    sent += [h for h in headers if not h.lower().startswith("host:")]
    received = [f"HTTP/1.1 {status} {REASONS.get(status, '')}".rstrip()]
    if server:
        received.append(f"Server: {server}")
    received += ["Content-Type: text/html", f"Content-Length: {len(body.encode())}"]
    received.append("Connection: keep-alive")
    if verbose:
        output.err(f"* Connected to {host} ({ip}) port {port}\n* using HTTP/1.x\n")
        output.err("".join(f"> {line}\n" for line in sent) + "> \n")
        output.err("* Request completely sent off\n")
        output.err("".join(f"< {line}\n" for line in received) + "< \n")
    if fail and status >= 400:
        if verbose:
            output.err(f"* The requested URL returned error: {status}\n* closing connection #0\n")
        if not quiet_errors:
            output.err(f"curl: (22) The requested URL returned error: {status}\n")
        output.status = 22
        return output
    if (head or include) and not discard:
        output.out("".join(f"{line}\r\n" for line in received) + "\r\n")
    if not head and not discard:
        output.out(body)
    if verbose:
        output.err(f"* Connection #0 to host {host} left intact\n")
    if write_out:
        output.out(_write_out(write_out, status, ip, port, len(body.encode())))
    return output


def _write_out(template: str, status: int, ip: str, port: int, size: int) -> str:
    """curl's ``-w``: ``%{http_code}``, ``%{remote_ip}``, ``%{remote_port}``,
    ``%{size_download}`` and ``\\n``.

    >>> _write_out("%{http_code} %{remote_ip}\\n", 200, "10.96.0.1", 80, 615)
    '200 10.96.0.1\\n'
    """
    values = {"http_code": str(status), "response_code": str(status), "remote_ip": ip}
    values |= {"remote_port": str(port), "size_download": str(size)}
    text = re.sub(r"%\{(\w+)\}", lambda m: values.get(m.group(1), ""), template)
    return text.replace("\\n", "\n").replace("\\t", "\t")


def wget(cluster: Any, session: Session, args: list[str]) -> Output:
    """busybox ``wget [-q] [-O FILE|-O-|-qO-] [-T SEC] [-S] URL``: only ``-O -`` prints the body
    (busybox saves to ``index.html`` otherwise, which this read-only shell cannot)."""
    quiet = to_stdout = False
    url = ""
    words = iter(args)
    for arg in words:
        if arg in ("-qO-", "-qO", "-q", "-O-", "-O", "-T", "-S", "--spider", "-s"):
            quiet = quiet or arg.startswith("-q")
            if arg in ("-qO-", "-O-"):
                to_stdout = True
            elif arg in ("-O", "-qO"):
                to_stdout = next(words, "") == "-"
            elif arg == "-T":
                next(words, "")
        elif arg.startswith("-"):
            return failed(f"wget: unrecognized option '{arg}'\n", 1)
        else:
            url = arg
    if not url:
        return failed("BusyBox v1.36.1 multi-call binary.\n\nUsage: wget [-cqS] [-O FILE] URL\n", 1)
    output = Output()
    target = _url(url)
    try:
        traced = send(cluster, session, target, output)
    except PodpathError as error:
        return failed(f"wget: bad address '{url}'\n# {error.message}\n")
    host = target.split("://", 1)[1].split("/")[0]
    if not quiet:
        output.err(f"Connecting to {host} ({_first_ip(traced, host)})\n")
    if traced.verdict == "nxdomain":
        output.err(f"wget: bad address '{host.split(':')[0]}'\n")
        output.status = 1
        return output
    if traced.verdict in ("refused", "unreachable"):
        why = "Connection refused" if traced.verdict == "refused" else "No route to host"
        output.err(f"wget: can't connect to remote host ({_first_ip(traced, host)}): {why}\n")
        output.status = 1
        return output
    if traced.verdict == "dropped":
        output.err("wget: download timed out\n")
        output.status = 1
        return output
    _, body = response_body(cluster, traced)
    if traced.http_status and traced.http_status >= 400:
        output.err(
            f"wget: server returned error: HTTP/1.1 {traced.http_status} {REASONS.get(traced.http_status, '')}\n"
        )
        output.status = 1
        return output
    if to_stdout:
        output.out(body)
    else:
        output.err("wget: can't open 'index.html': Read-only file system\n")
        output.status = 1
    return output


def _first_ip(traced: Any, host: str) -> str:
    answers = (traced.dns or {}).get("answers", [])
    return next((a["data"] for a in answers if a["type"] == "A"), host.split(":")[0])


def nc(cluster: Any, session: Session, args: list[str]) -> Output:
    """``nc -zv [-u] [-w SEC] HOST PORT``: OpenBSD netcat's port check."""
    flags = "".join(a[1:] for a in args if a.startswith("-") and not a[1:].isdigit())
    words = [a for a in args if not a.startswith("-")]
    if "w" in flags and words:
        words = words[1:] if words[0].isdigit() and len(words) > 2 else words
    if len(words) != 2 or not words[1].isdigit():
        return failed("usage: nc [-46CDdFhklNnrStUuvZz] [-w timeout] [destination] [port]\n", 1)
    host, port = words
    udp = "u" in flags
    output = Output()
    try:
        traced = send(cluster, session, f"{host}:{port}/{'udp' if udp else 'tcp'}", output)
    except PodpathError as error:
        return failed(f"nc: {error.message}\n")
    verbose = "v" in flags
    proto = "udp" if udp else "tcp"
    if traced.verdict == "nxdomain":
        output.err(f'nc: getaddrinfo for host "{host}" port {port}: Name or service not known\n')
        output.status = 1
    elif traced.verdict == "delivered":
        if verbose:
            output.err(
                f"Connection to {host} ({_first_ip(traced, host)}) {port} port [{proto}/*] succeeded!\n"
            )
    else:
        why = {"refused": "Connection refused", "unreachable": "No route to host"}.get(
            traced.verdict, "Connection timed out"
        )
        if verbose:
            output.err(
                f"nc: connect to {host} ({_first_ip(traced, host)}) port {port} ({proto}) failed: {why}\n"
            )
        output.status = 1
    return output
