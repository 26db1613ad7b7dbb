"""compose.yaml is a valid Compose file that runs the image built from our Dockerfile.

No Docker engine runs here, so the file is checked against the Compose Specification's JSON
Schema (``shared/schemas/compose-spec.json``, beside the repository).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "compose.yaml"
SCHEMA_FILE = REPO.parent / "shared" / "schemas" / "compose-spec.json"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "compose.yaml must be a mapping"
    return data


@pytest.fixture(scope="module")
def service(compose: dict[str, Any]) -> dict[str, Any]:
    services = compose.get("services") or {}
    assert list(services) == ["podpath"], f"expected one service 'podpath', got {list(services)}"
    return services["podpath"]


def test_compose_file_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    if not SCHEMA_FILE.is_file():
        message = f"Compose Specification schema not found at {SCHEMA_FILE}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    # The schema says draft-07 with a "$schema" URI that jsonschema does not recognise
    # (https, no "#"), so name the draft instead of letting jsonschema guess.
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "compose.yaml does not match the Compose Specification:\n" + "\n".join(
        f"  at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors
    )


def test_service_is_built_from_the_dockerfile(service: dict[str, Any]) -> None:
    build = service.get("build")
    if isinstance(build, str):
        build = {"context": build}
    assert isinstance(build, dict), "the service must be built, not only pulled"
    context = REPO / build.get("context", ".")
    dockerfile = context / build.get("dockerfile", "Dockerfile")
    assert dockerfile.resolve() == (REPO / "Dockerfile").resolve()
    assert dockerfile.is_file()


def _published(port: Any) -> tuple[str, str]:
    """(published, target) for a short ("8000:8000", "127.0.0.1:8000:8000/tcp") or long port."""
    if isinstance(port, dict):
        return str(port.get("published", "")), str(port.get("target", ""))
    parts = str(port).split("/")[0].split(":")
    return (parts[-2] if len(parts) > 1 else ""), parts[-1]


def test_service_publishes_port_8000(service: dict[str, Any]) -> None:
    ports = [_published(p) for p in service.get("ports", [])]
    assert ("8000", "8000") in ports, f"port 8000 must be published as 8000, got {ports}"


def test_service_keeps_data_in_a_named_volume(compose: dict[str, Any], service: dict[str, Any]):
    named = set(compose.get("volumes") or {})
    mounts = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type", "volume") == "volume":
                mounts[volume.get("target")] = volume.get("source")
        else:
            source, _, rest = str(volume).partition(":")
            mounts[rest.split(":")[0]] = source
    assert "/data" in mounts, f"nothing is mounted at /data: {service.get('volumes')}"
    assert mounts["/data"] in named, f"/data must be a named volume declared under volumes: {named}"


def test_dockerfile_serves_on_8000_with_data_in_slash_data() -> None:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.11-slim" in text
    assert "EXPOSE 8000" in text
    assert "USER " in text, "the container must not run as root"
    assert '"--data-dir", "/data"' in text
