"""Ready scenarios over HTTP: ``POST /api/v1/workspaces {"scenario": ...}``, the list at
``GET /api/v1/scenarios``, and the home page's "Open for a class" form."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from app.cluster.scenarios import BY_NAME, SCENARIOS

from .conftest import Api, list_items, new_workspace

WS = "/api/v1/workspaces"


@pytest.mark.parametrize("name", list(BY_NAME))
def test_each_scenario_makes_a_workspace_that_says_where_it_came_from(api: Api, name: str) -> None:
    response = api.post(WS, json={"scenario": name})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["scenario"] == name
    assert body["suggestedRequests"] == [r.to_dict() for r in BY_NAME[name].requests]
    assert api.get(f"{WS}/{body['id']}").json()["scenario"] == name
    fork = api.post(f"{WS}/{body['id']}/fork").json()
    assert fork["scenario"] == name  # a share link's copy is the same scenario
    # The suggested requests, traced through the API, do what they say.
    for request in body["suggestedRequests"]:
        traced = api.post(
            f"{WS}/{body['id']}/trace", json={"from": request["from"], "to": request["to"]}
        )
        assert traced.status_code == 200, traced.text
        assert traced.json()["verdict"] == request["verdict"], request


def test_a_scenario_uses_its_fixed_seed_unless_one_is_given(api: Api) -> None:
    def pods(workspace: str) -> list[tuple[str, str]]:
        return sorted(
            (p["metadata"]["name"], p["status"]["podIP"])
            for p in list_items(api, workspace, "kind=Pod&namespace=default")
        )

    first = new_workspace(api, scenario="web-service")
    second = new_workspace(api, scenario="web-service")
    assert len(pods(first)) == 4 and pods(first) == pods(second)
    assert pods(new_workspace(api, scenario="web-service", seed=9)) != pods(first)


def test_a_scenario_takes_the_chosen_cni_plugin(api: Api) -> None:
    body = api.post(WS, json={"scenario": "nodeport-policies", "cni": "calico"}).json()
    assert body["settings"]["cni"] == "calico" and body["counts"]["Pod"] > 0
    web = list_items(api, body["id"], "kind=Pod&namespace=default")
    assert all(p["status"]["podIP"].startswith("192.168.") for p in web)


def test_the_default_workspace_is_still_the_empty_cluster(api: Api) -> None:
    body = api.post(WS, json={}).json()
    assert body["scenario"] == "default" and body["suggestedRequests"] == []
    assert body["userObjects"] == 0


def test_an_unknown_scenario_is_422_listing_the_supported_values(api: Api) -> None:
    response = api.post(WS, json={"scenario": "nope"})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["reason"] == "Invalid" and body["message"] == 'unknown scenario "nope"'
    [error] = body["errors"]
    assert error["field"] == "scenario"
    assert error["message"] == (
        'Unsupported value: "nope": supported values: "default", "web-service", '
        '"ingress-two-apps", "nodeport-policies", "empty"'
    )


def test_a_scenario_that_needs_two_workers_says_so(api: Api) -> None:
    response = api.post(WS, json={"scenario": "nodeport-policies", "workers": 1})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "workers"


def test_the_scenarios_are_listed_with_their_requests(api: Api) -> None:
    listed = api.get("/api/v1/scenarios").json()
    assert [s["name"] for s in listed] == [s.name for s in SCENARIOS]
    assert listed[0]["requests"][0] == {
        "from": "pod/default/client",
        "to": "http://web/",
        "label": "client → the Service web",
        "verdict": "delivered",
    }


def test_the_home_page_offers_each_scenario_as_a_radio_button(api: Api) -> None:
    page = api.get("/").text
    for scenario in SCENARIOS:
        assert f'name="scenario" value="{scenario.name}"' in page
        assert scenario.title in page
    assert page.count('type="radio" name="scenario"') == len(SCENARIOS)
    assert page.count(" checked") == 1 and 'value="web-service" checked' in page
    assert '<link rel="stylesheet" href="/static/css/home.css">' in page
    assert api.get("/static/css/home.css").status_code == 200


@pytest.mark.parametrize("name", list(BY_NAME))
def test_open_for_a_class_redirects_to_the_first_request_in_presentation_mode(
    api: Api, name: str
) -> None:
    response = api.post("/w", data={"present": "1", "scenario": name})
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    first = BY_NAME[name].requests[0]
    assert parse_qs(location.query) == {"present": ["1"], "from": [first.source], "to": [first.to]}
    assert "://" not in location.query and "%2F" in location.query  # URL-encoded
    workspace = location.path.removeprefix("/w/")
    assert api.get(f"{WS}/{workspace}").json()["scenario"] == name
    assert api.get(response.headers["location"]).status_code == 200


def test_open_for_a_class_with_an_unknown_scenario_is_an_error_page(api: Api) -> None:
    response = api.post("/w", data={"present": "1", "scenario": "nope"})
    assert response.status_code == 422
    assert "supported values" in response.text
