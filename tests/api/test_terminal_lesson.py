"""Issue 13: a lesson step asks for a command ("run `kubectl get endpointslices -l
kubernetes.io/service-name=web`"), and the command typed in the Terminal tab makes its Check
pass; "Show me" runs it for the learner."""

from __future__ import annotations

from app.lessons.catalog import load_catalog
from tests.api.conftest import Api, new_workspace

HTMX = {"HX-Request": "true"}
COMMAND = "kubectl get endpointslices -l kubernetes.io/service-name=web"
STEP = [s.id for s in load_catalog().get("services").steps].index("endpointslice")


def _at_the_step(api: Api) -> str:
    workspace = new_workspace(api)
    lessons = f"/api/v1/workspaces/{workspace}/lessons/services"
    assert api.post(f"{lessons}/start").status_code == 200
    moved = api.post(f"{lessons}/step", json={"step": STEP})
    assert moved.status_code == 200, moved.text
    return workspace


def test_the_command_typed_in_the_terminal_passes_the_step(api: Api) -> None:
    workspace = _at_the_step(api)
    check = f"/api/v1/workspaces/{workspace}/lessons/services/check"
    before = api.post(check).json()
    assert not before["passed"]
    assert before["checks"][0]["message"] == f"In the Terminal tab, run `{COMMAND}`."
    # Another spelling of the same command: the selector as --selector=, the kind singular.
    line = "kubectl get endpointslice --selector='kubernetes.io/service-name=web' -n default"
    answer = api.post(f"/w/{workspace}/terminal", data={"line": line}, headers=HTMX)
    assert "ADDRESSTYPE" in answer.text and "10.244." in answer.text
    after = api.post(check).json()
    assert after["passed"], after
    assert after["checks"][0]["message"] == f"You ran `{COMMAND}`."


def test_a_different_command_is_told_what_to_type(api: Api) -> None:
    workspace = _at_the_step(api)
    api.post(f"/w/{workspace}/terminal", data={"line": "kubectl get endpointslices"}, headers=HTMX)
    outcome = api.post(f"/api/v1/workspaces/{workspace}/lessons/services/check").json()
    assert not outcome["passed"]
    message = outcome["checks"][0]["message"]
    assert "it has no -l kubernetes.io/service-name=web" in message and COMMAND in message


def test_show_me_runs_the_command(api: Api) -> None:
    workspace = _at_the_step(api)
    shown = api.post(f"/api/v1/workspaces/{workspace}/lessons/services/show").json()
    assert shown["passed"], shown
    assert shown["done"][0] == f"$ {COMMAND}"
    assert any("10.244." in line for line in shown["done"][1:])
