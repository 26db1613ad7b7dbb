"""What the DNS servers read of a cluster, once per call: its Services and Namespaces, the
EndpointSlices by Service, the names behind an address (for PTR), and the hosts of the Ingresses
and Gateways the outside world resolves.
"""

from __future__ import annotations

from typing import Any

from app.cluster import constants as c
from app.network import ingress as ingress_rules
from app.network.dns_names import dashed, service_fqdn
from app.network.gateway.names import gateway_address


class Lookups:
    """Indexes over one cluster's objects, each built on first use and kept for one call.

    Direct questions (a Service, a Namespace, a Pod) go to ``cluster.get``; the indexes that
    need a scan (EndpointSlices by Service, addresses for PTR, Ingress hosts) are built once,
    only when a query needs them. Nothing outlives the object, so no state leaks between calls.

    Parameters
    ----------
    cluster : Cluster
        Read through ``cluster.get`` and ``cluster.list`` (and, when it has one, the state's
        index of EndpointSlices by Service).

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> look = Lookups(Cluster.create(seed=1))
    >>> look.namespace_exists("kube-system"), look.namespace_exists("shop")
    (True, False)
    >>> look.service("kube-system", "kube-dns")["spec"]["clusterIP"]
    '10.96.0.10'
    >>> [s["metadata"]["name"][:9] for s in look.slices("kube-system", "kube-dns")]
    ['kube-dns-']
    """

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self._slices: dict[tuple[str, str], list[dict[str, Any]]] | None = None
        self._hosts: tuple[dict[str, str], list[tuple[str, str]]] | None = None

    def namespace_exists(self, namespace: str) -> bool:
        """Whether the Namespace exists (``<ns>.svc.<zone>`` is NODATA, not NXDOMAIN)."""
        return self.cluster.get("Namespace", "", namespace) is not None

    def service(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The Service, or None."""
        return self.cluster.get("Service", namespace, name)

    def slices(self, namespace: str, service: str) -> list[dict[str, Any]]:
        """The EndpointSlices labelled for one Service, by name. The cluster state's own
        ``slices_by_service`` index answers when it is there; otherwise one scan builds it."""
        index = getattr(getattr(self.cluster, "state", None), "slices_by_service", None)
        if index is not None and self._slices is None:
            found = (
                self.cluster.get(k.kind, k.namespace, k.name)
                for k in sorted(index.get((namespace, service), ()))
            )
            return [item for item in found if item is not None]
        return self._slice_index().get((namespace, service), [])

    def _slice_index(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        if self._slices is None:
            self._slices = {}
            for item in self.cluster.list("EndpointSlice"):
                owner = (item["metadata"].get("labels") or {}).get(c.SERVICE_NAME_LABEL)
                if owner:
                    key = (item["metadata"].get("namespace", ""), owner)
                    self._slices.setdefault(key, []).append(item)
        return self._slices

    def endpoint_hostname(self, namespace: str, service: str, endpoint: dict, ip: str) -> str:
        """The endpoint's ``hostname``, else its dashed address (CoreDNS ``endpointHostname``).

        The EndpointSlice controller copies a pod's ``hostname`` only when the pod's
        ``subdomain`` names this Service (Kubernetes' endpointslice utils); a hostname on an
        endpoint of a pod whose subdomain differs is ignored here for the same reason.
        """
        hostname = endpoint.get("hostname")
        if hostname:
            ref = endpoint.get("targetRef") or {}
            if ref.get("kind") != "Pod":
                return str(hostname).lower()
            pod = self.cluster.get("Pod", ref.get("namespace") or namespace, ref.get("name", ""))
            if pod is None or (pod.get("spec") or {}).get("subdomain") == service:
                return str(hostname).lower()
        return dashed(ip)

    def ptr_targets(self, ip: str) -> list[str]:
        """What CoreDNS's ``serviceRecordForIP`` finds: the Service holding this ClusterIP, else
        every ready endpoint with this address (``<hostname>.<svc>.<ns>.svc.<zone>``).

        Parameters
        ----------
        ip : str
            The address a PTR query names (:func:`app.network.dns_names.address_from_reverse`).

        Returns
        -------
        list of str
            The FQDNs the PTR records point at, in order; empty when no Service or ready
            endpoint holds the address (CoreDNS then falls through to forward).

        Examples
        --------
        >>> from app.cluster.cluster import Cluster
        >>> look = Lookups(Cluster.create(seed=1))
        >>> look.ptr_targets("10.96.0.10"), look.ptr_targets("192.0.2.1")
        (['kube-dns.kube-system.svc.cluster.local.'], [])
        """
        for svc in self.cluster.list("Service"):
            spec = svc.get("spec") or {}
            if ip in (spec.get("clusterIPs") or [spec.get("clusterIP")]):
                return [service_fqdn(svc["metadata"]["namespace"], svc["metadata"]["name"])]
        targets: list[str] = []
        for item in self.cluster.list("EndpointSlice"):
            for endpoint in item.get("endpoints") or ():
                if ip in endpoint.get("addresses", ()) and _is_ready(endpoint):
                    namespace = item["metadata"].get("namespace", "")
                    name = (item["metadata"].get("labels") or {}).get(c.SERVICE_NAME_LABEL)
                    if name:
                        host = self.endpoint_hostname(namespace, name, endpoint, ip)
                        target = f"{host}.{service_fqdn(namespace, name)}"
                        if target not in targets:
                            targets.append(target)
        return targets

    def ingress_address(self, name: str) -> str | None:
        """The ingress controller's LoadBalancer IP when ``name`` is a served Ingress's host
        (exact, else the first wildcard host that matches), else the address of the Gateway
        listening for it (:func:`app.network.gateway.names.gateway_address`), else None.

        Parameters
        ----------
        name : str
            A lower-case name without its trailing dot.

        Examples
        --------
        >>> from app.cluster.cluster import Cluster
        >>> Lookups(Cluster.create(seed=1)).ingress_address("shop.example.com") is None
        True
        """
        if self._hosts is None:
            exact: dict[str, str] = {}
            wildcards: list[tuple[str, str]] = []
            controller = self.cluster.get("Service", "ingress-nginx", "ingress-nginx-controller")
            lb = ((controller or {}).get("status") or {}).get("loadBalancer") or {}
            ip = next((i["ip"] for i in lb.get("ingress") or () if i.get("ip")), None)
            if ip:
                for ingress in ingress_rules.served_ingresses(self.cluster):
                    for rule in (ingress.get("spec") or {}).get("rules") or ():
                        host = str(rule.get("host") or "").lower()
                        if host.startswith("*."):
                            wildcards.append((host, ip))
                        elif host:
                            exact[host] = ip
            self._hosts = (exact, wildcards)
        exact, wildcards = self._hosts
        if name in exact:
            return exact[name]
        found = next((ip for host, ip in wildcards if ingress_rules.host_matches(host, name)), None)
        return found or gateway_address(self.cluster, name)


def ready_endpoints(endpoint_slice: dict[str, Any]) -> list[dict[str, Any]]:
    """Endpoints whose ``conditions.ready`` is true or unset (unset means ready, per the API).

    Parameters
    ----------
    endpoint_slice : dict
        An EndpointSlice.

    Returns
    -------
    list of dict
        Its ready endpoints, in order.

    Examples
    --------
    >>> item = {"endpoints": [{"addresses": ["10.244.1.5"]},
    ...                       {"addresses": ["10.244.2.7"], "conditions": {"ready": False}}]}
    >>> [e["addresses"] for e in ready_endpoints(item)]
    [['10.244.1.5']]
    """
    return [e for e in endpoint_slice.get("endpoints") or () if _is_ready(e)]


def _is_ready(endpoint: dict[str, Any]) -> bool:
    return (endpoint.get("conditions") or {}).get("ready") is not False
