"""Python helpers for ``templates/_trace.html``: the parts drawn many times per trace.

A trace's header view has a field row for every address, port, protocol and HTTP header of
every hop (a few hundred per trace) and each hop an action badge, twice. As Jinja macros they
were much of the cost of drawing a trace (and a class of students following the teacher
draws one each at every move); here the same markup costs a fraction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape


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
        label = escape(" + ".join(undone or [str(action).upper()]) + " undone")
        return Markup(f'<span class="badge action-{escape(action)} is-undo">{label}</span>')
    return Markup(f'<span class="badge action-{escape(action)}">{escape(action)}</span>')


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
        old = escape("none" if before is None else before)
        new = escape("none" if value is None else value)
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
            else f"<code>{escape(value)}</code>"
        )
    return Markup(
        f'<div class="pkt-field{css}">\n    <dt>{escape(label)}{tag}</dt>\n'
        f"    <dd>{body}</dd>\n  </div>"
    )
