"""Rules of HTTPRoute and GRPCRoute beyond their CRD schema: the CRDs' CEL rules
(gateway-api ``config/crd/standard``; the release is named in ``crds/*.json``).

Each validator takes the route with its CRD defaults filled in (the API server validates
after defaulting: a rule with no ``matches`` has the PathPrefix ``/`` match by then).
"""

from __future__ import annotations

import re

from app.cluster.validation.cel_rules import (
    Rule,
    blank,
    duration_ms,
    each_unique,
    evaluate,
    exists_one,
    has,
    items,
)
from app.cluster.validation.semantic_meta import validate_metadata
from app.errors import FieldError

_PATH_CHARS = re.compile(r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$")
_GRPC_SERVICE = re.compile(r"^\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$", re.IGNORECASE)
_GRPC_METHOD = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*$")
_EXACT_OR_PREFIX = ("Exact", "PathPrefix")

# filter.type -> the field that carries its settings.
_HTTP_FILTER_FIELDS = {
    "CORS": "cors",
    "RequestHeaderModifier": "requestHeaderModifier",
    "ResponseHeaderModifier": "responseHeaderModifier",
    "RequestMirror": "requestMirror",
    "RequestRedirect": "requestRedirect",
    "URLRewrite": "urlRewrite",
    "ExtensionRef": "extensionRef",
}
_GRPC_FILTER_FIELDS = {
    "RequestHeaderModifier": "requestHeaderModifier",
    "ResponseHeaderModifier": "responseHeaderModifier",
    "RequestMirror": "requestMirror",
    "ExtensionRef": "extensionRef",
}
_HTTP_NOT_REPEATED = (
    "CORS",
    "RequestHeaderModifier",
    "ResponseHeaderModifier",
    "RequestRedirect",
    "URLRewrite",
)
_GRPC_NOT_REPEATED = ("RequestHeaderModifier", "ResponseHeaderModifier")


def _same_parent(p1: dict, p2: dict) -> bool:
    if (p1.get("group"), p1.get("kind"), p1.get("name")) != (
        p2.get("group"),
        p2.get("kind"),
        p2.get("name"),
    ):
        return False
    if blank(p1, "namespace") and blank(p2, "namespace"):
        return True
    return has(p1, "namespace") and has(p2, "namespace") and p1["namespace"] == p2["namespace"]


def _same_section(p1: dict, p2: dict) -> bool:
    if blank(p1, "sectionName") and blank(p2, "sectionName"):
        return True
    return (
        has(p1, "sectionName") and has(p2, "sectionName") and p1["sectionName"] == p2["sectionName"]
    )


_PARENT_RULES = [
    Rule(
        "spec.parentRefs",
        "sectionName must be specified when parentRefs includes 2 or more references to the "
        "same parent",
        lambda ps: all(
            blank(p1, "sectionName") == blank(p2, "sectionName")
            for p1 in ps
            for p2 in ps
            if _same_parent(p1, p2)
        ),
    ),
    Rule(
        "spec.parentRefs",
        "sectionName must be unique when parentRefs includes 2 or more references to the "
        "same parent",
        lambda ps: each_unique(ps, lambda p1, p2: _same_parent(p1, p2) and _same_section(p1, p2)),
    ),
    Rule(
        "spec.rules",
        "While 16 rules and 64 matches per rule are allowed, the total number of matches "
        "across all rules in a route must be less than 128",
        lambda rules: sum(len(items(r.get("matches"))) for r in rules[:16]) <= 128,
    ),
]


def _service_port(ref: dict) -> bool:
    return has(ref, "port") if len(ref["group"]) == 0 and ref["kind"] == "Service" else True


def _filter_rules(where: str, fields: dict[str, str], not_repeated: tuple[str, ...]) -> list[Rule]:
    rules: list[Rule] = []
    if "RequestRedirect" in fields:
        rules.append(
            Rule(
                where,
                "May specify either httpRouteFilterRequestRedirect or "
                "httpRouteFilterRequestRewrite, but not both",
                lambda fs: (
                    not (
                        any(f.get("type") == "RequestRedirect" for f in fs)
                        and any(f.get("type") == "URLRewrite" for f in fs)
                    )
                ),
            )
        )
    for ftype in not_repeated:
        rules.append(
            Rule(
                where,
                f"{ftype} filter cannot be repeated",
                lambda fs, t=ftype: sum(1 for f in fs if f.get("type") == t) <= 1,
            )
        )
    for ftype, field in fields.items():
        rules.append(
            Rule(
                f"{where}[*]",
                f"filter.{field} must be nil if the filter.type is not {ftype}",
                lambda f, t=ftype, k=field: not (has(f, k) and f.get("type") != t),
            )
        )
        rules.append(
            Rule(
                f"{where}[*]",
                f"filter.{field} must be specified for {ftype} filter.type",
                lambda f, t=ftype, k=field: not (not has(f, k) and f.get("type") == t),
            )
        )
    if "CORS" in fields:
        for field, what in (
            ("allowHeaders", "methods"),
            ("allowMethods", "methods"),
            ("allowOrigins", "origins"),
        ):
            label = field[0].upper() + field[1:]
            rules.append(
                Rule(
                    f"{where}[*].cors.{field}",
                    f"{label} cannot contain '*' alongside other {what}",
                    lambda v: not ("*" in v and len(v) > 1),
                )
            )
    rules += [
        Rule(
            f"{where}[*].requestMirror",
            "Only one of percent or fraction may be specified in HTTPRequestMirrorFilter",
            lambda m: not (has(m, "percent") and has(m, "fraction")),
        ),
        Rule(
            f"{where}[*].requestMirror.backendRef",
            "Must have port for Service reference",
            _service_port,
        ),
        Rule(
            f"{where}[*].requestMirror.fraction",
            "numerator must be less than or equal to denominator",
            lambda f: f["numerator"] <= f["denominator"],
        ),
    ]
    for name in ("requestRedirect", "urlRewrite") if "URLRewrite" in fields else ():
        rules += _path_modifier_rules(f"{where}[*].{name}.path")
    return rules


def _path_modifier_rules(where: str) -> list[Rule]:
    rules = []
    for ptype, field in (
        ("ReplaceFullPath", "replaceFullPath"),
        ("ReplacePrefixMatch", "replacePrefixMatch"),
    ):
        rules.append(
            Rule(
                where,
                f"{field} must be specified when type is set to '{ptype}'",
                lambda p, t=ptype, k=field: has(p, k) if p.get("type") == t else True,
            )
        )
        rules.append(
            Rule(
                where,
                f"type must be '{ptype}' when {field} is set",
                lambda p, t=ptype, k=field: p.get("type") == t if has(p, k) else True,
            )
        )
    return rules


def _replaces_prefix(f: dict, name: str) -> bool:
    path = (f.get(name) or {}).get("path") if has(f, name) else None
    return (
        isinstance(path, dict)
        and path.get("type") == "ReplacePrefixMatch"
        and has(path, "replacePrefixMatch")
    )


def _one_prefix_match(rule: dict) -> bool:
    matches = items(rule.get("matches"))
    return (
        len(matches) == 1
        and has(matches[0], "path")
        and matches[0]["path"].get("type") == "PathPrefix"
    )


def _prefix_rewrite_rule(message: str, name: str, in_backends: bool) -> Rule:
    def check(rule: dict) -> bool:
        if in_backends:
            used = has(rule, "backendRefs") and exists_one(
                rule["backendRefs"],
                lambda b: (
                    has(b, "filters")
                    and exists_one(b["filters"], lambda f: _replaces_prefix(f, name))
                ),
            )
        else:
            used = has(rule, "filters") and exists_one(
                rule["filters"], lambda f: _replaces_prefix(f, name)
            )
        return _one_prefix_match(rule) if used else True

    return Rule("spec.rules[*]", message, check)


def _path_rule(message: str, ok) -> Rule:
    return Rule(
        "spec.rules[*].matches[*].path",
        message,
        lambda p: ok(p["value"]) if p.get("type") in _EXACT_OR_PREFIX else True,
    )


_PATH_WHERE = "when type one of ['Exact', 'PathPrefix']"

HTTP_ROUTE_RULES = [
    *_PARENT_RULES,
    Rule(
        "spec.rules[*]",
        "RequestRedirect filter must not be used together with backendRefs",
        lambda r: (
            not (has(r, "backendRefs") and len(r["backendRefs"]) > 0)
            or all(not has(f, "requestRedirect") for f in items(r.get("filters")))
        ),
    ),
    _prefix_rewrite_rule(
        "When using RequestRedirect filter with path.replacePrefixMatch, exactly one "
        "PathPrefix match must be specified",
        "requestRedirect",
        False,
    ),
    _prefix_rewrite_rule(
        "When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix "
        "match must be specified",
        "urlRewrite",
        False,
    ),
    _prefix_rewrite_rule(
        "Within backendRefs, when using RequestRedirect filter with path.replacePrefixMatch, "
        "exactly one PathPrefix match must be specified",
        "requestRedirect",
        True,
    ),
    _prefix_rewrite_rule(
        "Within backendRefs, When using URLRewrite filter with path.replacePrefixMatch, "
        "exactly one PathPrefix match must be specified",
        "urlRewrite",
        True,
    ),
    Rule("spec.rules[*].backendRefs[*]", "Must have port for Service reference", _service_port),
    *_filter_rules("spec.rules[*].filters", _HTTP_FILTER_FIELDS, _HTTP_NOT_REPEATED),
    *_filter_rules("spec.rules[*].backendRefs[*].filters", _HTTP_FILTER_FIELDS, _HTTP_NOT_REPEATED),
    _path_rule(
        f"value must be an absolute path and start with '/' {_PATH_WHERE}",
        lambda v: v.startswith("/"),
    ),
    *(
        _path_rule(f"must not contain '{bad}' {_PATH_WHERE}", lambda v, b=bad: b not in v)
        for bad in ("//", "/./", "/../", "%2f", "%2F", "#")
    ),
    *(
        _path_rule(f"must not end with '{end}' {_PATH_WHERE}", lambda v, e=end: not v.endswith(e))
        for end in ("/..", "/.")
    ),
    Rule(
        "spec.rules[*].matches[*].path",
        "type must be one of ['Exact', 'PathPrefix', 'RegularExpression']",
        lambda p: p.get("type") in ("Exact", "PathPrefix", "RegularExpression"),
    ),
    _path_rule(
        "must only contain valid characters (matching "
        r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types "
        "['Exact', 'PathPrefix']",
        lambda v: bool(_PATH_CHARS.match(v)),
    ),
    Rule(
        "spec.rules[*].timeouts",
        "backendRequest timeout cannot be longer than request timeout",
        lambda t: (
            not (
                has(t, "request")
                and has(t, "backendRequest")
                and duration_ms(t["request"]) != 0
                and duration_ms(t["backendRequest"]) > duration_ms(t["request"])
            )
        ),
    ),
]

GRPC_ROUTE_RULES = [
    *_PARENT_RULES,
    Rule("spec.rules[*].backendRefs[*]", "Must have port for Service reference", _service_port),
    *_filter_rules("spec.rules[*].filters", _GRPC_FILTER_FIELDS, _GRPC_NOT_REPEATED),
    *_filter_rules("spec.rules[*].backendRefs[*].filters", _GRPC_FILTER_FIELDS, _GRPC_NOT_REPEATED),
    Rule(
        "spec.rules[*].matches[*].method",
        "One or both of 'service' or 'method' must be specified",
        lambda m: has(m, "service") or has(m, "method") if has(m, "type") else True,
    ),
    Rule(
        "spec.rules[*].matches[*].method",
        "service must only contain valid characters (matching "
        r"^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$)",
        lambda m: (
            bool(_GRPC_SERVICE.match(m["service"]))
            if m.get("type", "Exact") == "Exact" and has(m, "service")
            else True
        ),
    ),
    Rule(
        "spec.rules[*].matches[*].method",
        "method must only contain valid characters (matching ^[A-Za-z_][A-Za-z_0-9]*$)",
        lambda m: (
            bool(_GRPC_METHOD.match(m["method"]))
            if m.get("type", "Exact") == "Exact" and has(m, "method")
            else True
        ),
    ),
]


def validate_http_route(route: dict) -> list[FieldError]:
    """An HTTPRoute: metadata and the CRD's CEL rules (parents, filters, path values).

    Parameters
    ----------
    route : dict
        An HTTPRoute with its CRD defaults filled in.

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> route = {"metadata": {"name": "web"}, "spec": {"rules": [{"matches": [
    ...     {"path": {"type": "PathPrefix", "value": "shop"}}]}]}}
    >>> validate_http_route(route)[0].message.split(": ", 2)[2]
    "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"
    """
    errs = validate_metadata(route.get("metadata"), "HTTPRoute", True)
    return errs + evaluate(route, HTTP_ROUTE_RULES)


def validate_grpc_route(route: dict) -> list[FieldError]:
    """A GRPCRoute: metadata and the CRD's CEL rules.

    Examples
    --------
    >>> route = {"metadata": {"name": "rpc"}, "spec": {"rules": [{"matches": [
    ...     {"method": {"type": "Exact"}}]}]}}
    >>> validate_grpc_route(route)[0].field
    'spec.rules[0].matches[0].method'
    """
    errs = validate_metadata(route.get("metadata"), "GRPCRoute", True)
    return errs + evaluate(route, GRPC_ROUTE_RULES)


__all__ = ["GRPC_ROUTE_RULES", "HTTP_ROUTE_RULES", "validate_grpc_route", "validate_http_route"]
