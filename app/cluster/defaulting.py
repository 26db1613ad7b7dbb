"""The API server's defaults (``SetDefaults_*`` of pkg/apis/*/v1), without allocations.

Cluster IPs, node ports, pod IPs and ``metadata.namespace`` of namespaced objects are the
caller's. A namespace written on a cluster-scoped object is cleared, as the API server does.
"""

from __future__ import annotations

from app.cluster.objects import CLUSTER_SCOPED, GATEWAY_API, GATEWAY_KINDS, deep_copy
from app.cluster.validation.crd_schema import apply_crd_defaults

_CLUSTER_SCOPED = CLUSTER_SCOPED


def _d(parent: dict, key: str) -> dict:
    """``parent[key]`` as a dict, created (or replaced when null) if needed."""
    value = parent.get(key)
    if not isinstance(value, dict):
        value = {}
        parent[key] = value
    return value


def _set(parent: dict, key: str, value: object) -> None:
    if parent.get(key) is None:
        parent[key] = value


def pull_policy(image: str) -> str:
    """The default ``imagePullPolicy`` for an image reference.

    Parameters
    ----------
    image : str
        e.g. ``nginx``, ``nginx:1.27``, ``registry:5000/app``, ``app@sha256:...``.

    Returns
    -------
    str
        ``Always`` for ``:latest`` or no tag, else ``IfNotPresent``.

    Examples
    --------
    >>> pull_policy("nginx"), pull_policy("nginx:latest"), pull_policy("nginx:1.27")
    ('Always', 'Always', 'IfNotPresent')
    >>> pull_policy("registry:5000/app"), pull_policy("app@sha256:abc")
    ('Always', 'IfNotPresent')
    """
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "Always"
    return "Always" if last.rsplit(":", 1)[1] == "latest" else "IfNotPresent"


def _pod_spec(spec: dict) -> None:
    _set(spec, "restartPolicy", "Always")
    _set(spec, "dnsPolicy", "ClusterFirst")
    _set(spec, "schedulerName", "default-scheduler")
    _set(spec, "terminationGracePeriodSeconds", 30)
    _set(spec, "enableServiceLinks", True)
    host_network = spec.get("hostNetwork") is True
    for field in ("containers", "initContainers"):
        containers = spec.get(field)
        for ctr in containers if isinstance(containers, list) else []:
            if not isinstance(ctr, dict):
                continue
            image = ctr.get("image")
            if isinstance(image, str) and image:
                _set(ctr, "imagePullPolicy", pull_policy(image))
            _set(ctr, "terminationMessagePath", "/dev/termination-log")
            _set(ctr, "terminationMessagePolicy", "File")
            ports = ctr.get("ports")
            for port in ports if isinstance(ports, list) else []:
                if isinstance(port, dict):
                    _set(port, "protocol", "TCP")
                    if host_network and not port.get("hostPort"):
                        port["hostPort"] = port.get("containerPort")


def _template(spec: dict) -> None:
    template = _d(spec, "template")
    _pod_spec(_d(template, "spec"))


def _deployment(obj: dict) -> None:
    spec = _d(obj, "spec")
    _set(spec, "replicas", 1)
    strategy = _d(spec, "strategy")
    _set(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _d(strategy, "rollingUpdate")
        _set(rolling, "maxUnavailable", "25%")
        _set(rolling, "maxSurge", "25%")
    _set(spec, "revisionHistoryLimit", 10)
    _set(spec, "progressDeadlineSeconds", 600)
    _template(spec)


def _daemonset(obj: dict) -> None:
    spec = _d(obj, "spec")
    strategy = _d(spec, "updateStrategy")
    _set(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _d(strategy, "rollingUpdate")
        _set(rolling, "maxUnavailable", 1)
        _set(rolling, "maxSurge", 0)
    _set(spec, "revisionHistoryLimit", 10)
    _template(spec)


def _service(obj: dict) -> None:
    spec = _d(obj, "spec")
    _set(spec, "type", "ClusterIP")
    _set(spec, "sessionAffinity", "None")
    stype = spec["type"]
    ports = spec.get("ports")
    for port in ports if isinstance(ports, list) else []:
        if isinstance(port, dict):
            _set(port, "protocol", "TCP")
            if port.get("targetPort") in (None, 0, ""):
                port["targetPort"] = port.get("port")
    if stype != "ExternalName":
        # ipFamilies and ipFamilyPolicy depend on the cluster's families: the allocator
        # defaults them (app/cluster/service_families.py), as the API server's does.
        _set(spec, "internalTrafficPolicy", "Cluster")
    if stype in ("NodePort", "LoadBalancer"):
        _set(spec, "externalTrafficPolicy", "Cluster")
    if stype == "LoadBalancer":
        _set(spec, "allocateLoadBalancerNodePorts", True)
    if spec["sessionAffinity"] == "ClientIP":
        client_ip = _d(_d(spec, "sessionAffinityConfig"), "clientIP")
        _set(client_ip, "timeoutSeconds", 10800)


def _network_policy(obj: dict) -> None:
    spec = _d(obj, "spec")
    _d(spec, "podSelector")
    if not spec.get("policyTypes"):
        types = ["Ingress"]
        if spec.get("egress"):
            types.append("Egress")
        spec["policyTypes"] = types
    for direction in ("ingress", "egress"):
        rules = spec.get(direction)
        for rule in rules if isinstance(rules, list) else []:
            ports = rule.get("ports") if isinstance(rule, dict) else None
            for port in ports if isinstance(ports, list) else []:
                if isinstance(port, dict):
                    _set(port, "protocol", "TCP")


def _endpoint_slice(obj: dict) -> None:
    ports = obj.get("ports")
    for port in ports if isinstance(ports, list) else []:
        if isinstance(port, dict):
            _set(port, "name", "")
            _set(port, "protocol", "TCP")


def _namespace(obj: dict) -> None:
    meta = _d(obj, "metadata")
    name = meta.get("name")
    if isinstance(name, str) and name:
        _d(meta, "labels")["kubernetes.io/metadata.name"] = name


def _ingress_class(obj: dict) -> None:
    params = _d(obj, "spec").get("parameters")
    if isinstance(params, dict):
        _set(params, "scope", "Cluster")


_DEFAULTERS = {
    "Pod": lambda o: _pod_spec(_d(o, "spec")),
    "Deployment": _deployment,
    "DaemonSet": _daemonset,
    "Service": _service,
    "NetworkPolicy": _network_policy,
    "EndpointSlice": _endpoint_slice,
    "Namespace": _namespace,
    "IngressClass": _ingress_class,
}


def apply_defaults(obj: dict) -> dict:
    """A deep copy of ``obj`` with the API server's defaults filled in.

    Parameters
    ----------
    obj : dict
        A manifest that passed :func:`app.cluster.validation.validate_manifest`.

    Returns
    -------
    dict
        The defaulted copy; ``obj`` itself is not changed.

    Examples
    --------
    >>> svc = apply_defaults({"apiVersion": "v1", "kind": "Service",
    ...     "metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}})
    >>> svc["spec"]["type"], svc["spec"]["ports"][0]
    ('ClusterIP', {'port': 80, 'protocol': 'TCP', 'targetPort': 80})
    >>> apply_defaults({"kind": "Deployment", "spec": {}})["spec"]["strategy"]
    {'type': 'RollingUpdate', 'rollingUpdate': {'maxUnavailable': '25%', 'maxSurge': '25%'}}
    >>> gw = apply_defaults({"apiVersion": "gateway.networking.k8s.io/v1beta1",
    ...     "kind": "Gateway", "metadata": {"name": "eg"}, "spec": {"gatewayClassName": "eg",
    ...     "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}})
    >>> gw["apiVersion"], gw["spec"]["listeners"][0]["allowedRoutes"]
    ('gateway.networking.k8s.io/v1', {'namespaces': {'from': 'Same'}})
    """
    out = deep_copy(obj)
    if not isinstance(out, dict):
        return out
    kind = out.get("kind")
    if kind in _CLUSTER_SCOPED and isinstance(out.get("metadata"), dict):
        out["metadata"].pop("namespace", None)
    if kind in GATEWAY_KINDS:
        # The API server stores a custom resource at the CRD's storage version and serves
        # it at the preferred one (v1): the schemas are the same, only apiVersion differs.
        out["apiVersion"] = GATEWAY_API
        apply_crd_defaults(out)
        return out
    defaulter = _DEFAULTERS.get(kind) if isinstance(kind, str) else None
    if defaulter is not None:
        defaulter(out)
    return out
