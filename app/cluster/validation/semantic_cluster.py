"""Namespace, Node and EndpointSlice rules (core and discovery validation)."""

from __future__ import annotations

from app.cluster import names
from app.cluster.validation import semantic_meta as fe
from app.cluster.validation.semantic_meta import arr, num, obj, text, validate_metadata
from app.cluster.validation.semantic_pod import TAINT_EFFECTS
from app.errors import FieldError

ADDRESS_TYPES = ("FQDN", "IPv4", "IPv6")
PROTOCOLS = ("SCTP", "TCP", "UDP")
MAX_ENDPOINTS = 1000
MAX_ADDRESSES = 100
MAX_PORTS = 20000


def validate_namespace(ns: dict) -> list[FieldError]:
    """``ValidateNamespace``: the name is a DNS-1123 label.

    Parameters
    ----------
    ns : dict
        A Namespace that passed the schema check.

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> validate_namespace({"metadata": {"name": "team.a"}})[0].field
    'metadata.name'
    """
    return validate_metadata(ns.get("metadata"), "Namespace", False)


def validate_node(node: dict) -> list[FieldError]:
    """``ValidateNode``: name, ``spec.podCIDR(s)`` and taints.

    Parameters
    ----------
    node : dict
        A Node that passed the schema check.

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> node = {"metadata": {"name": "worker-1"}, "spec": {"podCIDR": "10.244.1.0"}}
    >>> validate_node(node)[0].field
    'spec.podCIDR'
    """
    errs = validate_metadata(node.get("metadata"), "Node", False)
    spec = obj(node.get("spec"))
    pod_cidr = text(spec.get("podCIDR"))
    if pod_cidr:
        errs.extend(fe.invalid_each("spec.podCIDR", pod_cidr, names.cidr(pod_cidr)))
    for i, value in enumerate(arr(spec.get("podCIDRs"))):
        value = text(value)
        errs.extend(fe.invalid_each(f"spec.podCIDRs[{i}]", value, names.cidr(value)))
    seen: set[tuple[str, str]] = set()
    for i, taint in enumerate(arr(spec.get("taints"))):
        p = f"spec.taints[{i}]"
        taint = obj(taint)
        key, value, effect = (
            text(taint.get("key")),
            text(taint.get("value")),
            text(taint.get("effect")),
        )
        errs.extend(fe.invalid_each(f"{p}.key", key, names.qualified_name(key)))
        msgs = names.label_value(value)
        if msgs:
            errs.append(fe.invalid(f"{p}.value", value, ";".join(msgs)))
        if not effect:
            errs.append(fe.required(f"{p}.effect"))
        elif effect not in TAINT_EFFECTS:
            errs.append(fe.not_supported(f"{p}.effect", effect, TAINT_EFFECTS))
        if (key, effect) in seen:
            dup = fe.duplicate(p, taint)
            errs.append(
                FieldError(
                    dup.field,
                    dup.message + ": taints must be unique by key and effect pair",
                    dup.reason,
                )
            )
        seen.add((key, effect))
    return errs


def _fqdn(value: str, path: str) -> list[FieldError]:
    """``IsFullyQualifiedDomainName``."""
    if not value:
        return [fe.required(path)]
    name = value[:-1] if value.endswith(".") else value
    errs = fe.invalid_each(path, value, names.dns1123_subdomain(name))
    if len(name.split(".")) < 2:
        errs.append(
            fe.invalid(
                path, value, "should be a domain with at least two segments separated by dots"
            )
        )
    return errs


def _address(value: str, address_type: str, path: str) -> list[FieldError]:
    if address_type == "FQDN":
        return _fqdn(value, path)
    ip = names.parse_ip(value)
    want = 4 if address_type == "IPv4" else 6
    if ip is None or ip.version != want:
        return [fe.invalid(path, value, f"must be a valid {address_type} address")]
    return []


def validate_endpoint_slice(eps: dict) -> list[FieldError]:
    """``ValidateEndpointSlice``: address type, endpoints' addresses, ports.

    Parameters
    ----------
    eps : dict
        An EndpointSlice that passed the schema check.

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> eps = {"metadata": {"name": "web-abc"}, "addressType": "IPv4",
    ...        "endpoints": [{"addresses": ["fd00::1"]}]}
    >>> validate_endpoint_slice(eps)[0].describe()
    'endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address'
    """
    errs = validate_metadata(eps.get("metadata"), "EndpointSlice", True)
    address_type = text(eps.get("addressType"))
    if not address_type:
        errs.append(fe.required("addressType"))
    elif address_type not in ADDRESS_TYPES:
        errs.append(fe.not_supported("addressType", address_type, ADDRESS_TYPES))
    endpoints = arr(eps.get("endpoints"))
    if len(endpoints) > MAX_ENDPOINTS:
        errs.append(fe.too_many("endpoints", len(endpoints), MAX_ENDPOINTS))
    for i, ep in enumerate(endpoints):
        p = f"endpoints[{i}]"
        ep = obj(ep)
        addresses = arr(ep.get("addresses"))
        if not addresses:
            errs.append(fe.required(f"{p}.addresses", "must contain at least 1 address"))
        elif len(addresses) > MAX_ADDRESSES:
            errs.append(fe.too_many(f"{p}.addresses", len(addresses), MAX_ADDRESSES))
        if address_type in ADDRESS_TYPES:
            for j, addr in enumerate(addresses):
                errs.extend(_address(text(addr), address_type, f"{p}.addresses[{j}]"))
        node_name = ep.get("nodeName")
        if isinstance(node_name, str):
            errs.extend(
                fe.invalid_each(f"{p}.nodeName", node_name, names.dns1123_subdomain(node_name))
            )
        hostname = ep.get("hostname")
        if isinstance(hostname, str):
            errs.extend(fe.invalid_each(f"{p}.hostname", hostname, names.dns1123_label(hostname)))
    ports = arr(eps.get("ports"))
    if len(ports) > MAX_PORTS:
        errs.append(fe.too_many("ports", len(ports), MAX_PORTS))
    seen: set[str] = set()
    for i, port in enumerate(ports):
        p = f"ports[{i}]"
        port = obj(port)
        name = text(port.get("name"))
        if name:
            errs.extend(fe.invalid_each(f"{p}.name", name, names.dns1123_label(name)))
        if name in seen:
            errs.append(fe.duplicate(f"{p}.name", name))
        seen.add(name)
        proto = port.get("protocol")
        if isinstance(proto, str) and proto not in PROTOCOLS:
            errs.append(fe.not_supported(f"{p}.protocol", proto, PROTOCOLS))
        if port.get("port") is not None:
            number = num(port.get("port"))
            errs.extend(fe.invalid_each(f"{p}.port", number, names.port_number(number)))
    return errs
