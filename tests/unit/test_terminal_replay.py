"""The Terminal's log of the lines a replay needs (app/terminal/replay.py): what is kept, in
which form, the bound, and how the kind export's script writes it (app/cluster/kind_export.py)."""

from __future__ import annotations

import shlex

from app.cluster import scenarios
from app.cluster.kind_export import replay_commands, replay_script
from app.lessons import notes
from app.terminal import Session, replay, run
from app.web.terminal import _note


def _typed(cluster, *lines: str, session: Session | None = None) -> Session:
    """Run lines as the page does (each a line typed), keeping what the log keeps."""
    session = session or Session()
    for line in lines:
        reply = run(cluster, line, session)
        _note(cluster, [], replay.to_keep(cluster, reply.ran))
        session = reply.session
    return session


def _kept(cluster) -> list[list[str]]:
    return [shlex.split(entry[1]) for entry in (replay.kept(cluster) or {}).get("lines", [])]


def test_requests_lookups_and_changes_are_kept_reads_are_not() -> None:
    cluster = scenarios.build("web-service")
    _typed(
        cluster,
        "kubectl get pods -o wide",
        "kubectl describe svc web",
        "help",
        "kubectl exec client -- curl -s http://web",
        "kubectl exec client -- cat /etc/resolv.conf",
        "kubectl scale deploy web --replicas=3",
        "kubectl scale deploy nope --replicas=3",  # failed: changed nothing
        "curl -s http://10.0.0.11:30080/",  # from the learner's machine
    )
    assert _kept(cluster) == [
        ["kubectl", "exec", "client", "--", "curl", "-s", "http://web"],
        ["kubectl", "scale", "deploy", "web", "--replicas=3"],
        ["curl", "-s", "http://10.0.0.11:30080/"],
    ]


def test_a_pod_shells_commands_are_kept_in_their_kubectl_exec_form() -> None:
    cluster = scenarios.build("web-service")
    inside = _typed(cluster, "kubectl exec -it client -- sh")
    assert inside.where == "pod/default/client"
    _typed(cluster, "nslookup web", "ip route", "curl -s http://web | head -1", session=inside)
    assert _kept(cluster) == [
        ["kubectl", "exec", "-n", "default", "client", "--", "nslookup", "web"],
        ["kubectl", "exec", "-n", "default", "client", "--", "curl", "-s", "http://web"],
    ]


def test_a_node_shells_requests_are_kept_with_the_node() -> None:
    cluster = scenarios.build("web-service")
    on_node = _typed(cluster, "kubectl debug node/worker-1 -it --image=busybox")
    _typed(cluster, "iptables-save", "curl -s http://web", session=on_node)
    log = replay.kept(cluster)
    assert [entry[1:] for entry in log["lines"]] == [["curl -s http://web", "worker-1"]]
    assert "docker exec podpath-worker curl -s http://web" in replay_commands(cluster)


def test_a_mistyped_pod_sends_nothing_and_is_not_kept() -> None:
    cluster = scenarios.build("web-service")
    _typed(cluster, "kubectl exec nope -- curl -s http://web")
    assert replay.kept(cluster) is None


def test_the_log_keeps_the_last_lines_and_says_how_many_went() -> None:
    cluster = scenarios.build("web-service")
    for n in range(replay.KEEP + 7):
        replay.remember(cluster, [{"argv": ["curl", "-s", f"http://web/{n}"]}])
    log = replay.kept(cluster)
    assert len(log["lines"]) == replay.KEEP and log["dropped"] == 7
    assert log["lines"][0][1] == "curl -s http://web/7"
    script = replay_script(cluster)
    assert f"keeps your last {replay.KEEP} terminal commands: 7 older ones are not here" in script
    assert "curl -s http://web/7\n" in script and "http://web/6\n" not in script


def test_the_script_replays_requests_and_lists_changes_in_order() -> None:
    cluster = scenarios.build("web-service")
    pod = next(p for p in cluster.list("Pod", "default") if p["metadata"].get("ownerReferences"))
    owner = "deploy/" + pod["metadata"]["ownerReferences"][0]["name"].rsplit("-", 1)[0]
    inside = _typed(cluster, f"kubectl exec -it {pod['metadata']['name']} -- sh")
    _typed(cluster, "nslookup web", session=inside)
    _typed(cluster, "kubectl scale deploy web --replicas=3")
    _typed(cluster, "kubectl exec client -- curl -s http://web")
    assert replay_commands(cluster) == [
        f"kubectl exec -n default {owner} -- nslookup web",
        "# kubectl scale deploy web --replicas=3   (done: manifests.yaml holds the result)",
        "kubectl exec client -- curl -s http://web",
    ]


def test_lesson_records_and_log_lines_interleave_without_repeats() -> None:
    cluster = scenarios.build("web-service")
    notes.set_active(cluster, "services")
    # A trace from the trace bar, then a curl in the Terminal (its command, trace and log
    # line), then another trace from the bar.
    notes.record(cluster, {"kind": "trace", "from": "pod/default/client", "to": "http://a/"})
    reply = run(cluster, "kubectl exec client -- curl -s http://b/", Session())
    from app.lessons.activity import terminal_records

    _note(cluster, terminal_records(cluster, reply), replay.to_keep(cluster, reply.ran))
    notes.record(cluster, {"kind": "trace", "from": "pod/default/client", "to": "http://c/"})
    assert replay_commands(cluster) == [
        "kubectl exec -n default client -- curl -s http://a/",
        "kubectl exec client -- curl -s http://b/",
        "kubectl exec -n default client -- curl -s http://c/",
    ]


def test_the_log_is_no_part_of_an_undo() -> None:
    """The log lives in the lessons' notes: the history's patches hold objects and settings."""
    from app.store.history import META_KEYS

    assert replay.NOTE not in META_KEYS and "notes" not in META_KEYS


def test_may_keep_reads_the_words_alone() -> None:
    assert replay.may_keep("kubectl exec client -- curl -s http://web", "")
    assert replay.may_keep("kubectl exec client -- sh -c 'curl -s web | head'", "")
    assert replay.may_keep("kubectl scale deploy web --replicas=2", "")
    assert replay.may_keep("dig web", "node/worker-1")
    assert not replay.may_keep("kubectl get pods", "")
    assert not replay.may_keep("kubectl exec -it client -- sh", "")
    assert not replay.may_keep("cat /etc/resolv.conf", "pod/default/client")
    assert not replay.may_keep("echo 'unclosed", "")
