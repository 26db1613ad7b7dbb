"""The JSON API's OpenAPI description says what the server does.

schemathesis reads ``/openapi.json`` from an in-process app and sends every operation
generated requests: the declared examples, boundary and invalid cases (coverage), random ones
(fuzzing), and methods a path does not have. Every answer must be:

* not a server error (no 5xx);
* a status the operation declares, in a content type it declares, matching the declared
  schema (success bodies and the one error body alike);
* with the headers it declares (``Location`` on 201, ``Retry-After`` on 429);
* for a method the path does not have, a 405 whose ``Allow`` names exactly the path's
  declared methods.

A second test does the same for call sequences (make a workspace, then act on it, following
the links schemathesis infers), and a third checks that no GET of the API changes a workspace.

Bounded: a few examples per operation, a fixed seed and no example database, so the file
runs in well under a minute and the same way each time. The rate limits are raised so the
run is not throttled, and half of the generated workspace ids are replaced by real ones so
the requests reach past the 404.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from app.settings import Settings
from app.web.app import create_app

HOST = "testserver"  # the Host schemathesis's ASGI client sends
UNLIMITED = 10**9
SEED = 11
MAX_EXAMPLES = 6
STATEFUL_STEPS = 10
STATEFUL_EXAMPLES = 15

#: Scenarios the workspaces under test start from: pods to trace from, Services, an Ingress.
SCENARIOS = ("web-service", "ingress-two-apps")
LESSONS = ("flat-network", "services", "dns")


def allow_names_the_declared_methods(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 405 carries ``Allow``, naming exactly the methods the description declares for the
    path (so a client can tell what it may do there)."""
    if response.status_code != 405:
        return None
    values = response.headers.get("allow") or []
    assert values, f"405 for {case.method} {case.formatted_path} without an Allow header"
    allowed = {m.strip().upper() for value in values for m in value.split(",") if m.strip()}
    declared = {
        method.upper()
        for method in case.operation.schema.raw_schema["paths"][case.operation.path]
        if method in {"get", "put", "post", "delete", "patch", "head", "options"}
    }
    assert allowed == declared, (
        f"Allow: {sorted(allowed)}, but the path declares {sorted(declared)}"
    )
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
    allow_names_the_declared_methods,
]


def contract_settings(data_dir: Path) -> Settings:
    return Settings(
        store="memory",
        data_dir=data_dir,
        allowed_hosts=HOST,
        min_free_mb=0,
        new_per_client=UNLIMITED,
        new_per_address=UNLIMITED,
        work_per_client=UNLIMITED,
        work_per_address=UNLIMITED,
    )


def call(app: Any, method: str, url: str, **kwargs: Any) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{HOST}") as client:
            response = await client.request(method, url, **kwargs)
            await response.aread()
            return response

    return asyncio.run(send())


def new_workspace(app: Any, scenario: str) -> str:
    response = call(app, "POST", "/api/v1/workspaces", json={"scenario": scenario})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def contract_config(workspaces: list[str]) -> schemathesis.Config:
    """Bounded, repeatable generation; real ids, names and addresses mixed into the generated
    ones so that requests get past "not found"."""
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "dictionaries": {
                "workspaces": {"values": workspaces},
                "lessons": {"values": list(LESSONS)},
                "names": {"values": ["web", "client", "worker-1", "worker-2", "control-plane"]},
                "namespaces": {"values": ["default", "kube-system", "-"]},
                "sources": {"values": ["pod/default/client", "node/worker-1", "external"]},
                "targets": {
                    "values": ["http://web/", "10.96.0.10:53/udp", "http://shop.example.com/"]
                },
                "dns": {"values": ["web", "kubernetes.default", "example.com"]},
            },
            "parameters": {
                "path.workspace_id": {"dictionary": "workspaces", "probability": 0.5},
                "path.slug": {"dictionary": "lessons", "probability": 0.5},
                "path.name": {"dictionary": "names", "probability": 0.5},
                "path.namespace": {"dictionary": "namespaces", "probability": 0.5},
                "query.node": {"dictionary": "names", "probability": 0.5},
                "query.from": {"dictionary": "sources", "probability": 0.5},
                "query.name": {"dictionary": "dns", "probability": 0.5},
                "body.from": {"dictionary": "sources", "probability": 0.5},
                "body.to": {"dictionary": "targets", "probability": 0.5},
            },
        }
    )


@pytest.fixture(scope="module")
def contract_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, list[str]]]:
    app = create_app(contract_settings(tmp_path_factory.mktemp("contract")))
    yield app, [new_workspace(app, scenario) for scenario in SCENARIOS]


@pytest.fixture(scope="module")
def api_schema(contract_app: tuple[Any, list[str]]) -> schemathesis.BaseSchema:
    app, workspaces = contract_app
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=contract_config(workspaces))


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32 names each operation's subtest through ``Node._nodeid``, which
    pytest 9.2 no longer has."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@schema.parametrize()
def test_every_answer_is_one_the_description_declares(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)


def test_call_sequences_get_declared_answers(api_schema: schemathesis.BaseSchema) -> None:
    class Sequences(api_schema.as_state_machine()):  # type: ignore[misc]
        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Sequences.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            database=None,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )


# --- no GET changes anything -----------------------------------------------------------------


def observed(app: Any, workspace: str) -> list[Any]:
    """Everything the API shows of a workspace."""
    base = f"/api/v1/workspaces/{workspace}"
    urls = [base, f"{base}/objects", f"{base}/events", f"{base}/history", f"{base}/lessons"]
    answers = []
    for url in urls:
        response = call(app, "GET", url)
        assert response.status_code == 200, response.text
        answers.append(response.json())
    return answers


def get_urls(app: Any, workspace: str) -> list[str]:
    """One valid URL for every GET the description declares."""
    values = {
        "workspace_id": workspace,
        "kind": "Pod",
        "namespace": "default",
        "name": "client",
    }
    queries = {
        "/api/v1/workspaces/{workspace_id}/dns": ["?name=web&from=pod/default/client&type=srv"],
        "/api/v1/workspaces/{workspace_id}/rules": ["", "?node=worker-2&mode=nftables"],
        "/api/v1/workspaces/{workspace_id}/manifests": ["", "?format=json"],
        "/api/v1/workspaces/{workspace_id}/objects": ["", "?kind=svc&namespace=default"],
        "/api/v1/workspaces/{workspace_id}/events": ["", "?namespace=default"],
    }
    urls = []
    for path, operations in app.openapi()["paths"].items():
        if "get" in operations:
            urls += [path.format(**values) + query for query in queries.get(path, [""])]
    return urls


def test_no_get_changes_a_workspace(contract_app: tuple[Any, list[str]]) -> None:
    app, _ = contract_app
    workspace = new_workspace(app, "web-service")
    # A lesson in progress and a change to undo, so that progress and history have content.
    assert call(app, "POST", f"/api/v1/workspaces/{workspace}/lessons/dns/start").status_code == 200
    assert call(app, "POST", f"/api/v1/workspaces/{workspace}/nodes").status_code == 201
    before = observed(app, workspace)
    urls = get_urls(app, workspace)
    assert len(urls) >= 12, urls
    for url in urls:
        response = call(app, "GET", url)
        assert response.status_code == 200, f"{url}: {response.text[:300]}"
        assert observed(app, workspace) == before, f"GET {url} changed the workspace"
