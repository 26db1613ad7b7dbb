"""Python helpers for ``templates/_trace_bar.html``: its lists of sources and targets.

The trace bar offers every pod, node and the outside as a source, and every Service name,
address and node port as a target: hundreds of ``<option>`` elements on a large cluster,
drawn again with every answer that redraws the bar (a request sent from the Terminal, a change
of the cluster). As Jinja loops (with a ``groupby``) they were most of the cost of drawing
the bar; here the same markup costs a fraction (see :mod:`app.web.trace_markup` for the
same for the trace).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import groupby
from typing import Any

from markupsafe import Markup

from app.web.trace_markup import escaped_text

#: Lists drawn lately, by the identity of what they were drawn from: the page's ``sources``
#: and ``suggestions`` are built once per state of a cluster (``ClusterState.memoised``), so
#: every answer on an unchanged cluster draws the same options again.
_DRAWN: dict[tuple[str, int], tuple[object, str]] = {}
#: Most lists kept (then all are dropped and drawn again as asked).
MAX_DRAWN = 128


def _drawn(kind: str, items: Sequence[Any], draw: Any) -> str:
    """``draw(items)``, kept while ``items`` (the very object) is alive and asked again."""
    key = (kind, id(items))
    kept = _DRAWN.get(key)
    if kept is not None and kept[0] is items:
        return kept[1]
    text = draw(items)
    if len(_DRAWN) >= MAX_DRAWN:
        _DRAWN.clear()
    _DRAWN[key] = (items, text)
    return text


def source_groups(sources: Sequence[Mapping[str, Any]], selected: Any = None) -> Markup:
    """The ``<optgroup>`` elements of the bar's From list, grouped by ``group`` (sorted by
    group, without regard to case, as Jinja's ``groupby`` sorts), ``selected`` marked.

    >>> print(source_groups([{"value": "external", "label": "outside", "group": "Outside"},
    ...                      {"value": "node/a", "label": "a <1>", "group": "Nodes"}], "node/a"))
    <BLANKLINE>
          <optgroup label="Nodes"><option value="node/a" selected>a &lt;1&gt;</option>
          </optgroup>
          <optgroup label="Outside"><option value="external" >outside</option>
          </optgroup>
    """
    text = _drawn("sources", sources, _source_groups)
    if selected is not None:  # the one option marked, as the loop over them would mark it
        value = escaped_text(selected)
        text = text.replace(f'<option value="{value}" >', f'<option value="{value}" selected>')
    return Markup(text)


def _source_groups(sources: Sequence[Mapping[str, Any]]) -> str:
    parts = []
    keyed = sorted(((_group_key(o), o) for o in sources), key=lambda pair: pair[0])
    for _, members in groupby(keyed, key=lambda pair: pair[0]):
        options = [option for _, option in members]
        parts.append(f'\n      <optgroup label="{escaped_text(options[0].get("group"))}">')
        for option in options:
            value, label = escaped_text(option.get("value")), escaped_text(option.get("label"))
            parts.append(f'<option value="{value}" >{label}</option>')
        parts.append("\n      </optgroup>")
    return "".join(parts)


def _group_key(option: Mapping[str, Any]) -> Any:
    group = option.get("group")
    return group.lower() if isinstance(group, str) else group


def target_options(suggestions: Sequence[Any]) -> Markup:
    """The ``<option>`` elements of the bar's list of targets.

    >>> print(target_options(["http://web/", "10.96.0.10:53/udp"]))
    <option value="http://web/"><option value="10.96.0.10:53/udp">
    """
    return Markup(_drawn("targets", suggestions, _target_options))


def _target_options(suggestions: Sequence[Any]) -> str:
    return "".join(f'<option value="{escaped_text(t)}">' for t in suggestions)
