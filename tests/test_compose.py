"""compose.yaml is a valid Compose file that runs the image built from our Dockerfile: by
default one service on SQLite; with the ``scale`` profile PostgreSQL, two replicas on it and
nginx in front (``deploy/nginx.conf``, which passes server-sent events on unbuffered).

No Docker engine runs here, so the file is checked against the Compose Specification's JSON
Schema (``shared/schemas/compose-spec.json``, beside the repository), and what each service
needs is checked by reading it.
"""

from __future__ import annotations

import json
import os
import re
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


NGINX_CONF = REPO / "deploy" / "nginx.conf"


def in_profile(compose: dict[str, Any], profile: str | None) -> dict[str, dict[str, Any]]:
    """The services ``docker compose --profile <profile> up`` adds (None: those of a plain
    ``docker compose up``, which have no profile)."""
    return {
        name: service
        for name, service in (compose.get("services") or {}).items()
        if ((profile in service.get("profiles", [])) if profile else not service.get("profiles"))
    }


@pytest.fixture(scope="module")
def service(compose: dict[str, Any]) -> dict[str, Any]:
    services = in_profile(compose, None)
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
    built_from_the_dockerfile(service)


def built_from_the_dockerfile(service: dict[str, Any]) -> None:
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


# --- the "scale" profile: PostgreSQL, two replicas, nginx -------------------------------------
def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Target -> source of each volume (short syntax only, which is what compose.yaml uses)."""
    found = {}
    for volume in service.get("volumes", []):
        source, _, rest = str(volume).partition(":")
        found[rest.split(":")[0]] = source
    return found


@pytest.fixture(scope="module")
def scale(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = in_profile(compose, "scale")
    assert set(services) == {"postgres", "podpath-1", "podpath-2", "proxy"}, list(services)
    return services


def test_the_scale_profile_keeps_postgres_16_in_a_named_volume_with_a_healthcheck(
    compose: dict[str, Any], scale: dict[str, dict[str, Any]]
) -> None:
    postgres = scale["postgres"]
    assert postgres["image"].startswith("postgres:16")
    assert mounts(postgres)["/var/lib/postgresql/data"] in (compose.get("volumes") or {})
    assert "pg_isready" in postgres["healthcheck"]["test"]
    env = environment(postgres)
    assert {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"} <= set(env)


@pytest.mark.parametrize("name", ["podpath-1", "podpath-2"])
def test_each_replica_is_podpath_on_that_database_once_it_is_ready(
    scale: dict[str, dict[str, Any]], name: str
) -> None:
    replica = scale[name]
    built_from_the_dockerfile(replica)
    url = environment(replica)["PODPATH_DATABASE_URL"]
    db = environment(scale["postgres"])
    assert re.fullmatch(
        rf"postgresql://{db['POSTGRES_USER']}:.+@postgres:5432/{db['POSTGRES_DB']}", url
    ), url
    assert "${POSTGRES_PASSWORD" in url, "the replicas must use the database's password"
    assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert not replica.get("ports"), "only the proxy is published"
    assert "/healthz" in " ".join(replica["healthcheck"]["test"])


def test_the_proxy_is_nginx_with_our_config_in_front_of_both_replicas(
    scale: dict[str, dict[str, Any]], service: dict[str, Any]
) -> None:
    proxy = scale["proxy"]
    assert proxy["image"].startswith("nginx:")
    source = mounts(proxy)["/etc/nginx/conf.d/default.conf"]
    assert (REPO / source).resolve() == NGINX_CONF.resolve() and NGINX_CONF.is_file()
    assert set(proxy["depends_on"]) == {"podpath-1", "podpath-2"}
    published = {_published(p)[0] for p in proxy.get("ports", [])}
    assert published and "8000" not in published, "must not clash with the default service"
    assert published == {_published(p)[1] for p in proxy.get("ports", [])}  # nginx listens there


def nginx_blocks(text: str) -> dict[str, str]:
    """The body of each top-level and ``location`` block of an nginx config, by its header
    (``upstream podpath``, ``server``, ``location /w/``), comments removed."""
    text = re.sub(r"#[^\n]*", "", text)
    blocks: dict[str, str] = {}
    stack: list[tuple[str, int]] = []
    header_start = 0
    for i, char in enumerate(text):
        if char == "{":
            header = " ".join(text[header_start:i].split()[-3:])
            header = header.split(";")[-1].strip()
            stack.append((header, i + 1))
            header_start = i + 1
        elif char == "}":
            header, start = stack.pop()
            blocks[header] = text[start:i]
            header_start = i + 1
        elif char == ";":
            header_start = i + 1
    return blocks


def test_nginx_passes_server_sent_events_at_once_and_keeps_them_open(
    scale: dict[str, dict[str, Any]],
) -> None:
    blocks = nginx_blocks(NGINX_CONF.read_text(encoding="utf-8"))
    upstream = blocks["upstream podpath"]
    for name in ("podpath-1", "podpath-2"):
        assert re.search(rf"\bserver\s+{name}:8000\b", upstream), f"{name} is not in the upstream"
    server = blocks["server"]
    port = next(iter({_published(p)[1] for p in scale["proxy"]["ports"]}))
    assert re.search(rf"\blisten\s+{port}\b", server)
    size = re.search(r"client_max_body_size\s+(\d+)m;", server)
    assert size and int(size.group(1)) >= 2, "bodies up to PODPATH_MAX_BODY_BYTES must pass"
    units = {"s": 1, "m": 60, "h": 3600}
    for location in ("/classes/", "/w/"):
        body = blocks[f"location {location}"]
        assert re.search(r"proxy_buffering\s+off;", body), f"{location} buffers events"
        assert "proxy_pass http://podpath;" in body
        timeout = re.search(r"proxy_read_timeout\s+(\d+)([smh]);", body)
        assert timeout, f"{location} keeps nginx's 60 s read timeout"
        assert int(timeout.group(1)) * units[timeout.group(2)] >= 3600, location
