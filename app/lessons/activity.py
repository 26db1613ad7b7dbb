"""What the learner did in the sandbox, as records the lessons' checks can read: each trace,
DNS lookup, batch of requests and terminal command, reduced to the facts a check asks about."""

from __future__ import annotations

from typing import Any

from app.network.model import Trace


def trace_record(cluster: Any, source: str, target: str, result: Trace) -> dict[str, Any]:
    """The facts of one trace: who sent it, where it went, what the receiver saw.

    Parameters
    ----------
    cluster : Cluster
        The cluster it ran on (for the CNI plugin).
    source, target : str
        As given to :func:`app.network.trace.trace`.
    result : Trace

    Returns
    -------
    dict
        ``kind`` ("trace"), ``from``, ``to``, ``host``, ``verdict``, ``reason``, ``endpoint``,
        ``client_ip``, ``seen_ip`` (the source address the receiving pod saw), ``snat``,
        ``cross_node``, ``source_kind``, ``cni``, ``method`` and ``headers`` (of the request
        as sent), ``actions``, ``http_status``, ``dialled_ip`` (the address the client
        connected to), ``sent_ip`` (the destination as the packet left the client pod) and
        ``dnat_at`` (where each DNAT hop of the request was).

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> from app.network.trace import trace
    >>> cluster = Cluster.create(seed=1)
    >>> r = trace_record(cluster, "node/worker-1", "10.96.0.10:53/udp",
    ...                  trace(cluster, "node/worker-1", "10.96.0.10:53/udp"))
    >>> r["verdict"], "dnat" in r["actions"], r["host"], r["source_kind"]
    ('delivered', True, '10.96.0.10', 'node')
    """
    endpoint = result.endpoint
    # The request as the client sent it: the first hop of the request that carries HTTP.
    sent = next((h.packet.http for h in result.hops if h.phase == "request" and h.packet.http), {})
    delivered = [h for h in result.hops if h.phase == "request" and h.action == "deliver"]
    seen = delivered[-1].packet.src_ip if delivered and result.verdict == "delivered" else None
    source_node = result.source.get("node")
    end_node = (endpoint or {}).get("node")
    request = [h for h in result.hops if h.phase == "request"]
    # The packet as it left the client pod: its last hop located in the pod itself.
    in_pod = [h for h in request if h.at == f"pod/{source.removeprefix('pod/')}"]
    return {
        "kind": "trace",
        "from": source,
        "to": target,
        "host": result.target.get("host"),
        "verdict": result.verdict,
        "reason": result.reason,
        "endpoint": dict(endpoint) if endpoint else None,
        "client_ip": result.source.get("ip"),
        "seen_ip": seen,
        "snat": seen is not None and seen != result.source.get("ip"),
        "cross_node": bool(source_node and end_node and source_node != end_node),
        "source_kind": result.source.get("kind"),
        "cni": cluster.config.cni,
        "method": (sent or {}).get("method", "GET"),
        "headers": dict((sent or {}).get("headers") or {}),
        # The request's own hops: the DNS lookup before it has DNAT and conntrack hops too.
        "actions": sorted({h.action for h in request}),
        # Where a Service address was translated (the ``translated`` check): the address the
        # client dialled, the destination as it left the pod, and where DNAT hops were.
        "dialled_ip": _dialled(result),
        "sent_ip": in_pod[-1].packet.dst_ip if in_pod and source.startswith("pod/") else None,
        "dnat_at": [h.at for h in request if h.action == "dnat"],
        # A pod that got the request answers it (200); a proxy that answered by itself says so.
        "http_status": result.http_status
        or (
            200
            if endpoint and result.verdict == "delivered" and endpoint.get("kind") == "pod"
            else None
        ),
    }


def _dialled(result: Trace) -> str | None:
    """The address the client connected to: the last address its DNS lookup answered, or
    the address it was given."""
    answers = (result.dns or {}).get("answers") or []
    addresses = [a["data"] for a in answers if a.get("type") in ("A", "AAAA")]
    return addresses[-1] if addresses else result.target.get("host")


def dns_record(source: str, name: str, qtype: str, resolution: Any) -> dict[str, Any]:
    """The facts of one lookup from the DNS tab.

    >>> from app.cluster.cluster import Cluster
    >>> from app.network import dns
    >>> res = dns.resolve(Cluster.create(seed=1), None, "kube-dns.kube-system.svc.cluster.local")
    >>> dns_record("node/worker-1", "kube-dns.kube-system.svc.cluster.local", "A", res)["rcode"]
    'NXDOMAIN'
    """
    return {
        "kind": "dns",
        "from": source,
        "name": name.strip().rstrip("."),
        "type": qtype,
        "rcode": resolution.rcode,
        "addresses": resolution.addresses(),
    }


def traffic_record(source: str, to: str, host: str, result: dict[str, Any]) -> dict[str, Any]:
    """The facts of one batch of requests ("Send 100 requests").

    >>> traffic_record("external", "http://web/", "web", {"count": 100, "endpoints": [{"requests": 60}, {"requests": 40}]})["endpoints"]
    2
    """
    return {
        "kind": "traffic",
        "from": source,
        "to": to,
        "host": host,
        "count": result["count"],
        "endpoints": sum(1 for e in result["endpoints"] if e["requests"]),
    }


def compare_record(source: str, target: str, runs: list[Any]) -> dict[str, Any]:
    """The facts of one side-by-side comparison of the CNI plugins.

    >>> compare_record("default/a", "default/b", [])["kind"]
    'compare'
    """
    return {
        "kind": "compare",
        "from": f"pod/{source}",
        "to": target,
        "plugins": [run.cni for run in runs],
        "verdicts": {run.cni: run.trace["verdict"] for run in runs},
    }


#: A command's record keeps its words up to this many characters in all (a pasted line can be
#: long; the notes are saved with the workspace, and hold 40 records).
MAX_COMMAND = 1000


def command_record(argv: list[str], where: str, status: int) -> dict[str, Any]:
    """The facts of one command run in the Terminal tab: its words as the shell parsed them
    (quotes gone), where it ran (``cluster``: the learner's own shell; ``pod/<ns>/<name>``;
    ``node/<name>``) and whether it succeeded (exit status 0).

    >>> command_record(["kubectl", "get", "svc"], "cluster", 0)
    {'kind': 'command', 'argv': ['kubectl', 'get', 'svc'], 'where': 'cluster', 'ok': True}
    >>> [len(w) for w in command_record(["echo", "x" * 800, "y" * 800], "node/worker-1", 1)["argv"]]
    [4, 800, 196]
    """
    words: list[str] = []
    left = MAX_COMMAND
    for word in argv:
        if left <= 0:
            break
        words.append(word[:left])
        left -= len(words[-1])
    return {"kind": "command", "argv": words, "where": where, "ok": status == 0}


def terminal_records(cluster: Any, reply: Any) -> list[dict[str, Any]]:
    """What one line typed in the terminal did that a lesson's checks read: each command
    (``ran``), the names looked up (as the DNS tab's are: ``looked_up``), the request sent
    (as a trace from the trace bar is: ``traced``).

    >>> from app.cluster.scenarios import build
    >>> from app.terminal import Session, run
    >>> cluster = build("web-service")
    >>> records = terminal_records(cluster, run(cluster, "kubectl exec client -- curl -s web", Session()))
    >>> [(r["kind"], r.get("where"), r.get("verdict")) for r in records]
    [('command', 'cluster', None), ('trace', None, 'delivered')]
    """
    records = [command_record(*ran) for ran in reply.ran]
    records += [dns_record(*lookup) for lookup in reply.lookups]
    if reply.trace is not None and reply.request is not None:
        source, to = reply.request[:2]
        records.append(trace_record(cluster, source, to, reply.trace))
    return records
