"""A shell on a node (kubectl debug node/worker-1) of the web-service class scenario: the
kube-proxy rules are the Rules tab's text in every mode, and conntrack and tcpdump show the
last request the terminal sent (conntrack-tools' and tcpdump 4.99's formats)."""

from __future__ import annotations

import pytest

from app.cluster.scenarios import build
from app.cluster.state import ClusterConfig
from app.network import kubeproxy
from app.terminal import Session, run


@pytest.fixture(scope="module")
def cluster():
    return build("web-service")


def on_node_after_curl(cluster) -> Session:
    """worker-1's shell, after the client pod (on worker-1) curled http://web."""
    sent = run(cluster, "kubectl exec client -- curl -s http://web", Session()).session
    assert sent.where == "" and sent.last == ("pod/default/client", "http://web", 0)
    return run(cluster, "kubectl debug node/worker-1 -it --image=busybox", sent).session


@pytest.mark.parametrize(
    ("mode", "command"),
    [("iptables", "iptables-save"), ("nftables", "nft list ruleset"), ("ipvs", "ipvsadm -Ln")],
)
def test_the_rules_are_the_rules_tabs_text(mode: str, command: str) -> None:
    cluster = build("web-service", ClusterConfig(proxy_mode=mode))
    node = Session("node/worker-1")
    assert run(cluster, command, node).output == kubeproxy.rules(cluster, "worker-1").text


def test_iptables_save_of_the_nat_table_greps_like_the_real_one(cluster) -> None:
    lines = run(
        cluster,
        "iptables-save -t nat | grep 'default/web:http cluster IP'",
        Session("node/worker-1"),
    )
    assert lines.output.splitlines()[0] == (
        '-A KUBE-SERVICES -d 10.101.124.92/32 -p tcp -m comment --comment "default/web:http '
        'cluster IP" -m tcp --dport 80 -j KUBE-SVC-CDGGSHYLG3RE2FKL'
    )


def test_conntrack_lists_the_last_requests_nat_entries(cluster) -> None:
    node = on_node_after_curl(cluster)
    assert run(cluster, "conntrack -L", node).output == (
        "udp 17 29 src=10.244.1.4 dst=10.96.0.10 sport=52801 dport=53 src=10.244.2.2 "
        "dst=10.244.1.4 sport=53 dport=52801 mark=0 use=1\n"
        "tcp 6 86399 ESTABLISHED src=10.244.1.4 dst=10.101.124.92 sport=32768 dport=80 "
        "src=10.244.2.5 dst=10.244.1.4 sport=8080 dport=32768 [ASSURED] mark=0 use=1\n"
        "conntrack v1.4.8 (conntrack-tools): 2 flow entries have been shown.\n"
    )


def test_tcpdump_on_eth0_shows_the_vxlan_outer_header(cluster) -> None:
    node = on_node_after_curl(cluster)
    packets = run(cluster, "tcpdump -ni eth0 2>/dev/null", node).output.splitlines()
    assert packets[4:6] == [
        "00:00:00.000411 IP 10.0.0.11.33582 > 10.0.0.12.8472: OTV, flags [I] (0x08), overlay 0, instance 1",
        "IP 10.244.1.4.32768 > 10.244.2.5.8080: Flags [P.], seq 1:77, ack 1, win 502, length 76: HTTP: GET / HTTP/1.1",
    ]


def test_tcpdump_on_the_bridge_sees_the_packet_before_kube_proxy(cluster) -> None:
    node = on_node_after_curl(cluster)
    lines = run(cluster, "tcpdump -ni cni0 2>/dev/null | grep HTTP", node).output.splitlines()
    # On cni0 the request still goes to the ClusterIP (DNAT is after), the reply comes from it.
    assert lines == [
        "00:00:00.000411 IP 10.244.1.4.32768 > 10.101.124.92.80: Flags [P.], seq 1:77, ack 1, win 502, length 76: HTTP: GET / HTTP/1.1",
        "00:00:00.000548 IP 10.101.124.92.80 > 10.244.1.4.32768: Flags [P.], seq 1:239, ack 77, win 509, length 238: HTTP: HTTP/1.1 200 OK",
    ]
    assert run(cluster, "tcpdump -ni wlan0", node).output == (
        "tcpdump: wlan0: No such device exists\n(SIOCGIFHWADDR: No such device)\n"
    )


def test_the_nodes_routes_neighbours_and_forwarding_entries(cluster) -> None:
    node = Session("node/worker-1")
    assert run(cluster, "ip route", node).output == (
        "default via 10.0.0.1 dev eth0 proto dhcp src 10.0.0.11 metric 100 \n"
        "10.0.0.0/16 dev eth0 proto kernel scope link src 10.0.0.11 \n"
        "10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink \n"
        "10.244.1.0/24 dev cni0 proto kernel scope link src 10.244.1.1 \n"
        "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink \n"
    )
    fdb = run(cluster, "bridge fdb show | grep flannel.1", node).output.splitlines()
    assert [line.split(" ", 1)[1] for line in fdb] == [
        "dev flannel.1 dst 10.0.0.10 self permanent",
        "dev flannel.1 dst 10.0.0.12 self permanent",
    ]
    assert "10.244.2.0 dev flannel.1 lladdr " in run(cluster, "ip neigh", node).output


def test_tcpdump_on_any_names_the_interface_and_direction(cluster) -> None:
    node = on_node_after_curl(cluster)
    shown = run(cluster, "tcpdump -ni any 2>/dev/null | grep -E 'GET /|10.0.0.11.33582'", node)
    lines = shown.output.splitlines()
    assert [line.split(" ")[1:3] for line in lines if line.startswith("00:")] == [
        ["vetha7a3e029", "In"],  # from the pod, into the host
        ["cni0", "In"],
        ["flannel.1", "Out"],  # after kube-proxy's DNAT, into the tunnel
        ["eth0", "Out"],  # the outer VXLAN packet, to worker-2
    ]


def test_iptables_lists_one_chain_as_commands(cluster) -> None:
    node = Session("node/worker-1")
    lines = run(cluster, "iptables -t nat -S KUBE-SVC-CDGGSHYLG3RE2FKL", node).output.splitlines()
    assert lines[0] == "-N KUBE-SVC-CDGGSHYLG3RE2FKL"
    assert all(line.startswith("-A KUBE-SVC-CDGGSHYLG3RE2FKL ") for line in lines[1:])
    assert len(lines) == 5  # the masquerade mark, then one jump per endpoint


def test_iptables_save_counters_show_what_the_last_request_matched(cluster) -> None:
    node = on_node_after_curl(cluster)
    hit = run(cluster, "iptables-save -c -t nat | grep -v '^\\[0:0\\]' | grep -- '^\\['", node)
    lines = hit.output.splitlines()
    # The DNS query and the request both enter through PREROUTING; each reached its endpoint.
    assert lines[0] == (
        '[2:120] -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
    )
    assert (
        '[1:60] -A KUBE-SVC-CDGGSHYLG3RE2FKL -m comment --comment "default/web:http -> '
        '10.244.2.5:8080" -j KUBE-SEP-OAIGUPJHOE4YU7HS'
    ) in lines
