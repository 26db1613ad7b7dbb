"""Python helpers for ``templates/_trace.html``: the parts drawn many times per trace.

A trace's header view has a field row for every address, port, protocol and HTTP header of
every hop (a few hundred per trace) and each hop an action badge, twice. As Jinja macros they
were much of the cost of drawing a trace (and a class of students following the teacher
draws one each at every move); here the same markup costs a fraction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2.filters import do_urlencode
from markupsafe import Markup, escape


def escaped_text(value: Any) -> str:
    """``value`` escaped as :func:`markupsafe.escape` escapes it; a plain name or address,
    which has nothing to escape, as it is (most of a trace's hundreds of fields).

    >>> escaped_text("10.244.1.5:8080"), escaped_text("a <b> & 'c'"), escaped_text(8472), escaped_text(None)
    ('10.244.1.5:8080', 'a &lt;b&gt; &amp; &#39;c&#39;', '8472', 'None')
    """
    if type(value) is str and not (
        "&" in value or "<" in value or ">" in value or '"' in value or "'" in value
    ):
        return value
    return str(escape(value))


def _undoes_nat(hop: Mapping[str, Any]) -> bool:
    """On the way back (the reply, and the DNS answer), conntrack rewriting the source undoes
    the request's DNAT (the client sees the address it asked for), and rewriting the
    destination undoes its SNAT: an answer gets no new NAT."""
    return hop.get("action") in ("dnat", "snat") and (
        hop.get("phase") == "reply" or hop.get("where") == "conntrack"
    )


def hop_badge(hop: Mapping[str, Any]) -> Markup:
    """The badge naming what a hop did (``dnat``, or ``DNAT undone`` on the way back).

    >>> print(hop_badge({"action": "dnat", "phase": "reply", "changed": ["src"]}))
    <span class="badge action-dnat is-undo">DNAT undone</span>
    >>> print(hop_badge({"action": "route", "phase": "request"}))
    <span class="badge action-route">route</span>
    """
    action = hop.get("action")
    if _undoes_nat(hop):
        changed = hop.get("changed") or []
        undone = [name for field, name in (("src", "DNAT"), ("dst", "SNAT")) if field in changed]
        label = escaped_text(" + ".join(undone or [str(action).upper()]) + " undone")
        return Markup(f'<span class="badge action-{escaped_text(action)} is-undo">{label}</span>')
    return Markup(
        f'<span class="badge action-{escaped_text(action)}">{escaped_text(action)}</span>'
    )


_ARROW = (
    '\n        <span class="pkt-arrow" aria-hidden="true">→</span>'
    '\n        <span class="visually-hidden">now</span>'
    "\n        "
)


def packet_field(label: Any, value: Any, compare: Any = False, before: Any = None) -> Markup:
    """A ``<div class="pkt-field">`` with the field's label and value.

    Parameters
    ----------
    label : str
        The field's name (``src``, ``outer dst``, an HTTP header).
    value : object
        The value at this hop (None: the field is absent).
    compare : object
        Truthy when the hop before (of the same phase) is compared with: a value it had
        differently is shown as changed (before → after), one it lacked as added.
    before : object
        The value at the hop before.

    Returns
    -------
    Markup
        The row, escaped.

    Examples
    --------
    >>> print(packet_field("dst", "10.244.1.5:8080", True, "10.96.0.12:80"))  # doctest: +NORMALIZE_WHITESPACE
    <div class="pkt-field is-changed">
        <dt>dst <span class="changed-tag">changed</span></dt>
        <dd><code class="pkt-before"><del>10.96.0.12:80</del></code>
            <span class="pkt-arrow" aria-hidden="true">→</span>
            <span class="visually-hidden">now</span>
            <code class="pkt-after"><ins>10.244.1.5:8080</ins></code></dd>
      </div>
    >>> print(packet_field("host", "<web>"))  # doctest: +NORMALIZE_WHITESPACE
    <div class="pkt-field">
        <dt>host</dt>
        <dd><code>&lt;web&gt;</code></dd>
      </div>
    """
    added = bool(compare) and before is None and value is not None
    changed = bool(compare) and before is not None and before != value
    if changed:
        css, tag = " is-changed", ' <span class="changed-tag">changed</span>'
        old = escaped_text("none" if before is None else before)
        new = escaped_text("none" if value is None else value)
        body = (
            f'<code class="pkt-before"><del>{old}</del></code>{_ARROW}'
            f'<code class="pkt-after"><ins>{new}</ins></code>'
        )
    else:
        css, tag = "", ""
        if added:
            css, tag = " is-added", ' <span class="changed-tag added-tag">added</span>'
        body = (
            '<span class="pkt-none">none</span>'
            if value is None
            else f"<code>{escaped_text(value)}</code>"
        )
    return Markup(
        f'<div class="pkt-field{css}">\n    <dt>{escaped_text(label)}{tag}</dt>\n'
        f"    <dd>{body}</dd>\n  </div>"
    )


def _outer_group(outer: Mapping[str, Any], outer_before: Any, compare: bool) -> str:
    ob = outer_before or {}
    fresh = compare and not outer_before
    kind = (
        " (VXLAN)" if "vni" in outer else " (IP-in-IP)" if outer.get("protocol") == "IPIP" else ""
    )
    against = compare and outer_before
    rows = [
        packet_field("outer src", outer.get("src"), against, ob.get("src")),
        packet_field("outer dst", outer.get("dst"), against, ob.get("dst")),
        packet_field("outer protocol", outer.get("protocol"), against, ob.get("protocol")),
    ]
    if "port" in outer:
        rows.append(packet_field("UDP port", outer["port"], against, ob.get("port")))
    if "vni" in outer:
        rows.append(packet_field("VNI", outer["vni"], against, ob.get("vni")))
    return (
        f'<div class="pkt-group">\n    <h4 class="pkt-heading{" is-added" if fresh else ""}">'
        f"\n      Outer header{kind}"
        + (' <span class="changed-tag added-tag">added</span>' if fresh else "")
        + '\n    </h4>\n    <dl class="pkt-fields pkt-outer">\n      '
        + "\n      ".join(rows)
        + "\n    </dl>\n    </div>"
    )


def _removed_outer(outer_before: Mapping[str, Any]) -> str:
    ob = outer_before
    port = f" port {escaped_text(ob['port'])}" if "port" in ob else ""
    vni = f", VNI {escaped_text(ob['vni'])}" if "vni" in ob else ""
    return (
        '\n    <p class="pkt-removed is-changed">\n      <span class="changed-tag">removed</span>'
        f"\n      Outer header stripped (was <code>{escaped_text(ob.get('src'))} → "
        f"{escaped_text(ob.get('dst'))}</code>\n      {escaped_text(ob.get('protocol'))}{port}{vni}).\n    </p>"
    )


def _http_group(http: Mapping[str, Any], before: Mapping[str, Any], compare: bool) -> str:
    hb = before.get("http")
    against = compare and hb is not None
    fresh = compare and not hb
    hb = hb or {}
    old_headers = hb.get("headers") or {}
    rows = [
        packet_field("host", http.get("host"), against, hb.get("host")),
        packet_field("path", http.get("path"), against, hb.get("path")),
    ]
    if http.get("method") or hb.get("method"):  # said only when not GET, as the trace does
        rows.insert(
            0,
            packet_field("method", http.get("method") or "GET", against, hb.get("method") or "GET"),
        )
    rows += [
        packet_field(name, value, against, old_headers.get(name))
        for name, value in (http.get("headers") or {}).items()
    ]
    return (
        '<div class="pkt-group">\n    <h4 class="pkt-heading">HTTP'
        + (' <span class="changed-tag added-tag">added</span>' if fresh else "")
        + '</h4>\n    <dl class="pkt-fields pkt-http">\n      '
        + "\n      ".join(rows)
        + "\n    </dl>\n    </div>"
    )


def _rule(hop: Mapping[str, Any], workspace_id: Any, trace_query: Any) -> str:
    rule = hop.get("rule")
    if not rule or not rule.get("text"):
        return ""
    node = hop.get("node")
    link = ""
    if workspace_id is not None and trace_query and node:
        url = escaped_text(
            f"/w/{workspace_id}?tab=rules&node={node}&from={do_urlencode(trace_query['from'])}"
            f"&to={do_urlencode(trace_query['to'])}&seed={trace_query['seed']}"
        )
        link = (
            f'\n      <a class="pkt-rule-link" href="{url}" hx-get="{url}" hx-target="#panel">'
            f"All the kube-proxy rules on {escaped_text(node)}, this trace's highlighted</a>"
        )
    return (
        '\n    <p class="pkt-rule"><span class="pkt-rule-label">Rule matched '
        f"({escaped_text(rule.get('table'))} {escaped_text(rule.get('chain'))})</span>"
        f"\n      <code>{escaped_text(rule['text'])}</code>{link}</p>"
    )


def _why(hop: Mapping[str, Any]) -> str:
    why = hop.get("why")
    if not why or not why.get("entry"):
        return ""
    parts = [
        '\n    <details class="pkt-why">\n      <summary>Why this hop?</summary>'
        f'\n      <p class="pkt-why-table">{escaped_text(why.get("table"))}</p>'
        f'\n      <code class="pkt-why-entry">{escaped_text(why["entry"])}</code>'
    ]
    for more in why.get("also") or []:
        parts.append(
            f'\n      <p class="pkt-why-table">{escaped_text(more.get("table"))}</p>'
            f'\n      <code class="pkt-why-entry">{escaped_text(more.get("entry"))}</code>'
        )
    if why.get("note"):
        parts.append(f'\n      <p class="pkt-why-note">{escaped_text(why["note"])}</p>')
    parts.append("\n    </details>")
    return "".join(parts)


def packet_panel(
    hop: Mapping[str, Any],
    step: int,
    prev: Mapping[str, Any] | None,
    steps: int,
    workspace_id: Any = None,
    trace_query: Any = None,
) -> Markup:
    """One hop's header view: the packet (inner and outer header, HTTP) with each field
    compared with the hop before of the same phase, where it happened, the rule it matched
    and why. Only the first (``step`` 0) is shown; the player shows the others in turn.

    Parameters
    ----------
    hop, prev : dict
        The hop (:meth:`app.network.model.Hop.to_dict`) and the one before it of the same
        phase (None for the first of a phase: a new packet, not a rewrite).
    step, steps : int
        Its number (from 0) across the trace, and how many there are.
    workspace_id, trace_query :
        Where the "all the rules on this node" link points (no link without them).

    Examples
    --------
    >>> hop = {"action": "send", "node": "worker-1", "where": "eth0",
    ...        "packet": {"src": "10.244.1.2:40000", "dst": "10.96.0.10:53", "protocol": "UDP"}}
    >>> html = packet_panel(hop, 0, None, 3)
    >>> html.startswith('<div class="pkt-panel" data-hop-panel="0">'), "Hop 1 of 3" in html
    (True, True)
    """
    packet = hop.get("packet") or {}
    before = (prev.get("packet") if prev else None) or {}
    compare = prev is not None
    node = hop.get("node")
    on_node = f' <span class="pkt-node">on {escaped_text(node)}</span>' if node else ""
    parts = [
        f'<div class="pkt-panel" data-hop-panel="{step}"{"" if step == 0 else " hidden"}>'
        f'\n    <p class="pkt-caption">\n      <span class="pkt-step">Hop {step + 1} of {steps}'
        f"</span>\n      {hop_badge(hop)}{on_node}\n    </p>"
        '\n    <div class="pkt-groups">\n    <div class="pkt-group">'
        f'\n    <h4 class="pkt-heading">{"Inner packet" if packet.get("outer") else "Packet"}</h4>'
        '\n    <dl class="pkt-fields">\n      '
        + "\n      ".join(
            packet_field(name, packet.get(name), compare, before.get(name))
            for name in ("src", "dst", "protocol")
        )
        + "\n    </dl>\n    </div>"
    ]
    outer, outer_before = packet.get("outer"), before.get("outer")
    if outer:
        parts.append(_outer_group(outer, outer_before, compare))
    elif compare and outer_before:
        parts.append(_removed_outer(outer_before))
    if packet.get("http"):
        parts.append(_http_group(packet["http"], before, compare))
    on = f" on {escaped_text(node)}" if node else ""
    parts.append(
        "\n    </div>"
        f'\n    <p class="pkt-where"><span class="pkt-where-label">Where:</span> '
        f"{escaped_text(hop.get('where'))}{on}</p>"
    )
    parts.append(_rule(hop, workspace_id, trace_query))
    parts.append(_why(hop))
    parts.append("\n  </div>")
    return Markup("".join(parts))


#: The hop list's headings, per phase of a trace.
PHASE_TITLES = {"dns": "DNS lookup", "request": "Request", "reply": "Reply"}


def hop_list(steps: list[Mapping[str, Any]]) -> Markup:
    """The hop strip's lists: one numbered list per phase (DNS lookup, request, reply), each
    hop a button the player steps to, the first marked current.

    >>> html = hop_list([{"phase": "request", "action": "send", "where": "eth0",
    ...                   "node": None, "summary": "a <b> sends"}])
    >>> '<ol class="hop-list" start="1">' in html, "a &lt;b&gt; sends" in html, "off the nodes" in html
    (True, True, True)
    """
    parts: list[str] = []
    phase = None
    for index, hop in enumerate(steps):
        if hop.get("phase") != phase:
            if phase is not None:
                parts.append("\n      </ol></div>")
            phase = hop.get("phase")
            parts.append(
                f'\n      <div class="hop-group phase-{escaped_text(phase)}">'
                f'\n      <h3 class="hop-phase">{escaped_text(PHASE_TITLES.get(phase, phase))}</h3>'
                f'\n      <ol class="hop-list" start="{index + 1}">'
            )
        node = hop.get("node")
        where = f"on {escaped_text(node)}" if node else "off the nodes"
        current = ' aria-current="step"' if index == 0 else ""
        parts.append(
            f'\n        <li class="hop phase-{escaped_text(phase)} action-{escaped_text(hop.get("action"))}"'
            f' data-hop="{index}"{current}>'
            f'\n          <button type="button" class="hop-button" data-hop-index="{index}">'
            f'\n            <span class="hop-num">{index + 1}</span>'
            f'\n            <span class="hop-head">\n              {hop_badge(hop)}'
            f'\n              <span class="hop-where">{escaped_text(hop.get("where"))}</span>'
            f'\n              <span class="hop-node">{where}</span>\n            </span>'
            f'\n            <span class="hop-summary">{escaped_text(hop.get("summary"))}</span>'
            "\n          </button>\n        </li>"
        )
    if phase is not None:
        parts.append("\n      </ol></div>")
    return Markup("".join(parts))
