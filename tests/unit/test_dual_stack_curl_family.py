"""curl ``-4`` / ``--ipv4`` / ``-6`` / ``--ipv6`` in the Terminal.

Sources: curl's docs/cmdline-opts ipv4.md / ipv6.md ("use IPv6 addresses only when resolving
host names", the two options mutually exclusive); curl's exit code 6, CURLE_COULDNT_RESOLVE_HOST
("curl: (6) Could not resolve host: NAME", as curl prints it for ``-4`` against a name with
only an AAAA record, curl issue #13112); an address in the URL is used as written whatever
the option (curl resolves names with it, not literals: gocurl issue #25 on ``curl --ipv6
https://1.1.1.1``).
"""

from __future__ import annotations

import pytest

from app.cluster.cluster import Cluster
from app.cluster.scenarios import build
from app.cluster.state import ClusterConfig
from app.terminal import Session, run
from app.terminal.node_commands import last_trace

CLIENT = Session("pod/default/client")


@pytest.fixture(scope="module")
def ipv4() -> Cluster:
    return build("web-service")


def dialled(traced) -> str:
    """The address the request (not its DNS query) was sent to."""
    return next(h for h in traced.hops if h.phase != "dns").packet.dst_ip


def dual_cluster() -> Cluster:
    from app.cluster.apply import apply_text

    cluster = Cluster.create(ClusterConfig(ip_family="dual"), seed=1)
    apply_text(
        cluster,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: client}\n"
        "spec: {containers: [{name: c, image: busybox}]}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, labels: {app: web}}\n"
        "spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
        "spec: {ipFamilyPolicy: PreferDualStack, selector: {app: web}, ports: [{port: 80}]}\n",
    )
    return cluster


@pytest.mark.parametrize("flag", ["-6", "--ipv6", "-sS6", "-6i"])
def test_curl_minus_6_on_an_ipv4_cluster_cannot_resolve_the_host(ipv4, flag) -> None:
    reply = run(ipv4, f"curl {flag} http://web/", CLIENT)
    assert reply.status == 6
    assert reply.output.endswith("curl: (6) Could not resolve host: web\n")
    assert reply.trace.verdict == "nxdomain"
    assert "has no AAAA record" in reply.trace.reason and "IPv4-only" in reply.trace.reason
    assert reply.trace.dns["type"] == "AAAA"


def test_curl_minus_4_on_an_ipv4_cluster_is_the_usual_request(ipv4) -> None:
    for flag in ("-4", "--ipv4"):
        reply = run(ipv4, f"curl {flag} -s http://web/", CLIENT)
        assert reply.status == 0 and reply.trace.verdict == "delivered"


def test_an_address_in_the_url_is_dialled_whatever_the_family_option(ipv4) -> None:
    assert run(ipv4, "curl -6 -s http://10.96.0.1:443/", CLIENT).trace.verdict == "delivered"


def test_on_dual_stack_the_option_picks_the_family_curl_connects_with() -> None:
    cluster = dual_cluster()
    six = run(cluster, "curl -6 -v http://web/", CLIENT)
    four = run(cluster, "curl -4 -v http://web/", CLIENT)
    assert ":" in dialled(six.trace) and ":" not in dialled(four.trace)
    # curl -6 asks for AAAA only, -4 for A only: the other family's line says (none)
    assert "* IPv4: (none)\n" in six.output and "* IPv6: (none)\n" in four.output
    assert six.trace.dns["type"] == "AAAA" and four.trace.dns["type"] == "A"
    # the last request keeps its family, so conntrack / iptables -c read the same one again
    again = last_trace(cluster, four.session)
    assert ":" not in dialled(again)
    assert Session.from_fields(**four.session.to_fields()).last == four.session.last


def test_the_last_of_minus_4_and_minus_6_wins() -> None:
    cluster = dual_cluster()
    reply = run(cluster, "curl -6 -4 -s http://web/", CLIENT)
    assert reply.trace.dns["type"] == "A"
