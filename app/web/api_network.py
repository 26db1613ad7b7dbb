"""The network half of the JSON API: trace, traffic, DNS and kube-proxy rules, and switching
the CNI plugin or kube-proxy mode."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from app.cluster import constants as c
from app.cluster import families, rebuild
from app.cluster.cilium_config import replaces_kube_proxy
from app.cluster.cluster import Cluster
from app.errors import FieldError, InvalidObjects, NotFound
from app.network import dns, kubeproxy
from app.network.cilium import rules as cilium_rules
from app.network.dns_records import QTYPES
from app.network.trace import trace
from app.network.traffic import send_traffic
from app.web import api_bodies as bodies
from app.web import openapi as oa
from app.web.api import WorkspaceId, read_json, workspaces

router = APIRouter(prefix="/api/v1", tags=["network"])

MAX_TRAFFIC = 10_000
#: The longest ``to`` a trace takes.
MAX_TARGET = 2048

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(\.{_OCTET}){{3}}"
#: What ``from`` may say (``targets.parse_source``, which trims blanks first).
SOURCE_PATTERN = (
    rf"^\s*(external(/({_IPV4}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*))?|node/[^/]*|pod/[^/]*/[^/]*)\s*$"
)
#: A name a resolver would send (``dns_records.check_name``: trimmed, in any letter case,
#: which the answer keeps).
DNS_NAME_PATTERN = r"^\s*[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*\.?\s*$"
SOURCE_TEXT = (
    "pod/<namespace>/<name>, node/<name>, external or external/<IPv4 or IPv6 address>; a pod or "
    "node that does not exist is a 404, a pod without an IP yet a 422."
)


class TraceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, strict=True)

    source: str = Field(
        alias="from",
        description=SOURCE_TEXT,
        examples=["pod/default/client", "external"],
        **oa.limits(pattern=SOURCE_PATTERN),
    )
    to: str = Field(
        description="A URL (http://web/api, http://shop.example.com/cart, http://10.0.0.11:30080/) "
        "or host:port, optionally with /udp: http or https, a DNS name or an IP address (IPv6 "
        "in brackets: http://[fd00:10:96::1234]/, [fd00:10:96::a]:53/udp), a "
        f"port 1-65535, no blanks inside, at most {MAX_TARGET} characters.",
        examples=["http://web.default.svc.cluster.local/"],
        **oa.limits(minLength=1, maxLength=MAX_TARGET),
    )
    seed: oa.WholeNumber = Field(
        0, description="Decides the random choices (which endpoint), for repeatable traces."
    )
    method: str = Field(
        "GET",
        description="The HTTP method (an RFC 9110 token, at most 32 characters): HTTPRoute "
        "method matches read it; ingress-nginx ignores it.",
        examples=["POST"],
        **oa.limits(minLength=1, maxLength=32, pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"),
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Request headers, name → value (names RFC 9110 tokens up to 128 characters, "
        "values up to 1024, at most 32): HTTPRoute header matches read them and Envoy passes "
        "them on; a Host header sets the Host sent. ingress-nginx matches host and path only.",
        examples=[{"env": "canary"}],
    )
    ipFamily: str | None = Field(
        None,
        description="On a cluster with IPv6: resolve the name to this family only, as curl -4 "
        "or -6 does; by default a client with both addresses tries IPv6 first (curl's happy "
        "eyeballs). A URL with an address (http://[fd00:10:96::1234]/) uses its family.",
        **oa.enum(["IPv4", "IPv6", None]),
    )


class TrafficRequest(TraceRequest):
    count: oa.WholeNumber = Field(
        100,
        description=f"How many requests to send, 1 to {MAX_TRAFFIC}.",
        **oa.limits(minimum=1, maximum=MAX_TRAFFIC),
    )


class NetworkSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    cni: str | None = Field(
        None,
        description="The CNI plugin; omitted (or null) keeps the current one.",
        **oa.enum([*c.CNI_PLUGINS, None]),
    )
    proxyMode: str | None = Field(
        None,
        description="The kube-proxy mode; omitted (or null) keeps the current one. Refused "
        "while Cilium replaces kube-proxy.",
        **oa.enum([*c.PROXY_MODES, None]),
    )
    kubeProxyReplacement: bool | None = Field(
        None,
        description="With Cilium: whether its eBPF replaces kube-proxy; omitted keeps it.",
    )
    routingMode: str | None = Field(
        None,
        description="With Cilium: tunnel or native; omitted keeps it.",
        **oa.enum([*c.CILIUM_ROUTING_MODES, None]),
    )
    loadBalancerMode: str | None = Field(
        None,
        description="With Cilium replacing kube-proxy: snat or dsr (dsr needs routingMode "
        "native); omitted keeps it.",
        **oa.enum([*c.CILIUM_LB_MODES, None]),
    )


@router.post(
    "/workspaces/{workspace_id}/settings",
    summary="Switch the CNI plugin or kube-proxy mode: every name kept, addresses change",
    responses={200: oa.ok(bodies.SwitchReport, "What changed, old → new."), **oa.CHANGE},
)
def switch_settings(request: Request, workspace_id: WorkspaceId, body: NetworkSettings) -> Response:
    """The same switch as the sandbox's form; the answer says what changed: the settings
    and pod network old → new, each node's pod range and each pod's IP old → new, and the
    report's ``lines`` as the page shows them."""
    report = workspaces(request).change(
        workspace_id,
        lambda cluster: rebuild.switch(
            cluster,
            cni=body.cni,
            proxy_mode=body.proxyMode,
            kube_proxy_replacement=body.kubeProxyReplacement,
            routing_mode=body.routingMode,
            load_balancer_mode=body.loadBalancerMode,
        ),
    )
    return JSONResponse(report.to_dict())


@router.post(
    "/workspaces/{workspace_id}/trace",
    summary="Trace one request hop by hop",
    responses={200: oa.ok(bodies.Trace, "The trace."), **oa.QUERY},
)
def trace_request(request: Request, workspace_id: WorkspaceId, body: TraceRequest) -> Response:
    return read_json(
        request,
        workspace_id,
        lambda cluster: trace(
            cluster,
            body.source,
            body.to,
            body.seed,
            method=body.method,
            headers=body.headers,
            ip_family=body.ipFamily,
        ).to_dict(),
    )


@router.post(
    "/workspaces/{workspace_id}/traffic",
    summary="Send many requests and count where they land",
    responses={200: oa.ok(bodies.Traffic, "Where the requests landed."), **oa.QUERY},
)
def traffic(request: Request, workspace_id: WorkspaceId, body: TrafficRequest) -> Response:
    if not 1 <= body.count <= MAX_TRAFFIC:
        raise InvalidObjects(
            f"count must be between 1 and {MAX_TRAFFIC}",
            [
                FieldError(
                    "count",
                    f"Invalid value: {body.count}: must be between 1 and {MAX_TRAFFIC}, inclusive",
                )
            ],
        )
    return read_json(
        request,
        workspace_id,
        lambda cluster: send_traffic(
            cluster,
            body.source,
            body.to,
            body.count,
            body.seed,
            body.method,
            body.headers,
            body.ipFamily,
        ),
    )


@router.get(
    "/workspaces/{workspace_id}/dns",
    summary="Look a name up as a pod's resolver would",
    responses={200: oa.ok(bodies.DnsResolution, "Each name tried and the answer."), **oa.READ},
)
def dns_lookup(
    request: Request,
    workspace_id: WorkspaceId,
    name: Annotated[
        str,
        Query(
            max_length=255,
            description="The name to look up: labels of 1 to 63 letters, digits, `-` or `_` "
            "separated by dots, at most 253 characters, an optional trailing dot.",
            json_schema_extra={"pattern": DNS_NAME_PATTERN},
        ),
    ],
    source: Annotated[
        str,
        Query(alias="from", description=SOURCE_TEXT, json_schema_extra={"pattern": SOURCE_PATTERN}),
    ] = "external",
    type: Annotated[
        str,
        Query(
            description="The record type, in any letter case.",
            json_schema_extra={"enum": list(QTYPES)},
        ),
    ] = "A",
) -> Response:
    def run(cluster: Cluster) -> dict[str, Any]:
        from app.network.targets import parse_source

        client = parse_source(cluster, source)
        return dns.resolve(cluster, client.pod, name, type.upper()).to_dict()

    return read_json(request, workspace_id, run)


@router.get(
    "/workspaces/{workspace_id}/rules",
    summary="The NAT rules a node's kube-proxy programs",
    responses={200: oa.ok(bodies.RuleSet, "The rules, as text and by chain."), **oa.READ},
)
def node_rules(
    request: Request,
    workspace_id: WorkspaceId,
    node: Annotated[
        str, Query(description="The node's name (a 404 if there is none)")
    ] = "worker-1",
    mode: Annotated[
        str | None,
        Query(
            description="The kube-proxy mode to show (default: the cluster's). Where Cilium "
            "replaces kube-proxy: service-list (cilium-dbg service list, the default), "
            "bpf-lb-list (cilium-dbg bpf lb list) or iptables (the node's iptables-save: "
            "Cilium's chains, no kube-proxy's).",
            json_schema_extra={"enum": [*c.PROXY_MODES, "service-list", "bpf-lb-list"]},
        ),
    ] = None,
    family: Annotated[
        str | None,
        Query(
            description="IPv4 or IPv6: which of kube-proxy's proxiers (a dual-stack node runs "
            "one per family: iptables-save or ip6tables-save, table ip or ip6 kube-proxy). "
            "Default: the cluster's primary family; one the cluster lacks is a 422.",
            json_schema_extra={"enum": ["IPv4", "IPv6"]},
        ),
    ] = None,
) -> Response:
    def check_family(cluster: Cluster) -> None:
        # Checked before the plugin matters: a bogus family is a 422 on every cluster.
        have = families.of(cluster.config)
        if family is not None and family not in have:
            listed = ", ".join(f'"{f}"' for f in have)
            message = f'Unsupported value: "{family}": supported values: {listed}'
            raise InvalidObjects(f"family: {message}", [FieldError("family", message)])

    def cilium(cluster: Cluster) -> dict[str, Any]:
        if cluster.get("Node", "", node) is None:
            raise NotFound(f'nodes "{node}" not found')
        check_family(cluster)
        if mode is not None and mode not in cilium_rules.VIEWS:
            listed = ", ".join(f'"{m}"' for m in cilium_rules.VIEWS)
            raise InvalidObjects(
                f"unsupported mode {mode}",
                [
                    FieldError(
                        "mode",
                        f'Unsupported value: "{mode}": supported values: {listed} (no '
                        "kube-proxy runs: Cilium replaces it)",
                    )
                ],
            )
        ruleset = cilium_rules.ruleset(cluster, node, mode, family)
        return {"node": ruleset.node, "mode": ruleset.mode, "text": ruleset.text, "chains": []}

    replaced = workspaces(request).read(
        workspace_id, lambda cluster: replaces_kube_proxy(cluster.config)
    )
    if replaced:
        return read_json(request, workspace_id, cilium)
    if mode is not None and mode not in c.PROXY_MODES:
        listed = ", ".join(f'"{m}"' for m in c.PROXY_MODES)
        raise InvalidObjects(
            f"unsupported mode {mode}",
            [FieldError("mode", f'Unsupported value: "{mode}": supported values: {listed}')],
        )

    def run(cluster: Cluster) -> dict[str, Any]:
        if cluster.get("Node", "", node) is None:
            raise NotFound(f'nodes "{node}" not found')
        check_family(cluster)
        ruleset = kubeproxy.rules(cluster, node, mode, family)
        return {
            "node": ruleset.node,
            "mode": ruleset.mode,
            "text": ruleset.text,
            "chains": ruleset.chains,
        }

    return read_json(request, workspace_id, run)
