"""What a Cilium node shows instead of kube-proxy's rules (app/network/cilium/rules.py), in the
formats of Cilium's CLI sources: ``cilium-dbg service list`` (cilium/cilium
cilium-dbg/cmd/service_list.go: "ID\\tFrontend\\tService Type\\tBackend\\t", backends as
"%d => %s (%s)", tabwriter minwidth 5 padding 3), ``cilium-dbg bpf lb list``
(cilium-dbg/cmd/bpf_lb_list.go: "SERVICE ADDRESS" and "BACKEND ADDRESS (REVNAT_ID) (SLOT)";
slot 0 "0.0.0.0:0 (%d) (%d) [%s]" with the loadbalancer.ServiceFlags string, backends
"%s:%d/%s (%d) (%d)"; pkg/maps/lbmap Service4Key.String "addr:port/PROTO (slot)") and the
iptables chains pkg/datapath/iptables installs (CILIUM_* chains, no KUBE-SERVICES)."""

from __future__ import annotations

import re

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from app.network.cilium import rules
from app.terminal import Session, run
from tests.unit.scenarios import deployment, pods_of, service


def cluster(extra: str = "", type_: str = "NodePort") -> Cluster:
    c_ = Cluster.create(ClusterConfig(cni="cilium"), seed=7)
    apply_text(c_, deployment("web", 2) + "---\n" + service("web", type_=type_, extra=extra))
    return c_


def cells(line: str) -> list[str]:
    return re.split(r"\s{3,}", line.strip())


def test_service_list_has_ciliums_columns_and_one_line_per_backend():
    c_ = cluster()
    text = rules.service_list(c_, "worker-1")
    lines = text.splitlines()
    assert cells(lines[0]) == ["ID", "Frontend", "Service Type", "Backend"]
    vip = c_.get("Service", "default", "web")["spec"]["clusterIP"]
    row = next(i for i, line in enumerate(lines) if f" {vip}:80/TCP " in line)
    backends = sorted(p["status"]["podIP"] for p in pods_of(c_, "web-"))
    first = cells(lines[row])
    assert first[1:3] == [f"{vip}:80/TCP", "ClusterIP"]
    assert first[3] == f"1 => {backends[0]}:8080/TCP (active)"
    # The next backend sits on a line of its own, under the Backend column.
    assert lines[row + 1].strip() == f"2 => {backends[1]}:8080/TCP (active)"
    assert lines[row + 1].index("2 =>") == lines[0].index("Backend")
    node_port = c_.get("Service", "default", "web")["spec"]["ports"][0]["nodePort"]
    types = {cells(line)[1]: cells(line)[2] for line in lines[1:] if len(cells(line)) > 2}
    assert types[f"10.0.0.11:{node_port}/TCP"] == "NodePort"
    assert types[f"0.0.0.0:{node_port}/TCP"] == "NodePort"


def test_tabwriter_pads_every_terminated_cell_like_go():
    # Each cell ends with a tab in Cilium's format, so Go's tabwriter pads the last one too.
    text = rules.go_table([["ID", "Frontend"], ["10", "1.2.3.4:80/TCP"]])
    assert text.splitlines() == ["ID   Frontend         ", "10   1.2.3.4:80/TCP   "]


def test_bpf_lb_list_has_the_frontend_slot_with_its_flags_then_each_backend_slot():
    c_ = cluster(extra="  externalTrafficPolicy: Local\n")
    text = rules.bpf_lb_list(c_, "worker-1")
    lines = text.splitlines()
    assert cells(lines[0]) == ["SERVICE ADDRESS", "BACKEND ADDRESS (REVNAT_ID) (SLOT)"]
    vip = c_.get("Service", "default", "web")["spec"]["clusterIP"]
    mine = [cells(line) for line in lines if line.startswith(f"{vip}:80/TCP ")]
    assert mine[0][0] == f"{vip}:80/TCP (0)"
    assert re.fullmatch(r"0\.0\.0\.0:0 \(\d+\) \(0\) \[ClusterIP, non-routable\]", mine[0][1])
    rev = re.search(r"\((\d+)\)", mine[0][1]).group(1)
    backends = sorted(p["status"]["podIP"] for p in pods_of(c_, "web-"))
    assert [m[1] for m in mine[1:]] == [
        f"{ip}:8080/TCP ({rev}) ({slot})" for slot, ip in enumerate(backends, 1)
    ]
    # externalTrafficPolicy: Local: the NodePort holds only this node's backends, and an
    # internal-scope key (/i) holds every backend for clients in the cluster.
    node_port = c_.get("Service", "default", "web")["spec"]["ports"][0]["nodePort"]
    ext = [cells(line) for line in lines if line.startswith(f"10.0.0.11:{node_port}/TCP (")]
    assert "[NodePort, Local, two-scopes]" in ext[0][1]
    local = [
        p["status"]["podIP"] for p in pods_of(c_, "web-") if p["spec"]["nodeName"] == "worker-1"
    ]
    assert len(ext) == 1 + len(local)
    internal = [line for line in lines if line.startswith(f"10.0.0.11:{node_port}/TCP/i (")]
    assert len(internal) == 1 + len(backends)


def test_iptables_save_shows_ciliums_chains_and_no_kube_proxy():
    c_ = cluster()
    text = rules.iptables_save(c_, "worker-1")
    assert "KUBE-" not in text
    for chain in ("CILIUM_POST_nat", "CILIUM_FORWARD", "CILIUM_PRE_raw", "CILIUM_PRE_mangle"):
        assert f":{chain} - [0:0]" in text
    assert (
        '-A POSTROUTING -m comment --comment "cilium-feeder: CILIUM_POST_nat" -j CILIUM_POST_nat'
        in text
    )
    assert '--comment "cilium masquerade non-cluster" -j MASQUERADE' in text
    assert text.count("COMMIT") == 4


def test_the_node_terminal_runs_ciliums_cli_and_iptables_save_shows_its_chains():
    c_ = cluster()
    node = Session("node/worker-1")
    assert run(c_, "cilium-dbg service list", node).output == rules.service_list(c_, "worker-1")
    assert run(c_, "cilium service list", node).output == rules.service_list(c_, "worker-1")
    assert run(c_, "cilium-dbg bpf lb list", node).output == rules.bpf_lb_list(c_, "worker-1")
    saved = run(c_, "iptables-save", node).output
    assert "CILIUM_POST_nat" in saved and "KUBE-SERVICES" not in saved
    assert run(c_, "iptables-save -t nat", node).output.startswith("*nat\n")
    flannel = Cluster.create(ClusterConfig(), seed=7)
    missing = run(flannel, "cilium-dbg service list", node)
    assert "cilium-dbg: not found" in missing.output


def test_the_rules_view_marks_the_lines_a_socket_lb_trace_used():
    from app.network.trace import trace

    c_ = cluster(type_="ClusterIP")
    apply_text(
        c_,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: client}\n"
        "spec: {nodeName: worker-1, containers: [{name: c, image: busybox}]}\n",
    )
    t = trace(c_, "pod/default/client", "http://web/")
    entries = [
        h.why["entry"] for h in t.hops if h.why and h.why["table"] == "cilium-dbg bpf lb list"
    ]
    bpf = rules.lines_for(rules.bpf_lb_list(c_, "worker-1"), entries)
    vip = c_.get("Service", "default", "web")["spec"]["clusterIP"]
    assert [line for line in bpf if line.startswith(f"{vip}:80/TCP")]
    listed = rules.lines_for(rules.service_list(c_, "worker-1"), entries)
    # The request's own frontend, and kube-dns's (its DNS query was balanced at sendmsg()).
    assert [cells(line)[1] for line in listed] == [f"{vip}:80/TCP", "10.96.0.10:53/UDP"]
