"""Requests from outside the cluster: to a NodePort, through the cloud load balancer, and
through the ingress controller's second connection."""

from __future__ import annotations

import ipaddress
from typing import Any

from app.network import datapath, ingress
from app.network import why as why_
from app.network.explain import (
    Reason,
    cause_of,
    field_cause,
    missing_service_port,
    service_without_endpoints,
)
from app.network.l7 import answered_by_proxy
from app.network.model import Hop, Packet
from app.network.outside_private import unreachable_reason
from app.network.reply import Leg, Nat
from app.network.run import ephemeral_port
from app.network.trace.arrival import arrive
from app.network.trace.node import through_node

EXCLUDE_FROM_LB = "node.kubernetes.io/exclude-from-external-load-balancers"


def from_outside(run: Any, packet: Packet) -> None:
    """The client outside sends ``packet``: to a node, to a load balancer, or nowhere."""
    index = run.index
    run.add(
        Hop(
            None,
            "external client",
            "send",
            f"The client {packet.src_ip} sends it: {packet.src} → {packet.dst}.",
            packet,
            at="net/internet",
            why=why_.client_route(packet.src_ip),
        )
    )
    service = index.service_by_ip.get(packet.dst_ip)
    spec = (service or {}).get("spec") or {}
    is_lb = service is not None and packet.dst_ip not in (
        spec.get("clusterIPs") or [spec.get("clusterIP")]
    )
    if packet.dst_ip in index.node_by_ip:
        node = index.node_by_ip[packet.dst_ip]
        run.add(
            Hop(
                None,
                "internet",
                "route",
                f"The network carries it to {node}'s address {packet.dst_ip}.",
                packet,
                at="net/nodes",
                why=why_.vpc_why(packet.dst_ip),
            )
        )
        through_node(run, node, packet, from_outside=True, client_node=None)
        return
    if is_lb:
        _through_load_balancer(run, service, packet)
        return
    if index.is_pod_ip(packet.dst_ip) or packet.dst_ip in index.service_by_ip:
        what = "a pod address" if index.is_pod_ip(packet.dst_ip) else "a ClusterIP"
        run.end(
            "unreachable",
            f"{packet.dst} is {what}: it only exists inside the cluster, and the internet has "
            "no route to it. From outside, use a NodePort (node IP:nodePort), a LoadBalancer "
            "IP or an Ingress host.",
        )
        return
    private = unreachable_reason(run.cluster.config, packet.dst_ip, packet.dst_port)
    if private is not None:  # a private address the internet does not route
        run.end("unreachable", private)
        return
    # Another address on the internet: the request never enters the cluster.
    leg = Leg(client=packet, client_node=None, server=packet)
    arrive(run, datapath.Arrival("external"), packet, leg)


def _through_load_balancer(run: Any, service: dict[str, Any], packet: Packet) -> None:
    index, cluster = run.index, run.cluster
    spec = service["spec"]
    name = f"{service['metadata']['namespace']}/{service['metadata']['name']}"
    port = next(
        (
            p
            for p in spec.get("ports") or []
            if p["port"] == packet.dst_port and p.get("protocol", "TCP") == packet.protocol
        ),
        None,
    )
    if port is None or not port.get("nodePort"):
        listeners = ", ".join(
            f"{p['port']}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or []
        )
        run.end(
            "refused",
            f"The load balancer of Service {name} listens on {listeners}, not {packet.dst_port}/{packet.protocol}.",
        )
        return
    if _outside_source_ranges(run, service, packet, port):
        return
    nodes = []
    for node in cluster.list("Node"):
        node_name = node["metadata"]["name"]
        if node_name not in index.ready_nodes or EXCLUDE_FROM_LB in (
            node["metadata"].get("labels") or {}
        ):
            continue
        nodes.append(node_name)
    local = spec.get("externalTrafficPolicy") == "Local"
    if local:
        with_pods = _nodes_with_ready_endpoints(cluster, service)
        nodes = [n for n in nodes if n in with_pods]
    if not nodes:
        why = (
            "no node passes its health check: with externalTrafficPolicy: Local only nodes that run a ready pod of the Service answer healthy"
            if local
            else "no node is Ready"
        )
        run.add(
            Hop(
                None,
                "cloud load balancer",
                "drop",
                f"The load balancer has nowhere to send it: {why}.",
                packet,
                at="cloud/lb",
                why=why_.lb_why(
                    packet.dst_ip, packet.protocol, packet.dst_port, port.get("nodePort"), []
                ),
            )
        )
        blamed = None
        if local and not _nodes_with_ready_endpoints(cluster, service):
            cause = service_without_endpoints(
                cluster,
                service["metadata"]["namespace"],
                service["metadata"]["name"],
                port.get("name", ""),
            )
            why = f"{cause} With spec.externalTrafficPolicy: Local no node passes the health check"
            blamed = cause_of(cause)
        elif local:
            with_pods = sorted(_nodes_with_ready_endpoints(cluster, service))
            why = (
                f"it has spec.externalTrafficPolicy: Local, so only nodes that run a ready pod of "
                f"it pass the health check on healthCheckNodePort {spec.get('healthCheckNodePort')}, "
                f"and those ({', '.join(with_pods)}) are NotReady or excluded"
            )
            blamed = field_cause(
                "Service",
                service["metadata"]["namespace"],
                service["metadata"]["name"],
                "spec.externalTrafficPolicy",
            )
        else:
            down = sorted(
                n["metadata"]["name"]
                for n in cluster.list("Node")
                if n["metadata"]["name"] not in index.ready_nodes
            )
            why = f"no node is Ready ({', '.join(down)} NotReady)" if down else "no node is Ready"
        run.end(
            "dropped",
            Reason(
                f"Service {name}'s load balancer has no healthy node to send it to: {why}; the "
                "client times out.",
                blamed,
            ),
        )
        return
    chosen = nodes[run.seed % len(nodes)]
    forwarded = packet.with_dst(index.node_ip[chosen], port["nodePort"])
    check = f", checking health on port {spec.get('healthCheckNodePort')}" if local else ""
    run.add(
        Hop(
            None,
            "cloud load balancer",
            "dnat",
            f"The cloud load balancer {packet.dst_ip} picks node {chosen} out of {len(nodes)} healthy node(s){check} "
            f"and forwards to its NodePort {forwarded.dst}; the client address {packet.src_ip} is kept.",
            forwarded,
            at="cloud/lb",
            why=why_.lb_why(
                packet.dst_ip,
                packet.protocol,
                packet.dst_port,
                port["nodePort"],
                [(n, index.node_ip[n]) for n in nodes],
            ),
        )
    )
    run.add(
        Hop(
            None,
            "node network",
            "route",
            f"The cloud network carries it to {chosen}.",
            forwarded,
            at="net/nodes",
            why=why_.vpc_why(forwarded.dst_ip),
        )
    )
    leg = Leg(
        client=packet, client_node=None, nats=[Nat(None, "lb", packet.dst_ip, packet.dst_port)]
    )
    through_node(run, chosen, forwarded, True, None, leg)


def _outside_source_ranges(
    run: Any, service: dict[str, Any], packet: Packet, port: dict[str, Any]
) -> bool:
    """The load balancer's own firewall: a cloud controller manager programs it from
    spec.loadBalancerSourceRanges (this load balancer forwards to NodePorts, which kube-proxy
    never filters by source range). True when it dropped the packet."""
    ranges = []
    for value in (service.get("spec") or {}).get("loadBalancerSourceRanges") or ():
        try:
            ranges.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            continue
    src = ipaddress.ip_address(packet.src_ip)
    if not ranges or any(src in net for net in ranges):
        return False
    meta = service["metadata"]
    name = f"{meta['namespace']}/{meta['name']}"
    listed = ", ".join(str(net) for net in ranges)
    run.add(
        Hop(
            None,
            "cloud load balancer",
            "drop",
            f"The load balancer's firewall drops it: Service {name} allows only "
            f"spec.loadBalancerSourceRanges [{listed}], and {packet.src_ip} is in none of them.",
            packet,
            at="cloud/lb",
            why=why_.why(
                "load balancer firewall",
                f"allow {listed} → {packet.protocol} {packet.dst}; drop the rest",
                "The cloud controller manager writes this firewall from the Service's "
                "spec.loadBalancerSourceRanges.",
            ),
        )
    )
    run.end(
        "dropped",
        Reason(
            f"Service {name} has spec.loadBalancerSourceRanges [{listed}] and {packet.src_ip} is "
            "in none of them, so its load balancer's firewall drops the packet and the client "
            f"times out. Add the client's range (for example {packet.src_ip}/32) to "
            "spec.loadBalancerSourceRanges, or send it from an address inside them. Its "
            "NodePort is not filtered: kube-proxy applies the ranges to the LB IP only.",
            field_cause(
                "Service", meta["namespace"], meta["name"], "spec.loadBalancerSourceRanges"
            ),
        ),
    )
    return True


def slices_of(cluster: Any, namespace: str, name: str) -> list[dict[str, Any]]:
    """A Service's EndpointSlices, from the cluster's index (no scan)."""
    keys = cluster.state.slices_by_service.get((namespace, name), ())
    return [cluster.state.objects[k] for k in sorted(keys)]


def _nodes_with_ready_endpoints(cluster: Any, service: dict[str, Any]) -> set[str]:
    namespace, name = service["metadata"]["namespace"], service["metadata"]["name"]
    nodes = set()
    for slice_ in slices_of(cluster, namespace, name):
        for endpoint in slice_.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready") and endpoint.get("nodeName"):
                nodes.add(endpoint["nodeName"])
    return nodes


def ingress_proxy(run: Any, controller: dict[str, Any], node: str, packet: Packet) -> None:
    """ingress-nginx terminates the connection, matches host and path, and opens its own."""
    cluster = run.cluster
    http = packet.http or {}
    host, path, scheme = http.get("host", ""), http.get("path", "/"), http.get("scheme", "http")
    match = ingress.match(cluster, host, path)
    at = datapath.pod_at(controller)
    terminated = (
        "terminates the TLS connection and "
        if scheme == "https"
        else "terminates the client's connection and "
    )
    if match.route is not None and match.route.tls and scheme == "http":
        location = f"https://{host}{path}"
        _answer(
            run,
            controller,
            node,
            packet,
            308,
            f"ingress-nginx answers 308 Permanent Redirect to {location}: the Ingress has TLS for {host}, so plain HTTP is redirected.",
            f"The Ingress serves {host} over TLS, so ingress-nginx answers http:// with 308 Permanent Redirect to {location}. Send the request to {location}.",
        )
        return
    if not match.found:
        unserved = ingress.unserved_note(cluster, host)
        _answer(
            run,
            controller,
            node,
            packet,
            404,
            f"ingress-nginx {terminated}finds no rule for it: it answers 404 Not Found.",
            Reason(" ".join(filter(None, [match.explanation + ".", unserved])), cause_of(unserved)),
        )
        return
    service = cluster.get("Service", match.namespace or "", match.service or "")
    service_port = backend_port(service, match.port) if service is not None else None
    endpoints = (
        ready_endpoints(cluster, match.namespace or "", match.service or "", service_port)
        if service_port is not None
        else []
    )
    if not endpoints:
        ingress_name = "/".join(match.ingress) if match.ingress else str(match.namespace)
        namespace, name = match.ingress or (match.namespace or "", "")
        if service is None:
            what = "does not exist"
            cause = Reason(
                f"Ingress {ingress_name}'s {match.field}.name is {match.service}, and there is "
                f"no Service {match.service} in namespace {match.namespace} (an Ingress names "
                "Services of its own namespace only), so ingress-nginx answers 503 Service "
                "Temporarily Unavailable.",
                field_cause("Ingress", namespace, name, f"{match.field}.name") if name else None,
            )
        elif service_port is None:
            what = f"has no port {match.port}"
            cause = missing_service_port(ingress_name, match.field, match.port or "", service)
        else:
            what = "has no ready endpoints"
            empty = service_without_endpoints(
                cluster,
                match.namespace or "",
                match.service or "",
                service_port.get("name", ""),
            )
            cause = Reason(
                empty + " So ingress-nginx answers 503 Service Temporarily Unavailable.",
                cause_of(empty),
            )
        _answer(
            run,
            controller,
            node,
            packet,
            503,
            f"ingress-nginx {terminated}picks Service {match.service}, which {what}: it answers 503 Service Temporarily Unavailable.",
            Reason(f"{match.explanation}. {cause}", cause_of(cause)),
        )
        return
    run.via = (match.namespace or "", match.service or "", service_port.get("name", ""))
    noted = None
    if str(match.port) not in (str(service_port.get("port")), service_port.get("name")):
        ingress_name = "/".join(match.ingress) if match.ingress else str(match.namespace)
        if match.ingress:  # said when the trace is delivered: this field is then its cause
            key = "name" if isinstance(match.port, str) else "number"
            noted = field_cause(
                "Ingress", match.ingress[0], match.ingress[1], f"{match.field}.port.{key}"
            )
        run.notes.append(
            f"Note: Ingress {ingress_name}'s {match.field}.port."
            f"{'name' if isinstance(match.port, str) else 'number'} is {match.port}, which is not a "
            f"port of Service {match.namespace}/{match.service} but its targetPort; ingress-nginx "
            "also accepts a Service port's targetPort there, other controllers answer 503. The "
            f"Ingress API means the Service's port: set it to {service_port.get('port')}."
        )
    ip, port, _pod = endpoints[run.seed % len(endpoints)]
    client_ip = packet.src_ip
    headers = {
        "Host": host,
        "X-Forwarded-For": client_ip,
        "X-Real-IP": client_ip,
        "X-Forwarded-Proto": scheme,
        "X-Forwarded-Host": host,
    }
    controller_ip = (controller.get("status") or {}).get("podIP", "")
    upstream = Packet(
        controller_ip,
        ephemeral_port(run.seed, 2),
        ip,
        port,
        "TCP",
        None,
        {"host": host, "path": path, "scheme": "http", "headers": headers},
    )
    run.add(
        Hop(
            node,
            "ingress-nginx",
            "proxy",
            f"ingress-nginx {terminated}matches it: {match.explanation}. It opens a second "
            f"connection from its own pod IP {controller_ip} straight to endpoint {ip}:{port} "
            f"(not through the ClusterIP), adding X-Forwarded-For: {client_ip}.",
            upstream,
            at=at,
            why=why_.ingress_why(match, service_port, f"{ip}:{port}"),
        )
    )
    # The controller dials the pod directly; its node's rules and policies still apply.
    through_node(run, node, upstream, False, node)
    if run.trace.verdict == "delivered" and run.trace.endpoint:
        if noted and run.trace.cause is None:
            run.trace.cause = noted
        run.trace.reason += (
            f" ingress-nginx passed the address it saw along as X-Forwarded-For: {client_ip}."
        )
        if client_ip != run.source.ip:
            run.trace.reason += (
                f" That is not the client's {run.source.ip}: the controller's Service has "
                "externalTrafficPolicy: Cluster, so the node masqueraded the connection; with "
                "Local the client's address would reach the controller."
            )


def _answer(
    run: Any,
    controller: dict[str, Any],
    node: str,
    packet: Packet,
    status: int,
    summary: str,
    reason: str,
) -> None:
    """ingress-nginx answers the request itself (404, 503, a redirect): the connection worked,
    and the client gets an HTTP status instead of the application's answer."""
    run.add(
        Hop(
            node,
            "ingress-nginx",
            "deliver",
            summary,
            packet,
            at=datapath.pod_at(controller),
            why=why_.ingress_answer_why(run.cluster, packet, status),
        )
    )
    said = Reason(
        f"HTTP {status} from ingress-nginx, not from an application pod: {reason}",
        cause_of(reason),
    )
    answered_by_proxy(run, controller, node, packet, status, said)


def backend_port(service: dict[str, Any], port: int | str | None) -> dict[str, Any] | None:
    """The Service port an Ingress backend's ``port`` names, as ingress-nginx looks it up.

    ingress-nginx (``serviceEndpoints`` in its controller) takes the first Service port whose
    ``port``, ``targetPort`` or ``name`` equals the backend's port, compared as text: so a
    backend ``port.number`` equal to a numeric ``targetPort`` works there, though the
    Ingress API means the Service's port. None when no port matches: the upstream then has
    no endpoints, and ingress-nginx answers 503.

    >>> svc = {"spec": {"ports": [{"name": "web", "port": 80, "targetPort": "http"}]}}
    >>> backend_port(svc, 80)["port"], backend_port(svc, "web")["port"]
    (80, 80)
    >>> backend_port(svc, 8080) is None
    True
    """
    if port is None:
        return None
    wanted = str(port)
    for service_port in (service.get("spec") or {}).get("ports") or []:
        target = service_port.get("targetPort", service_port.get("port"))
        if wanted in (str(service_port.get("port")), str(target), service_port.get("name")):
            return service_port
    return None


def _backend_endpoints(
    cluster: Any, namespace: str, name: str, port: int | str | None
) -> list[tuple[str, int, str]] | None:
    """The ready ``(ip, port, pod)`` an Ingress backend leads to: None when the Service does
    not exist, ``[]`` when it has no such port (see :func:`backend_port`) or no ready pod."""
    service = cluster.get("Service", namespace, name)
    if service is None:
        return None
    service_port = backend_port(service, port)
    if service_port is None:
        return []
    return ready_endpoints(cluster, namespace, name, service_port)


def ready_endpoints(
    cluster: Any, namespace: str, name: str, service_port: dict[str, Any]
) -> list[tuple[str, int, str]]:
    """The ready ``(ip, targetPort, pod name)`` behind one port of Service ``namespace/name``,
    from its EndpointSlices (the slice port of the same name), sorted."""
    found = []
    for slice_ in slices_of(cluster, namespace, name):
        slice_port = next(
            (
                p
                for p in slice_.get("ports") or []
                if p.get("name", "") == service_port.get("name", "")
            ),
            None,
        )
        if slice_port is None:
            continue
        for endpoint in slice_.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready"):
                pod = (endpoint.get("targetRef") or {}).get("name", "")
                found.append((endpoint["addresses"][0], slice_port["port"], pod))
    return sorted(found)
