"""The ``kubectl get`` tables (columns and text) that the Kubernetes-compatible API serves as
``meta.k8s.io`` Tables and the terminal prints; and (from :mod:`app.render.workspace_tables`)
the workspace page's tables."""

from __future__ import annotations

from typing import Any

from app.cluster.objects import GATEWAY_KINDS
from app.render import table_cells as cell
from app.render.crd_tables import crd_table
from app.render.table_layout import Column, GetTable, format_table
from app.render.workspace_tables import workspace_view

# --- ``kubectl get`` tables ------------------------------------------------------------------
# The columns the API server's printers define for each kind (pkg/printers/internalversion,
# the same source the server's Table output and ``kubectl get`` use). Priority 1 columns are
# the ones only ``-o wide`` shows.


_NAME = Column("Name", format="name")
_AGE = Column("Age")
_WIDE = 1


def _table(columns: tuple[Column, ...], objects: list[dict[str, Any]], cells: Any) -> GetTable:
    return GetTable(
        columns, [(obj, [cell.meta(obj).get("name", ""), *cells(obj)]) for obj in objects]
    )


def pod_table(pods: list[dict[str, Any]], now: float | None = None) -> GetTable:
    """Pods: NAME READY STATUS RESTARTS AGE [IP NODE NOMINATED NODE READINESS GATES].

    ``now`` (seconds since 1970) gives the ages; without it they are ``<unknown>``.

    >>> pod = {"metadata": {"name": "web"}, "spec": {"containers": [{}], "nodeName": "w1"},
    ...        "status": {"phase": "Running", "podIP": "10.244.1.5",
    ...                   "containerStatuses": [{"ready": True, "restartCount": 0}]}}
    >>> print(format_table(pod_table([pod]), wide=True))
    NAME   READY   STATUS    RESTARTS   AGE         IP           NODE   NOMINATED NODE   READINESS GATES
    web    1/1     Running   0          <unknown>   10.244.1.5   w1     <none>           <none>
    """
    columns = (
        _NAME,
        Column("Ready"),
        Column("Status"),
        Column("Restarts", "string"),
        _AGE,
        Column("IP", priority=_WIDE),
        Column("Node", priority=_WIDE),
        Column("Nominated Node", priority=_WIDE),
        Column("Readiness Gates", priority=_WIDE),
    )
    return _table(
        columns,
        pods,
        lambda p: [
            cell.pod_ready(p),
            cell.pod_status(p),
            str(cell.pod_restarts(p)),
            cell.age(p, now),
            cell.status(p).get("podIP") or cell.NONE,
            cell.spec(p).get("nodeName") or cell.NONE,
            cell.status(p).get("nominatedNodeName") or cell.NONE,
            cell.readiness_gates(p),
        ],
    )


def workload_table(kind: str, objects: list[dict[str, Any]], now: float | None = None) -> GetTable:
    """Deployments (NAME READY UP-TO-DATE AVAILABLE AGE), ReplicaSets (NAME DESIRED CURRENT
    READY AGE) and DaemonSets (NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR
    AGE), each with CONTAINERS IMAGES SELECTOR when wide.

    >>> deployment = {"metadata": {"name": "web"}, "spec": {"replicas": 2,
    ...     "selector": {"matchLabels": {"app": "web"}},
    ...     "template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
    ...     "status": {"readyReplicas": 2, "updatedReplicas": 2, "availableReplicas": 2}}
    >>> print(format_table(workload_table("Deployment", [deployment]), wide=True))
    NAME   READY   UP-TO-DATE   AVAILABLE   AGE         CONTAINERS   IMAGES   SELECTOR
    web    2/2     2            2           <unknown>   web          nginx    app=web
    """
    wide = (Column("Containers", priority=_WIDE), Column("Images", priority=_WIDE))
    wide += (Column("Selector", priority=_WIDE),)

    def tail(obj: dict[str, Any]) -> list[Any]:
        template = (cell.spec(obj).get("template") or {}).get("spec") or {}
        names, images = cell.containers_and_images(template)
        return [names, images, cell.selector_text(cell.spec(obj).get("selector"))]

    def counts(obj: dict[str, Any]) -> list[Any]:
        state, desired = cell.status(obj), cell.spec(obj).get("replicas", 1)
        if kind == "Deployment":
            ready = f"{state.get('readyReplicas', 0)}/{desired}"
            return [ready, state.get("updatedReplicas", 0), state.get("availableReplicas", 0)]
        if kind == "ReplicaSet":
            return [desired, state.get("replicas", 0), state.get("readyReplicas", 0)]
        selector = cell.label_text(
            ((cell.spec(obj).get("template") or {}).get("spec") or {}).get("nodeSelector")
        )
        return [
            state.get("desiredNumberScheduled", 0),
            state.get("currentNumberScheduled", 0),
            state.get("numberReady", 0),
            state.get("updatedNumberScheduled", 0),
            state.get("numberAvailable", 0),
            selector,
        ]

    heads = {
        "Deployment": ("Ready", "Up-to-date", "Available"),
        "ReplicaSet": ("Desired", "Current", "Ready"),
        "DaemonSet": ("Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector"),
    }[kind]
    number = {"Ready", "Node Selector"} if kind == "Deployment" else {"Node Selector"}
    middle = tuple(Column(h, "string" if h in number else "integer") for h in heads)
    return _table(
        (_NAME, *middle, _AGE, *wide), objects, lambda o: [*counts(o), cell.age(o, now), *tail(o)]
    )


def service_table(services: list[dict[str, Any]], now: float | None = None) -> GetTable:
    """Services: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE [SELECTOR].

    >>> svc = {"metadata": {"name": "web"}, "spec": {"type": "NodePort",
    ...        "clusterIP": "10.96.4.2", "selector": {"app": "web"},
    ...        "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]}}
    >>> print(format_table(service_table([svc])))
    NAME   TYPE       CLUSTER-IP   EXTERNAL-IP   PORT(S)        AGE
    web    NodePort   10.96.4.2    <none>        80:30080/TCP   <unknown>
    """
    columns = (
        _NAME,
        Column("Type"),
        Column("Cluster-IP"),
        Column("External-IP"),
        Column("Port(s)"),
        _AGE,
        Column("Selector", priority=_WIDE),
    )
    return _table(
        columns,
        services,
        lambda s: [
            cell.spec(s).get("type") or "ClusterIP",
            cell.spec(s).get("clusterIP") or cell.NONE,
            cell.service_external_ip(s),
            cell.service_ports(s),
            cell.age(s, now),
            cell.label_text(cell.spec(s).get("selector")),
        ],
    )


def endpoints_table(kind: str, objects: list[dict[str, Any]], now: float | None = None) -> GetTable:
    """Endpoints (NAME ENDPOINTS AGE) and EndpointSlices (NAME ADDRESSTYPE PORTS ENDPOINTS
    AGE).

    >>> es = {"metadata": {"name": "web-x1"}, "addressType": "IPv4", "ports": [{"port": 80}],
    ...       "endpoints": [{"addresses": ["10.244.1.2"]}, {"addresses": ["10.244.2.2"]}]}
    >>> print(format_table(endpoints_table("EndpointSlice", [es])))
    NAME     ADDRESSTYPE   PORTS   ENDPOINTS               AGE
    web-x1   IPv4          80      10.244.1.2,10.244.2.2   <unknown>
    """
    if kind == "Endpoints":
        return _table(
            (_NAME, Column("Endpoints"), _AGE),
            objects,
            lambda e: [cell.endpoint_addresses(e), cell.age(e, now)],
        )
    return _table(
        (_NAME, Column("AddressType"), Column("Ports"), Column("Endpoints"), _AGE),
        objects,
        lambda e: [
            e.get("addressType", ""),
            cell.slice_ports(e),
            cell.slice_endpoints(e),
            cell.age(e, now),
        ],
    )


def node_table(nodes: list[dict[str, Any]], now: float | None = None) -> GetTable:
    """Nodes: NAME STATUS ROLES AGE VERSION [INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION
    CONTAINER-RUNTIME].

    >>> node = {"metadata": {"name": "cp", "labels": {"node-role.kubernetes.io/control-plane": ""}},
    ...         "status": {"conditions": [{"type": "Ready", "status": "True"}],
    ...                    "nodeInfo": {"kubeletVersion": "v1.31.0"}}}
    >>> print(format_table(node_table([node])))
    NAME   STATUS   ROLES           AGE         VERSION
    cp     Ready    control-plane   <unknown>   v1.31.0
    """
    columns = (
        _NAME,
        Column("Status"),
        Column("Roles"),
        _AGE,
        Column("Version"),
        Column("Internal-IP", priority=_WIDE),
        Column("External-IP", priority=_WIDE),
        Column("OS-Image", priority=_WIDE),
        Column("Kernel-Version", priority=_WIDE),
        Column("Container-Runtime", priority=_WIDE),
    )

    def cells(node: dict[str, Any]) -> list[Any]:
        info = cell.status(node).get("nodeInfo") or {}
        return [
            cell.node_status(node),
            cell.node_roles(node),
            cell.age(node, now),
            info.get("kubeletVersion", ""),
            cell.node_address(node, "InternalIP"),
            cell.node_address(node, "ExternalIP"),
            info.get("osImage") or cell.UNKNOWN,
            info.get("kernelVersion") or cell.UNKNOWN,
            info.get("containerRuntimeVersion") or cell.UNKNOWN,
        ]

    return _table(columns, nodes, cells)


def namespace_table(namespaces: list[dict[str, Any]], now: float | None = None) -> GetTable:
    """Namespaces: NAME STATUS AGE (a namespace without a phase is Active)."""
    return _table(
        (_NAME, Column("Status"), _AGE),
        namespaces,
        lambda n: [cell.status(n).get("phase") or "Active", cell.age(n, now)],
    )


def networking_table(
    kind: str, objects: list[dict[str, Any]], now: float | None = None
) -> GetTable:
    """Ingresses (NAME CLASS HOSTS ADDRESS PORTS AGE), IngressClasses (NAME CONTROLLER
    PARAMETERS AGE) and NetworkPolicies (NAME POD-SELECTOR AGE).

    >>> ing = {"metadata": {"name": "shop"}, "spec": {"ingressClassName": "nginx",
    ...        "rules": [{"host": "shop.example.com"}]},
    ...        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.10"}]}}}
    >>> print(format_table(networking_table("Ingress", [ing])))
    NAME   CLASS   HOSTS              ADDRESS        PORTS   AGE
    shop   nginx   shop.example.com   203.0.113.10   80      <unknown>
    """
    if kind == "Ingress":
        return _table(
            (_NAME, Column("Class"), Column("Hosts"), Column("Address"), Column("Ports"), _AGE),
            objects,
            lambda i: [
                cell.spec(i).get("ingressClassName") or cell.NONE,
                cell.ingress_hosts(i),
                ",".join(cell.load_balancer_addresses(i)),
                "80, 443" if cell.spec(i).get("tls") else "80",
                cell.age(i, now),
            ],
        )
    if kind == "IngressClass":
        return _table(
            (_NAME, Column("Controller"), Column("Parameters"), _AGE),
            objects,
            lambda i: [
                cell.spec(i).get("controller", ""),
                _parameters(cell.spec(i).get("parameters")),
                cell.age(i, now),
            ],
        )
    return _table(
        (_NAME, Column("Pod-Selector"), _AGE),
        objects,
        lambda p: [cell.selector_text(cell.spec(p).get("podSelector")), cell.age(p, now)],
    )


def _parameters(parameters: dict[str, Any] | None) -> str:
    if not parameters:
        return cell.NONE
    group = parameters.get("apiGroup")
    kind_name = f"{parameters.get('kind', '')}/{parameters.get('name', '')}"
    return f"{group}/{kind_name}" if group else kind_name


def event_table(events: list[dict[str, Any]], now: float | None = None) -> GetTable:
    """Events (v1 Event objects): LAST SEEN TYPE REASON OBJECT MESSAGE, and SUBOBJECT SOURCE
    FIRST SEEN COUNT NAME when wide.

    >>> event = {"metadata": {"name": "web.1"}, "type": "Normal", "reason": "Scheduled",
    ...          "involvedObject": {"kind": "Pod", "name": "web"}, "count": 1,
    ...          "message": "Successfully assigned default/web to worker-1"}
    >>> print(format_table(event_table([event])))
    LAST SEEN   TYPE     REASON      OBJECT    MESSAGE
    <unknown>   Normal   Scheduled   pod/web   Successfully assigned default/web to worker-1
    """
    columns = (
        Column("Last Seen"),
        Column("Type"),
        Column("Reason"),
        Column("Object"),
        Column("Subobject", priority=_WIDE),
        Column("Source", priority=_WIDE),
        Column("Message"),
        Column("First Seen", priority=_WIDE),
        Column("Count", "integer", priority=_WIDE),
        Column("Name", format="name", priority=_WIDE),
    )

    def cells(event: dict[str, Any]) -> list[Any]:
        involved = event.get("involvedObject") or {}
        first = cell.since(event.get("firstTimestamp"), now)
        last = cell.since(event.get("lastTimestamp"), now)
        count = int(event.get("count") or 1)
        if count > 1:
            last = f"{last} (x{count} over {first})"
        source = event.get("source") or {}
        where = ", ".join(x for x in (source.get("component"), source.get("host")) if x)
        return [
            last,
            event.get("type", ""),
            event.get("reason", ""),
            f"{involved.get('kind', '').lower()}/{involved.get('name', '')}",
            involved.get("fieldPath", ""),
            where,
            (event.get("message") or "").strip(),
            first,
            count,
            cell.meta(event).get("name", ""),
        ]

    return GetTable(columns, [(e, cells(e)) for e in events])


def config_map_table(config_maps: list[dict[str, Any]], now: float | None = None) -> GetTable:
    """ConfigMaps: NAME DATA AGE (DATA counts data and binaryData keys)."""
    return _table(
        (_NAME, Column("Data", "integer"), _AGE),
        config_maps,
        lambda m: [len(m.get("data") or {}) + len(m.get("binaryData") or {}), cell.age(m, now)],
    )


def get_table(kind: str, objects: list[dict[str, Any]], now: float | None = None) -> GetTable:
    """The ``kubectl get`` table for objects of one kind (any kind this module knows).

    >>> get_table("Namespace", [{"metadata": {"name": "shop"}}]).rows[0][1]
    ['shop', 'Active', '<unknown>']
    """
    if kind == "Pod":
        return pod_table(objects, now)
    if kind in ("Deployment", "ReplicaSet", "DaemonSet"):
        return workload_table(kind, objects, now)
    if kind == "Service":
        return service_table(objects, now)
    if kind in ("Endpoints", "EndpointSlice"):
        return endpoints_table(kind, objects, now)
    if kind == "Node":
        return node_table(objects, now)
    if kind == "Namespace":
        return namespace_table(objects, now)
    if kind in ("Ingress", "IngressClass", "NetworkPolicy"):
        return networking_table(kind, objects, now)
    if kind == "Event":
        return event_table(objects, now)
    if kind == "ConfigMap":
        return config_map_table(objects, now)
    if kind in GATEWAY_KINDS:
        return crd_table(kind, objects, now)
    raise KeyError(kind)


__all__ = [
    "Column",
    "GetTable",
    "config_map_table",
    "endpoints_table",
    "event_table",
    "format_table",
    "get_table",
    "namespace_table",
    "networking_table",
    "node_table",
    "pod_table",
    "service_table",
    "workload_table",
    "workspace_view",
]
