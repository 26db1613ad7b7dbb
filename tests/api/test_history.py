"""Undo and redo over HTTP: the JSON API (history, undo, redo, 409 when there is nothing to
step to) and the sandbox page's forms (htmx swaps the panel, the map and the head)."""

from __future__ import annotations

import re

from .conftest import Api, apply_ok, deployment, list_items, new_workspace

WS = "/api/v1/workspaces"


def pod_ips(api: Api, workspace: str) -> dict[str, str]:
    return {
        p["metadata"]["name"]: p["status"]["podIP"]
        for p in list_items(api, workspace, "kind=Pod&namespace=default")
    }


def test_history_undo_and_redo_through_the_json_api(api: Api) -> None:
    workspace = new_workspace(api)
    assert api.get(f"{WS}/{workspace}/history").json() == {
        "entries": [],
        "undo": None,
        "redo": None,
        "limit": 50,
    }
    apply_ok(api, workspace, deployment("web", replicas=2))
    before = pod_ips(api, workspace)
    victim = sorted(before)[0]
    deleted = api.delete(f"{WS}/{workspace}/objects/pods/default/{victim}")
    assert deleted.status_code == 200, deleted.text
    assert victim not in pod_ips(api, workspace)

    history = api.get(f"{WS}/{workspace}/history").json()
    assert [e["label"] for e in history["entries"]] == [
        f"pod default/{victim} deleted",
        "deployment.apps/web created",
    ]
    assert history["undo"]["label"] == f"pod default/{victim} deleted"
    assert history["redo"] is None

    undone = api.post(f"{WS}/{workspace}/undo")
    assert undone.status_code == 200, undone.text
    body = undone.json()
    assert body["undone"] == {"id": 2, "label": f"pod default/{victim} deleted", "undone": True}
    assert body["history"]["redo"]["id"] == 2
    assert pod_ips(api, workspace) == before  # the same pod, at the same address
    events = api.get(f"{WS}/{workspace}/events").json()["items"]
    assert events[0]["reason"] == "ChangeUndone" and victim in events[0]["message"]

    redone = api.post(f"{WS}/{workspace}/redo")
    assert redone.status_code == 200, redone.text
    assert redone.json()["redone"]["label"] == f"pod default/{victim} deleted"
    assert victim not in pod_ips(api, workspace)


def test_nothing_to_undo_or_redo_is_a_409_in_the_api_error_shape(api: Api) -> None:
    workspace = new_workspace(api)
    for step in ("undo", "redo"):
        response = api.post(f"{WS}/{workspace}/{step}")
        assert response.status_code == 409, response.text
        body = response.json()
        assert body["status"] == 409 and body["reason"] == "Conflict"
        assert f"nothing to {step}" in body["message"]
    assert api.post(f"{WS}/{'x' * 24}/undo").status_code == 404
    assert api.get(f"{WS}/{'x' * 24}/history").status_code == 404


def test_every_path_gets_a_label_and_a_new_change_clears_redo(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, deployment("web", replicas=2))
    scaled = api.post(
        f"{WS}/{workspace}/objects/deployments/default/web/scale", json={"replicas": 4}
    )
    assert scaled.status_code == 200, scaled.text
    assert api.post(f"{WS}/{workspace}/nodes", json={}).status_code == 201
    assert api.patch(f"{WS}/{workspace}/nodes/worker-1", json={"ready": False}).status_code == 200
    switched = api.post(f"/w/{workspace}/settings", data={"cni": "weave"})
    assert switched.status_code == 200, switched.text
    labels = [e["label"] for e in api.get(f"{WS}/{workspace}/history").json()["entries"]]
    assert labels == [
        "switched CNI flannel → weave",
        "node worker-1 NotReady",
        "node worker-3 joined",
        "deployment.apps/web scaled to 4",
        "deployment.apps/web created",
    ]
    assert api.post(f"{WS}/{workspace}/undo").status_code == 200
    assert api.get(f"{WS}/{workspace}").json()["settings"]["cni"] == "flannel"
    apply_ok(api, workspace, "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
    history = api.get(f"{WS}/{workspace}/history").json()
    assert history["redo"] is None and history["undo"]["label"] == "namespace/shop created"
    assert api.post(f"{WS}/{workspace}/redo").status_code == 409


def test_the_page_has_undo_and_redo_buttons_that_name_the_change(api: Api) -> None:
    workspace = new_workspace(api)
    page = api.get(f"/w/{workspace}").text
    assert re.search(r'<button[^>]*class="history-undo"[^>]*title="Nothing to undo" disabled', page)
    apply_ok(api, workspace, deployment("web", replicas=1))
    page = api.get(f"/w/{workspace}").text
    assert f'action="/w/{workspace}/undo"' in page and f'hx-post="/w/{workspace}/undo"' in page
    assert 'title="Undo: deployment.apps/web created (key u)"' in page
    assert 'aria-keyshortcuts="u"' in page and 'aria-keyshortcuts="Shift+U"' in page
    assert "/static/js/history.js" in page


def test_undo_from_the_page_with_htmx_swaps_panel_map_and_head(api: Api) -> None:
    workspace = new_workspace(api)
    apply_ok(api, workspace, deployment("web", replicas=1))
    (pod,) = pod_ips(api, workspace)
    assert f'data-name="{pod}"' in api.get(f"/w/{workspace}").text
    response = api.post(
        f"/w/{workspace}/undo", data={"tab": "build"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200, response.text
    html = response.text
    assert "Undone: deployment.apps/web created" in html
    assert '<div id="map-area" hx-swap-oob="innerHTML">' in html
    assert '<div id="sandbox-head" hx-swap-oob="innerHTML">' in html
    assert f'data-name="{pod}"' not in html  # the map no longer has the pod
    assert 'title="Redo: deployment.apps/web created (Shift+U)"' in html
    assert 'title="Nothing to undo" disabled' in html
    assert pod_ips(api, workspace) == {}

    again = api.post(f"/w/{workspace}/redo", data={"tab": "objects"})  # no JavaScript
    assert again.status_code == 200 and "<html" in again.text
    assert "Redone: deployment.apps/web created" in again.text
    assert f'data-name="{pod}"' in again.text
    assert list(pod_ips(api, workspace)) == [pod]

    # The head the redo answer sent along carries the fresh buttons.
    buttons = again
    assert buttons.status_code == 200 and 'id="history"' in buttons.text
    assert 'title="Undo: deployment.apps/web created (key u)"' in buttons.text
    nothing = api.post(f"/w/{workspace}/redo", headers={"HX-Request": "true"})
    assert nothing.status_code == 409 and "nothing to redo" in nothing.text
    # The panel keeps its tabs, with the reason as a notice, and the head comes back fresh.
    assert 'class="notice"' in nothing.text and 'aria-label="Panel"' in nothing.text
    assert '<div id="sandbox-head" hx-swap-oob="innerHTML">' in nothing.text
