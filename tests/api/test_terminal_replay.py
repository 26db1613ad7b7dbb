"""The Terminal's commands reach the kind export's replay script with no lesson open, and
keeping them is no change the Undo button names."""

from __future__ import annotations

import io
import zipfile

from tests.api.conftest import Api, apply_ok, new_workspace
from tests.api.test_terminal_route import HTMX, WEB

WS = "/api/v1/workspaces"


def _script(api: Api, workspace: str) -> str:
    answer = api.get(f"/w/{workspace}/export/kind")
    assert answer.status_code == 200
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        return archive.read("podpath-kind/replay.sh").decode()


def _type(api: Api, workspace: str, line: str, fields: dict[str, str] | None = None) -> str:
    answer = api.post(
        f"/w/{workspace}/terminal", data={"line": line, **(fields or {})}, headers=HTMX
    )
    assert answer.status_code == 200, answer.text
    return answer.text


def test_commands_typed_without_a_lesson_are_in_the_replay_script(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WEB)
    labels = [e["label"] for e in api.get(f"{WS}/{workspace}/history").json()["entries"]]
    _type(api, workspace, "kubectl get pods")
    _type(api, workspace, "kubectl exec client -- curl -s http://web")
    _type(api, workspace, "nslookup web", {"where": "pod/default/client"})  # in its shell
    _type(api, workspace, "kubectl scale deploy web --replicas=3")
    script = _script(api, workspace)
    body = script.split("# What you ran in the sandbox, oldest first.\n", 1)[1].splitlines()
    assert body[0].startswith("kubectl exec client -- curl -s http://web")
    assert body[1] == "kubectl exec -n default client -- nslookup web"
    assert (
        body[2]
        == "# kubectl scale deploy web --replicas=3   (done: manifests.yaml holds the result)"
    )
    assert len(body) == 3  # kubectl get is a read: not kept

    # Only the scale is a change of objects: the log's lines are no entry of the history.
    history = api.get(f"{WS}/{workspace}/history").json()
    assert [e["label"] for e in history["entries"]] == ["deployment.apps/web scaled to 3", *labels]
    # Undo takes back the scale and keeps the log.
    assert api.post(f"{WS}/{workspace}/undo").status_code == 200
    assert "kubectl exec client -- curl -s http://web" in _script(api, workspace)
    _type(api, workspace, "kubectl exec client -- curl -s http://web/again")
    history = api.get(f"{WS}/{workspace}/history").json()
    assert history["undo"]["label"] == labels[0] and history["redo"] is not None


def test_a_read_only_command_leaves_no_save(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, WEB)
    store = api.app.state.workspaces
    version = store.backend.version(workspace)
    _type(api, workspace, "kubectl get pods -o wide")
    _type(api, workspace, "kubectl describe svc web")
    assert store.backend.version(workspace) == version
    _type(api, workspace, "kubectl exec client -- curl -s http://web")
    assert store.backend.version(workspace) == version + 1  # one save: the log's line
