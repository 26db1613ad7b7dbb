"""``GET /w/{id}/export/kind``: the sandbox as a zip to replay on a kind cluster
(:mod:`app.cluster.kind_export`)."""

from __future__ import annotations

import io
import zipfile

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.cluster.cluster import Cluster
from app.cluster.kind_export import (
    CLUSTER_NAME,
    kind_config_yaml,
    kind_manifests,
    replay_script,
)
from app.terminal import replay

router = APIRouter(include_in_schema=False)

README = """Your Podpath sandbox, for a real cluster made with kind (https://kind.sigs.k8s.io).

  kind-config.yaml  the cluster: the sandbox's nodes, pod and Service subnets, kube-proxy mode
  manifests.yaml    everything you made, for kubectl apply -f
  replay.sh         makes the cluster, installs the CNI plugin, applies your objects and sends
                    your traced requests again; read its top first: a real cluster differs

You need Docker, kind and kubectl. Then:

  sh replay.sh

When you are done:  kind delete cluster --name {name}

replay.sh runs again the requests and lookups you ran in the Terminal (curl, wget, nslookup,
dig, ping, nc, from your machine, through kubectl exec or in a pod's shell), lists your
changes (kubectl create, scale…; manifests.yaml already holds their result) in the order you
made them, and the traces and lookups of the trace bar and DNS tab during a lesson. The
sandbox keeps your last {keep} Terminal commands.
"""

#: A fixed time for the zip's entries, so the same sandbox gives the same bytes.
ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def kind_zip(cluster: Cluster) -> bytes:
    """The four files, zipped."""
    files = {
        "kind-config.yaml": kind_config_yaml(cluster),
        "manifests.yaml": kind_manifests(cluster),
        "replay.sh": replay_script(cluster),
        "README.txt": README.format(name=CLUSTER_NAME, keep=replay.KEEP),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(f"podpath-kind/{name}", ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o755 if name.endswith(".sh") else 0o644) << 16
            archive.writestr(info, text)
    return buffer.getvalue()


@router.get("/w/{workspace_id}/export/kind")
def export_for_kind(request: Request, workspace_id: str) -> Response:
    data = request.app.state.workspaces.read(workspace_id, kind_zip)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="podpath-kind.zip"'},
    )
