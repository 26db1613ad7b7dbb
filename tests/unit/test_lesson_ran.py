"""Issue 13: a lesson asks for a terminal command (``ran:``) and checks it was run, whatever
its spelling; the terminal records each command it ran, where, and whether it succeeded."""

from __future__ import annotations

import pytest

from app.cluster.scenarios import build
from app.lessons import notes
from app.lessons.actions import run_actions
from app.lessons.activity import terminal_records
from app.lessons.checks import evaluate
from app.lessons.model import Action, Check
from app.lessons.outcome import StepState
from app.lessons.source import LessonFileError, read_yaml
from app.terminal import Session, run
from app.terminal.meaning import meaning, same, words_of

ASKED = "kubectl get endpointslices -l kubernetes.io/service-name=web"


def _same(asked: str, typed: str, where: str = "cluster") -> bool:
    return same(meaning(words_of(asked)), meaning(words_of(typed), where))


@pytest.mark.parametrize(
    "typed",
    [
        ASKED,
        "kubectl get endpointslice --selector=kubernetes.io/service-name=web",
        "kubectl get -lkubernetes.io/service-name=web endpointslices",
        "kubectl get endpointslices --selector kubernetes.io/service-name=web -n default",
        "kubectl --namespace=default get endpointslices.discovery.k8s.io -l 'kubernetes.io/service-name=web'",
        'k get "endpointslices" -l kubernetes.io/service-name==web -o wide',
    ],
)
def test_one_command_in_many_spellings_is_the_command_asked_for(typed):
    assert _same(ASKED, typed)


@pytest.mark.parametrize(
    "typed",
    [
        "kubectl get endpointslices",
        "kubectl get endpoints -l kubernetes.io/service-name=web",
        "kubectl get endpointslices -l kubernetes.io/service-name=api",
        "kubectl get endpointslices -l kubernetes.io/service-name=web -A",
        "kubectl get endpointslices -l kubernetes.io/service-name=web -n kube-system",
        "kubectl describe endpointslices -l kubernetes.io/service-name=web",
    ],
)
def test_another_command_is_not(typed):
    assert not _same(ASKED, typed)


def test_resources_names_and_selectors_compare_by_meaning():
    assert _same("kubectl get svc web", "kubectl get services/web")
    assert _same("kubectl get pods,svc", "kubectl get service,pod")
    assert _same("kubectl get pods -l app=web,tier!=db", "kubectl get po -l tier!=db,app=web")
    assert not _same("kubectl get svc web", "kubectl get svc api")
    assert not _same("kubectl get svc -o yaml", "kubectl get svc -o json")


def test_other_commands_take_their_options_in_any_order_and_exec_runs_them_in_the_pod():
    assert _same("curl -s -v http://web/", "curl -v http://web/ -s", "pod/default/client")
    assert not _same("curl http://web/", "curl http://api/")
    inside = meaning(words_of("kubectl exec -it client -- sh -c 'nslookup web'"))
    assert (inside.program, inside.where, inside.operands) == (
        "nslookup",
        "pod/default/client",
        ("web",),
    )


def test_the_terminal_records_each_command_where_it_ran_and_whether_it_succeeded():
    cluster = build("web-service")
    reply = run(cluster, "kubectl exec -it client -- sh", Session())
    assert reply.ran == [(["kubectl", "exec", "-it", "client", "--", "sh"], "cluster", 0)]
    reply = run(cluster, "hostname | grep 10; nosuch", reply.session)
    records = terminal_records(cluster, reply)
    assert [(r["argv"], r["where"], r["ok"]) for r in records] == [
        (["hostname"], "pod/default/client", True),
        (["grep", "10"], "pod/default/client", False),
        (["nosuch"], "pod/default/client", False),
    ]


def test_a_pasted_long_command_is_kept_short():
    cluster = build("web-service")
    reply = run(cluster, "echo " + " ".join(["x" * 500] * 100), Session())
    (record,) = terminal_records(cluster, reply)
    assert sum(map(len, record["argv"])) <= 1000
    for _ in range(notes.KEEP_ACTIVITY + 5):
        notes.record(cluster, record)
    assert len(notes._notes(cluster)["activity"]) == notes.KEEP_ACTIVITY


def _typed(cluster, line: str, where: str = "") -> StepState:
    for record in terminal_records(cluster, run(cluster, line, Session(where))):
        notes.record(cluster, record)
    return StepState(notes._notes(cluster)["activity"])


def test_the_check_passes_on_the_command_and_tells_what_to_type_before():
    cluster = build("web-service")
    check = Check("ran", {"ran": ASKED}, 1)
    before = evaluate(cluster, check, StepState())
    assert not before.passed
    assert before.message == f"In the Terminal tab, run `{ASKED}`."
    state = _typed(cluster, "kubectl get endpointslices")
    wrong = evaluate(cluster, check, state)
    assert not wrong.passed
    assert wrong.message == (
        "Your last command, `kubectl get endpointslices`, is not the one asked for (it has no "
        f"-l kubernetes.io/service-name=web). In the Terminal tab, run `{ASKED}`."
    )
    state = _typed(cluster, "kubectl get endpointslice --selector=kubernetes.io/service-name=web")
    assert evaluate(cluster, check, state).message == f"You ran `{ASKED}`."


def test_the_check_wants_it_in_the_pod_and_successful():
    cluster = build("web-service")
    check = Check("ran", {"ran": "nslookup web", "in": "pod/client"}, 1)
    state = _typed(cluster, "nslookup web")  # on the learner's machine
    outcome = evaluate(cluster, check, state)
    assert not outcome.passed
    assert outcome.message == (
        "You ran `nslookup web` on your own machine; this step asks for it in pod client: "
        "open a shell there first (kubectl exec -it client -- sh)."
    )
    state = _typed(cluster, "nslookup nosuch.example", "pod/default/client")
    assert not evaluate(cluster, check, state).passed
    state = _typed(cluster, "kubectl exec client -- nslookup web")
    assert evaluate(cluster, check, state).passed
    any_web = Check("ran", {"ran": "hostname", "in": "pod/app=web"}, 1)
    assert "kubectl exec -it POD -- sh" in evaluate(cluster, any_web, state).message
    assert (
        evaluate(cluster, any_web, _typed(cluster, "kubectl exec deploy/web -- hostname")).passed
        is False
    )
    web = next(p for p in cluster.list("Pod") if p["metadata"]["name"].startswith("web-"))
    state = _typed(cluster, f"kubectl exec {web['metadata']['name']} -- hostname")
    assert evaluate(cluster, any_web, state).passed
    node = Check("ran", {"ran": "iptables-save -t nat", "on": "node/worker-1"}, 1)
    assert (
        "kubectl debug node/worker-1 -it --image=busybox" in evaluate(cluster, node, state).message
    )
    state = _typed(cluster, "iptables-save -t nat", "node/worker-1")
    assert evaluate(cluster, node, state).passed


def test_a_failed_command_does_not_count():
    cluster = build("web-service")
    check = Check("ran", {"ran": "kubectl get svc nosuch"}, 1)
    state = _typed(cluster, "kubectl get svc nosuch")
    outcome = evaluate(cluster, check, state)
    assert not outcome.passed and "but it failed" in outcome.message


def test_the_run_action_types_the_command_for_the_learner():
    cluster = build("web-service")
    notes.set_active(cluster, "services")
    done = run_actions(
        cluster, [Action("run", {"ran": "curl -s http://web/", "in": "pod/client"}, 1)]
    )
    assert done.lines[0] == "root@client:/# curl -s http://web/"
    assert done.trace is not None
    kinds = [r["kind"] for r in notes._notes(cluster)["activity"]]
    assert kinds == ["command", "trace"]
    check = Check("ran", {"ran": "curl -s http://web/", "in": "pod/client"}, 1)
    assert evaluate(cluster, check, StepState(notes._notes(cluster)["activity"])).passed


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("ran: 'kubectl get pods | grep web'", "not one command"),
        ('ran: "echo \'open"', "unterminated"),
        ("{ran: kubectl get pods, in: pod/a, on: node/b}", "not both"),
        ("{ran: hostname, in: client}", "pod/<name>"),
    ],
)
def test_a_ran_check_that_cannot_be_a_command_is_refused_when_the_lesson_loads(text, problem):
    from app.lessons.check_kinds import read_check

    doc = read_yaml("lesson.yaml", text)
    with pytest.raises(LessonFileError) as error:
        read_check(doc, doc.data, ())
    assert problem in error.value.problem


def test_on_a_node_is_read_as_the_word_on_not_as_yaml_true():
    from app.lessons.check_kinds import read_check

    doc = read_yaml("lesson.yaml", "{ran: iptables-save -t nat, on: node/worker-1}")
    assert read_check(doc, doc.data, ()).spec["on"] == "node/worker-1"


def test_the_message_quotes_the_last_try_at_the_command_not_the_filter_after_it():
    cluster = build("web-service")
    state = _typed(cluster, "kubectl get endpoints | grep web")
    outcome = evaluate(cluster, Check("ran", {"ran": ASKED}, 1), state)
    assert "`kubectl get endpoints`" in outcome.message
    assert "it gets endpoints, not endpointslices" in outcome.message
