"""Trace benchmarks (issue 3).

Prints the median time of one trace (in-process) on the default cluster and on a 50-node
cluster with 5,000 pods, 1,000 Services and 200 Ingress paths (and, for the Gateway case, an
Envoy Gateway Gateway with 20 HTTPRoutes of 16 rules), and their ratio (goal: under
1 ms on the default cluster, the large one within 3x of it); and the median of `traffic`
with count 10,000 (goal: under 100 ms).

Run: ./dev bench  (or .venv/bin/python bench/trace.py [--cni cilium] [--ip-family dual])
(With ``--ip-family dual`` the Services are PreferDualStack, so a name resolves to its AAAA
record first and the traces go over IPv6; "pod -> ClusterIP" dials the IPv6 address.)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cluster.apply import apply_text
from app.cluster.cluster import Cluster
from app.cluster.families import bracketed
from app.cluster.state import ClusterConfig
from app.network.trace import trace
from app.network.traffic import send_traffic
from bench.apply import big_manifest, cni_argument, ip_family_argument

CLIENT = """apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec: {nodeName: worker-1, containers: [{name: shell, image: busybox}]}
"""


def ingress_manifest(paths: int = 200, per_ingress: int = 10) -> str:
    docs = []
    for i in range(paths // per_ingress):
        rules = "\n".join(
            f"      - {{path: /p{i}-{j}, pathType: Prefix, backend: {{service: {{name: app-{i * per_ingress + j}, port: {{number: 80}}}}}}}}"
            for j in range(per_ingress)
        )
        docs.append(
            f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: site-{i}}}
spec:
  rules:
  - host: site-{i}.example.com
    http:
      paths:
{rules}
"""
        )
    return "---\n".join(docs)


def gateway_manifest(routes: int = 20, per_route: int = 8) -> str:
    """A Gateway of class ``eg`` (Envoy Gateway) and ``routes`` HTTPRoutes of ``per_route``
    rules each, one hostname per route, a header match and a weighted pair in every route."""
    docs = [
        """apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: eg}
spec:
  gatewayClassName: eg
  listeners: [{name: http, port: 80, protocol: HTTP, hostname: "*.example.net"}]
"""
    ]
    for i in range(routes):
        rules = "\n".join(
            f"  - matches: [{{path: {{type: PathPrefix, value: /p{i}-{j}}}}}]\n"
            f"    backendRefs: [{{name: app-{(i * per_route + j) % 3}, port: 80, weight: 90}}, "
            f"{{name: app-{(i * per_route + j + 1) % 3}, port: 80, weight: 10}}]\n"
            f"  - matches: [{{path: {{type: PathPrefix, value: /p{i}-{j}}}, headers: [{{name: env, value: canary}}]}}]\n"
            f"    backendRefs: [{{name: app-{(i * per_route + j + 2) % 3}, port: 80}}]"
            for j in range(per_route)
        )
        docs.append(
            f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: gw-{i}}}
spec:
  parentRefs: [{{name: eg}}]
  hostnames: [gw-{i}.example.net]
  rules:
{rules}
"""
        )
    return "---\n".join(docs)


def median_ms(fn, rounds: int) -> float:
    fn()  # warm the indexes, as a second trace on an unchanged cluster would find them
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def scenario(cluster: Cluster) -> None:
    apply_text(cluster, CLIENT)


def main(cni: str = "flannel", ip_family: str = "ipv4") -> None:
    dual = ip_family == "dual"
    small = Cluster.create(ClusterConfig(cni=cni, ip_family=ip_family), seed=1)
    apply_text(small, big_manifest(deployments=3, replicas=3, dual_stack=dual))
    scenario(small)
    large = Cluster.create(
        ClusterConfig(
            cni=cni,
            ip_family=ip_family,
            workers=50,
            max_pods=10_000,
            max_services=2_000,
            max_objects=20_000,
        ),
        seed=1,
    )
    apply_text(large, big_manifest(dual_stack=dual))
    apply_text(large, ingress_manifest())
    scenario(large)
    pods = large.state.count("Pod")
    services = large.state.count("Service")
    cases = [
        ("pod -> Service by name", "pod/default/client", "http://app-1/"),
        ("pod -> ClusterIP", "pod/default/client", None),
        ("outside -> Ingress host", "external", "http://site-0.example.com/p0-1"),
        ("outside -> Gateway host", "external", "http://gw-3.example.net/p3-4"),
    ]
    print(
        f"median time of one trace, in-process, {cni}, {ip_family} "
        "(goal: < 1 ms default, large within 3x)"
    )
    for label, source, target in cases:
        results = []
        for cluster in (small, large):
            if target is None:  # the last ClusterIP: the IPv6 one on a dual-stack cluster
                ip = cluster.get("Service", "default", "app-1")["spec"]["clusterIPs"][-1]
                target_for = f"http://{bracketed(ip)}/"
            else:
                target_for = target
            if "site-0" in target_for and cluster is small:
                apply_text(small, ingress_manifest(paths=10))
            if "gw-3" in target_for:
                apply_text(cluster, gateway_manifest())
            seeds = iter(range(10**9))
            results.append(
                median_ms(
                    lambda c=cluster, s=source, t=target_for, n=seeds: trace(c, s, t, seed=next(n)),
                    200,
                )
            )
        print(
            f"  {label:26} default {results[0]:6.3f} ms   large {results[1]:6.3f} ms   ratio {results[1] / results[0]:4.2f}x"
        )
    print(
        f"  (large: {len(large.list('Node'))} nodes, {pods} pods, {services} Services, 200 Ingress "
        "paths; both: a Gateway with 20 HTTPRoutes of 16 rules)"
    )
    ip = small.get("Service", "default", "app-1")["spec"]["clusterIPs"][-1]
    traffic_ms = median_ms(
        lambda: send_traffic(small, "pod/default/client", f"{bracketed(ip)}:80", 10_000, seed=3),
        15,
    )
    traffic_large = median_ms(
        lambda: send_traffic(large, "pod/default/client", "http://app-1/", 10_000, seed=3), 15
    )
    gateway_ms = median_ms(
        lambda: send_traffic(small, "external", "http://gw-3.example.net/p3-4", 10_000, seed=3), 15
    )
    print("traffic, 10,000 requests (goal: < 100 ms)")
    print(f"  default cluster {traffic_ms:6.1f} ms   large cluster {traffic_large:6.1f} ms")
    print(f"  through a Gateway (a 90/10 split), default cluster {gateway_ms:6.1f} ms")


if __name__ == "__main__":
    main(cni_argument(), ip_family_argument())
