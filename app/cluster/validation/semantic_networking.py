"""Ingress, IngressClass and NetworkPolicy rules (pkg/apis/networking/validation)."""

from __future__ import annotations

from app.cluster import names
from app.cluster.selectors import validate_label_selector
from app.cluster.validation import semantic_meta as fe
from app.cluster.validation.semantic_meta import arr, num, obj, text, validate_metadata
from app.errors import FieldError

PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")
INVALID_PATH_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
INVALID_PATH_SUFFIXES = ("/..", "/.")
MAX_CONTROLLER_LEN = 250
_HTTP_PATH_FMT = r"[A-Za-z0-9/\-._~%!$&'()*+,;=:]+"
_HTTP_PATH_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-._~%!$&'()*+,;=:"
)


def _path_segment_name(value: str, path: str) -> list[FieldError]:
    """``IsValidPathSegmentName``: not ``.``/``..``, no ``/`` or ``%``."""
    if value in (".", ".."):
        return [fe.invalid(path, value, f"may not be '{value}'")]
    return [fe.invalid(path, value, f"may not contain '{c}'") for c in "/%" if c in value]


def _typed_ref(ref: dict, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    group = ref.get("apiGroup")
    if isinstance(group, str):
        errs.extend(fe.invalid_each(f"{path}.apiGroup", group, names.dns1123_subdomain(group)))
    for field in ("kind", "name"):
        value = text(ref.get(field))
        if not value:
            errs.append(fe.required(f"{path}.{field}", f"{field} is required"))
        else:
            errs.extend(_path_segment_name(value, f"{path}.{field}"))
    return errs


def _backend(backend: dict, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    resource, service = backend.get("resource"), backend.get("service")
    if resource is not None and service is not None:
        return [fe.invalid(path, "", "cannot set both resource and service backends")]
    if resource is not None:
        return _typed_ref(obj(resource), f"{path}.resource")
    if service is None:
        return [fe.invalid(path, "", "resource or service backend is required")]
    service = obj(service)
    name = text(service.get("name"))
    if not name:
        errs.append(fe.required(f"{path}.service.name"))
    else:
        errs.extend(fe.invalid_each(f"{path}.service.name", name, names.dns1035_label(name)))
    port = obj(service.get("port"))
    pname, pnum = text(port.get("name")), num(port.get("number"))
    if pname and pnum:
        errs.append(fe.invalid(path, "", "cannot set both port name & port number"))
    elif pname:
        errs.extend(fe.invalid_each(f"{path}.service.port.name", pname, names.iana_svc_name(pname)))
    elif pnum:
        errs.extend(fe.invalid_each(f"{path}.service.port.number", pnum, names.port_number(pnum)))
    else:
        errs.append(fe.required(path, "port name or number is required"))
    return errs


def _host(host: str, path: str) -> list[FieldError]:
    if "*" in host:
        return fe.invalid_each(path, host, names.wildcard_dns1123_subdomain(host))
    return fe.invalid_each(path, host, names.dns1123_subdomain(host))


def _http_path(item: dict, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    ptype = item.get("pathType")
    value = text(item.get("path"))
    if not isinstance(ptype, str):
        return [fe.required(f"{path}.pathType", "pathType must be specified")]
    if ptype in ("Exact", "Prefix"):
        if not value.startswith("/"):
            errs.append(fe.invalid(f"{path}.path", value, "must be an absolute path"))
        for seq in INVALID_PATH_SEQUENCES:
            if seq in value:
                errs.append(fe.invalid(f"{path}.path", value, f"must not contain '{seq}'"))
        for suffix in INVALID_PATH_SUFFIXES:
            if value.endswith(suffix):
                errs.append(fe.invalid(f"{path}.path", value, f"cannot end with '{suffix}'"))
    elif ptype == "ImplementationSpecific":
        if value and not value.startswith("/"):
            errs.append(fe.invalid(f"{path}.path", value, "must be an absolute path"))
    else:
        errs.append(fe.not_supported(f"{path}.pathType", ptype, PATH_TYPES))
    errs.extend(_backend(obj(item.get("backend")), f"{path}.backend"))
    return errs


def validate_ingress(ing: dict) -> list[FieldError]:
    """``ValidateIngressCreate``: backends, rules, hosts, paths, TLS, class name.

    Parameters
    ----------
    ing : dict
        An Ingress that passed the schema check.

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> validate_ingress({"metadata": {"name": "web"}, "spec": {}})[0].describe()
    'spec: Invalid value: null: either `defaultBackend` or `rules` must be specified'
    """
    errs = validate_metadata(ing.get("metadata"), "Ingress", True)
    spec = obj(ing.get("spec"))
    rules = arr(spec.get("rules"))
    if not rules and spec.get("defaultBackend") is None:
        errs.append(
            fe.invalid(
                "spec", spec.get("rules"), "either `defaultBackend` or `rules` must be specified"
            )
        )
    if spec.get("defaultBackend") is not None:
        errs.extend(_backend(obj(spec.get("defaultBackend")), "spec.defaultBackend"))
    for i, rule in enumerate(rules):
        p = f"spec.rules[{i}]"
        rule = obj(rule)
        host = text(rule.get("host"))
        if host:
            if names.parse_ip(host) is not None:
                errs.append(fe.invalid(f"{p}.host", host, "must be a DNS name, not an IP address"))
            errs.extend(_host(host, f"{p}.host"))
        http = rule.get("http")
        if http is not None:
            paths = arr(obj(http).get("paths"))
            if not paths:
                errs.append(fe.required(f"{p}.http.paths"))
            for j, item in enumerate(paths):
                errs.extend(_http_path(obj(item), f"{p}.http.paths[{j}]"))
    for i, tls in enumerate(arr(spec.get("tls"))):
        tls = obj(tls)
        for j, host in enumerate(arr(tls.get("hosts"))):
            errs.extend(_host(text(host), f"spec.tls[{i}].hosts[{j}]"))
        secret = text(tls.get("secretName"))
        if secret:
            errs.extend(
                fe.invalid_each(
                    f"spec.tls[{i}].secretName", secret, names.dns1123_subdomain(secret)
                )
            )
    cls = spec.get("ingressClassName")
    if isinstance(cls, str):
        errs.extend(fe.invalid_each("spec.ingressClassName", cls, names.dns1123_subdomain(cls)))
    return errs


def validate_ingress_class(ic: dict) -> list[FieldError]:
    """``ValidateIngressClass``: controller is a domain-prefixed path; parameters shape.

    Parameters
    ----------
    ic : dict
        An IngressClass that passed the schema check.

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> ic = {"metadata": {"name": "nginx"}, "spec": {"controller": "nginx"}}
    >>> validate_ingress_class(ic)[0].message
    'Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")'
    """
    errs = validate_metadata(ic.get("metadata"), "IngressClass", False)
    spec = obj(ic.get("spec"))
    controller = text(spec.get("controller"))
    p = "spec.controller"
    if len(controller) > MAX_CONTROLLER_LEN:
        errs.append(fe.too_long(p, MAX_CONTROLLER_LEN))
    if not controller:
        errs.append(fe.required(p))
    else:
        host, sep, rest = controller.partition("/")
        if not sep or not host or not rest:
            errs.append(
                fe.invalid(p, controller, 'must be a domain-prefixed path (such as "acme.io/foo")')
            )
        else:
            errs.extend(fe.invalid_each(p, host, names.dns1123_subdomain(host)))
            if not set(rest) <= _HTTP_PATH_CHARS:
                errs.append(fe.invalid(p, rest, names.regex_error("Invalid path", _HTTP_PATH_FMT)))
    params = spec.get("parameters")
    if params is not None:
        params = obj(params)
        pp = "spec.parameters"
        errs.extend(_typed_ref(params, pp))
        scope = params.get("scope")
        namespace = params.get("namespace")
        if scope is None:
            scope = "Cluster"  # defaulted by SetDefaults_IngressClass
        if scope not in ("Cluster", "Namespace"):
            errs.append(fe.not_supported(f"{pp}.scope", scope, ["Cluster", "Namespace"]))
        elif scope == "Namespace":
            if namespace is None:
                errs.append(
                    fe.required(f"{pp}.namespace", "`parameters.scope` is set to 'Namespace'")
                )
            else:
                ns = text(namespace)
                errs.extend(fe.invalid_each(f"{pp}.namespace", ns, names.dns1123_label(ns)))
        elif namespace is not None:
            errs.append(fe.forbidden(f"{pp}.namespace", "`parameters.scope` is set to 'Cluster'"))
    return errs


def _np_port(port: dict, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    proto = port.get("protocol")
    if isinstance(proto, str) and proto not in ("TCP", "UDP", "SCTP"):
        errs.append(fe.not_supported(f"{path}.protocol", proto, ["TCP", "UDP", "SCTP"]))
    value, end = port.get("port"), port.get("endPort")
    if fe.is_int(value):
        errs.extend(fe.invalid_each(f"{path}.port", value, names.port_number(value)))  # type: ignore[arg-type]
        if fe.is_int(end):
            if end < value:  # type: ignore[operator]
                errs.append(
                    fe.invalid(f"{path}.endPort", value, "must be greater than or equal to `port`")
                )
            errs.extend(fe.invalid_each(f"{path}.endPort", end, names.port_number(end)))  # type: ignore[arg-type]
    elif isinstance(value, str):
        if end is not None:
            errs.append(
                fe.invalid(
                    f"{path}.endPort", end, "may not be specified when `port` is non-numeric"
                )
            )
        errs.extend(fe.invalid_each(f"{path}.port", value, names.iana_svc_name(value)))
    elif end is not None:
        errs.append(
            fe.invalid(f"{path}.endPort", end, "may not be specified when `port` is not specified")
        )
    return errs


def _np_peer(peer: dict, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    count = 0
    for field in ("podSelector", "namespaceSelector"):
        if peer.get(field) is not None:
            count += 1
            errs.extend(validate_label_selector(peer.get(field), f"{path}.{field}"))
    block = peer.get("ipBlock")
    if block is not None:
        count += 1
        block = obj(block)
        cidr = text(block.get("cidr"))
        if not cidr:
            errs.append(fe.required(f"{path}.ipBlock.cidr"))
        else:
            errs.extend(fe.invalid_each(f"{path}.ipBlock.cidr", cidr, names.cidr(cidr)))
            net = names.parse_cidr(cidr)
            for i, exc in enumerate(arr(block.get("except")) if net is not None else []):
                ep = f"{path}.ipBlock.except[{i}]"
                exc = text(exc)
                errs.extend(fe.invalid_each(ep, exc, names.cidr(exc)))
                sub = names.parse_cidr(exc)
                if sub is None:
                    continue
                inside = sub.version == net.version and net.supernet_of(sub)  # type: ignore[union-attr,arg-type]
                if not inside or sub.prefixlen <= net.prefixlen:  # type: ignore[union-attr]
                    errs.append(fe.invalid(ep, exc, "must be a strict subset of `cidr`"))
    if count == 0:
        errs.append(fe.required(path, "must specify a peer"))
    elif count > 1 and block is not None:
        errs.append(fe.forbidden(path, "may not specify both ipBlock and another peer"))
    return errs


def validate_network_policy(np: dict) -> list[FieldError]:
    """``ValidateNetworkPolicy``: pod selector, rule ports and peers, policy types.

    Parameters
    ----------
    np : dict
        A NetworkPolicy that passed the schema check.

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> np = {"metadata": {"name": "deny"}, "spec": {"podSelector": {},
    ...       "ingress": [{"ports": [{"port": 8080, "endPort": 80}]}]}}
    >>> validate_network_policy(np)[0].describe()
    'spec.ingress[0].ports[0].endPort: Invalid value: 8080: must be greater than or equal to `port`'
    """
    errs = validate_metadata(np.get("metadata"), "NetworkPolicy", True)
    spec = obj(np.get("spec"))
    errs.extend(validate_label_selector(spec.get("podSelector"), "spec.podSelector"))
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(arr(spec.get(direction))):
            rule = obj(rule)
            p = f"spec.{direction}[{i}]"
            for j, port in enumerate(arr(rule.get("ports"))):
                errs.extend(_np_port(obj(port), f"{p}.ports[{j}]"))
            for j, peer in enumerate(arr(rule.get(peers))):
                errs.extend(_np_peer(obj(peer), f"{p}.{peers}[{j}]"))
    types = arr(spec.get("policyTypes"))
    if len(types) > 2:
        errs.append(
            fe.invalid("spec.policyTypes", types, "may not specify more than two policyTypes")
        )
        return errs
    for i, ptype in enumerate(types):
        if ptype not in ("Ingress", "Egress"):
            errs.append(fe.not_supported(f"spec.policyTypes[{i}]", ptype, ["Ingress", "Egress"]))
    return errs
