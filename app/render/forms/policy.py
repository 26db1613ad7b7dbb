"""The NetworkPolicy form: its rows of rules and peers turned into a
networking.k8s.io/v1 NetworkPolicy, and the API server's errors led back to the field.

The form numbers its rows: ingress rule ``i`` is ``in{i}_*``, egress rule ``i`` is
``eg{i}_*``, and peer ``j`` of a rule is ``{rule}_p{j}_*`` with ``kind`` (``pods``,
``namespaces``, ``both``, ``ipblock``; empty: read from what is filled in), ``pods`` and
``namespaces`` (labels, ``key=value``), ``cidr`` and ``except``. A rule's ``ports`` is a
list such as ``5432, UDP 53, http, 8000-8080``; its ``any`` (on) keeps a rule with no peers
and no ports (it allows everything). Empty rows are skipped, so the form can offer spares.

The difference the form makes visible: one peer with both selectors (``both``) allows pods
matching the pod selector *in* namespaces matching the namespace selector (AND); two peers
allow either (OR), as the NetworkPolicy concept page's "Behavior of to and from selectors"
says.
"""

from __future__ import annotations

import re
from typing import Any

from app.errors import FieldError
from app.render.forms.fields import Fields, Problems, field_labels, field_text, object_meta

DIRECTIONS = (("in", "ingress", "from"), ("eg", "egress", "to"))
PEER_FIELDS = ("kind", "pods", "namespaces", "cidr", "except")
PEER_KINDS = ("pods", "namespaces", "both", "ipblock")
_ROW = re.compile(r"(in|eg)(\d+)_(?:p(\d+)_)?(\w+)")
_PORT = re.compile(
    r"^(?:(?P<p1>tcp|udp|sctp)[\s/:]*)?(?P<port>[^\s/:-]+)(?:-(?P<end>\d+))?(?:[\s/:]*(?P<p2>tcp|udp|sctp))?$",
    re.I,
)


def rule_rows(fields: Fields, prefix: str) -> list[dict[str, Any]]:
    """The rules of one direction (``in`` or ``eg``) the learner filled in, in row order:
    each with ``index``, ``ports``, ``any`` and ``peers`` (each peer with ``index`` and its
    fields, the kind read from the fields when left empty).

    >>> rows = rule_rows({"in0_p0_pods": "app=api", "in0_p1_namespaces": "team=shop",
    ...                   "in0_p1_kind": "", "in1_ports": "", "in2_ports": "53"}, "in")
    >>> [(r["index"], [(p["index"], p["kind"]) for p in r["peers"]], r["ports"]) for r in rows]
    [(0, [(0, 'pods'), (1, 'namespaces')], ''), (2, [], '53')]
    """
    rules: dict[int, dict[int, dict[str, str]]] = {}
    extras: dict[int, dict[str, str]] = {}
    for key, value in fields.items():
        m = _ROW.fullmatch(key)
        if not m or m.group(1) != prefix:
            continue
        rule = int(m.group(2))
        rules.setdefault(rule, {})
        if m.group(3) is None:
            extras.setdefault(rule, {})[m.group(4)] = (value or "").strip()
        else:
            rules[rule].setdefault(int(m.group(3)), {})[m.group(4)] = (value or "").strip()
    out = []
    for index in sorted(rules):
        peers = []
        for j in sorted(rules[index]):
            peer = {f: rules[index][j].get(f, "") for f in PEER_FIELDS}
            peer["kind"] = peer["kind"] or _kind_of(peer)
            if peer["kind"]:
                peers.append({"index": j, **peer})
        extra = extras.get(index, {})
        ports, any_ = extra.get("ports", ""), bool(extra.get("any"))
        if peers or ports or any_:
            out.append({"index": index, "ports": ports, "any": any_, "peers": peers})
    return out


def _kind_of(peer: dict[str, str]) -> str:
    if peer["cidr"] or peer["except"]:
        return "ipblock"
    if peer["pods"] and peer["namespaces"]:
        return "both"
    return "pods" if peer["pods"] else "namespaces" if peer["namespaces"] else ""


def parse_ports(text: str, problems: Problems, path: str) -> list[dict[str, Any]]:
    """``5432, UDP 53, http, 8000-8080/TCP`` as NetworkPolicy ports (TCP when no protocol
    is named; a name is the destination pod's port name).

    >>> p = Problems("NetworkPolicy", {})
    >>> parse_ports("5432, UDP 53, http, 8000-8080", p, "spec.ingress[0].ports")
    [{'port': 5432}, {'protocol': 'UDP', 'port': 53}, {'port': 'http'}, {'port': 8000, 'endPort': 8080}]
    >>> parse_ports("53 dns", p, "x"), p.errors[0].field
    ([], 'x[0]')
    """
    ports = []
    for i, entry in enumerate(e.strip() for e in text.split(",")):
        if not entry:
            continue
        m = _PORT.match(entry)
        if not m or (m.group("p1") and m.group("p2")):
            problems.add(
                f"{path}[{i}]",
                f'Invalid value: "{entry}": write a port as 5432, UDP 53, http (a port name) '
                "or 8000-8080 (a range)",
            )
            continue
        port: dict[str, Any] = {}
        protocol = (m.group("p1") or m.group("p2") or "").upper()
        if protocol and protocol != "TCP":
            port["protocol"] = protocol
        number = m.group("port")
        port["port"] = int(number) if number.isdigit() else number
        if m.group("end"):
            port["endPort"] = int(m.group("end"))
        ports.append(port)
    return ports


def _peer(problems: Problems, fields: Fields, key: str, peer: dict[str, str], path: str) -> dict:
    kind = peer["kind"]
    if kind not in PEER_KINDS:
        problems.add(
            path, f'Unsupported value: "{kind}": a peer is pods, namespaces, both or ipblock'
        )
        return {}
    if kind == "ipblock":
        block: dict[str, Any] = {"cidr": peer["cidr"]}
        excepts = [e.strip() for e in re.split(r"[,\s]+", peer["except"]) if e.strip()]
        if excepts:
            block["except"] = excepts
        return {"ipBlock": block}
    out: dict[str, Any] = {}
    if kind in ("namespaces", "both"):
        labels = field_labels(problems, fields, f"{key}_namespaces", f"{path}.namespaceSelector")
        out["namespaceSelector"] = {"matchLabels": labels} if labels else {}
    if kind in ("pods", "both"):
        labels = field_labels(problems, fields, f"{key}_pods", f"{path}.podSelector")
        out["podSelector"] = {"matchLabels": labels} if labels else {}
    return out


def networkpolicy_manifest(fields: Fields) -> dict[str, Any]:
    """A networking.k8s.io/v1 NetworkPolicy from the form's fields (see the module).

    Fields: ``name``, ``namespace``, ``pod_selector`` (labels; empty selects every pod of
    the namespace), ``type_ingress`` and ``type_egress`` (on: listed in ``policyTypes``),
    and the rule rows. A direction with its type on and no rule allows nothing that way.

    >>> np = networkpolicy_manifest({"name": "db", "pod_selector": "app=db",
    ...     "type_ingress": "on", "in0_p0_kind": "both", "in0_p0_pods": "app=cart",
    ...     "in0_p0_namespaces": "team=shop", "in0_ports": "pg"})
    >>> np["spec"]["ingress"]
    [{'from': [{'namespaceSelector': {'matchLabels': {'team': 'shop'}}, 'podSelector': {'matchLabels': {'app': 'cart'}}}], 'ports': [{'port': 'pg'}]}]
    >>> networkpolicy_manifest({"name": "deny", "type_egress": "on"})["spec"]
    {'podSelector': {}, 'policyTypes': ['Egress']}
    """
    problems = Problems("NetworkPolicy", fields)
    selector = field_labels(problems, fields, "pod_selector", "spec.podSelector")
    spec: dict[str, Any] = {"podSelector": {"matchLabels": selector} if selector else {}}
    types = [
        t
        for t, key in (("Ingress", "type_ingress"), ("Egress", "type_egress"))
        if field_text(fields, key)
    ]
    if types:  # none ticked: the API server's defaulting decides (Ingress, + Egress with rules)
        spec["policyTypes"] = types
    for prefix, key, peers_key in DIRECTIONS:
        rules = []
        for n, row in enumerate(rule_rows(fields, prefix)):
            rule: dict[str, Any] = {}
            peers = [
                _peer(
                    problems,
                    fields,
                    f"{prefix}{row['index']}_p{p['index']}",
                    p,
                    f"spec.{key}[{n}].{peers_key}[{m}]",
                )
                for m, p in enumerate(row["peers"])
            ]
            if peers:
                rule[peers_key] = peers
            ports = parse_ports(row["ports"], problems, f"spec.{key}[{n}].ports")
            if ports:
                rule["ports"] = ports
            rules.append(rule)
        if rules:
            spec[key] = rules
    problems.raise_any()
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": object_meta(fields),
        "spec": spec,
    }


def field_errors(fields: Fields, errors: list[FieldError]) -> dict[str, list[str]]:
    """The form field each error is about (``spec.ingress[1].from[0].ipBlock.cidr`` is the
    CIDR box of that rule's peer row), with its messages; what names no field of the form
    (or a part of the object the form does not make) is under ``""``.

    >>> e = [FieldError("spec.ingress[0].from[0].ipBlock.cidr", "Invalid value: bad"),
    ...      FieldError("spec.egress[0].ports[1].port", "Invalid value: 70000"),
    ...      FieldError("metadata.name", "Required value")]
    >>> field_errors({"in3_p2_cidr": "bad", "eg0_ports": "53, 70000"}, e)
    {'in3_p2_cidr': ['Invalid value: bad'], 'eg0_ports': ['Invalid value: 70000'], 'name': ['Required value']}
    """
    rows = {prefix: rule_rows(fields, prefix) for prefix, _, _ in DIRECTIONS}
    out: dict[str, list[str]] = {}
    for error in errors:
        out.setdefault(_form_key(rows, error.field or ""), []).append(error.message)
    return out


def _form_key(rows: dict[str, list[dict[str, Any]]], path: str) -> str:
    simple = {
        "metadata.name": "name",
        "metadata.namespace": "namespace",
        "spec.podSelector": "pod_selector",
        "spec.policyTypes": "types",
    }
    for prefix_path, key in simple.items():
        if path.startswith(prefix_path):
            return key
    m = re.match(
        r"spec\.(ingress|egress)\[(\d+)\](?:\.(from|to|ports)(?:\[(\d+)\])?(?:\.(\w+))?)?", path
    )
    if not m:
        return ""
    prefix = "in" if m.group(1) == "ingress" else "eg"
    listed = rows[prefix]
    n = int(m.group(2))
    if n >= len(listed):
        return ""
    rule = listed[n]
    if m.group(3) == "ports" or m.group(3) is None:
        return f"{prefix}{rule['index']}_ports"
    if m.group(4) is None or int(m.group(4)) >= len(rule["peers"]):
        return f"{prefix}{rule['index']}_p0_kind"
    peer = rule["peers"][int(m.group(4))]
    base = f"{prefix}{rule['index']}_p{peer['index']}"
    part = m.group(5) or ""
    if part == "ipBlock":
        return f"{base}_except" if ".except" in path else f"{base}_cidr"
    return {"podSelector": f"{base}_pods", "namespaceSelector": f"{base}_namespaces"}.get(
        part, f"{base}_kind"
    )


def form_layout(fields: Fields | None = None) -> dict[str, list[dict[str, Any]]]:
    """The rows the form draws for each direction: the rules typed (by their own numbers)
    and one spare rule, each with its peers typed and spare peers (at least two, so a
    second peer, OR, is always in sight). Without JavaScript the spares are how rows are
    added; with it they wait behind "Add" buttons.

    >>> form_layout()["in"]
    [{'index': 0, 'peers': [0, 1]}, {'index': 1, 'peers': [0, 1]}]
    >>> form_layout({"in3_p4_pods": "app=api"})["in"]
    [{'index': 3, 'peers': [4, 5, 6]}, {'index': 4, 'peers': [0, 1]}]
    """
    layout = {}
    for prefix, _, _ in DIRECTIONS:
        typed = rule_rows(fields or {}, prefix)
        rows = []
        for row in typed:
            peers = [p["index"] for p in row["peers"]]
            spare = max(peers, default=-1) + 1
            rows.append({"index": row["index"], "peers": [*peers, spare, spare + 1]})
        next_rule = max((r["index"] for r in typed), default=-1) + 1
        spares = 1 if typed else 2
        rows += [{"index": i, "peers": [0, 1]} for i in range(next_rule, next_rule + spares)]
        layout[prefix] = rows
    return layout
