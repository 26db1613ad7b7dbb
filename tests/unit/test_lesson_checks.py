"""Each kind of check, failing with a message in the learner's terms and passing when the
cluster (or the learner's activity) is right."""

from __future__ import annotations

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.lessons import notes
from app.lessons.activity import trace_record
from app.lessons.checks import evaluate
from app.lessons.model import Check
from app.lessons.outcome import StepState
from app.network.trace import trace

APP = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec: {nodeName: worker-1, containers: [{name: c, image: curl}]}
"""


def service(selector: str = "web", target_port: int = 80, kind: str = "ClusterIP") -> str:
    return (
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
        f"spec: {{type: {kind}, selector: {{app: {selector}}}, ports: [{{port: 80, targetPort: {target_port}}}]}}\n"
    )


def run(cluster: Cluster, spec: dict, state: StepState | None = None):
    kind = next(
        k
        for k in spec
        if k
        in {"object", "pods", "replaced", "trace", "dns", "traffic", "traced", "answer", "cluster"}
    )
    return evaluate(cluster, Check(kind, spec, 1), state or StepState())


def app() -> Cluster:
    cluster = Cluster.create(seed=5)
    apply_text(cluster, APP)
    return cluster


def test_a_selector_that_matches_nothing_is_explained_with_both_label_sets():
    cluster = app()
    apply_text(cluster, service(selector="frontend"))
    outcome = run(cluster, {"object": "Service web", "selects": "app=web"})
    assert not outcome.passed
    assert outcome.message.startswith(
        "Your Service selects app=frontend, but the pods are labelled app=web"
    )
    apply_text(cluster, service())
    assert run(cluster, {"object": "Service web", "selects": "app=web"}).passed


def test_type_target_port_and_endpoints_each_say_what_they_found():
    cluster = app()
    apply_text(cluster, service(target_port=8080))
    outcome = run(
        cluster,
        {"object": "Service web", "type": "NodePort", "targetPort": 80, "endpoints": 3},
    )
    assert "is of type ClusterIP; this step needs type NodePort" in outcome.message
    assert "sends port 80 to targetPort 8080, but the pods listen on 80" in outcome.message
    assert "has 2 ready endpoints" in outcome.message and "this step needs 3" in outcome.message


def test_a_missing_object_and_one_that_must_be_gone():
    cluster = app()
    assert run(cluster, {"object": "Service web"}).message == "There is no Service default/web yet."
    assert run(cluster, {"object": "Service web", "exists": False}).passed


def test_a_trace_check_runs_the_engine_and_names_the_reason():
    cluster = app()
    apply_text(cluster, service(selector="frontend"))
    outcome = run(cluster, {"trace": {"from": "client", "to": "http://web/"}})
    assert not outcome.passed
    assert "refused" in outcome.message and "this step needs it delivered" in outcome.message
    apply_text(cluster, service())
    assert run(
        cluster, {"trace": {"from": "client", "to": "http://web/"}, "endpoint": "app=web"}
    ).passed


def test_snat_is_what_the_receiving_pod_saw():
    cluster = app()
    apply_text(cluster, service(kind="NodePort"))
    node_port = cluster.get("Service", "default", "web")["spec"]["ports"][0]["nodePort"]
    spec = {"trace": {"from": "outside", "to": f"10.0.0.11:{node_port}"}, "snat": False}
    outcome = run(cluster, spec)
    assert not outcome.passed
    assert "not the client's 198.51.100.7: the source was rewritten (SNAT)" in outcome.message
    assert run(cluster, {**spec, "snat": True}).passed


def test_dns_checks_answers_and_nxdomain():
    cluster = app()
    missing = run(cluster, {"dns": {"from": "client", "name": "web"}})
    assert (
        not missing.passed
        and "NXDOMAIN" in missing.message
        and "web.default.svc.cluster.local" in missing.message
    )
    apply_text(cluster, service())
    found = run(
        cluster, {"dns": {"from": "client", "name": "web"}, "address": {"service_ip": "web"}}
    )
    assert found.passed


def test_traced_reads_only_the_learners_own_traces_of_this_step():
    cluster = app()
    apply_text(cluster, service())
    spec = {"traced": {"from": "client", "to": "web", "verdict": "delivered", "via": "dnat"}}
    assert "not run a trace" in run(cluster, spec).message
    result = trace(cluster, "pod/default/client", "http://web/")
    notes.record(cluster, trace_record(cluster, "pod/default/client", "http://web/", result))
    state = StepState(activity=cluster.state.notes["activity"])
    assert run(cluster, spec, state).passed
    # A DNS lookup's DNAT to CoreDNS is not the request's DNAT.
    pod = next(
        p for p in cluster.list("Pod", "default") if p["metadata"]["name"].startswith("web-")
    )
    direct = trace(cluster, "pod/default/client", f"http://{pod['status']['podIP']}/")
    record = trace_record(cluster, "pod/default/client", "http://x/", direct)
    assert "dnat" not in record["actions"]


def test_replaced_needs_a_pod_gone_and_a_new_one_running():
    cluster = app()
    baseline = notes.pods_now(cluster)
    state = StepState(baseline=baseline)
    assert not run(cluster, {"replaced": "app=web"}, state).passed
    victim = sorted(n for n in baseline if n.startswith("default/web-"))[0]
    cluster.delete("Pod", "default", victim.split("/")[1])
    outcome = run(cluster, {"replaced": "app=web"}, state)
    assert outcome.passed and "with a new IP" in outcome.message


def test_an_answer_is_compared_with_the_live_value():
    cluster = app()
    client_ip = cluster.get("Pod", "default", "client")["status"]["podIP"]
    assert (
        run(cluster, {"answer": {"pod_ip": "client"}}, StepState(answer="")).message
        == "Type your answer in the box first."
    )
    assert not run(cluster, {"answer": {"pod_ip": "client"}}, StepState(answer="10.0.0.11")).passed
    assert run(cluster, {"answer": {"pod_ip": "client"}}, StepState(answer=f" {client_ip} ")).passed


def test_a_reference_to_nothing_is_a_failed_check_not_an_error():
    cluster = app()
    outcome = run(cluster, {"trace": {"from": "app=nothing", "to": "http://web/"}})
    assert not outcome.passed and "no running pod matches app=nothing" in outcome.message


def test_a_trace_that_is_not_the_one_asked_for_says_its_reason_once():
    """Lesson 1, step 1, traced to a port the pod does not listen on: the Check quotes the
    refusal's reason once, not in the description and again in the problem."""
    c = Cluster.create(seed=1)
    apply_text(c, APP)
    web = next(p for p in c.list("Pod", "default") if p["metadata"]["name"].startswith("web-"))
    target = f"{web['status']['podIP']}:81"
    record = trace_record(
        c, "pod/default/client", target, trace(c, "pod/default/client", target, 0)
    )
    assert record["verdict"] == "refused" and record["reason"]
    state = StepState(activity=[{**record, "kind": "trace"}])
    wanted = {"from": "client", "verdict": "delivered", "endpoint": "app=web"}
    outcome = run(c, {"traced": wanted}, state)
    assert not outcome.passed
    assert outcome.message.count(record["reason"].rstrip(".")[:60]) == 1, outcome.message


def test_a_check_on_a_request_the_ingress_controller_answered_names_the_cause():
    """Lesson 9's mistake: the Ingress names the container's port 8080 on a Service whose
    port is 80 (targetPort named http). ingress-nginx answers 503, and the Check says why."""
    from tests.unit.test_causes import api_behind_ingress

    c = api_behind_ingress("{number: 8080}")
    target = "http://shop.example.com/api"
    record = trace_record(c, "external", target, trace(c, "external", target, 0))
    assert record["http_status"] == 503
    state = StepState(activity=[{**record, "kind": "trace"}])
    outcome = run(c, {"traced": {"from": "external", "endpoint": "app=api"}}, state)
    assert not outcome.passed
    assert "backend.service.port.number is 8080" in outcome.message
    assert "has no port 8080 (its ports: 80)" in outcome.message
