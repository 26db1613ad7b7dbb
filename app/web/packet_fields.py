"""One field of the trace's header view, as HTML: a template global for ``_trace.html``.

A trace's header view has a field row for every address, port, protocol and HTTP header of
every hop, a few hundred per trace. Written as a Jinja macro, those rows were most of the cost
of drawing a trace (a class of students following the teacher draws one each at every move);
built here, the same markup costs a fraction.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

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
