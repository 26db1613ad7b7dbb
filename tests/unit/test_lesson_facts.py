"""Lesson facts that hold in 2026 (issue 10), each asserted where the lesson says it, with
its source in the test's docstring (and in a comment of the lesson file); the loose checks
accepting the right answers and refusing the wrong ones; and the lesson list's progress
saying "quiz left" when only the quiz is left."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from app.cluster.cluster import Cluster
from app.lessons import notes, session
from app.lessons.actions import run_actions
from app.lessons.catalog import BUILT_IN, load_catalog
from app.lessons.checks import evaluate
from app.lessons.model import Action, Lesson
from app.lessons.outcome import StepState
from app.render.lesson import lesson_list

CATALOG = load_catalog()


def lesson(slug: str) -> Lesson:
    return next(item for item in CATALOG.lessons if item.slug == slug)


def flat(text: str) -> str:
    """Text with its line breaks and runs of spaces folded, so a sentence can be found
    wherever the Markdown wraps it."""
    return re.sub(r"\s+", " ", text)


# --- Progress that reads right ------------------------------------------------------------


def test_the_lesson_list_says_quiz_left_when_every_step_is_done_but_the_quiz():
    cluster = Cluster.create(seed=99)
    first = CATALOG.lessons[0]
    session.start(cluster, first)
    session.show_me(cluster, first)
    card = lesson_list(cluster, CATALOG)[0]
    assert card["label"] == f"In progress: 1 of {len(first.steps)} steps"
    session.go_to(cluster, first, len(first.steps))  # the recap and quiz, steps done
    card = lesson_list(cluster, CATALOG)[0]
    assert card["label"] == "In progress: quiz left"
    assert "of 3 steps" not in card["label"]
    session.answer_quiz(cluster, first, {0: 0, 1: 0, 2: 0})
    assert lesson_list(cluster, CATALOG)[0]["label"] == "✓ Complete"
    assert lesson_list(None, CATALOG)[0]["label"] == f"{len(first.steps)} steps and a quiz"


# --- Loose checks, made exact ---------------------------------------------------------------


def at_step(slug: str, step_id: str) -> tuple[Cluster, Lesson]:
    """A lesson started and moved to ``step_id`` (the steps before it done by their
    solutions, as "Next →" does)."""
    cluster = Cluster.create(seed=99)
    item = lesson(slug)
    session.start(cluster, item)
    session.go_to(cluster, item, [s.id for s in item.steps].index(step_id))
    return cluster, item


def step_of(item: Lesson, step_id: str):
    return next(s for s in item.steps if s.id == step_id)


def learner_traces(cluster: Cluster, source: str, to: str) -> None:
    run_actions(cluster, [Action("trace", {"from": source, "to": to}, None)])


def outcome(
    cluster: Cluster, item: Lesson, step_id: str, kind: str, answer: str | None = None, which=-1
):
    """The step's last (or ``which``) check of ``kind``, run on what the learner did in the
    step."""
    state = notes.step_state(cluster, item.slug, step_id)
    if answer is not None:
        state = StepState(state.activity, state.baseline, answer)
    check = [c for c in step_of(item, step_id).checks if c.kind == kind][which]
    return evaluate(cluster, check, state)


def test_lesson_2_new_address_wants_the_trace_to_the_deleted_pods_own_address():
    """Issue 10: the step accepted an unreachable trace to any address, and its solution
    hard-coded 10.244.2.3, which depends on the seed."""
    cluster, item = at_step("pods-come-and-go", "new-address")
    first = notes.progress(cluster, item.slug)["entered"]["meet-the-pod"]["baseline"]
    (old_ip,) = [p["ip"] for p in first.values() if p["labels"].get("app") == "web"]
    other = old_ip.rsplit(".", 1)[0] + ".200"  # in the same node's range, held by no pod
    learner_traces(cluster, "client", f"http://{other}/")
    refused = outcome(cluster, item, "new-address", "traced")
    assert not refused.passed
    assert old_ip in refused.message
    learner_traces(cluster, "client", f"http://{old_ip}/")
    assert outcome(cluster, item, "new-address", "traced").passed
    solution = str([a.value for a in step_of(item, "new-address").solution])
    assert "10.244." not in solution and "former_pod_ip" in solution


def test_lesson_2_new_address_still_knows_the_old_address_after_another_lesson():
    cluster, item = at_step("pods-come-and-go", "new-address")
    session.open_lesson(cluster, lesson("services"))
    session.open_lesson(cluster, item)  # the cluster is rebuilt, the steps replayed
    first = notes.progress(cluster, item.slug)["entered"]["delete-it"]["baseline"]
    (old_ip,) = [p["ip"] for p in first.values() if p["labels"].get("app") == "web"]
    assert old_ip not in {p["status"].get("podIP") for p in cluster.list("Pod")}
    learner_traces(cluster, "client", f"http://{old_ip}/")
    assert outcome(cluster, item, "new-address", "traced").passed


def test_lesson_9_path_types_wants_the_healthz_live_trace_answered_404_by_the_controller():
    """Issue 10: the step accepted any trace to the host that ended at the controller."""
    cluster, item = at_step("ingress", "path-types")
    learner_traces(cluster, "outside", "http://shop.example.com/nothing-here")
    refused = outcome(cluster, item, "path-types", "traced")
    assert not refused.passed and "/healthz/live" in refused.message
    learner_traces(cluster, "outside", "http://shop.example.com/healthz/live")
    assert outcome(cluster, item, "path-types", "traced").passed


@pytest.mark.parametrize(
    "answer", ["0.3333333333", "0.33333333349", ".3333333333", "0.33", "0.333", "1/3", "33%"]
)
def test_lesson_4_rules_accepts_what_kube_proxy_writes_what_iptables_save_prints_and_roundings(
    answer,
):
    """Issue 10: kube-proxy writes 0.3333333333; iptables-save prints 0.33333333349."""
    cluster, item = at_step("scaling", "rules")
    assert outcome(cluster, item, "rules", "answer", answer).passed


@pytest.mark.parametrize("answer", ["0.3", "0.34", "0.3334", "0.5", "1/2", "3", "third"])
def test_lesson_4_rules_refuses_other_numbers(answer):
    cluster, item = at_step("scaling", "rules")
    assert not outcome(cluster, item, "rules", "answer", answer).passed


@pytest.mark.parametrize(
    ("answer", "right"),
    [
        ("api.backend.svc.cluster.local.", True),
        ("api.backend.", True),
        ("API.backend.svc", True),
        ("api.", False),
        ("api.frontend.svc.cluster.local.", False),
    ],
)
def test_lesson_11_accepts_a_dns_name_with_its_trailing_dot(answer, right):
    """Issue 10: the answer list rejected api.backend.svc.cluster.local. (a fully
    qualified name, RFC 1034 section 3.1)."""
    cluster, item = at_step("troubleshooting", "namespace")
    assert outcome(cluster, item, "namespace", "answer", answer).passed is right


# --- Lessons that are right in 2026 ---------------------------------------------------------


def said(slug: str) -> str:
    """Everything a lesson says (introduction, steps, hints, recap, quiz), as plain text."""
    item = lesson(slug)
    parts = [item.intro_html, item.recap_html]
    for step in item.steps:
        parts += [step.text_html, step.task_html, *step.hints]
    for question in item.quiz:
        parts.append(question.text_html)
        for choice in question.choices:
            parts += [choice.text_html, choice.why_html]
    return plain(" ".join(parts))


def plain(html: str) -> str:
    """HTML as the words it shows (code spans lose their backticks)."""
    return flat(html_lib.unescape(re.sub(r"<[^>]+>", "", html)))


def cited(slug: str) -> str:
    """The lesson file's comments, where its sources are cited."""
    folder = next(p for p in BUILT_IN.iterdir() if p.name.endswith(f"-{slug}"))
    text = (folder / "lesson.yaml").read_text(encoding="utf-8")
    return flat(" ".join(line for line in text.splitlines() if line.lstrip().startswith("#")))


def quiz_answer(slug: str, question: str) -> tuple[str, str]:
    """The right answer of the quiz question containing question, and its why."""
    for q in lesson(slug).quiz:
        if question in plain(q.text_html):
            right = next(c for c in q.choices if c.correct)
            return plain(right.text_html), plain(right.why_html)
    raise AssertionError(f"{slug}: no quiz question about {question!r}")


@pytest.mark.parametrize("slug", ["ingress", "putting-it-together"])
def test_ingress_nginx_is_said_to_be_retired_and_gateway_api_recommended(slug):
    """kubernetes/ingress-nginx README: best-effort maintenance ended in March 2026;
    kubernetes.io/blog/2025/11/11/ingress-nginx-retirement/ (SIG Network and the Security
    Response Committee, November 2025: no releases, fixes or security patches after March
    2026; the Gateway API instead); kubernetes.io/docs/concepts/services-networking/ingress/:
    the Ingress API is frozen."""
    text = said(slug)
    assert "retired" in text and "March 2026" in text
    if slug == "ingress":
        assert "SIG Network and the Security Response Committee" in text
        assert "no releases, bug fixes or security patches after March 2026" in text
        assert "Ingress API itself is frozen" in text and "Gateway API" in text
    assert "ingress-nginx README" in cited(slug)


def test_kube_proxy_answers_503_on_the_health_check_port_but_nothing_on_the_data_port():
    """kubernetes/kubernetes pkg/proxy/healthcheck/service_health.go: 503 Service Unavailable
    when the node has no local endpoint."""
    text = said("loadbalancer")
    assert "kube-proxy works on packets and sends no HTTP answers" not in text
    assert (
        "503 Service Unavailable where none does" in text
        or "503 Service Unavailable where none does" in text
    )
    (wrong,) = [
        c for q in lesson("loadbalancer").quiz for c in q.choices if "HTTP 503" in c.text_html
    ]
    assert not wrong.correct
    assert "drops the packets" in plain(wrong.why_html) and "healthCheckNodePort" in wrong.why_html
    assert "service_health.go" in cited("loadbalancer")


@pytest.mark.parametrize("slug", ["loadbalancer", "ingress", "putting-it-together"])
def test_the_sandboxs_load_balancer_model_is_named_and_the_others_exist(slug):
    """kube-proxy's separate "loadbalancer IP" rule; allocateLoadBalancerNodePorts
    (kubernetes.io/docs/concepts/services-networking/service/); proxy-style load balancers
    replace the source (kubernetes.io/docs/tutorials/services/source-ip/)."""
    text = said(slug)
    assert "proxy-style" in text
    if slug != "ingress":
        assert "allocateLoadBalancerNodePorts: false" in text
        assert re.search(r"(this sandbox's|This sandbox's) (load balancer|model)", text)
    if slug == "loadbalancer":
        assert "loadbalancer IP" in text
        assert "keeping the client's address as the source" in text
    assert "always" not in quiz_answer("loadbalancer", "type LoadBalancer have")[1]


def test_lesson_9_teaches_ingress_class_name_and_says_why_the_sandbox_differs():
    """kubernetes.io/docs/concepts/services-networking/ingress/ (ingressClassName, default
    IngressClass); a stock ingress-nginx install marks no default class and ignores
    class-less Ingresses."""
    text = said("ingress")
    assert "spec.ingressClassName" in text
    assert "This sandbox marks nginx as the default" in text
    assert "a stock ingress-nginx install does not" in text
    assert "write ingressClassName: nginx" in text
    right, _ = quiz_answer("ingress", "no ingressClassName")
    assert "ignores it" in right
    assert "is-default-class" in cited("ingress")


@pytest.mark.parametrize("slug", ["services", "scaling"])
def test_ipvs_is_said_to_be_deprecated_and_nftables_ga_wherever_a_mode_is_offered(slug):
    """KEP-5495: IPVS mode deprecated in v1.35; KEP-3866: nftables GA in v1.33; iptables is
    still the default."""
    text = said(slug)
    for mention in re.finditer(r"IPVS mode", text):
        around = text[max(0, mention.start() - 200) : mention.end() + 200]
        assert "deprecated" in around, f"{slug}: IPVS offered without its deprecation: {around}"
    assert "GA since Kubernetes 1.33" in text
    assert "iptables is still the default" in text
    assert "KEP-5495" in cited(slug) and "KEP-3866" in cited(slug)


def test_lesson_1_says_the_node_pod_cidr_comes_from_kube_controller_manager_and_ipam_varies():
    """kube-controller-manager's node IPAM allocates spec.podCIDR; flannel's host-local IPAM
    hands addresses out of it; Calico IPAM uses /26 blocks of its own pool."""
    right, why = quiz_answer("flat-network", "pod's IP address come from")
    assert "handed out by the CNI plugin" not in right
    assert "kube-controller-manager" in why and "Calico" in why and "/26" in why
    text = said("flat-network")
    assert "kube-controller-manager gave it" in text
    assert "Calico's IPAM" in text
    assert "kube-controller-manager" in cited("flat-network")


def test_lesson_1_no_longer_says_a_source_address_can_always_be_trusted():
    """The source is rewritten on NodePort, load balancer and ingress paths
    (kubernetes.io/docs/tutorials/services/source-ip/; lessons 6 and 9)."""
    text = said("flat-network")
    assert "can trust a pod's source address" not in text
    assert "only as long as nothing rewrites it" in text


@pytest.mark.parametrize("slug", ["dns", "troubleshooting"])
def test_the_names_tried_mention_the_nodes_own_search_domains(slug):
    """With dnsPolicy ClusterFirst, kubelet appends the node's search domains after the
    cluster's three (kubernetes.io/docs/concepts/services-networking/dns-pod-service/)."""
    text = said(slug)
    assert re.search(
        r"kubelet (also )?appends the node's own search domains|search domains of the node itself, which kubelet appends",
        text,
    )
    assert "sandbox's nodes have none" in text
    assert "ClusterFirst" in cited(slug)


def test_lesson_11_says_an_endpointslice_lists_not_ready_pods_as_ready_false():
    """kubernetes.io/docs/concepts/services-networking/endpoint-slices/#conditions."""
    text = said("troubleshooting")
    assert "holds the ready pods the selector matches" not in text
    assert "fills it with the ready pods" not in text
    assert "lists every pod that matches" in text and "ready: false" in text
    _, why = quiz_answer("troubleshooting", "EndpointSlice lists no addresses")
    assert "every pod the selector matches" in why and "ready: false" in why


@pytest.mark.parametrize("slug", ["ingress", "putting-it-together"])
def test_the_controllers_external_traffic_policy_is_said_to_differ_by_install(slug):
    """ingress-nginx deploy/static/provider/cloud/deploy.yaml sets Local; the Helm chart
    leaves it unset (Cluster)."""
    text = said(slug)
    assert "Helm chart" in text
    assert re.search(r"official cloud manifest.{0,40}sets ?Local", text)
    assert "this cluster's setting" not in text
    assert "deploy.yaml" in cited(slug)
