"""Render a page, or for an htmx request just one named block of it.

A page template defines its swappable parts as named blocks; an htmx request gets only the
block it asked for (the same markup the full page has), and every such answer carries
``Vary: HX-Request`` so caches keep the two apart.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from starlette.responses import HTMLResponse

from app.cluster.constants import PROXY_MODE_NOTES
from app.render.stage import player_data
from app.web.bar_markup import source_groups, target_options
from app.web.cni_form import EBPF, EBPF_LABEL
from app.web.trace_markup import hop_badge, hop_list, packet_field, packet_panel

#: Python functions the templates call (every Jinja environment that renders Podpath's
#: templates needs them: the app's, and the tests' and benchmarks' own).
TEMPLATE_GLOBALS = {
    "packet_field": packet_field,
    "hop_badge": hop_badge,
    "hop_list": hop_list,
    "packet_panel": packet_panel,
    "trace_player_data": player_data,
    "source_groups": source_groups,
    "target_options": target_options,
    "proxy_mode_label": lambda mode: (
        EBPF_LABEL
        if mode == EBPF
        else f"{mode} ({PROXY_MODE_NOTES[mode]})"
        if mode in PROXY_MODE_NOTES
        else mode
    ),
}

#: What a dict answers as attributes itself (its methods): ``headers.items()`` in a template.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class PodpathEnvironment(jinja2.Environment):
    """Jinja, with ``x.name`` on a plain dict looked up as a key first.

    Jinja tries ``getattr(x, "name")`` and only after that fails ``x["name"]``; the views the
    templates draw are dicts, so nearly every ``hop.packet`` raised and caught an
    AttributeError first. A dict has no attributes but its methods, so for every other name
    asking for the key first gives the same answer, without the exception.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def template_environment(directory: str | Path) -> PodpathEnvironment:
    """The Jinja environment that renders ``templates/`` (autoescaped, with the globals)."""
    env = PodpathEnvironment(
        loader=jinja2.FileSystemLoader(str(directory)),
        autoescape=jinja2.select_autoescape(),
        # Templates are read once per process (an edit shows after a restart): checking each
        # file's time on every render costs a system call per template per request.
        auto_reload=False,
    )
    env.globals.update(TEMPLATE_GLOBALS)
    return env


class WhenDrawn:
    """A value asked for only when a template draws it: ``{% if share %}`` or ``share.token``
    asks, once; an answer that draws none of it never asks.

    Most answers redraw one part of the sandbox page (a tab, a trace, the class bar), not the
    head that holds the share link, so the store is not asked for the link on their behalf.
    Rendered in a worker thread, as the store's other reads are.

    >>> asked = []
    >>> share = WhenDrawn(lambda: asked.append(1) or "token")
    >>> asked
    []
    >>> bool(share), share.upper(), asked
    (True, 'TOKEN', [1])
    """

    __slots__ = ("_ask", "_asked", "_value")

    def __init__(self, ask: Callable[[], Any]) -> None:
        self._ask = ask
        self._asked = False
        self._value: Any = None

    def value(self) -> Any:
        if not self._asked:
            self._value, self._asked = self._ask(), True
        return self._value

    def __bool__(self) -> bool:
        return bool(self.value())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.value(), name)


#: The parts of the sandbox page to send along (out of band) when the cluster changed: the map,
#: the trace bar (its From and To suggestions list the pods and Services) and the head (its
#: Undo button names the change).
CLUSTER_CHANGED = ("map_area", "trace_bar", "sandbox_head")


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(
    request: Request,
    template_name: str,
    context: dict[str, Any],
    block: str | None = None,
    status_code: int = 200,
    also: tuple[str, ...] = (),
) -> HTMLResponse:
    """The whole page, or only ``block`` when htmx asked (and ``block`` is given).

    ``also`` names more blocks to send along for an htmx request; each is wrapped for an
    out-of-band swap into the element whose id is the block's name with ``_`` as ``-``
    (block ``map_area`` replaces the inside of ``#map-area``).
    """
    env = request.app.state.templates.env
    template = env.get_template(template_name)
    context = {"request": request, **context}
    if block is not None and is_htmx(request):
        html = _block(template, block, context)
        for extra in also:
            element = extra.replace("_", "-")
            html += f'<div id="{element}" hx-swap-oob="innerHTML">{_block(template, extra, context)}</div>'
    else:
        html = template.render(context)
    return HTMLResponse(html, status_code=status_code, headers={"Vary": "HX-Request"})


def render_parts(
    request: Request, template_name: str, context: dict[str, Any], parts: dict[str, str]
) -> HTMLResponse:
    """Only out-of-band swaps, for an htmx request whose own target takes nothing
    (``hx-swap="none"``): each block of ``parts`` replaces the inside of the element with the
    id it is mapped to. An answer that changes one corner of the page renders only that."""
    env = request.app.state.templates.env
    template = env.get_template(template_name)
    context = {"request": request, **context}
    html = "".join(
        f'<div id="{element}" hx-swap-oob="innerHTML">{_block(template, block, context)}</div>'
        for block, element in parts.items()
    )
    return HTMLResponse(html, headers={"Vary": "HX-Request"})


def _block(template: Any, name: str, context: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(context)))
