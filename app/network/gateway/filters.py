"""HTTPRoute filters and weighted backends, as Envoy Gateway applies them.

- ``RequestHeaderModifier``: ``set`` replaces (or adds) a header, ``add`` appends a value to
  what is there (Envoy sends ``name: old,new``), ``remove`` drops it; names are
  case-insensitive.
- ``RequestRedirect``: the proxy answers by itself with ``statusCode`` (302 unless set) and a
  ``Location`` made of the request with ``scheme``, ``hostname``, ``port`` and ``path``
  replaced. Without ``port`` the port is the scheme's well-known one when ``scheme`` is set,
  else the listener's; a well-known port is left out (``apis/v1`` ``HTTPRequestRedirectFilter``).
- ``URLRewrite``: ``hostname`` replaces the Host sent upstream; ``path`` replaces the whole
  path (``ReplaceFullPath``) or the prefix the rule matched (``ReplacePrefixMatch``).
- ``backendRefs`` weights: each request goes to one ref, picked in proportion to its
  ``weight`` (1 unless set; 0 never).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

WELL_KNOWN = {"http": 80, "https": 443}


def modify_headers(headers: dict[str, str], spec: dict[str, Any]) -> dict[str, str]:
    """Apply one ``requestHeaderModifier`` to a copy of ``headers``.

    >>> modify_headers({"Host": "a", "X-Old": "1", "Accept": "*/*"},
    ...     {"set": [{"name": "x-old", "value": "2"}], "add": [{"name": "Accept", "value": "text/html"}],
    ...      "remove": ["host"]})
    {'Accept': '*/*,text/html', 'x-old': '2'}
    """
    out = dict(headers)

    def existing(name: str) -> str | None:
        return next((k for k in out if k.lower() == name.lower()), None)

    for item in spec.get("set") or []:
        old = existing(item["name"])
        if old is not None:
            del out[old]
        out[item["name"]] = str(item.get("value", ""))
    for item in spec.get("add") or []:
        old = existing(item["name"])
        if old is None:
            out[item["name"]] = str(item.get("value", ""))
        else:
            out[old] = f"{out[old]},{item.get('value', '')}"
    for name in spec.get("remove") or []:
        old = existing(name)
        if old is not None:
            del out[old]
    return out


def new_path(path: str, spec: dict[str, Any], matched_prefix: str | None) -> str:
    """The path after an ``HTTPPathModifier`` (of a redirect or a rewrite).

    >>> new_path("/prefix/one/two", {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/one"}, "/prefix/one")
    '/one/two'
    >>> new_path("/strip-prefix/three", {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}, "/strip-prefix")
    '/three'
    >>> new_path("/full/path", {"type": "ReplaceFullPath", "replaceFullPath": "/one"}, "/full")
    '/one'
    """
    kind = spec.get("type")
    if kind == "ReplaceFullPath":
        return str(spec.get("replaceFullPath") or "/")
    if kind == "ReplacePrefixMatch" and matched_prefix is not None:
        replacement = str(spec.get("replacePrefixMatch") or "/")
        prefix = matched_prefix.rstrip("/")
        rest = path[len(prefix) :] if path.startswith(prefix) else path
        if not rest:
            return replacement
        if replacement.endswith("/"):
            return replacement + rest.lstrip("/")
        return replacement + rest
    return path


def redirect_location(
    spec: dict[str, Any],
    scheme: str,
    host: str,
    port: int,
    path: str,
    query: str,
    matched_prefix: str | None,
) -> tuple[int, str]:
    """``(status, Location)`` of a ``requestRedirect``.

    >>> redirect_location({"hostname": "example.org"}, "http", "a.test", 80, "/x", "", "/")
    (302, 'http://example.org/x')
    >>> redirect_location({"scheme": "https", "statusCode": 301}, "http", "a.test", 80, "/x", "q=1", "/")
    (301, 'https://a.test/x?q=1')
    >>> redirect_location({"port": 8443}, "http", "a.test", 80, "/", "", "/")
    (302, 'http://a.test:8443/')
    """
    status = int(spec.get("statusCode") or 302)
    new_scheme = spec.get("scheme") or scheme
    new_host = spec.get("hostname") or host
    if spec.get("port"):
        new_port = int(spec["port"])
    elif spec.get("scheme"):
        new_port = WELL_KNOWN.get(new_scheme, port)
    else:
        new_port = port
    shown = "" if WELL_KNOWN.get(new_scheme) == new_port else f":{new_port}"
    target = new_path(path, spec["path"], matched_prefix) if spec.get("path") else path
    return status, f"{new_scheme}://{new_host}{shown}{target}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Pick:
    index: int  # which backendRef, or -1 when every weight is 0 (or there are none)
    share: str  # "3 of 10" for the explanation


def pick_backend(refs: list[dict[str, Any]], seed: int) -> Pick:
    """Pick one backendRef in proportion to the weights, decided by ``seed``.

    >>> refs = [{"name": "v1", "weight": 90}, {"name": "v2", "weight": 10}]
    >>> sorted({pick_backend(refs, s).index for s in range(100)})
    [0, 1]
    >>> pick_backend([{"name": "v1", "weight": 0}], 3).index
    -1
    >>> pick_backend(refs, 7).share in ("90 of 100", "10 of 100")
    True
    """
    weights = [max(0, int(r.get("weight", 1))) for r in refs]
    total = sum(weights)
    if total == 0:
        return Pick(-1, "0")
    draw = random.Random(seed).randrange(total)
    for i, weight in enumerate(weights):
        if draw < weight:
            return Pick(i, f"{weight} of {total}")
        draw -= weight
    raise AssertionError("unreachable: the draw is below the total")
