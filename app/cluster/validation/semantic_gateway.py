"""Rules of GatewayClass, Gateway and ReferenceGrant beyond their CRD schema: the CRDs' CEL
rules (gateway-api ``config/crd/standard``; the release is named in ``crds/*.json``).

Each validator takes the object with its CRD defaults filled in (the API server validates
after defaulting) and returns the broken rules.
"""

from __future__ import annotations

import re

from app.cluster.validation.cel_rules import Rule, blank, each_unique, evaluate, has, items
from app.cluster.validation.semantic_meta import validate_metadata
from app.errors import FieldError

_HOSTNAME = re.compile(r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$"
)


def _unique_address(kind: str):
    def same(a1: dict, a2: dict) -> bool:
        return a2.get("type") == a1["type"] and has(a2, "value") and a2["value"] == a1["value"]

    def check(addresses: list) -> bool:
        typed = [a for a in addresses if a.get("type") == kind and has(a, "value")]
        return all(sum(1 for a2 in addresses if same(a1, a2)) == 1 for a1 in typed)

    return check


def _same_hostname(l1: dict, l2: dict) -> bool:
    if has(l1, "hostname") and has(l2, "hostname"):
        return l1["hostname"] == l2["hostname"]
    return not has(l1, "hostname") and not has(l2, "hostname")


def _keys_ok(mapping: dict) -> bool:
    return all(_QUALIFIED_KEY.match(k) for k in mapping)


def _prefix_ok(mapping: dict) -> bool:
    return all(len(k.split("/")[0]) < 253 for k in mapping)


def _tls_terminate_has_refs(tls: dict) -> bool:
    if tls.get("mode") != "Terminate":
        return True
    return len(items(tls.get("certificateRefs"))) > 0 or len(tls.get("options") or {}) > 0


GATEWAY_RULES = [
    Rule("spec.addresses", "IPAddress values must be unique", _unique_address("IPAddress")),
    Rule("spec.addresses", "Hostname values must be unique", _unique_address("Hostname")),
    Rule(
        "spec.addresses[*]",
        "Hostname value must be empty or contain only valid characters (matching "
        r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)",
        lambda a: (
            a.get("type") != "Hostname" or not has(a, "value") or bool(_HOSTNAME.match(a["value"]))
        ),
    ),
    Rule(
        "spec.infrastructure.annotations",
        "Annotation keys must be in the form of an optional DNS subdomain prefix followed by "
        "a required name segment of up to 63 characters.",
        _keys_ok,
    ),
    Rule(
        "spec.infrastructure.annotations",
        "If specified, the annotation key's prefix must be a DNS subdomain not longer than "
        "253 characters in total.",
        _prefix_ok,
    ),
    Rule(
        "spec.infrastructure.labels",
        "Label keys must be in the form of an optional DNS subdomain prefix followed by a "
        "required name segment of up to 63 characters.",
        _keys_ok,
    ),
    Rule(
        "spec.infrastructure.labels",
        "If specified, the label key's prefix must be a DNS subdomain not longer than 253 "
        "characters in total.",
        _prefix_ok,
    ),
    Rule(
        "spec.listeners",
        "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
        lambda ls: all(
            not has(li, "tls") for li in ls if li.get("protocol") in ("HTTP", "TCP", "UDP")
        ),
    ),
    Rule(
        "spec.listeners",
        "tls mode must be Terminate for protocol HTTPS",
        lambda ls: all(
            li["tls"].get("mode") in ("", "Terminate")
            for li in ls
            if li.get("protocol") == "HTTPS" and has(li, "tls")
        ),
    ),
    Rule(
        "spec.listeners",
        "tls mode must be set for protocol TLS",
        lambda ls: all(
            has(li, "tls") and not blank(li["tls"], "mode")
            for li in ls
            if li.get("protocol") == "TLS"
        ),
    ),
    Rule(
        "spec.listeners",
        "hostname must not be specified for protocols ['TCP', 'UDP']",
        lambda ls: all(blank(li, "hostname") for li in ls if li.get("protocol") in ("TCP", "UDP")),
    ),
    Rule(
        "spec.listeners",
        "Listener name must be unique within the Gateway",
        lambda ls: each_unique(ls, lambda l1, l2: l1.get("name") == l2.get("name")),
    ),
    Rule(
        "spec.listeners",
        "Combination of port, protocol and hostname must be unique for each listener",
        lambda ls: each_unique(
            ls,
            lambda l1, l2: (
                l1.get("port") == l2.get("port")
                and l1.get("protocol") == l2.get("protocol")
                and _same_hostname(l1, l2)
            ),
        ),
    ),
    Rule(
        "spec.listeners[*].tls",
        "certificateRefs or options must be specified when mode is Terminate",
        _tls_terminate_has_refs,
    ),
    Rule(
        "spec.tls.frontend.perPort",
        "Port for TLS configuration must be unique within the Gateway",
        lambda ts: each_unique(ts, lambda t1, t2: t1.get("port") == t2.get("port")),
    ),
]

# The one GatewayClass rule is a transition rule (self == oldSelf), checked on update.
GATEWAY_CLASS_RULES: list[Rule] = []
GATEWAY_CLASS_IMMUTABLE = ("spec.controllerName", "Value is immutable")


def validate_gateway_class(gc: dict) -> list[FieldError]:
    """A GatewayClass: its name (DNS-1123 subdomain, as for every custom resource).

    Examples
    --------
    >>> validate_gateway_class({"metadata": {"name": "Eg"}})[0].field
    'metadata.name'
    """
    return validate_metadata(gc.get("metadata"), "GatewayClass", False) + evaluate(
        gc, GATEWAY_CLASS_RULES
    )


def validate_gateway(gw: dict) -> list[FieldError]:
    """A Gateway: metadata and the CRD's CEL rules on listeners, addresses and TLS.

    Parameters
    ----------
    gw : dict
        A Gateway with its CRD defaults filled in.

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> gw = {"metadata": {"name": "eg"}, "spec": {"gatewayClassName": "eg", "listeners": [
    ...     {"name": "http", "port": 80, "protocol": "HTTP"},
    ...     {"name": "http", "port": 8080, "protocol": "HTTP"}]}}
    >>> validate_gateway(gw)[0].describe()
    'spec.listeners: Invalid value: "array": Listener name must be unique within the Gateway'
    """
    return validate_metadata(gw.get("metadata"), "Gateway", True) + evaluate(gw, GATEWAY_RULES)


def validate_reference_grant(grant: dict) -> list[FieldError]:
    """A ReferenceGrant: metadata only (its CRD has no CEL rules; the schema covers the rest).

    Examples
    --------
    >>> validate_reference_grant({"metadata": {"name": "allow"}})
    []
    """
    return validate_metadata(grant.get("metadata"), "ReferenceGrant", True)


__all__ = [
    "GATEWAY_CLASS_IMMUTABLE",
    "GATEWAY_CLASS_RULES",
    "GATEWAY_RULES",
    "validate_gateway",
    "validate_gateway_class",
    "validate_reference_grant",
]
