"""kubectl in the terminal on the web-service class scenario: get through the API server's
table printers (app/render/tables.py), -o yaml|json|name, selectors, describe in kubectl's
layout, the changing verbs with kubectl's one-line answers, and kubectl's error messages."""

from __future__ import annotations

import json

import pytest
import yaml

from app.cluster.scenarios import build
from app.terminal import Session, run

SHELL = Session()


@pytest.fixture
def cluster():
    return build("web-service")


def out(cluster, line: str) -> str:
    return run(cluster, line, SHELL).output


def test_get_pods_and_services_as_kubectl_prints_them(cluster) -> None:
    assert out(cluster, "kubectl get pods") == (
        "NAME                  READY   STATUS    RESTARTS   AGE\n"
        "client                1/1     Running   0          <unknown>\n"
        "web-ff67c48df-2q97c   1/1     Running   0          <unknown>\n"
        "web-ff67c48df-kvf26   1/1     Running   0          <unknown>\n"
        "web-ff67c48df-kwx94   1/1     Running   0          <unknown>\n"
    )
    assert out(cluster, "kubectl get svc web -o wide") == (
        "NAME   TYPE        CLUSTER-IP      EXTERNAL-IP   PORT(S)   AGE         SELECTOR\n"
        "web    ClusterIP   10.101.124.92   <none>        80/TCP    <unknown>   app=web\n"
    )
    assert out(cluster, "kubectl get endpoints web") == (
        "NAME   ENDPOINTS                                         AGE\n"
        "web    10.244.2.4:8080,10.244.1.5:8080,10.244.2.5:8080   <unknown>\n"
    )


def test_get_with_selectors_namespaces_and_formats(cluster) -> None:
    assert out(cluster, "kubectl get pods -l app=web -o name") == (
        "pod/web-ff67c48df-2q97c\npod/web-ff67c48df-kvf26\npod/web-ff67c48df-kwx94\n"
    )
    assert out(cluster, "kubectl get deploy -A --no-headers").splitlines()[1].split()[:2] == [
        "envoy-gateway-system",
        "envoy-gateway",
    ]
    assert (
        out(cluster, "kubectl get pods -n kube-system -l k8s-app=kube-dns -o name").count("coredns")
        == 2
    )
    service = yaml.safe_load(out(cluster, "kubectl get svc web -o yaml"))
    assert service["spec"]["clusterIP"] == "10.101.124.92"
    assert 'resourceVersion: "' in out(cluster, "kubectl get svc web -o yaml")  # go-yaml's quotes
    listed = json.loads(out(cluster, "kubectl get pods -o json"))
    assert listed["kind"] == "List" and len(listed["items"]) == 4
    labels = out(cluster, "kubectl get pod client --show-labels").splitlines()[1]
    assert labels.endswith("app=client")


def test_kubectl_errors_read_as_kubectl_prints_them(cluster) -> None:
    assert out(cluster, "kubectl get widgets") == (
        'error: the server doesn\'t have a resource type "widgets"\n'
    )
    assert out(cluster, "kubectl get deploy nosuch") == (
        'Error from server (NotFound): deployments.apps "nosuch" not found\n'
    )
    assert out(cluster, "kubectl get pods -n empty") == "No resources found in empty namespace.\n"
    assert out(cluster, "kubectl frobnicate").startswith(
        'error: unknown command "frobnicate" for "kubectl"\n'
    )
    assert out(cluster, "kubectl scale deploy web --replicas=-1") == (
        "error: The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0\n"
    )
    assert out(cluster, "kubectl create deployment web --image=nginx") == (
        'Error from server (AlreadyExists): deployments.apps "web" already exists\n'
    )


def test_changes_answer_in_one_line_and_the_controllers_follow(cluster) -> None:
    assert out(cluster, "kubectl create deployment api --image=nginx --replicas=2 --port=80") == (
        "deployment.apps/api created\n"
    )
    assert out(cluster, "kubectl expose deployment api --port=80 --type=NodePort") == (
        "service/api exposed\n"
    )
    assert cluster.get("Service", "default", "api")["spec"]["ports"][0]["nodePort"] >= 30000
    assert out(cluster, "kubectl scale deploy/api --replicas=3") == "deployment.apps/api scaled\n"
    assert (
        len([p for p in cluster.list("Pod", "default") if p["metadata"]["name"].startswith("api-")])
        == 3
    )
    assert out(cluster, "kubectl label pod client tier=front") == "pod/client labeled\n"
    assert out(cluster, "kubectl annotate svc web note=hi") == "service/web annotated\n"
    assert out(cluster, "kubectl run probe --image=busybox -- sleep 3600") == "pod/probe created\n"
    assert (
        out(cluster, "kubectl create service nodeport db --tcp=5432:5432") == "service/db created\n"
    )
    assert (
        out(cluster, "kubectl delete pod probe") == 'pod "probe" deleted from default namespace\n'
    )
    assert out(cluster, "kubectl delete deploy/api") == (
        'deployment.apps "api" deleted from default namespace\n'
    )
    before = {p["metadata"]["name"] for p in cluster.list("Pod", "default")}
    assert (
        out(cluster, "kubectl rollout restart deployment/web") == "deployment.apps/web restarted\n"
    )
    after = {p["metadata"]["name"] for p in cluster.list("Pod", "default")}
    assert {n for n in before if n.startswith("web-")}.isdisjoint(after)  # new pods, new names


def test_apply_from_a_heredoc(cluster) -> None:
    reply = run(
        cluster,
        "kubectl apply -f - <<EOF\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: web2}\n"
        "spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\nEOF",
        SHELL,
    )
    assert reply.output == "service/web2 created\n" and reply.changed
    invalid = run(
        cluster,
        "kubectl apply -f - <<EOF\napiVersion: v1\nkind: Service\nmetadata: {name: web3}\n"
        "spec: {ports: [{port: 80, targetPort: 99999}]}\nEOF",
        SHELL,
    )
    assert invalid.output == (
        'The Service "web3" is invalid: spec.ports[0].targetPort: Invalid value: 99999: '
        "must be between 1 and 65535, inclusive\n"
    )


def test_describe_a_service_in_kubectls_layout(cluster) -> None:
    assert out(cluster, "kubectl describe svc web") == (
        "Name:                     web\n"
        "Namespace:                default\n"
        "Labels:                   <none>\n"
        "Annotations:              <none>\n"
        "Selector:                 app=web\n"
        "Type:                     ClusterIP\n"
        "IP Family Policy:         SingleStack\n"
        "IP Families:              IPv4\n"
        "IP:                       10.101.124.92\n"
        "IPs:                      10.101.124.92\n"
        "Port:                     http  80/TCP\n"
        "TargetPort:               http/TCP\n"
        "Endpoints:                10.244.2.4:8080,10.244.1.5:8080,10.244.2.5:8080\n"
        "Session Affinity:         None\n"
        "Internal Traffic Policy:  Cluster\n"
        "Events:                   <none>\n"
    )


def test_describe_a_pod_with_its_events(cluster) -> None:
    text = out(cluster, "kubectl describe pod client")
    assert text.startswith("Name:             client\nNamespace:        default\n")
    assert "Node:             worker-1/10.0.0.11\n" in text
    assert text.endswith(
        "Events:\n"
        "  Type    Reason     Age        From               Message\n"
        "  ----    ------     ----       ----               -------\n"
        "  Normal  Scheduled  <unknown>  default-scheduler  Successfully assigned default/client to worker-1\n"
        "  Normal  Started    <unknown>  kubelet            Started container client (pod IP 10.244.1.4)\n"
    )


def test_get_with_a_jsonpath_template(cluster) -> None:
    assert out(cluster, "kubectl get svc web -o jsonpath='{.spec.clusterIP}'") == "10.101.124.92"
    assert out(cluster, "kubectl get pods -l app=web -o jsonpath='{.items[*].status.podIP}'") == (
        "10.244.2.4 10.244.1.5 10.244.2.5"
    )
    assert (
        out(cluster, "kubectl get svc web -o jsonpath='{.spec.ports[0].port}{\"\\n\"}'") == "80\n"
    )


def test_an_ingress_shows_the_address_its_controller_publishes() -> None:
    """As the Kubernetes-compatible API serves it: ingress-nginx writes its Service's load
    balancer address into each Ingress's status."""
    cluster = build("ingress-two-apps")
    assert out(cluster, "kubectl get ingress").splitlines()[1].split()[3] == "203.0.113.10"
    described = out(cluster, "kubectl describe ingress sites")
    assert "Address:          203.0.113.10\n" in described
    assert "  shop.example.com  \n                    /   shop:80 (" in described
