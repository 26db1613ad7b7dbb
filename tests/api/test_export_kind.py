"""``GET /w/<id>/export/kind``: a zip with a kind config, the manifests, a replay script and a
README; the manifests pass the real kubectl's client-side dry run."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import httpx
import pytest
import yaml

from tests.api.test_kubeapi_kubectl import KUBECTL, _need_kubectl
from tests.conftest import start_server

from .conftest import Api, new_workspace

FILES = ["kind-config.yaml", "manifests.yaml", "replay.sh", "README.txt"]


def _files(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {
            name.removeprefix("podpath-kind/"): archive.read(name).decode()
            for name in archive.namelist()
        }


def test_export_for_kind_is_a_zip_of_four_files(api: Api) -> None:
    ws = new_workspace(api, scenario="ingress-two-apps", cni="calico", proxyMode="ipvs")
    answer = api.get(f"/w/{ws}/export/kind")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    assert "attachment" in answer.headers["content-disposition"]
    files = _files(answer.content)
    assert list(files) == FILES
    config = yaml.safe_load(files["kind-config.yaml"])
    assert config["networking"]["podSubnet"] == "192.168.0.0/16"
    assert config["networking"]["kubeProxyMode"] == "ipvs"
    kinds = {d["kind"] for d in yaml.safe_load_all(files["manifests.yaml"]) if d}
    assert "Ingress" in kinds
    assert "projectcalico" in files["replay.sh"]
    # The same sandbox gives the same bytes.
    assert api.get(f"/w/{ws}/export/kind").content == answer.content


def test_the_yaml_tab_links_to_the_export(api: Api) -> None:
    ws = new_workspace(api)
    page = api.get(f"/w/{ws}?tab=yaml")
    assert page.status_code == 200
    assert f'href="/w/{ws}/export/kind"' in page.text


def test_an_unknown_workspace_is_not_found(api: Api) -> None:
    assert api.get("/w/nope/export/kind").status_code == 404


@pytest.mark.slow
def test_manifests_pass_kubectls_client_dry_run(tmp_path: Path) -> None:
    _need_kubectl()
    server = start_server(tmp_path / "data")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            manifests, config = _export_and_kubeconfig(http, tmp_path)
        done = subprocess.run(
            [KUBECTL, "--kubeconfig", str(config), "apply", "--dry-run=client", "-f", "-"],
            input=manifests,
            capture_output=True,
            text=True,
            env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "created (dry run)" in done.stdout
    finally:
        server.stop()


def _export_and_kubeconfig(http: httpx.Client, tmp_path: Path) -> tuple[str, Path]:
    made = http.post("/api/v1/workspaces", json={"scenario": "ingress-two-apps"}).json()
    manifests = _files(http.get(f"/w/{made['id']}/export/kind").content)["manifests.yaml"]
    # kubectl's dry run still reads the API's discovery: point it at an empty workspace.
    empty = http.post("/api/v1/workspaces", json={"scenario": "empty"}).json()["id"]
    config = tmp_path / "podpath.yaml"
    config.write_text(http.get(f"/k/{empty}/kubeconfig").text)
    return manifests, config
