"""Service rules (pkg/apis/core/validation: ValidateService).

The cluster-dependent checks (nodePort range and conflicts, clusterIP inside the service CIDR)
belong to the allocators, not here. The API server copies ``spec.clusterIP`` into
``spec.clusterIPs`` before validating, so address errors are reported on ``spec.clusterIPs[0]``
as it does.
"""

from __future__ import annotations

from app.cluster import names
from app.cluster.selectors import validate_labels
from app.cluster.validation import semantic_meta as fe
from app.cluster.validation.semantic_meta import (
    arr,
    num,
    obj,
    port_num_or_name,
    text,
    validate_metadata,
)
from app.errors import FieldError

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
PROTOCOLS = ("SCTP", "TCP", "UDP")
TRAFFIC_POLICIES = ("Cluster", "Local")
AFFINITIES = ("ClientIP", "None")
IP_FAMILIES = ("IPv4", "IPv6")
IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
MAX_AFFINITY_SECONDS = 86400
KUBELET_PORT = 10250


def cluster_ips(spec: dict) -> list[str]:
    """The Service's cluster IPs as the API server sees them after normalising.

    Parameters
    ----------
    spec : dict
        ``spec`` of a Service.

    Returns
    -------
    list of str
        ``spec.clusterIPs`` when given, else ``[spec.clusterIP]`` when that is set, else ``[]``.

    Examples
    --------
    >>> cluster_ips({"clusterIP": "None"}), cluster_ips({})
    (['None'], [])
    """
    ips = [ip for ip in arr(spec.get("clusterIPs")) if isinstance(ip, str)]
    if ips:
        return ips
    ip = text(spec.get("clusterIP"))
    return [ip] if ip else []


def _ports(spec: dict, stype: str) -> list[FieldError]:
    errs: list[FieldError] = []
    ports = arr(spec.get("ports"))
    seen_names: set[str] = set()
    seen_pairs: set[tuple[int, str]] = set()
    for i, port in enumerate(ports):
        p = f"spec.ports[{i}]"
        port = obj(port)
        name = text(port.get("name"))
        if len(ports) > 1 and not name:
            errs.append(fe.required(f"{p}.name"))
        elif name:
            errs.extend(fe.invalid_each(f"{p}.name", name, names.dns1123_label(name)))
            if name in seen_names:
                errs.append(fe.duplicate(f"{p}.name", name))
            seen_names.add(name)
        number = num(port.get("port"))
        errs.extend(fe.invalid_each(f"{p}.port", number, names.port_number(number)))
        proto = port.get("protocol")
        if isinstance(proto, str) and proto not in PROTOCOLS:
            errs.append(fe.not_supported(f"{p}.protocol", proto, PROTOCOLS))
        target = port.get("targetPort")
        if target not in (None, 0, ""):  # 0 and "" are defaulted to `port`
            errs.extend(port_num_or_name(target, f"{p}.targetPort"))
        pair = (number, text(proto) or "TCP")
        if pair in seen_pairs:
            errs.append(fe.duplicate(p, {"port": number, "protocol": pair[1]}))
        seen_pairs.add(pair)
        if stype == "ClusterIP" and num(port.get("nodePort")) != 0:
            errs.append(fe.forbidden(f"{p}.nodePort", "may not be used when `type` is 'ClusterIP'"))
        if stype == "LoadBalancer" and number == KUBELET_PORT:
            errs.append(
                fe.invalid(
                    p,
                    number,
                    f"may not expose port {KUBELET_PORT} externally since it is used by kubelet",
                )
            )
    headless = cluster_ips(spec)[:1] == ["None"]
    if not ports and not headless and stype != "ExternalName":
        errs.append(fe.required("spec.ports"))
    return errs


def _addresses(spec: dict, stype: str) -> list[FieldError]:
    errs: list[FieldError] = []
    ips = cluster_ips(spec)
    if stype == "ExternalName":
        if ips:
            errs.append(fe.forbidden("spec.clusterIPs", "may not be set for ExternalName services"))
        if arr(spec.get("ipFamilies")):
            errs.append(fe.forbidden("spec.ipFamilies", "may not be set for ExternalName services"))
        if spec.get("ipFamilyPolicy") is not None:
            errs.append(
                fe.forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services")
            )
        cname = text(spec.get("externalName"))
        cname = cname[:-1] if cname.endswith(".") else cname
        if cname:
            errs.extend(fe.invalid_each("spec.externalName", cname, names.dns1123_subdomain(cname)))
        else:
            errs.append(fe.required("spec.externalName"))
        return errs
    given = text(spec.get("clusterIP"))
    if given and arr(spec.get("clusterIPs")) and given != ips[0]:
        errs.append(fe.invalid("spec.clusterIPs", ips, "first value must match `clusterIP`"))
    before = len(errs)
    for i, ip in enumerate(ips):
        if i == 0 and ip == "None":
            if len(ips) > 1:
                errs.append(
                    fe.invalid("spec.clusterIPs", ips, "'None' must be the first and only value")
                )
            elif stype in ("NodePort", "LoadBalancer"):
                errs.append(
                    fe.invalid(
                        "spec.clusterIPs[0]", ip, f"may not be set to 'None' for {stype} services"
                    )
                )
            continue
        errs.extend(fe.invalid_each(f"spec.clusterIPs[{i}]", ip, names.ip_address(ip)))
    errs.extend(_ip_pairs(ips, arr(spec.get("ipFamilies")), len(errs) > before))
    families = arr(spec.get("ipFamilies"))
    seen: set[str] = set()
    for i, family in enumerate(families):
        if family not in IP_FAMILIES:
            errs.append(fe.not_supported(f"spec.ipFamilies[{i}]", family, IP_FAMILIES))
        elif family in seen:
            errs.append(fe.duplicate(f"spec.ipFamilies[{i}]", family))
        seen.add(text(family))
    policy = spec.get("ipFamilyPolicy")
    if isinstance(policy, str) and policy not in IP_FAMILY_POLICIES:
        errs.append(fe.not_supported("spec.ipFamilyPolicy", policy, IP_FAMILY_POLICIES))
    return errs


def _ip_pairs(ips: list[str], families: list, bad_ips: bool) -> list[FieldError]:
    """``ValidateServiceClusterIPsRelatedFields`` after each address: at most two, one per
    family, each of the family ``ipFamilies`` names at its index (checked only when every
    address is well-formed, as upstream stops there to keep the messages true)."""
    errs: list[FieldError] = []
    if len(ips) > 2:
        errs.append(fe.invalid("spec.clusterIPs", ips, "may only hold up to 2 values"))
    if bad_ips or ips[:1] == ["None"]:
        return errs
    if len(ips) == 2 and (":" in ips[0]) == (":" in ips[1]):
        errs.append(
            fe.invalid("spec.clusterIPs", ips, "may specify no more than one IP for each IP family")
        )
    for i, (ip, family) in enumerate(zip(ips, families, strict=False)):
        if family in IP_FAMILIES and (family == "IPv6") != (":" in ip):
            errs.append(
                fe.invalid(
                    f"spec.clusterIPs[{i}]",
                    ip,
                    f"expected an {family} value as indicated by `ipFamilies[{i}]`",
                )
            )
    return errs


def _policies(spec: dict, stype: str) -> list[FieldError]:
    errs: list[FieldError] = []
    external_ips = arr(spec.get("externalIPs"))
    for i, ip in enumerate(external_ips):
        ip = text(ip)
        errs.extend(fe.invalid_each(f"spec.externalIPs[{i}]", ip, names.ip_address(ip)))
    accessible = stype in ("NodePort", "LoadBalancer") or (
        stype == "ClusterIP" and bool(external_ips)
    )
    etp = spec.get("externalTrafficPolicy")
    if isinstance(etp, str) and etp:
        if not accessible:
            errs.append(
                fe.invalid(
                    "spec.externalTrafficPolicy",
                    etp,
                    "may only be set for externally-accessible services",
                )
            )
        elif etp not in TRAFFIC_POLICIES:
            errs.append(fe.not_supported("spec.externalTrafficPolicy", etp, TRAFFIC_POLICIES))
    hc = num(spec.get("healthCheckNodePort"))
    if hc != 0:
        if not (stype == "LoadBalancer" and etp == "Local"):
            errs.append(
                fe.invalid(
                    "spec.healthCheckNodePort",
                    hc,
                    "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` "
                    "is 'Local'",
                )
            )
        else:
            errs.extend(fe.invalid_each("spec.healthCheckNodePort", hc, names.port_number(hc)))
    itp = spec.get("internalTrafficPolicy")
    if isinstance(itp, str) and itp not in TRAFFIC_POLICIES:
        errs.append(fe.not_supported("spec.internalTrafficPolicy", itp, TRAFFIC_POLICIES))
    affinity = spec.get("sessionAffinity")
    config = spec.get("sessionAffinityConfig")
    if isinstance(affinity, str) and affinity not in AFFINITIES:
        errs.append(fe.not_supported("spec.sessionAffinity", affinity, AFFINITIES))
    elif affinity == "ClientIP":
        timeout = obj(obj(config).get("clientIP")).get("timeoutSeconds")
        if fe.is_int(timeout) and not 0 < timeout <= MAX_AFFINITY_SECONDS:  # type: ignore[operator]
            errs.append(
                fe.invalid(
                    "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
                    timeout,
                    f"must be greater than 0 and less than {MAX_AFFINITY_SECONDS}",
                )
            )
    elif config is not None:
        errs.append(
            fe.forbidden(
                "spec.sessionAffinityConfig", "must not be set when session affinity is None"
            )
        )
    ranges = arr(spec.get("loadBalancerSourceRanges"))
    if ranges:
        # The API server really prints this path with a capital L (a historical accident).
        path = "spec.LoadBalancerSourceRanges"
        if stype != "LoadBalancer":
            errs.append(fe.forbidden(path, "may only be used when `type` is 'LoadBalancer'"))
        for i, value in enumerate(ranges):
            value = text(value).strip()
            errs.extend(fe.invalid_each(f"{path}[{i}]", value, names.cidr(value)))
    if spec.get("allocateLoadBalancerNodePorts") is not None and stype != "LoadBalancer":
        errs.append(
            fe.forbidden(
                "spec.allocateLoadBalancerNodePorts",
                "may only be used when `type` is 'LoadBalancer'",
            )
        )
    return errs


def validate_service(svc: dict) -> list[FieldError]:
    """``ValidateService`` for the fields a course uses.

    Parameters
    ----------
    svc : dict
        A Service that passed the schema check (not yet defaulted).

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> svc = {"metadata": {"name": "web"},
    ...        "spec": {"ports": [{"port": 80, "nodePort": 30080}]}}
    >>> validate_service(svc)[0].describe()
    "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
    """
    errs = validate_metadata(svc.get("metadata"), "Service", True)
    spec = obj(svc.get("spec"))
    raw_type = spec.get("type")
    stype = raw_type if isinstance(raw_type, str) and raw_type else "ClusterIP"
    if stype not in SERVICE_TYPES:
        errs.append(fe.not_supported("spec.type", stype, SERVICE_TYPES))
        return errs
    errs.extend(_ports(spec, stype))
    errs.extend(_addresses(spec, stype))
    errs.extend(_policies(spec, stype))
    errs.extend(validate_labels(spec.get("selector"), "spec.selector"))
    return errs
