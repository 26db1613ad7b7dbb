"""The discovery documents kubectl reads before anything else: ``/version``, ``/api``,
``/apis``, each group version's resource list, and the aggregated form (``apidiscovery.k8s.io``
v2) that newer clients ask for first.
"""

from __future__ import annotations

from typing import Any

from app.cluster.constants import KUBELET_VERSION
from app.kubeapi.resources import RESOURCES, Resource, groups, in_group


def version() -> dict[str, str]:
    """``/version``: the server's version, the one the nodes' kubelets run.

    >>> version()["gitVersion"] == KUBELET_VERSION
    True
    """
    major, minor, _patch = KUBELET_VERSION.lstrip("v").split(".")
    return {
        "major": major,
        "minor": minor,
        "gitVersion": KUBELET_VERSION,
        "gitCommit": "podpath",
        "gitTreeState": "clean",
        "buildDate": "2024-08-13T07:28:49Z",
        "goVersion": "go1.22.5",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions() -> dict[str, Any]:
    """``/api``: the core group's versions."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "podpath"}],
    }


def api_group_list() -> dict[str, Any]:
    """``/apis``: every named group with its one version.

    >>> [g["name"] for g in api_group_list()["groups"]]
    ['apps', 'discovery.k8s.io', 'networking.k8s.io', 'gateway.networking.k8s.io']
    >>> [v["version"] for v in api_group_list()["groups"][-1]["versions"]]
    ['v1', 'v1beta1']
    """
    listed: dict[str, dict[str, Any]] = {}
    for group, version_name in groups():
        if not group:
            continue
        gv = {"groupVersion": f"{group}/{version_name}", "version": version_name}
        entry = listed.setdefault(group, {"name": group, "versions": [], "preferredVersion": gv})
        entry["versions"].append(gv)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": list(listed.values())}


def resource_list(group: str, version_name: str) -> dict[str, Any] | None:
    """``/api/v1`` or ``/apis/<group>/<version>``: the resources there, or None.

    >>> [r["name"] for r in resource_list("apps", "v1")["resources"]]
    ['daemonsets', 'deployments', 'deployments/scale', 'replicasets']
    """
    served = in_group(group, version_name)
    if not served:
        return None
    resources: list[dict[str, Any]] = []
    for resource in served:
        entry: dict[str, Any] = {
            "name": resource.plural,
            "singularName": resource.singular,
            "namespaced": resource.namespaced,
            "kind": resource.kind,
            "verbs": list(resource.verbs),
        }
        if resource.short_names:
            entry["shortNames"] = list(resource.short_names)
        if resource.categories:
            entry["categories"] = list(resource.categories)
        resources.append(entry)
        if resource.scalable:
            resources.append(_scale_entry(resource))
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version_name}" if group else version_name,
        "resources": resources,
    }


def _scale_entry(resource: Resource) -> dict[str, Any]:
    return {
        "name": f"{resource.plural}/scale",
        "singularName": "",
        "namespaced": resource.namespaced,
        "group": "autoscaling",
        "version": "v1",
        "kind": "Scale",
        "verbs": ["get", "patch", "update"],
    }


def aggregated(core: bool, discovery_version: str = "v2") -> dict[str, Any]:
    """The aggregated discovery document of ``/api`` (``core``) or ``/apis``: every group,
    its versions and their resources in one answer.

    >>> [g["metadata"]["name"] for g in aggregated(core=False)["items"]]
    ['apps', 'discovery.k8s.io', 'networking.k8s.io', 'gateway.networking.k8s.io']
    >>> aggregated(core=True)["items"][0]["versions"][0]["resources"][0]["resource"]
    'configmaps'
    """
    items: dict[str, dict[str, Any]] = {}
    for group, version_name in groups():
        if bool(group) == core:
            continue
        resources = []
        for resource in in_group(group, version_name):
            entry: dict[str, Any] = {
                "resource": resource.plural,
                "responseKind": {"group": group, "version": version_name, "kind": resource.kind},
                "scope": "Namespaced" if resource.namespaced else "Cluster",
                "singularResource": resource.singular,
                "verbs": list(resource.verbs),
            }
            if resource.short_names:
                entry["shortNames"] = list(resource.short_names)
            if resource.categories:
                entry["categories"] = list(resource.categories)
            if resource.scalable:
                entry["subresources"] = [
                    {
                        "subresource": "scale",
                        "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
                        "verbs": ["get", "patch", "update"],
                    }
                ]
            resources.append(entry)
        # One item per group, its versions in preference order (the first is preferred).
        item = items.setdefault(
            group, {"metadata": {"name": group, "creationTimestamp": None}, "versions": []}
        )
        item["versions"].append(
            {"version": version_name, "resources": resources, "freshness": "Current"}
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{discovery_version}",
        "metadata": {},
        "items": list(items.values()),
    }


def aggregated_version(accept: str) -> str | None:
    """The aggregated discovery version an Accept header asks for first (``v2``, or
    ``v2beta1`` from kubectl 1.26 to 1.29), or None for the plain documents.

    >>> aggregated_version("application/json;g=apidiscovery.k8s.io;v=v2beta1;"
    ...                    "as=APIGroupDiscoveryList,application/json")
    'v2beta1'
    >>> aggregated_version("application/json, */*") is None
    True
    """
    for entry in accept.replace(" ", "").split(","):
        params = dict(p.split("=", 1) for p in entry.split(";")[1:] if "=" in p)
        if params.get("as") == "APIGroupDiscoveryList" and params.get("v") in ("v2", "v2beta1"):
            return params["v"]
    return None


def aggregated_type(version_name: str) -> str:
    """The Content-Type of an aggregated discovery answer."""
    return f"application/json;g=apidiscovery.k8s.io;v={version_name};as=APIGroupDiscoveryList"


__all__ = ["RESOURCES", "aggregated", "api_group_list", "api_versions", "resource_list", "version"]
