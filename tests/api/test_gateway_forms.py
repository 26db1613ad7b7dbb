"""The Build tab's Gateway and HTTPRoute forms: the form's fields become the manifests a
learner would write (the CRD defaults left to the API server), go through apply, and a bad
value comes back as the API server's error with what was typed kept."""

from __future__ import annotations

import re

from tests.api.conftest import new_workspace


def objects(api, ws, kind):
    return api.get(f"/api/v1/workspaces/{ws}/objects", params={"kind": kind}).json()["items"]


def test_the_forms_make_a_gateway_and_a_weighted_route(api):
    ws = new_workspace(api, scenario="web-service")
    page = api.get(f"/w/{ws}?tab=build").text
    assert re.search(r'<option value="eg" selected>eg</option>', page)  # class eg preselected
    made = api.post(
        f"/w/{ws}/build/gateway",
        data={"name": "web-gw", "namespace": "default", "class_name": "eg", "listener": "http",
              "port": "80", "protocol": "HTTP", "hostname": "*.example.com"},
    )  # fmt: skip
    assert made.status_code == 200, made.text
    assert "gateway/web-gw created" in made.text
    made = api.post(
        f"/w/{ws}/build/httproute",
        data={"name": "shop", "namespace": "default", "gateway": "default/web-gw",
              "hostnames": "shop.example.com", "path_type": "PathPrefix", "path": "/",
              "backend_0": "web", "backend_port_0": "80", "weight_0": "90",
              "backend_1": "web", "backend_port_1": "80", "weight_1": "10",
              "backend_2": "", "backend_port_2": "", "weight_2": ""},
    )  # fmt: skip
    assert made.status_code == 200, made.text
    assert "httproute/shop created" in made.text
    gateway = objects(api, ws, "Gateway")[0]
    assert gateway["spec"]["listeners"][0]["allowedRoutes"] == {"namespaces": {"from": "Same"}}
    route = objects(api, ws, "HTTPRoute")[0]
    assert route["spec"]["parentRefs"][0]["name"] == "web-gw"
    assert [b["weight"] for b in route["spec"]["rules"][0]["backendRefs"]] == [90, 10]
    accepted = route["status"]["parents"][0]["conditions"][0]
    assert (accepted["type"], accepted["status"]) == ("Accepted", "True")
    # The route's parent now offers itself in the form.
    assert 'value="default/web-gw"' in api.get(f"/w/{ws}?tab=build").text


def test_a_path_without_a_slash_is_refused_with_the_crd_message(api):
    ws = new_workspace(api, scenario="web-service")
    api.post(f"/w/{ws}/build/gateway", data={"name": "web-gw", "port": "80"})
    made = api.post(
        f"/w/{ws}/build/httproute",
        data={"name": "shop", "gateway": "default/web-gw", "path_type": "PathPrefix",
              "path": "cart", "backend_0": "web", "backend_port_0": "80"},
    )  # fmt: skip
    assert made.status_code == 422
    assert "value must be an absolute path and start with &#39;/&#39;" in made.text
    assert 'value="cart"' in made.text  # what was typed stays in the form
    assert objects(api, ws, "HTTPRoute") == []


def test_a_listener_port_out_of_range_is_refused(api):
    ws = new_workspace(api, scenario="web-service")
    made = api.post(f"/w/{ws}/build/gateway", data={"name": "gw", "port": "70000"})
    assert made.status_code == 422
    assert "spec.listeners[0].port in body should be less than or equal to 65535" in made.text


def test_a_weight_that_is_not_a_number_names_the_backend_field(api):
    ws = new_workspace(api, scenario="web-service")
    made = api.post(
        f"/w/{ws}/build/httproute",
        data={"name": "shop", "gateway": "default/web-gw", "backend_0": "web",
              "backend_port_0": "80", "weight_0": "ninety"},
    )  # fmt: skip
    assert made.status_code == 422
    assert "spec.rules[0].backendRefs[0].weight" in made.text
    assert "must be a whole number" in made.text
