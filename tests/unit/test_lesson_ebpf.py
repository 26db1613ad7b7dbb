"""The eBPF lesson (issue 15): the same pod → Service request under kube-proxy's iptables
DNAT and under Cilium's socket load balancer. Its checks accept what each datapath really
does and refuse the likely mistakes with their own explanation; what it says is what the
engine shows (the trace's hops, tcpdump's lines, cilium-dbg service list), each fact with its
source in the test's docstring and in the lesson file's comments."""

from __future__ import annotations

from app.cluster import rebuild
from app.lessons.actions import run_actions
from app.lessons.model import Action
from app.network.trace import trace
from app.terminal import run
from tests.unit.test_lesson_facts import at_step, cited, learner_traces, outcome, quiz_answer, said

SLUG = "ebpf-service-translation"


def cluster_ip(cluster) -> str:
    return cluster.get("Service", "default", "web")["spec"]["clusterIP"]


def web_ips(cluster) -> set[str]:
    return {
        p["status"]["podIP"]
        for p in cluster.list("Pod", "default")
        if p["metadata"]["labels"].get("app") == "web"
    }


def learner_runs(cluster, *lines: str) -> str:
    """Commands typed in one terminal tab, as the learner would; what the last one printed
    (all of it: the step's panel shortens a long output)."""
    done = run_actions(cluster, [Action("run", {"ran": line}, None) for line in lines])
    return run(cluster, lines[-1], done.session).output


def test_kube_proxys_dnat_is_in_prerouting_on_the_clients_node():
    """kubernetes/kubernetes pkg/proxy/iptables/proxier.go: PREROUTING (and OUTPUT) jump to
    KUBE-SERVICES in the nat table; KUBE-SVC picks an endpoint, KUBE-SEP DNATs."""
    cluster, item = at_step(SLUG, "dnat")
    learner_traces(cluster, "client", "http://web/")
    assert outcome(cluster, item, "dnat", "traced").passed
    result = trace(cluster, "pod/default/client", "http://web/", 0)
    (dnat,) = [h for h in result.hops if h.phase == "request" and h.action == "dnat"]
    assert dnat.node == "worker-1" and dnat.where.startswith("netfilter PREROUTING → KUBE-SERVICES")
    assert outcome(cluster, item, "dnat", "answer", "prerouting").passed
    wrong = outcome(cluster, item, "dnat", "answer", "KUBE-SERVICES")
    assert not wrong.passed and "kube-proxy's own chain" in wrong.message
    assert "proxier.go" in cited(SLUG)


def test_under_kube_proxy_the_pods_veth_sees_the_clusterip():
    """tcpdump sees an arriving packet before netfilter's PREROUTING (the Netfilter packet
    flow): on the client's veth the request still goes to the ClusterIP."""
    cluster, item = at_step(SLUG, "capture")
    shown = learner_runs(
        cluster,
        "kubectl exec client -- curl -s -o /dev/null http://web/",
        "kubectl debug node/worker-1 -it --image=busybox",
        "tcpdump -ni any",
    )
    veth = [line for line in shown.splitlines() if " In IP " in line and "veth" in line]
    assert any(f"> {cluster_ip(cluster)}.80: " in line for line in veth)
    for kind in ("traced", "ran"):
        assert outcome(cluster, item, "capture", kind).passed
    assert outcome(cluster, item, "capture", "answer", cluster_ip(cluster)).passed
    pod = sorted(web_ips(cluster))[0]
    wrong = outcome(cluster, item, "capture", "answer", pod)
    assert not wrong.passed and "what kube-proxy's DNAT writes" in wrong.message


def test_under_cilium_the_backend_is_picked_at_connect_in_the_client_pod():
    """docs.cilium.io Kubernetes Without kube-proxy: the kube-proxy replacement relies on the
    socket-LB, eBPF cgroup hooks (connect4, sendmsg4, getpeername4, ...); in-cluster sockets
    are assigned to backends at TCP connect time, with no intermediate hop."""
    cluster, item = at_step(SLUG, "socket-lb")
    rebuild.switch(cluster, cni="cilium")
    assert outcome(cluster, item, "socket-lb", "cluster").passed
    learner_traces(cluster, "client", "http://web/")
    translated = outcome(cluster, item, "socket-lb", "translated")
    assert translated.passed and "already addressed to" in translated.message
    result = trace(cluster, "pod/default/client", "http://web/", 0)
    request = [h for h in result.hops if h.phase == "request"]
    assert not [h for h in request if h.action == "dnat" and h.at.startswith("node/")]
    (hook,) = [h for h in request if h.action == "dnat"]
    assert hook.where == "socket LB (cgroup connect4)" and hook.at == "pod/default/client"
    for answer in ("connect", "connect()", "connect4"):
        assert outcome(cluster, item, "socket-lb", "answer", answer).passed
    wrong = outcome(cluster, item, "socket-lb", "answer", "sendmsg")
    assert not wrong.passed and "UDP datagrams" in wrong.message
    assert "kubeproxy-free" in cited(SLUG)


def test_cilium_without_kube_proxy_replacement_is_not_the_socket_lb():
    """Cilium's Helm default kubeProxyReplacement=false leaves Services to kube-proxy's
    rules on the node (Kubernetes Without kube-proxy); the step says so."""
    cluster, item = at_step(SLUG, "socket-lb")
    rebuild.switch(cluster, cni="cilium", kube_proxy_replacement=False)
    kept = outcome(cluster, item, "socket-lb", "cluster")
    assert not kept.passed and "kubeProxyReplacement: true" in kept.message
    learner_traces(cluster, "client", "http://web/")
    translated = outcome(cluster, item, "socket-lb", "translated")
    assert not translated.passed and "a DNAT hop on worker-1 rewrote it" in translated.message


def test_under_cilium_no_captured_line_carries_the_clusterip():
    cluster, item = at_step(SLUG, "capture-cilium")
    ip = cluster_ip(cluster)
    shown = learner_runs(
        cluster,
        f"kubectl exec client -- curl -s -o /dev/null http://{ip}/",
        "kubectl debug node/worker-1 -it --image=busybox",
        "tcpdump -ni any",
    )
    packets = [line for line in shown.splitlines() if line.startswith("00:")]
    assert packets and not [line for line in packets if ip in line]
    first = packets[0]
    assert " lxc" in first and " In IP " in first
    assert any(f"> {pod}.80: " in first for pod in web_ips(cluster))
    assert outcome(cluster, item, "capture-cilium", "answer", "0").passed
    wrong = outcome(cluster, item, "capture-cilium", "answer", "4")
    assert not wrong.passed and "under kube-proxy" in wrong.message


def test_show_me_runs_the_capture_in_one_terminal_session():
    """A solution's commands share one terminal, so tcpdump there sees the request curl
    sent, and {service_ip:web} is the ClusterIP now."""
    cluster, item = at_step(SLUG, "capture-cilium")
    step = next(s for s in item.steps if s.id == "capture-cilium")
    done = run_actions(cluster, step.solution, step.id)
    assert f"$ kubectl exec client -- curl -s -o /dev/null http://{cluster_ip(cluster)}/" in (
        done.lines
    )
    assert any(line.startswith("00:00:00.") and " lxc" in line for line in done.lines)


def test_cilium_dbg_service_list_shows_webs_frontend_and_its_two_backends():
    """docs.cilium.io Kubernetes Without kube-proxy: cilium-dbg service list prints ID,
    Frontend, Service Type, Backend, one numbered line per backend."""
    cluster, item = at_step(SLUG, "service-list")
    shown = learner_runs(
        cluster, "kubectl -n kube-system exec ds/cilium -- cilium-dbg service list"
    )
    lines = shown.splitlines()
    (start,) = [i for i, line in enumerate(lines) if f" {cluster_ip(cluster)}:80/TCP " in line]
    assert "ClusterIP" in lines[start] and " 1 => " in lines[start]
    assert lines[start + 1].strip().startswith("2 => ")
    backends = {line.split("=> ")[1].split(":")[0] for line in lines[start : start + 2]}
    assert backends == web_ips(cluster)
    assert outcome(cluster, item, "service-list", "ran").passed
    assert outcome(cluster, item, "service-list", "answer", "2").passed


def test_a_nodeport_from_outside_is_snatted_by_the_node_that_received_it():
    """docs.cilium.io Kubernetes Without kube-proxy (Direct Server Return): by default
    Cilium's NodePort runs in SNAT mode; a node forwarding to a remote backend SNATs, and DSR
    would keep the client's address."""
    cluster, item = at_step(SLUG, "nodeport")
    port = cluster.get("Service", "default", "web-nodeport")["spec"]["ports"][0]["nodePort"]
    learner_traces(cluster, "outside", f"http://10.0.0.12:{port}/")  # the backends' own node
    kept = outcome(cluster, item, "nodeport", "traced")
    assert not kept.passed and "client's own address" in kept.message
    learner_traces(cluster, "outside", f"http://10.0.0.11:{port}/")
    assert outcome(cluster, item, "nodeport", "traced").passed
    # bpf/lib/nodeport.h tail_nodeport_nat_egress_ipv4: in tunnel mode the SNAT address is
    # IPV4_GATEWAY, worker-1's cilium_host address, not its eth0 address.
    router = cluster.node_summary(cluster.get("Node", "", "worker-1"))["gateway"]["ip"]
    assert outcome(cluster, item, "nodeport", "answer", router).passed
    eth0 = outcome(cluster, item, "nodeport", "answer", "10.0.0.11")
    assert not eth0.passed and "cilium_vxlan" in eth0.message
    wrong = outcome(cluster, item, "nodeport", "answer", "198.51.100.7")
    assert not wrong.passed and "DSR mode" in wrong.message
    right, why = quiz_answer(SLUG, "Which source address does the backend see?")
    assert right.startswith("worker-1's address") and "loadBalancer.mode: snat" in why


def test_what_the_lesson_says_of_the_socket_lb_is_what_ciliums_docs_say():
    """docs.cilium.io Kubernetes Without kube-proxy: the socket-LB picks the backend before
    a packet has been built; getpeername returns the Service address (Linux commit
    1b66d253610c); cilium-dbg service list and bpf lb list; no KUBE-SVC in iptables-save;
    Hubble's events before and after the translation."""
    text = said(SLUG)
    assert "before the kernel has built a single packet" in text
    assert "getpeername" in text and "iptables-save | grep KUBE-SVC prints nothing" in text
    assert "1b66d253610c" in cited(SLUG)
    # The docs' Observability section: hubble observe prints pre-xlate-fwd TRACED and
    # post-xlate-fwd TRANSLATED for one socket-LB connection.
    assert "pre-xlate-fwd event to the Service and a post-xlate-fwd event, TRANSLATED" in text
