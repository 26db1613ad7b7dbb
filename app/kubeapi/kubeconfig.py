"""The kubeconfig that points kubectl at one workspace's API."""

from __future__ import annotations

from app.cluster.manifests import dump_manifests


def context_name(workspace_id: str) -> str:
    """The cluster, user and context name for a workspace: short, but its own.

    >>> context_name("Zx8-abcdefghijklmnopqrstuvwxyz")
    'podpath-zx8-abcd'
    """
    return "podpath-" + workspace_id[:8].lower().replace("_", "-")


def kubeconfig_yaml(server: str, workspace_id: str) -> str:
    """A kubeconfig (``kind: Config``) with one cluster, user and context for the workspace.
    The workspace's unguessable URL is the only key: the user holds no credentials.

    >>> text = kubeconfig_yaml("http://127.0.0.1:8000/k/abc12345", "abc12345")
    >>> "server: http://127.0.0.1:8000/k/abc12345" in text, "current-context: podpath-abc12345" in text
    (True, True)
    """
    name = context_name(workspace_id)
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server}}],
        "users": [{"name": name, "user": {}}],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}
        ],
        "current-context": name,
        "preferences": {},
    }
    return dump_manifests([config])
