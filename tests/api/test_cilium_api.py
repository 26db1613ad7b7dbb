"""Cilium through the JSON API: a workspace made with cni=cilium (its Helm settings
routingMode and kubeProxyReplacement), traces through Cilium's socket load balancer, 422s
naming the field for contradictory settings, and switches back and forth that keep names."""

from __future__ import annotations

from tests.api.conftest import apply_ok, deployment, list_items, new_workspace

WEB = (
    deployment("web", 2)
    + "---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
    + "spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}\n"
    + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: client}\n"
    + "spec: {nodeName: worker-1, containers: [{name: c, image: busybox}]}\n"
)


def test_a_cilium_workspace_reports_its_settings_and_runs_no_kube_proxy(api):
    answer = api.post("/api/v1/workspaces", json={"cni": "cilium"})
    assert answer.status_code == 201
    settings = answer.json()["settings"]
    assert settings["cni"] == "cilium" and settings["podCIDR"] == "10.1.0.0/16"
    assert settings["routingMode"] == "tunnel" and settings["kubeProxyReplacement"] is True
    workspace = answer.json()["id"]
    daemonsets = {d["metadata"]["name"] for d in list_items(api, workspace, "kind=DaemonSet")}
    assert "cilium" in daemonsets and "kube-proxy" not in daemonsets


def test_a_trace_to_a_service_shows_the_socket_lb_hop_and_no_dnat_on_a_node(api):
    workspace = new_workspace(api, cni="cilium")
    apply_ok(api, workspace, WEB)
    answer = api.post(
        f"/api/v1/workspaces/{workspace}/trace",
        json={"from": "pod/default/client", "to": "http://web/"},
    )
    assert answer.status_code == 200
    t = answer.json()
    assert t["verdict"] == "delivered"
    request = [h for h in t["hops"] if h["phase"] == "request"]
    lb = next(h for h in request if h["where"] == "socket LB (cgroup connect4)")
    assert lb["action"] == "dnat" and lb["at"] == "pod/default/client"
    assert "Cilium's socket LB (cgroup connect4 hook) picked" in lb["summary"]
    assert not [h for h in request if h["action"] == "dnat" and h["at"].startswith("node/")]
    assert t["reply"][-1]["where"] == "socket LB (cgroup getpeername4)"


def test_native_routing_and_kube_proxy_can_be_chosen(api):
    answer = api.post(
        "/api/v1/workspaces",
        json={
            "cni": "cilium",
            "routingMode": "native",
            "kubeProxyReplacement": False,
            "proxyMode": "nftables",
        },
    )
    assert answer.status_code == 201, answer.text
    settings = answer.json()["settings"]
    assert (settings["routingMode"], settings["kubeProxyReplacement"]) == ("native", False)
    assert settings["proxyMode"] == "nftables"


def _errors(answer) -> list[tuple[str, str]]:
    assert answer.status_code == 422, answer.text
    return [(e["field"], e["message"]) for e in answer.json()["errors"]]


def test_contradictory_settings_are_refused_naming_the_field(api):
    errors = _errors(api.post("/api/v1/workspaces", json={"cni": "cilium", "proxyMode": "ipvs"}))
    assert errors[0][0] == "proxyMode" and "kubeProxyReplacement: true" in errors[0][1]
    errors = _errors(
        api.post("/api/v1/workspaces", json={"cni": "flannel", "kubeProxyReplacement": True})
    )
    assert errors[0][0] == "kubeProxyReplacement" and "only Cilium" in errors[0][1]
    errors = _errors(
        api.post("/api/v1/workspaces", json={"cni": "calico", "routingMode": "native"})
    )
    assert errors[0][0] == "routingMode"
    errors = _errors(
        api.post("/api/v1/workspaces", json={"cni": "cilium", "routingMode": "geneve"})
    )
    assert errors[0][0] == "routingMode"


def test_a_refused_switch_changes_nothing(api):
    workspace = new_workspace(api, cni="cilium")
    before = api.get(f"/api/v1/workspaces/{workspace}").json()
    errors = _errors(
        api.post(f"/api/v1/workspaces/{workspace}/settings", json={"proxyMode": "ipvs"})
    )
    assert errors[0][0] == "proxyMode"
    assert api.get(f"/api/v1/workspaces/{workspace}").json() == before


def test_switching_to_cilium_and_back_keeps_every_name_and_restores_kube_proxy(api):
    workspace = new_workspace(api, cni="flannel", proxyMode="nftables")
    apply_ok(api, workspace, WEB)

    def names() -> set[tuple[str, str, str]]:
        return {
            (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])
            for o in list_items(api, workspace)
            if o["kind"] in ("Pod", "Service", "Deployment")
            and o["metadata"].get("namespace") == "default"
        }

    before = names()
    to_cilium = api.post(f"/api/v1/workspaces/{workspace}/settings", json={"cni": "cilium"})
    assert to_cilium.status_code == 200
    report = to_cilium.json()
    assert report["kubeProxyReplacement"] == {"old": False, "new": True}
    assert "Services: kube-proxy in nftables mode → replaced by Cilium's eBPF" in " ".join(
        report["lines"]
    )
    assert names() == before
    back = api.post(f"/api/v1/workspaces/{workspace}/settings", json={"cni": "flannel"})
    assert back.status_code == 200
    assert names() == before
    settings = api.get(f"/api/v1/workspaces/{workspace}").json()["settings"]
    assert settings["proxyMode"] == "nftables" and "kubeProxyReplacement" not in settings
    daemonsets = {d["metadata"]["name"] for d in list_items(api, workspace, "kind=DaemonSet")}
    assert "kube-proxy" in daemonsets and "cilium" not in daemonsets


def test_the_rules_endpoint_shows_what_cilium_prints_instead_of_kube_proxys_rules(api):
    workspace = new_workspace(api, cni="cilium")
    apply_ok(api, workspace, WEB)
    url = f"/api/v1/workspaces/{workspace}/rules"
    listed = api.get(url, params={"node": "worker-1"})
    assert listed.status_code == 200
    body = listed.json()
    assert body["mode"] == "service-list"
    assert body["text"].split("\n")[0].split() == ["ID", "Frontend", "Service", "Type", "Backend"]
    lb = api.get(url, params={"node": "worker-1", "mode": "bpf-lb-list"}).json()
    assert lb["text"].startswith("SERVICE ADDRESS")
    saved = api.get(url, params={"node": "worker-1", "mode": "iptables"}).json()["text"]
    assert "CILIUM_POST_nat" in saved and "KUBE-SERVICES" not in saved
    bad = api.get(url, params={"node": "worker-1", "mode": "ipvs"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "mode"
    assert api.get(url, params={"node": "worker-9"}).status_code == 404
    page = api.get(f"/w/{workspace}", params={"tab": "rules"}).text
    assert "Cilium&#39;s Service maps on worker-1" in page and "cilium-dbg service list" in page


def test_the_home_form_reads_ebpf_as_ciliums_kube_proxy_replacement(api):
    made = api.post("/w", data={"cni": "cilium", "proxy_mode": "ebpf", "routing_mode": "native"})
    assert made.status_code == 303
    workspace = made.headers["location"].removeprefix("/w/")
    settings = api.get(f"/api/v1/workspaces/{workspace}").json()["settings"]
    assert (settings["kubeProxyReplacement"], settings["routingMode"]) == (True, "native")
    page = api.get(f"/w/{workspace}").text
    assert '<option value="ebpf" selected>eBPF (Cilium)</option>' in page
    with_kube_proxy = api.post("/w", data={"cni": "cilium", "proxy_mode": "nftables"})
    workspace = with_kube_proxy.headers["location"].removeprefix("/w/")
    settings = api.get(f"/api/v1/workspaces/{workspace}").json()["settings"]
    assert (settings["kubeProxyReplacement"], settings["proxyMode"]) == (False, "nftables")
    refused = api.post("/w", data={"cni": "flannel", "proxy_mode": "ebpf"})
    assert refused.status_code == 422 and "proxy_mode" in refused.text


def test_the_head_switch_to_cilium_and_back_restores_the_kube_proxy_mode(api):
    workspace = new_workspace(api, proxyMode="nftables")
    to_cilium = api.post(f"/w/{workspace}/settings", data={"cni": "cilium", "proxy_mode": "ebpf"})
    assert to_cilium.status_code == 200
    assert "replaced by Cilium&#39;s eBPF" in to_cilium.text
    settings = api.get(f"/api/v1/workspaces/{workspace}").json()["settings"]
    assert settings["kubeProxyReplacement"] is True
    # Back to flannel with the select still reading eBPF: kube-proxy returns in its old mode.
    back = api.post(f"/w/{workspace}/settings", data={"cni": "flannel", "proxy_mode": "ebpf"})
    assert back.status_code == 200
    settings = api.get(f"/api/v1/workspaces/{workspace}").json()["settings"]
    assert (settings["cni"], settings["proxyMode"]) == ("flannel", "nftables")
    page = api.get(f"/w/{workspace}").text
    assert '<option value="nftables" selected>' in page


def test_dsr_is_a_cilium_setting_that_needs_native_routing(api):
    made = api.post(
        "/api/v1/workspaces",
        json={"cni": "cilium", "routingMode": "native", "loadBalancerMode": "dsr"},
    )
    assert made.status_code == 201 and made.json()["settings"]["loadBalancerMode"] == "dsr"
    errors = _errors(
        api.post("/api/v1/workspaces", json={"cni": "cilium", "loadBalancerMode": "dsr"})
    )
    assert errors[0][0] == "loadBalancerMode" and "routingMode: native" in errors[0][1]
    errors = _errors(
        api.post("/api/v1/workspaces", json={"cni": "calico", "loadBalancerMode": "dsr"})
    )
    assert errors[0][0] == "loadBalancerMode"


def test_the_history_names_the_switch_to_ciliums_ebpf_and_undo_brings_kube_proxy_back(api):
    workspace = new_workspace(api)
    api.post(f"/api/v1/workspaces/{workspace}/settings", json={"cni": "cilium"})
    history = api.get(f"/api/v1/workspaces/{workspace}/history").json()
    assert history["entries"][0]["label"] == (
        "switched CNI flannel → cilium, Services now in Cilium's eBPF, no kube-proxy"
    )
    assert api.post(f"/api/v1/workspaces/{workspace}/undo").status_code == 200
    daemonsets = {d["metadata"]["name"] for d in list_items(api, workspace, "kind=DaemonSet")}
    assert "kube-proxy" in daemonsets and "cilium" not in daemonsets
    assert api.get(f"/api/v1/workspaces/{workspace}").json()["settings"]["cni"] == "flannel"


def test_dsr_without_kube_proxy_replacement_is_refused_naming_load_balancer_mode(api):
    """docs.cilium.io, "Kubernetes Without kube-proxy": loadBalancer.mode (snat, dsr) is a
    setting of Cilium's kube-proxy replacement; with kubeProxyReplacement: false kube-proxy
    translates Services, so dsr would do nothing."""
    refused = api.post(
        "/api/v1/workspaces",
        json={
            "cni": "cilium",
            "routingMode": "native",
            "kubeProxyReplacement": False,
            "proxyMode": "iptables",
            "loadBalancerMode": "dsr",
        },
    )
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["loadBalancerMode"]
    # Turning the replacement off under a dsr cluster is refused the same way, and changes nothing.
    workspace = new_workspace(api, cni="cilium", routingMode="native", loadBalancerMode="dsr")
    off = api.post(f"/api/v1/workspaces/{workspace}/settings", json={"kubeProxyReplacement": False})
    assert off.status_code == 422 and off.json()["errors"][0]["field"] == "loadBalancerMode"
    settings = api.get(f"/api/v1/workspaces/{workspace}").json()["settings"]
    assert (settings["kubeProxyReplacement"], settings["loadBalancerMode"]) == (True, "dsr")


def test_the_settings_switch_takes_load_balancer_mode_snat_to_dsr_and_back(api):
    workspace = new_workspace(api, cni="cilium", routingMode="native")
    url = f"/api/v1/workspaces/{workspace}/settings"
    to_dsr = api.post(url, json={"loadBalancerMode": "dsr"})
    assert to_dsr.status_code == 200, to_dsr.text
    assert to_dsr.json()["loadBalancerMode"] == {"old": "snat", "new": "dsr"}
    assert "Cilium loadBalancer.mode: snat → dsr" in to_dsr.json()["lines"]
    settings = api.get(f"/api/v1/workspaces/{workspace}").json()["settings"]
    assert settings["loadBalancerMode"] == "dsr"
    back = api.post(url, json={"loadBalancerMode": "snat"})
    assert back.json()["loadBalancerMode"] == {"old": "dsr", "new": "snat"}
    bogus = api.post(url, json={"loadBalancerMode": "maglev"})
    assert bogus.status_code == 422 and bogus.json()["errors"][0]["field"] == "loadBalancerMode"
    flannel = new_workspace(api)
    wrong = api.post(f"/api/v1/workspaces/{flannel}/settings", json={"loadBalancerMode": "dsr"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "loadBalancerMode"


def test_the_rules_endpoint_validates_family_on_a_cilium_cluster_too(api):
    """The same 422 naming family as on flannel (the field Podpath's rules API documents;
    the families a cluster has come from its ipFamily, as Kubernetes' ipFamilies)."""
    for cni in ("flannel", "cilium"):
        workspace = new_workspace(api, cni=cni)
        bogus = api.get(f"/api/v1/workspaces/{workspace}/rules", params={"family": "bogus"})
        assert bogus.status_code == 422, (cni, bogus.text)
        assert bogus.json()["errors"][0]["field"] == "family"
        ok = api.get(f"/api/v1/workspaces/{workspace}/rules", params={"family": "IPv4"})
        assert ok.status_code == 200
