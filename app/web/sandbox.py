"""The sandbox page, ``/w/{id}``: the cluster map and the side panel's tabs (its traces and
Send 100 are :mod:`app.web.traces`').

Every action is a plain form or link first; htmx swaps just the part that changed (the
panel, the map, the trace) when JavaScript is there.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app.cluster import constants as c
from app.cluster import families, rebuild
from app.cluster.apply import apply_text
from app.cluster.cilium_config import replaces_kube_proxy
from app.cluster.cluster import Cluster
from app.cluster.deletion import deletion_lines
from app.cluster.export import export_yaml
from app.cluster.manifests import dump_manifests
from app.cluster.objects import key_of, kind_from_alias
from app.errors import NotFound, PodpathError
from app.lessons.activity import dns_record
from app.network import dns, kubeproxy
from app.network.targets import parse_source
from app.network.trace import trace
from app.render.forms import forms_view
from app.render.map import build_map
from app.render.reachability import reachability_view
from app.render.sandbox import (
    object_details,
    rules_view,
    source_options,
    target_suggestions,
)
from app.render.tables import workspace_view
from app.render.yaml_lines import highlighted
from app.store.classes import class_note
from app.web.classroom import class_bar
from app.web.cni_form import EBPF, switch_choices
from app.web.lessons import active_lesson_view, record_activity
from app.web.live.feed import objects_tag
from app.web.rendering import CLUSTER_CHANGED, WhenDrawn, is_htmx, render
from app.web.rules_cilium import rules_extra
from app.web.trace_form import METHODS

router = APIRouter(include_in_schema=False)

TABS = ("build", "yaml", "trace", "objects", "reachability", "rules", "dns", "events")


def view_context(
    cluster: Cluster,
    workspace_id: str,
    tab: str,
    show_system: bool,
    extra: dict[str, Any],
    namespace: str | None = None,
) -> dict[str, Any]:
    """Everything the page shows, built while the workspace is locked (nothing shared)."""
    namespaces = [n["metadata"]["name"] for n in cluster.list("Namespace")]
    namespace = namespace if namespace in namespaces else None
    show = show_system or namespace is not None
    # The views are built once per state of the cluster: a class of students reloading,
    # opening tabs and following the teacher mostly asks again about an unchanged cluster.
    memo = cluster.state.memoised
    return {
        "ns_filter": namespace,  # not "namespace": that would hide Jinja's namespace()
        "namespaces": namespaces,
        "workspace_id": workspace_id,
        "tab": tab,
        "tabs": TABS,
        "show_system": show_system,
        "view": memo("render.view", lambda: workspace_view(cluster)),
        "map": memo(
            f"render.map.{show}.{namespace}",
            lambda: build_map(cluster, show_system=show, namespace=namespace),
        ),
        "sources": memo("render.sources", lambda: source_options(cluster)),
        "suggestions": memo("render.suggestions", lambda: target_suggestions(cluster)),
        "node_names": [n["metadata"]["name"] for n in cluster.list("Node")],
        "proxy_modes": (*c.PROXY_MODES, EBPF),
        "cni_plugins": c.CNI_PLUGINS,
        "http_methods": METHODS,
        "forms": memo("render.forms", lambda: forms_view(cluster)),
        "objects_tag": objects_tag(cluster),  # what the page shows (static/js/live.js)
        "reach": memo(
            f"render.reach.{show_system}.{namespace}",
            lambda: reachability_view(cluster, show_system, namespace),
        )
        if tab == "reachability"
        else None,
        **extra,
    }


def map_view(request: Request) -> tuple[bool, str | None]:
    """The view of the map the page shows (system pods or not, and the namespace it filters
    on), as an htmx request says it (static/js/stage.js); a plain request says nothing."""
    if not is_htmx(request):
        return False, None
    system = request.headers.get("X-Podpath-System") == "1"
    return system, request.headers.get("X-Podpath-Namespace") or None


def page_context(
    request: Request,
    workspace_id: str,
    tab: str,
    show_system: bool,
    build: Any = None,
    namespace: str | None = None,
) -> dict[str, Any]:
    # An answer that redraws the map, or places a trace on it, keeps the view the page shows.
    shown_system, shown_namespace = map_view(request)
    show_system, namespace = show_system or shown_system, namespace or shown_namespace

    def read(cluster: Cluster) -> dict[str, Any]:
        extra = build(cluster) if build else {}
        context = view_context(cluster, workspace_id, tab, show_system, extra, namespace)
        context["lesson"] = active_lesson_view(request, cluster)
        context["class_note"] = class_note(cluster)
        return context

    store = request.app.state.workspaces
    context = store.read(workspace_id, read)
    context["classroom"] = class_bar(request, context["class_note"])
    context["share"] = WhenDrawn(partial(store.current_share, workspace_id))
    context["idle_days"] = store.idle_days
    context["history"] = store.shown_history(workspace_id)  # the Undo and Redo buttons
    return context


@router.get("/w/{workspace_id}")
def sandbox(
    request: Request,
    workspace_id: str,
    tab: Annotated[str, Query()] = "build",
    system: Annotated[bool, Query()] = False,
    node: Annotated[str | None, Query()] = None,
    mode: Annotated[str | None, Query()] = None,
    source: Annotated[str | None, Query(alias="from")] = None,
    to: Annotated[str | None, Query()] = None,
    seed: Annotated[int, Query()] = 0,
    name: Annotated[str | None, Query()] = None,
    type: Annotated[str, Query()] = "A",
    ns: Annotated[str | None, Query()] = None,
    edit: Annotated[str | None, Query()] = None,
    family: Annotated[str | None, Query()] = None,
) -> Response:
    tab = tab if tab in TABS else "build"

    def build(cluster: Cluster) -> dict[str, Any]:
        extra: dict[str, Any] = {"bar_query": {"from": source, "to": to}}
        if tab == "yaml":
            extra["export_yaml"] = export_yaml(cluster)
            if edit:
                extra["manifest"] = editable_manifest(cluster, edit)
        if tab == "rules" and replaces_kube_proxy(cluster.config):
            extra.update(rules_extra(cluster, node, mode, source, to, seed))
        elif tab == "rules":
            nodes = [n["metadata"]["name"] for n in cluster.list("Node")]
            chosen = node if node in nodes else (nodes[1] if len(nodes) > 1 else nodes[0])
            chosen_mode = mode if mode in c.PROXY_MODES else cluster.config.proxy_mode
            highlight: list[str] = []
            have = families.of(cluster.config)
            shown = family if family in have else have[0]  # kube-proxy's proxier per family
            if source and to:
                try:
                    result = trace(cluster, source, to, seed)
                    if family not in have and any(":" in h.packet.dst_ip for h in result.hops):
                        shown = "IPv6"  # the trace went over IPv6: its rules are ip6tables'
                    highlight = [
                        m["text"]
                        for hop in result.hops
                        if hop.rule and hop.node == chosen
                        for m in hop.rule.get("matched", [hop.rule])
                    ]
                except PodpathError:
                    highlight = []
            ruleset = kubeproxy.rules(cluster, chosen, chosen_mode, shown)
            extra["rules"] = rules_view(ruleset, highlight) | {
                "family": shown,
                "families": list(have) if len(have) > 1 else [],
            }
            extra["rules_query"] = {"from": source, "to": to, "seed": seed}
        if tab == "dns" and name:
            try:
                client = parse_source(cluster, source or "external")
                resolution = dns.resolve(cluster, client.pod, name, type.upper())
                extra["dns_result"] = resolution.to_dict()
                extra["activity"] = dns_record(source or "external", name, type.upper(), resolution)
            except PodpathError as error:
                extra["dns_error"] = error
            extra["dns_query"] = {"from": source, "name": name, "type": type.upper()}
        return extra

    context = page_context(request, workspace_id, tab, system, build, ns or None)
    record_activity(request, workspace_id, context)
    return render(request, "workspace.html", context, block="panel")


def _export(cluster: Cluster) -> dict[str, Any]:
    return {"export_yaml": export_yaml(cluster)}


def editable_manifest(cluster: Cluster, ref: str) -> str:
    """The YAML to start editing an object from: what the learner applied, or (for an object
    the system made) the live object without its status."""
    kind, _, rest = ref.partition("/")
    namespace, _, name = rest.partition("/")
    resolved = kind_from_alias(kind)
    obj = cluster.get(resolved, "" if namespace == "-" else namespace, name) if resolved else None
    if obj is None:
        return ""
    key = key_of(obj)
    manifest = cluster.state.applied.get(key)
    if manifest is None:
        manifest = {k: v for k, v in obj.items() if k != "status"}
        manifest["metadata"] = {
            k: v
            for k, v in obj["metadata"].items()
            if k not in ("uid", "resourceVersion", "generation", "ownerReferences")
        }
    return dump_manifests([manifest])


@router.post("/w/{workspace_id}/apply")
async def sandbox_apply(
    request: Request, workspace_id: str, manifest: Annotated[str, Form()] = ""
) -> Response:
    def run(cluster: Cluster) -> list[str]:
        result = apply_text(cluster, manifest)
        return [f"{o.kind.lower()}/{o.name} {o.action}" for o in result.objects]

    store = request.app.state.workspaces
    try:
        lines = await run_in_threadpool(store.change, workspace_id, run)
    except PodpathError as error:
        if error.status == 404:
            raise
        return await run_in_threadpool(_applied, request, workspace_id, manifest, [], error)
    return await run_in_threadpool(_applied, request, workspace_id, "", lines, None)


def _applied(
    request: Request,
    workspace_id: str,
    manifest: str,
    lines: list[str],
    error: PodpathError | None,
) -> Response:
    """The YAML tab after an apply (drawn off the event loop): what was applied, or the
    error with the learner's manifest kept to fix."""
    context = page_context(request, workspace_id, "yaml", False, _export)
    context.update(manifest=manifest, applied=lines)
    if error is not None:
        context["apply_error"] = error
        return render(request, "workspace.html", context, block="panel", status_code=error.status)
    return render(request, "workspace.html", context, block="panel", also=CLUSTER_CHANGED)


@router.post("/w/{workspace_id}/settings")
def sandbox_settings(
    request: Request,
    workspace_id: str,
    cni: Annotated[str | None, Form()] = None,
    proxy_mode: Annotated[str | None, Form()] = None,
) -> Response:
    """Switch the CNI plugin or kube-proxy mode: the same objects by the same names,
    re-addressed; the panel then says what changed (each pod's old → new address). Without
    JavaScript the whole page comes back with that report."""
    report = request.app.state.workspaces.change(
        workspace_id, lambda cluster: rebuild.switch(cluster, **switch_choices(cni, proxy_mode))
    )
    # htmx names the page it came from: stay on the learner's tab where it needs no query of
    # its own (rules, DNS and YAML do: those come back to Build), and say so in the URL.
    query = parse_qs(urlsplit(request.headers.get("HX-Current-URL", "")).query)
    keep = ("build", "trace", "objects", "reachability", "events")
    tab = next((t for t in query.get("tab", []) if t in keep), "build")
    context = page_context(request, workspace_id, tab, False)
    context.update(outcome=report.lines())
    response = render(
        request,
        "workspace.html",
        context,
        block="panel",
        also=(*CLUSTER_CHANGED, "trace_result"),  # new addresses: the trace on screen goes
    )
    if is_htmx(request):
        response.headers["HX-Push-Url"] = f"/w/{workspace_id}?tab={tab}"
    return response


@router.get("/w/{workspace_id}/objects/{kind}/{namespace}/{name}")
def sandbox_details(
    request: Request,
    workspace_id: str,
    kind: str,
    namespace: str,
    name: str,
    field: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """The details drawer: an object's YAML, its status, and what can be done to it.
    ``?field=spec.ports[0].targetPort`` opens the YAML with that field's lines highlighted
    (a trace's cause links here)."""
    resolved = kind_from_alias(kind)
    if resolved is None:
        raise NotFound(f'the server doesn\'t have a resource type "{kind}"')

    def build(cluster: Cluster) -> dict[str, Any]:
        obj = cluster.require(resolved, namespace, name)
        details = object_details(cluster, obj)
        lines = highlighted(details["yaml"], field)
        details.update(field=field, yaml_lines=lines, hits=sum(1 for x in lines if x["hit"]))
        return {"details": details}

    context = page_context(request, workspace_id, "details", False, build)
    return render(request, "workspace.html", context, block="panel")


@router.post("/w/{workspace_id}/delete")
def sandbox_delete(
    request: Request,
    workspace_id: str,
    kind: Annotated[str, Form()],
    namespace: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
) -> Response:
    """``kubectl delete``, then say what the controllers did next."""
    resolved = kind_from_alias(kind)
    if resolved is None:
        raise NotFound(f'the server doesn\'t have a resource type "{kind}"')

    def run(cluster: Cluster) -> list[str]:
        return deletion_lines(cluster, resolved, name, cluster.delete(resolved, namespace, name))

    lines = request.app.state.workspaces.change(workspace_id, run)
    context = page_context(request, workspace_id, "objects", False)
    context.update(outcome=lines)
    return render(request, "workspace.html", context, block="panel", also=CLUSTER_CHANGED)
