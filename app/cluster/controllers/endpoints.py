"""The EndpointSlice controller and the simulated cloud's Service controller.

For every Service with a selector (ExternalName excepted) the controller keeps EndpointSlices
listing each pod the selector matches that has an IP, with ``ready`` following the pod's Ready
condition (``publishNotReadyAddresses`` makes every endpoint ready). A named ``targetPort`` is
resolved per pod against its containers' port names, so pods that number a named port
differently land in different slices, as the real controller groups endpoints by their ports;
a pod that lacks the named port is listed without that port. A Service with no selector gets
no managed slices: its endpoints are whatever EndpointSlices the user writes.
"""

from __future__ import annotations

from typing import Any

from app.cluster import constants as c
from app.cluster.controllers.workloads import owner_reference, pod_is_ready, random_suffix
from app.cluster.objects import ObjectKey, canonical_json
from app.cluster.state import ClusterState

MAX_ENDPOINTS_PER_SLICE = 100  # kube-controller-manager's --max-endpoints-per-slice default


def find_port(pod: dict[str, Any], service_port: dict[str, Any]) -> int | None:
    """The pod port a Service port sends to (Kubernetes' ``podutil.FindPort``).

    A number is used as it is; a name is looked up among the pod's container ports with the
    same protocol.

    >>> pod = {"spec": {"containers": [{"ports": [{"name": "http", "containerPort": 8080}]}]}}
    >>> find_port(pod, {"port": 80, "targetPort": "http"}), find_port(pod, {"port": 80})
    (8080, 80)
    >>> find_port(pod, {"port": 80, "targetPort": "grpc"}) is None
    True
    """
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol", "TCP")
    for container in (pod.get("spec") or {}).get("containers") or ():
        for port in container.get("ports") or ():
            if port.get("name") == target and port.get("protocol", "TCP") == protocol:
                return port.get("containerPort")
    return None


def sync_service(state: ClusterState, key: ObjectKey) -> None:
    service = state.objects.get(key)
    existing = sorted(
        k
        for k in state.slices_by_service.get((key.namespace, key.name), ())
        if (state.objects[k]["metadata"].get("labels") or {}).get(c.MANAGED_BY_LABEL)
        == c.ENDPOINTSLICE_CONTROLLER
    )
    spec = (service or {}).get("spec") or {}
    if service is None or not spec.get("selector") or spec.get("type") == "ExternalName":
        for slice_key in existing:
            state.remove(slice_key)
        if service is not None:
            _sync_load_balancer(state, service)
        return
    _sync_load_balancer(state, service)
    # One set of slices per family of the Service (the controller's addressType per family,
    # the Service's ipFamilies; a Service without them is the cluster's primary family).
    wanted_families = spec.get("ipFamilies") or [state.ipam.family]
    by_type: dict[str, list[ObjectKey]] = {}
    for slice_key in existing:
        address_type = state.objects[slice_key].get("addressType", "IPv4")
        by_type.setdefault(address_type, []).append(slice_key)
    for family in wanted_families:
        groups = _endpoint_groups(state, service, family)
        wanted = [_slice_body(service, ports, endpoints, family) for ports, endpoints in groups]
        held = by_type.pop(family, [])
        for index, body in enumerate(wanted):
            if index < len(held):
                current = state.objects[held[index]]
                if _same(current, body):
                    continue
                body["metadata"]["name"] = current["metadata"]["name"]
            else:
                body["metadata"]["name"] = _new_slice_name(state, key)
            state.put(body)
        for slice_key in held[len(wanted) :]:
            state.remove(slice_key)
    for stale in by_type.values():  # a family the Service no longer has
        for slice_key in stale:
            state.remove(slice_key)


def _new_slice_name(state: ClusterState, key: ObjectKey) -> str:
    while True:
        name = f"{key.name}-{random_suffix(state)}"
        if state.get("EndpointSlice", key.namespace, name) is None:
            return name


def _same(current: dict[str, Any], body: dict[str, Any]) -> bool:
    keep = ("endpoints", "ports", "addressType")
    return canonical_json({k: current.get(k) for k in keep}) == canonical_json(
        {k: body.get(k) for k in keep}
    ) and (current["metadata"].get("labels") == body["metadata"]["labels"])


def _endpoint_groups(
    state: ClusterState, service: dict[str, Any], family: str = "IPv4"
) -> list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    spec = service["spec"]
    namespace = service["metadata"]["namespace"]
    publish_all = bool(spec.get("publishNotReadyAddresses"))
    by_ports: dict[tuple, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for pod in state.pods_matching(namespace, spec["selector"]):
        status = pod.get("status") or {}
        ip = _ip_of_family(status, family)
        if not ip or status.get("phase") in ("Succeeded", "Failed"):
            continue
        ports = []
        for service_port in spec.get("ports") or []:
            number = find_port(pod, service_port)
            if number is None:
                continue
            port = {"name": service_port.get("name", ""), "port": number}
            port["protocol"] = service_port.get("protocol", "TCP")
            if service_port.get("appProtocol"):
                port["appProtocol"] = service_port["appProtocol"]
            ports.append(port)
        ready = publish_all or pod_is_ready(pod)
        endpoint = {
            "addresses": [ip],
            "conditions": {"ready": ready, "serving": ready, "terminating": False},
            "nodeName": pod["spec"]["nodeName"],
            "targetRef": {
                "kind": "Pod",
                "namespace": namespace,
                "name": pod["metadata"]["name"],
                "uid": pod["metadata"]["uid"],
            },
        }
        # The endpoint carries the pod's hostname only when the pod names this Service as its
        # subdomain, as the EndpointSlice controller does (it feeds the DNS records).
        pod_spec = pod["spec"]
        if pod_spec.get("hostname") and pod_spec.get("subdomain") == service["metadata"]["name"]:
            endpoint["hostname"] = pod_spec["hostname"]
        group_key = tuple(
            (p["name"], p["port"], p["protocol"], p.get("appProtocol")) for p in ports
        )
        group = by_ports.setdefault(group_key, (ports, []))
        group[1].append(endpoint)
    if not by_ports:
        return [([], [])]  # a placeholder slice, as the controller keeps for empty Services
    groups = []
    for ports, endpoints in by_ports.values():
        endpoints.sort(key=lambda e: e["targetRef"]["name"])
        for start in range(0, len(endpoints), MAX_ENDPOINTS_PER_SLICE):
            groups.append((ports, endpoints[start : start + MAX_ENDPOINTS_PER_SLICE]))
    return groups


def _ip_of_family(status: dict[str, Any], family: str) -> str | None:
    """The pod's address of one family (``status.podIPs``; ``podIP`` in older saves)."""
    ips = [entry.get("ip") for entry in status.get("podIPs") or ()] or [status.get("podIP")]
    return next((ip for ip in ips if ip and (":" in ip) == (family == "IPv6")), None)


def _slice_body(
    service: dict[str, Any],
    ports: list[dict[str, Any]],
    endpoints: list[dict[str, Any]],
    family: str = "IPv4",
) -> dict[str, Any]:
    meta = service["metadata"]
    labels = dict(meta.get("labels") or {})
    labels[c.SERVICE_NAME_LABEL] = meta["name"]
    labels[c.MANAGED_BY_LABEL] = c.ENDPOINTSLICE_CONTROLLER
    if service["spec"].get("clusterIP") == "None":
        labels["service.kubernetes.io/headless"] = ""
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "",
            "generateName": f"{meta['name']}-",
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [owner_reference(service)],
        },
        "addressType": family,
        "endpoints": endpoints,  # built afresh for this slice: nothing else holds them
        "ports": [dict(p) for p in ports],
    }


def _sync_load_balancer(state: ClusterState, service: dict[str, Any]) -> None:
    """The cloud provider's part: a LoadBalancer Service gets an external IP from the pool."""
    key = ObjectKey("Service", service["metadata"]["namespace"], service["metadata"]["name"])
    owner = f"{key.namespace}/{key.name}"
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    if service["spec"].get("type") != "LoadBalancer":
        if ingress:
            state.allocator.release_lb_ips_of(owner)
            state.modify(
                key, lambda o: o.__setitem__("status", {"loadBalancer": {}}), status_only=True
            )
            state.dirty["Service"].discard(key)
            state.record("Normal", "DeletedLoadBalancer", key, "Deleted load balancer")
        return
    if ingress:
        return
    state.record("Normal", "EnsuringLoadBalancer", key, "Ensuring load balancer")
    # The address is of the Service's primary family (an IPv6 Service's is IPv6).
    family = (service["spec"].get("ipFamilies") or ["IPv4"])[0]
    ip = state.allocator.allocate_lb_ip(owner, family)
    if ip is None:
        state.record(
            "Warning",
            "SyncLoadBalancerFailed",
            key,
            "Error syncing load balancer: the cloud's address pool is used up",
        )
        return
    status = {"loadBalancer": {"ingress": [{"ip": ip, "ipMode": "VIP"}]}}
    state.modify(key, lambda o: o.__setitem__("status", status), status_only=True)
    state.dirty["Service"].discard(key)
    state.record("Normal", "EnsuredLoadBalancer", key, f"Ensured load balancer {ip}")
