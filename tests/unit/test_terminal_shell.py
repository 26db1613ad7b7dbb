"""The terminal's shell: words as sh reads them, pipes, heredocs, redirections, the place a
session is in, and what a learner gets for a command there is not (busybox sh's message)."""

from __future__ import annotations

import pytest

from app.cluster.scenarios import build
from app.terminal import Session, changes_cluster, run
from app.terminal.shell import ShellSyntaxError, parse, tokenize


@pytest.fixture(scope="module")
def cluster():
    return build("web-service")


def test_quotes_escapes_and_operators_split_as_sh_splits_them() -> None:
    assert tokenize("""kubectl label pod client 'note=a b' "x=\\"y\\"" z\\ w""") == [
        "kubectl",
        "label",
        "pod",
        "client",
        "note=a b",
        'x="y"',
        "z w",
    ]
    assert tokenize("a|b&&c;d") == ["a", ("|",), "b", ("&&",), "c", (";",), "d"]
    with pytest.raises(ShellSyntaxError, match="unterminated quoted string"):
        tokenize('echo "open')


def test_a_heredoc_feeds_the_lines_up_to_its_delimiter() -> None:
    pipelines = parse("kubectl apply -f - <<'EOF'\nkind: Pod\n  x: 1\nEOF\necho done")
    assert pipelines[0].commands[0].stdin == "kind: Pod\n  x: 1\n"
    assert pipelines[1].commands[0].argv == ["echo", "done"]


def test_pipes_feed_stdout_only_and_stderr_reaches_the_screen(cluster) -> None:
    pod = run(cluster, "kubectl exec -it client -- sh", Session()).session
    # curl -v writes its exchange on stderr: grep sees only the body.
    reply = run(cluster, "curl -v http://web | grep -c nginx", pod)
    assert reply.output.startswith("* Host web:80 was resolved.\n")
    # curl's last line comes after what its body became, as on a terminal.
    assert reply.output.endswith("< \n6\n* Connection #0 to host web left intact\n")
    merged = run(cluster, "curl -v http://web 2>&1 | grep '^<'", pod)
    assert merged.output.splitlines()[0] == "< HTTP/1.1 200 OK"
    quiet = run(cluster, "curl http://nosuch 2>/dev/null; echo $?", pod)
    assert quiet.output == "$?\n"  # nothing is expanded: echo prints its word


def test_and_or_lists_follow_the_exit_status(cluster) -> None:
    assert run(cluster, "kubectl get pod nosuch && echo yes", Session()).output == (
        'Error from server (NotFound): pods "nosuch" not found\n'
    )
    assert run(cluster, "kubectl get pod nosuch || echo no", Session()).output.endswith("no\n")


def test_an_unknown_command_says_so_and_what_there_is(cluster) -> None:
    reply = run(cluster, "ls -la /", Session())
    assert reply.status == 127
    assert reply.output == (
        "sh: ls: not found\n"
        "Podpath: here you can run kubectl, curl, wget, nslookup, dig, ping, nc, help "
        "(and grep, head, tail, wc, sort, uniq after a |).\n"
    )


def test_nothing_reaches_the_host(cluster) -> None:
    for line in ("python3 -c 'import os'", "sh -c id", "bash", "/bin/ls", "cat /etc/passwd"):
        reply = run(cluster, line, Session())
        assert reply.status == 127 and "not found" in reply.output, line
    pod = Session("pod/default/client")
    assert run(cluster, "cat /etc/passwd", pod).output == (
        "cat: can't open '/etc/passwd': No such file or directory\n"
    )
    assert "Read-only file system" in run(cluster, "echo x > /tmp/f", pod).output


def test_exec_debug_and_exit_move_the_prompt(cluster) -> None:
    reply = run(cluster, "kubectl exec -it client -- sh", Session())
    assert reply.prompt == "root@client:/# " and reply.output == ""
    assert run(cluster, "exit", reply.session).prompt == "$ "
    node = run(cluster, "kubectl debug node/worker-2 -it --image=busybox", Session())
    assert node.prompt == "root@worker-2:/# "
    assert node.output.startswith("Creating debugging pod node-debugger-worker-2-")
    assert node.output.endswith(
        " with container debugger on node worker-2.\n"
        "If you don't see a command prompt, try pressing enter.\n"
    )
    missing = run(cluster, "kubectl exec -it nosuch -- sh", Session())
    assert missing.output == 'Error from server (NotFound): pods "nosuch" not found\n'


def test_only_kubectl_verbs_that_change_the_cluster_run_as_a_change() -> None:
    assert changes_cluster("kubectl apply -f - <<EOF\nkind: Pod\nEOF", Session())
    assert changes_cluster("kubectl rollout restart deploy/web", Session())
    assert not changes_cluster("kubectl describe pod x", Session())
    assert not changes_cluster("echo 'kubectl delete pod x'", Session())


def test_a_session_from_the_form_is_checked() -> None:
    assert Session.from_fields("pod/default/client").where == "pod/default/client"
    assert Session.from_fields("node/worker-1").prompt() == "root@worker-1:/# "
    for forged in ("pod/x", "pod//x", "node/a/b", "file:///etc", "pod/../x"):
        assert Session.from_fields(forged).where == "", forged


def test_a_paste_of_many_commands_is_refused_whole(cluster) -> None:
    reply = run(cluster, "; ".join(["curl -s web"] * 21), Session("pod/default/client"))
    assert reply.output == "sh: 21 commands in one go: Podpath runs at most 20.\n"
    assert reply.trace is None and reply.session.sent == 0
