"""Render a page, or for an htmx request just one named block of it.

A page template defines its swappable parts as named blocks; an htmx request gets only the
block it asked for (the same markup the full page has), and every such answer carries
``Vary: HX-Request`` so caches keep the two apart.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import HTMLResponse


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(
    request: Request,
    template_name: str,
    context: dict[str, Any],
    block: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The whole page, or only ``block`` when htmx asked (and ``block`` is given)."""
    env = request.app.state.templates.env
    template = env.get_template(template_name)
    context = {"request": request, **context}
    if block is not None and is_htmx(request):
        block_render = template.blocks[block]
        html = "".join(block_render(template.new_context(context)))
    else:
        html = template.render(context)
    return HTMLResponse(html, status_code=status_code, headers={"Vary": "HX-Request"})
