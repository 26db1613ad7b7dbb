"""A shell in a pod of the web-service class scenario (fixed seed): each command's output
exactly, in the format of the tool it mirrors (the kubelet's resolv.conf and hosts file,
iproute2's ip, BIND 9's nslookup and dig, busybox ping, curl 8.11, OpenBSD nc), and the
same trace as the Trace tab behind every request."""

from __future__ import annotations

import pytest

from app.cluster.scenarios import build
from app.network.trace import trace
from app.terminal import Session, run

POD = Session("pod/default/client")


@pytest.fixture(scope="module")
def cluster():
    return build("web-service")


def out(cluster, line: str, session: Session = POD) -> str:
    return run(cluster, line, session).output


def test_resolv_conf_and_hosts_as_the_kubelet_writes_them(cluster) -> None:
    assert out(cluster, "cat /etc/resolv.conf") == (
        "search default.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 10.96.0.10\n"
        "options ndots:5\n"
    )
    assert out(cluster, "cat /etc/hosts").endswith("fe00::2\tip6-allrouters\n10.244.1.4\tclient\n")
    assert out(cluster, "hostname") == "client\n"
    assert out(cluster, "hostname -i") == "10.244.1.4\n"


def test_ip_addr_and_route_in_the_pods_network_namespace(cluster) -> None:
    # iproute2's format; flannel gives the pod its node's /24 and an MTU of 1450 (VXLAN).
    assert out(cluster, "ip addr").splitlines()[4:7] == [
        "2: eth0@if39: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UP group default",
        "    link/ether 0a:58:0a:f4:01:04 brd ff:ff:ff:ff:ff:ff link-netnsid 0",
        "    inet 10.244.1.4/24 brd 10.244.1.255 scope global eth0",
    ]
    assert out(cluster, "ip route") == (
        "default via 10.244.1.1 dev eth0 \n"
        "10.244.0.0/16 via 10.244.1.1 dev eth0 \n"
        "10.244.1.0/24 dev eth0 proto kernel scope link src 10.244.1.4 \n"
    )


def test_nslookup_walks_the_search_list_as_bind9_prints_it(cluster) -> None:
    assert out(cluster, "nslookup web") == (
        "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n"
        "Name:\tweb.default.svc.cluster.local\nAddress: 10.101.124.92\n\n"
    )
    assert out(cluster, "nslookup nosuch") == (
        "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n** server can't find nosuch: NXDOMAIN\n\n"
    )


def test_dig_asks_for_the_name_as_given_unless_search(cluster) -> None:
    assert out(cluster, "dig +short web") == ""  # "web." is no cluster name
    assert out(cluster, "dig +short +search web") == "10.101.124.92\n"
    assert out(cluster, "dig +short SRV _http._tcp.web.default.svc.cluster.local") == (
        "0 100 80 web.default.svc.cluster.local.\n"
    )
    answer = out(cluster, "dig web.default.svc.cluster.local")
    assert ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: " in answer
    assert (
        ";; ANSWER SECTION:\nweb.default.svc.cluster.local.\t30\tIN\tA\t10.101.124.92\n" in answer
    )
    assert ";; SERVER: 10.96.0.10#53(10.96.0.10) (UDP)\n" in answer


def test_ping_a_pod_answers_a_cluster_ip_does_not_in_iptables_mode(cluster) -> None:
    assert out(cluster, "ping -c 2 10.244.2.4").splitlines()[:3] == [
        "PING 10.244.2.4 (10.244.2.4): 56 data bytes",
        "64 bytes from 10.244.2.4: seq=0 ttl=62 time=0.412 ms",
        "64 bytes from 10.244.2.4: seq=1 ttl=62 time=0.449 ms",
    ]
    assert out(cluster, "ping -c 2 web") == (
        "PING web (10.101.124.92): 56 data bytes\n\n--- web ping statistics ---\n"
        "2 packets transmitted, 0 packets received, 100% packet loss\n"
    )


def test_curl_runs_the_trace_the_trace_tab_runs(cluster) -> None:
    reply = run(cluster, "curl -s http://web", POD)
    assert reply.request == ("pod/default/client", "http://web", 0)
    assert reply.trace.to_dict() == trace(cluster, "pod/default/client", "http://web", 0).to_dict()
    assert "<title>Welcome to nginx!</title>" in reply.output
    # The next request is the next seed: kube-proxy's random pick moves on.
    again = run(cluster, "curl -s http://web", reply.session)
    assert again.request == ("pod/default/client", "http://web", 1)


def test_curl_verbose_prints_the_connection_and_the_exchange(cluster) -> None:
    lines = out(cluster, "curl -v http://web/healthz").splitlines()
    assert lines[:13] == [
        "* Host web:80 was resolved.",
        "* IPv6: (none)",
        "* IPv4: 10.101.124.92",
        "*   Trying 10.101.124.92:80...",
        "* Connected to web (10.101.124.92) port 80",
        "* using HTTP/1.x",
        "> GET /healthz HTTP/1.1",
        "> Host: web",
        "> User-Agent: curl/8.11.1",
        "> Accept: */*",
        "> ",
        "* Request completely sent off",
        "< HTTP/1.1 200 OK",
    ]
    assert lines[-1] == "* Connection #0 to host web left intact"
    assert out(cluster, "curl -sI web").startswith("HTTP/1.1 200 OK\r\nServer: nginx/1.27.3\r\n")


def test_curl_and_nc_failures_read_as_the_tools_print_them(cluster) -> None:
    assert out(cluster, "curl http://nosuch") == "curl: (6) Could not resolve host: nosuch\n"
    assert out(cluster, "curl -m 5 http://web:81") == (
        "curl: (28) Connection timed out after 5001 milliseconds\n"
    )
    assert out(cluster, "nc -zv web 80") == (
        "Connection to web (10.101.124.92) 80 port [tcp/*] succeeded!\n"
    )
    assert out(cluster, "wget -qO- http://web | head -1") == "<!DOCTYPE html>\n"


def test_a_host_header_is_what_an_ingress_matches() -> None:
    cluster = build("ingress-two-apps")
    shell = Session()
    bare = run(cluster, "curl -sI http://203.0.113.10/", shell)
    assert bare.output.startswith("HTTP/1.1 404 Not Found\r\n")  # no rule names the bare IP
    named = run(cluster, 'curl -s -H "Host: shop.example.com" http://203.0.113.10/', shell)
    assert "<title>Welcome to nginx!</title>" in named.output
    assert named.trace.endpoint["name"].startswith("shop-")
    assert named.request == ("external", "http://203.0.113.10/", 0, "shop.example.com")
    resolved = run(
        cluster,
        "curl -s --resolve blog.example.com:80:203.0.113.10 http://blog.example.com/",
        shell,
    )
    assert resolved.trace.endpoint["name"].startswith("blog-")
    assert resolved.trace.hops[0].packet.dst_ip == "203.0.113.10"  # dialled without DNS


def test_curl_write_out_fail_and_output_as_in_lesson_scripts() -> None:
    cluster = build("ingress-two-apps")
    shell = Session()
    code = "curl -s -o /dev/null -w '%{http_code}\\n'"
    assert run(cluster, f"{code} http://203.0.113.10/", shell).output == "404\n"
    assert (
        run(cluster, f"{code} -H 'Host: shop.example.com' http://203.0.113.10/", shell).output
        == "200\n"
    )
    failing = run(cluster, "curl -f http://203.0.113.10/", shell)
    assert (failing.output, failing.status) == (
        "curl: (22) The requested URL returned error: 404\n",
        22,
    )
    assert run(cluster, "curl -o page.html http://shop.example.com/", shell).output == (
        "curl: (23) Failure writing output to destination\n"
    )
