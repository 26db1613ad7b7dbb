"""Checks on how requests spread over a Service's pods: a batch the engine sends when the
learner presses Check (``traffic``: how many pods answered, and each one's share), and the
batches the learner sent during the step (``sent_traffic``)."""

from __future__ import annotations

from typing import Any

from app.lessons.outcome import Outcome, StepState
from app.lessons.refs import expand, matching_pods, source_of
from app.network.traffic import send_traffic


def _traffic(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    subject = spec["traffic"]
    source = source_of(cluster, subject["from"])
    count = int(subject.get("count", 100))
    result = send_traffic(cluster, source, expand(cluster, subject["to"]), count)
    hit = [e for e in result["endpoints"] if e["requests"]]
    spread = (
        ", ".join(f"{e.get('pod') or e['ip']}: {e['requests']}" for e in hit) or "none delivered"
    )
    sent = f"{count} requests from {subject['from']} to {subject['to']}"
    if "endpoints" in spec and len(hit) != spec["endpoints"]:
        return Outcome(
            False,
            f"{sent} reached {len(hit)} pods ({spread}); this step needs {spec['endpoints']}.",
        )
    if "max_endpoints" in spec and len(hit) > spec["max_endpoints"]:
        return Outcome(
            False,
            f"{sent} were spread over {len(hit)} pods ({spread}); this step needs at most {spec['max_endpoints']}.",
        )
    if not hit:
        return Outcome(False, f"None of {sent} reached a pod.")
    for selector, (least, most) in (spec.get("share") or {}).items():
        addresses = {(p.get("status") or {}).get("podIP") for p in matching_pods(cluster, selector)}
        got = sum(e["requests"] for e in result["endpoints"] if e["ip"] in addresses)
        if not least <= got <= most:
            wanted = f"between {least} and {most}" if least != most else f"{least}"
            return Outcome(
                False,
                f"{sent}: {got} reached pods matching {selector} ({spread}); this step needs "
                f"{wanted}.",
            )
    return Outcome(True, f"{sent}: {spread}.")


def _sent_traffic(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    wanted = spec["sent_traffic"]
    batches = [r for r in state.activity if r["kind"] == "traffic"]
    for record in reversed(batches):
        if "to" in wanted and wanted["to"] not in (record["host"], record["to"]):
            continue
        if "from" in wanted and record["from"] != source_of(cluster, wanted["from"]):
            continue
        if record["endpoints"] < wanted.get("min_endpoints", 1):
            continue
        return Outcome(
            True,
            f"You sent {record['count']} requests to {record['to']}: {record['endpoints']} pods answered.",
        )
    if not batches:
        return Outcome(
            False, 'Send a batch of requests first: "Send 100" in the trace bar above the map.'
        )
    last = batches[-1]
    return Outcome(
        False,
        f"Your last batch went to {last['to']} and reached {last['endpoints']} pods; that is not the one asked for.",
    )


TRAFFIC_CHECKS = {"traffic": _traffic, "sent_traffic": _sent_traffic}
