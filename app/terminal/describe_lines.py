"""What kubectl's describers share: maps as label lines, the Events table, containers."""

from __future__ import annotations

from typing import Any

from app.render.table_cells import epoch_seconds, since

NONE = "<none>"
#: Which component reports each event reason (the From column).
SOURCES = {
    "Scheduled": "default-scheduler",
    "FailedScheduling": "default-scheduler",
    "ScalingReplicaSet": "deployment-controller",
    "SuccessfulCreate": "replicaset-controller",
    "SuccessfulDelete": "replicaset-controller",
    "Pulled": "kubelet",
    "Created": "kubelet",
    "Started": "kubelet",
    "Killing": "kubelet",
    "EnsuringLoadBalancer": "service-controller",
    "EnsuredLoadBalancer": "service-controller",
    "Sync": "nginx-ingress-controller",
}


def map_lines(label: str, values: dict[str, str] | None, sep: str = "=") -> list[str]:
    """``Labels:\\tapp=web`` and each further pair on its own line, as kubectl prints maps."""
    items = sorted((values or {}).items())
    if not items:
        return [f"{label}\t{NONE}"]
    first, *rest = (f"{k}{sep}{v}" for k, v in items)
    return [f"{label}\t{first}", *(f"\t{item}" for item in rest)]


_DAYS = ("Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed")  # 1970-01-01 was a Thursday
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def time_text(timestamp: str | None) -> str:
    """A time as describe prints it (Go's ``time.RFC1123Z``, in UTC); a missing one as Go
    prints the zero time.

    >>> time_text("2026-12-06T13:25:00Z"), time_text("2024-02-29T07:05:09Z")
    ('Sun, 06 Dec 2026 13:25:00 +0000', 'Thu, 29 Feb 2024 07:05:09 +0000')
    >>> time_text(None)
    'Mon, 01 Jan 0001 00:00:00 +0000'
    """
    seconds = epoch_seconds(timestamp or "")
    if seconds is None:
        return "Mon, 01 Jan 0001 00:00:00 +0000"
    year, month, day = (int(part) for part in (timestamp or "")[:10].split("-"))
    clock = (timestamp or "")[11:19]
    weekday = _DAYS[int(seconds // 86400) % 7]
    return f"{weekday}, {day:02d} {_MONTHS[month - 1]} {year:04d} {clock} +0000"


def event_lines(
    cluster: Any, kind: str, namespace: str, name: str, now: float | None = None
) -> list[str]:
    """The Events table of a describer; ``now`` (seconds since 1970) gives the ages, as
    kubectl counts them from each event's first and last time."""
    found = [
        e
        for e in cluster.events()
        if e.kind == kind and e.name == name and e.namespace in (namespace, "")
    ]
    if not found:
        return [f"Events:\t{NONE}"]
    lines = ["Events:", "  Type\tReason\tAge\tFrom\tMessage", "  ----\t------\t----\t----\t-------"]
    for e in found:
        first = since(e.first, now)
        age = first if e.count == 1 else f"{since(e.last, now)} (x{e.count} over {first})"
        lines.append(f"  {e.type}\t{e.reason}\t{age}\t{SOURCES.get(e.reason, '')}\t{e.message}")
    return lines


def port_text(port: dict[str, Any]) -> str:
    text = f"{port['containerPort']}/{port.get('protocol', 'TCP')}"
    return f"{text} ({port['name']})" if port.get("name") else text


def container_lines(
    spec: dict[str, Any], statuses: list[dict[str, Any]] | None, indent: str
) -> list[str]:
    lines = []
    by_name = {s["name"]: s for s in statuses or []}
    for container in spec.get("containers") or []:
        lines.append(f"{indent}{container['name']}:")
        inner = "    "  # kubectl: a pod's container at 2 spaces, a template's at 3; fields at 4
        lines.append(f"{inner}Image:\t{container.get('image', '')}")
        ports = container.get("ports") or []
        lines.append(f"{inner}Port:\t{', '.join(port_text(p) for p in ports) or NONE}")
        host_ports = ", ".join(
            port_text({**p, "containerPort": p.get("hostPort", 0)}) for p in ports
        )
        lines.append(f"{inner}Host Port:\t{host_ports or NONE}")
        for field, title in (("command", "Command"), ("args", "Args")):
            if container.get(field):
                lines.append(f"{inner}{title}:")
                lines.extend(f"{inner}  {word}" for word in container[field])
        status = by_name.get(container["name"])
        if status is not None:
            state = next(iter(status.get("state") or {"waiting": {}}), "waiting").capitalize()
            lines.append(f"{inner}State:\t{state}")
            lines.append(f"{inner}Ready:\t{'True' if status.get('ready') else 'False'}")
            lines.append(f"{inner}Restart Count:\t{status.get('restartCount', 0)}")
        env = container.get("env") or []
        lines.append(f"{inner}Environment:\t{NONE if not env else ''}")
        lines.extend(f"{inner}  {e['name']}:\t{e.get('value', '')}" for e in env)
        lines.append(f"{inner}Mounts:\t{NONE}")
    return lines
