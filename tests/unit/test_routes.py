"""The app's routers never answer the same request twice over: each path (with each method)
is matched by one route only, across routers, so the order create_app includes them in (the
most asked first, for speed) cannot change which one answers."""

from __future__ import annotations

import re

from starlette.routing import Match

from app.settings import Settings
from app.web.app import create_app


def test_no_path_is_answered_by_routes_of_two_routers(tmp_path):
    app = create_app(Settings(store="memory", data_dir=tmp_path))
    routes = [
        (number, route)
        for number, entry in enumerate(app.router.routes)
        for route in getattr(getattr(entry, "original_router", None), "routes", None) or [entry]
    ]
    assert len(routes) > 80  # the routers' own routes, not only the routers
    clashes = []
    for _, route in routes:
        path = getattr(route, "path", None)
        if not path:
            continue
        sample = re.sub(r"\{[^}]+\}", "x", path)  # each parameter given a value
        for method in getattr(route, "methods", None) or {"GET"}:
            scope = {"type": "http", "path": sample, "method": method, "root_path": ""}
            answering = {
                other_number
                for other_number, other in routes
                if other.matches(dict(scope))[0] == Match.FULL
            }
            if len(answering) > 1:
                clashes.append((method, path, sorted(answering)))
    assert clashes == []
