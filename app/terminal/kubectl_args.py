"""kubectl's command line: flags, resource names and label selectors, and its messages.

The flags are kubectl's (``-n``/``--namespace``, ``-A``, ``-l``, ``-o``, ``--flag=value`` or
``--flag value``); the errors read as kubectl prints them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from app.cluster.objects import API_VERSIONS, CLUSTER_SCOPED, KIND_ALIASES, kind_from_alias

#: Flags that take a value (the next word, or after ``=``).
VALUE_FLAGS = frozenset(
    [
        "-n",
        "--namespace",
        "-l",
        "--selector",
        "-o",
        "--output",
        "-f",
        "--filename",
        "-c",
        "--container",
        "--image",
        "--port",
        "--target-port",
        "--type",
        "--name",
        "--replicas",
        "--protocol",
        "--external-name",
        "--tcp",
        "--labels",
        "--field-selector",
        "--sort-by",
        "--restart",
        "--env",
        "--command",
        "--timeout",
        "-p",
        "--patch",
        "--context",
        "--dry-run",
        "--profile",
        "--cluster-ip",
        "--node-port",
    ]
)
SHORT_BOOLEAN = frozenset(["A", "i", "t", "w", "q"])

#: What kubectl calls each kind's resource in ``TYPE/NAME`` lines (``deployment.apps/web``).
EXTRA_ALIASES = {"endpoints": "Endpoints", "ep": "Endpoints", "event": "Event", "events": "Event"}
EXTRA_ALIASES |= {
    "ev": "Event",
    "configmap": "ConfigMap",
    "configmaps": "ConfigMap",
    "cm": "ConfigMap",
}


@dataclass
class Args:
    """kubectl's words split into positional words and flags (the last value of a flag wins;
    boolean flags hold ``"true"``)."""

    words: list[str] = field(default_factory=list)
    flags: dict[str, str] = field(default_factory=dict)
    after_dash: list[str] = field(default_factory=list)  # the words after ``--``

    def get(self, *names: str, default: str | None = None) -> str | None:
        for name in names:
            if name in self.flags:
                return self.flags[name]
        return default

    def has(self, *names: str) -> bool:
        return any(name in self.flags for name in names)


def parse_args(argv: list[str]) -> Args:
    """Split kubectl's words.

    >>> a = parse_args(["get", "pods", "-n", "kube-system", "-owide", "--show-labels"])
    >>> a.words, a.get("-n"), a.get("-o"), a.has("--show-labels")
    (['get', 'pods'], 'kube-system', 'wide', True)
    >>> parse_args(["exec", "-it", "client", "--", "curl", "-v", "web"]).after_dash
    ['curl', '-v', 'web']
    """
    args = Args()
    words = iter(argv)
    for word in words:
        if word == "--":
            args.after_dash = list(words)
            break
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            if eq:
                args.flags[name] = value
            elif name in VALUE_FLAGS:
                args.flags[name] = next(words, "")
            else:
                args.flags[name] = "true"
        elif word.startswith("-") and len(word) > 1:
            name = word[:2]
            if name in VALUE_FLAGS:
                rest = word[2:].lstrip("=")
                args.flags[name] = rest if rest else next(words, "")
            else:
                for letter in word[1:]:
                    args.flags[f"-{letter}"] = "true"
        else:
            args.words.append(word)
    return args


def resolve_kind(text: str) -> str | None:
    """The kind a resource word names (``svc``, ``deploy``, ``endpoints``, ``Pod``).

    >>> resolve_kind("ep"), resolve_kind("deployments.apps"), resolve_kind("widgets")
    ('Endpoints', 'Deployment', None)
    """
    text = text.split(".", 1)[0]
    return kind_from_alias(text) or EXTRA_ALIASES.get(text.lower())


def resource_name(kind: str) -> str:
    """``pod``, ``deployment.apps``, ``ingress.networking.k8s.io``: kubectl's ``TYPE`` in
    ``TYPE/NAME`` output.

    >>> resource_name("Deployment"), resource_name("Service")
    ('deployment.apps', 'service')
    """
    version = API_VERSIONS.get(kind, "v1")
    group = version.split("/")[0] if "/" in version else ""
    return kind.lower() + (f".{group}" if group else "")


def plural(kind: str) -> str:
    """The resource's plural, as API errors name it: ``pods``, ``ingresses``, ``endpoints``."""
    plurals = [alias for alias, k in {**KIND_ALIASES, **EXTRA_ALIASES}.items() if k == kind]
    longest = max(plurals, key=len) if plurals else kind.lower() + "s"
    if kind == "Endpoints":
        return "endpoints"
    return longest if longest.endswith("s") else longest + "s"


def qualified_plural(kind: str) -> str:
    """``deployments.apps``: how ``Error from server (NotFound)`` names a resource."""
    version = API_VERSIONS.get(kind, "v1")
    group = version.split("/")[0] if "/" in version else ""
    return plural(kind) + (f".{group}" if group else "")


def not_found(kind: str, name: str) -> str:
    """The API server's NotFound, as kubectl prints it.

    >>> not_found("Deployment", "web")
    'Error from server (NotFound): deployments.apps "web" not found\\n'
    """
    return f'Error from server (NotFound): {qualified_plural(kind)} "{name}" not found\n'


def unknown_resource(text: str) -> str:
    return f'error: the server doesn\'t have a resource type "{text}"\n'


def is_cluster_scoped(kind: str) -> bool:
    return kind in CLUSTER_SCOPED


_TERM = re.compile(
    r"^\s*(!?)([A-Za-z0-9./_-]+)\s*(?:(==|=|!=)\s*([A-Za-z0-9._-]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*$"
)


def selector_from_text(text: str) -> dict[str, Any] | None:
    """A ``-l`` selector as a LabelSelector (None when kubectl would not parse it).

    >>> selector_from_text("app=web,tier!=db")
    {'matchLabels': {'app': 'web'}, 'matchExpressions': [{'key': 'tier', 'operator': 'NotIn', 'values': ['db']}]}
    >>> selector_from_text("env in (a, b),!canary")["matchExpressions"][1]
    {'key': 'canary', 'operator': 'DoesNotExist'}
    """
    labels: dict[str, str] = {}
    expressions: list[dict[str, Any]] = []
    for term in re.split(r",(?![^()]*\))", text):
        if not term.strip():
            continue
        match = _TERM.match(term)
        if match is None:
            return None
        bang, key, op, value, set_op, values = match.groups()
        if bang:
            expressions.append({"key": key, "operator": "DoesNotExist"})
        elif op in ("=", "=="):
            labels[key] = value or ""
        elif op == "!=":
            expressions.append({"key": key, "operator": "NotIn", "values": [value or ""]})
        elif set_op:
            items = [v.strip() for v in values.split(",") if v.strip()]
            expressions.append(
                {"key": key, "operator": "In" if set_op == "in" else "NotIn", "values": items}
            )
        else:
            expressions.append({"key": key, "operator": "Exists"})
    selector: dict[str, Any] = {"matchLabels": labels}
    if expressions:
        selector["matchExpressions"] = expressions
    return selector


def kind_and_name(words: list[str]) -> tuple[str, str] | str:
    """``TYPE NAME`` or ``TYPE/NAME``: (kind, name), or kubectl's error."""
    if words and "/" in words[0]:
        type_, _, name = words[0].partition("/")
    elif len(words) >= 2:
        type_, name = words[0], words[1]
    else:
        return "error: you must specify the type of resource and its name\n"
    kind = resolve_kind(type_)
    if kind is None:
        return unknown_resource(type_)
    return kind, name
