"""The cells of ``kubectl get`` tables, computed as the API server's printers compute them
(``pkg/printers/internalversion/printers.go``): pod status, ports, selectors, ages.

Pure functions of an object (a JSON-like dict); :mod:`app.render.tables` puts them in rows.
"""

from __future__ import annotations

import re
from typing import Any

NONE = "<none>"
UNSET = "<unset>"
UNKNOWN = "<unknown>"
# The printers list at most this many endpoints, hosts or ports, then "+ N more...".
LIST_LIMIT = 3

_TIMESTAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$")


def meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def spec(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("spec") or {}


def status(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("status") or {}


def epoch_seconds(timestamp: str) -> float | None:
    """Seconds since 1970 of an RFC 3339 UTC timestamp as the API server writes it.

    >>> epoch_seconds("1970-01-02T00:00:01Z"), epoch_seconds("2024-03-01T00:00:00Z")
    (86401.0, 1709251200.0)
    >>> epoch_seconds("yesterday") is None
    True
    """
    match = _TIMESTAMP.match(timestamp or "")
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    # Days from the civil date (Howard Hinnant's algorithm), so no clock module is needed.
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146097 + day_of_era - 719468
    return float(days * 86400 + hour * 3600 + minute * 60 + second)


def human_duration(seconds: float) -> str:
    """A duration as kubectl prints ages (apimachinery ``duration.HumanDuration``): seconds
    below 2 minutes, minutes and seconds below 10 minutes, minutes below 3 hours, hours and
    minutes below 8 hours, hours below 2 days, days and hours below 8 days, days below 2
    years, years and days below 8 years, then years. A time up to a second ahead (clocks
    disagree) is ``0s``; further ahead, ``<invalid>``.

    >>> [human_duration(s) for s in (5, 150, 600, 4000, 30000, 200000, 800000)]
    ['5s', '2m30s', '10m', '66m', '8h', '2d7h', '9d']
    >>> [human_duration(s) for s in (45, 119, 120, 312, 599, 10799, 10800, 11040, 28799)]
    ['45s', '119s', '2m', '5m12s', '9m59s', '179m', '3h', '3h4m', '7h59m']
    >>> [human_duration(h * 3600) for h in (8, 47, 48, 51, 123, 191, 192, 24 * 729)]
    ['8h', '47h', '2d', '2d3h', '5d3h', '7d23h', '8d', '729d']
    >>> [human_duration(d * 86400) for d in (730, 733, 1095, 2919, 2920, 4000)]
    ['2y', '2y3d', '3y', '7y364d', '8y', '10y']
    >>> human_duration(-0.5), human_duration(-1.9), human_duration(-2)
    ('0s', '0s', '<invalid>')
    """
    seconds = int(seconds)
    if seconds < -1:
        return "<invalid>"
    seconds = max(seconds, 0)
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        rest = (seconds % 3600) // 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    years, days = hours // (24 * 365), (hours // 24) % 365
    if years < 8:
        return f"{years}y{days}d" if days else f"{years}y"
    return f"{years}y"


def age(obj: dict[str, Any], now: float | None) -> str:
    """The AGE cell: ``<unknown>`` when the object or the caller gives no time (as kubectl
    prints for a zero creationTimestamp).

    >>> age({"metadata": {"creationTimestamp": "1970-01-01T00:00:00Z"}}, 90.0)
    '90s'
    >>> age({"metadata": {}}, 90.0)
    '<unknown>'
    """
    return since(meta(obj).get("creationTimestamp"), now)


def since(timestamp: str | None, now: float | None) -> str:
    start = epoch_seconds(timestamp or "")
    if start is None or now is None:
        return UNKNOWN
    return human_duration(now - start)


def label_text(labels: dict[str, str] | None) -> str:
    """Labels as ``labels.FormatLabels`` writes them: sorted ``k=v`` pairs, or ``<none>``.

    >>> label_text({"tier": "web", "app": "shop"}), label_text({})
    ('app=shop,tier=web', '<none>')
    """
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items())) or NONE


def selector_text(selector: dict[str, Any] | None) -> str:
    """A LabelSelector (matchLabels and matchExpressions) as ``FormatLabelSelector`` writes it.

    >>> selector_text({"matchLabels": {"app": "web"},
    ...                "matchExpressions": [{"key": "tier", "operator": "In",
    ...                                      "values": ["b", "a"]}]})
    'app=web,tier in (a,b)'
    >>> selector_text({}), selector_text(None)
    ('<none>', '<none>')
    """
    if not selector:
        return NONE
    parts = [(k, f"{k}={v}") for k, v in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key", ""), expression.get("operator", "")
        values = ",".join(sorted(expression.get("values") or []))
        if operator == "In":
            parts.append((key, f"{key} in ({values})"))
        elif operator == "NotIn":
            parts.append((key, f"{key} notin ({values})"))
        elif operator == "Exists":
            parts.append((key, key))
        elif operator == "DoesNotExist":
            parts.append((key, f"!{key}"))
    return ",".join(text for _key, text in sorted(parts)) or NONE


def more(items: list[str], empty: str) -> str:
    """At most three items, then ``+ N more...``, as the printers shorten long lists.

    >>> more(["a", "b", "c", "d", "e"], "<none>"), more([], "<unset>")
    ('a,b,c + 2 more...', '<unset>')
    """
    if not items:
        return empty
    shown = ",".join(items[:LIST_LIMIT])
    if len(items) > LIST_LIMIT:
        shown += f" + {len(items) - LIST_LIMIT} more..."
    return shown


def pod_ready(pod: dict[str, Any]) -> str:
    """READY: ready containers out of all.

    >>> pod_ready({"spec": {"containers": [{}, {}]},
    ...            "status": {"containerStatuses": [{"ready": True}]}})
    '1/2'
    """
    statuses = status(pod).get("containerStatuses") or []
    total = len(spec(pod).get("containers") or [])
    return f"{sum(1 for s in statuses if s.get('ready'))}/{total}"


def pod_status(pod: dict[str, Any]) -> str:
    """STATUS: the phase, or the reason a container waits or ended, or Terminating.

    >>> pod_status({"status": {"phase": "Running"}})
    'Running'
    >>> pod_status({"status": {"phase": "Pending", "containerStatuses": [
    ...     {"state": {"waiting": {"reason": "ContainerCreating"}}}]}})
    'ContainerCreating'
    """
    state = status(pod)
    reason = state.get("reason") or state.get("phase") or "Pending"
    for container in reversed(state.get("containerStatuses") or []):
        current = container.get("state") or {}
        waiting, terminated = current.get("waiting"), current.get("terminated")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated and terminated.get("reason"):
            reason = terminated["reason"]
    if meta(pod).get("deletionTimestamp"):
        reason = "Terminating"
    return reason


def pod_restarts(pod: dict[str, Any]) -> int:
    return sum(int(s.get("restartCount") or 0) for s in status(pod).get("containerStatuses") or [])


def readiness_gates(pod: dict[str, Any]) -> str:
    gates = spec(pod).get("readinessGates") or []
    if not gates:
        return NONE
    conditions = {c.get("type"): c.get("status") for c in status(pod).get("conditions") or []}
    met = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
    return f"{met}/{len(gates)}"


def service_ports(service: dict[str, Any]) -> str:
    """PORT(S): ``port[:nodePort]/protocol`` for each port.

    >>> service_ports({"spec": {"ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"},
    ...                                   {"port": 53, "protocol": "UDP"}]}})
    '80:30080/TCP,53/UDP'
    """
    parts = []
    for port in spec(service).get("ports") or []:
        protocol = port.get("protocol") or "TCP"
        if port.get("nodePort"):
            parts.append(f"{port['port']}:{port['nodePort']}/{protocol}")
        else:
            parts.append(f"{port['port']}/{protocol}")
    return ",".join(parts) or NONE


def load_balancer_addresses(obj: dict[str, Any]) -> list[str]:
    ingress = (status(obj).get("loadBalancer") or {}).get("ingress") or []
    return [
        i.get("ip") or i.get("hostname") or "" for i in ingress if i.get("ip") or i.get("hostname")
    ]


def service_external_ip(service: dict[str, Any]) -> str:
    """EXTERNAL-IP, by type: external IPs, the load balancer's (or ``<pending>``), the
    ExternalName.

    >>> service_external_ip({"spec": {"type": "LoadBalancer"}})
    '<pending>'
    >>> service_external_ip({"spec": {"type": "ExternalName", "externalName": "example.com"}})
    'example.com'
    """
    kind = spec(service).get("type") or "ClusterIP"
    external = list(spec(service).get("externalIPs") or [])
    if kind == "ExternalName":
        return spec(service).get("externalName") or NONE
    if kind == "LoadBalancer":
        addresses = load_balancer_addresses(service) + external
        return ",".join(addresses) or "<pending>"
    return ",".join(external) or NONE


def endpoint_addresses(endpoints: dict[str, Any]) -> str:
    """ENDPOINTS of a v1 Endpoints object: ``ip:port`` pairs, three at most.

    >>> endpoint_addresses({"subsets": [{"addresses": [{"ip": "10.244.1.2"}],
    ...                                  "ports": [{"port": 80}]}]})
    '10.244.1.2:80'
    """
    pairs = []
    for subset in endpoints.get("subsets") or []:
        ports = subset.get("ports") or []
        for address in subset.get("addresses") or []:
            if not ports:
                pairs.append(address["ip"])
            pairs.extend(f"{address['ip']}:{p['port']}" for p in ports)
    return more(pairs, NONE)


def slice_ports(endpoint_slice: dict[str, Any]) -> str:
    ports = [
        str(p["port"]) if p.get("port") is not None else UNSET
        for p in endpoint_slice.get("ports") or []
    ]
    return more(ports, UNSET)


def slice_endpoints(endpoint_slice: dict[str, Any]) -> str:
    addresses = [a for e in endpoint_slice.get("endpoints") or [] for a in e.get("addresses") or []]
    return more(addresses, UNSET)


def node_status(node: dict[str, Any]) -> str:
    """STATUS of a node: its Ready condition, and SchedulingDisabled when cordoned.

    >>> node_status({"spec": {"unschedulable": True},
    ...              "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    'Ready,SchedulingDisabled'
    """
    conditions = {c.get("type"): c.get("status") for c in status(node).get("conditions") or []}
    ready = conditions.get("Ready")
    text = {"True": "Ready", "False": "NotReady"}.get(ready or "", "Unknown")
    if spec(node).get("unschedulable"):
        text += ",SchedulingDisabled"
    return text


def node_roles(node: dict[str, Any]) -> str:
    roles = set()
    for label, value in (meta(node).get("labels") or {}).items():
        if label.startswith("node-role.kubernetes.io/"):
            roles.add(label.split("/", 1)[1])
        elif label == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(r for r in roles if r)) or NONE


def node_address(node: dict[str, Any], kind: str) -> str:
    for address in status(node).get("addresses") or []:
        if address.get("type") == kind:
            return address.get("address") or NONE
    return NONE


def containers_and_images(template_spec: dict[str, Any]) -> tuple[str, str]:
    containers = template_spec.get("containers") or []
    return (
        ",".join(c.get("name", "") for c in containers),
        ",".join(c.get("image", "") for c in containers),
    )


def ingress_hosts(ingress: dict[str, Any]) -> str:
    hosts = [r["host"] for r in spec(ingress).get("rules") or [] if r.get("host")]
    return more(hosts, "*")
