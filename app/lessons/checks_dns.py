"""Checks on DNS: a lookup the engine makes when the learner presses Check (``dns``), and the
lookups the learner made in the DNS tab during the step (``looked_up``)."""

from __future__ import annotations

from typing import Any

from app.lessons.outcome import Outcome, StepState
from app.lessons.refs import expand, expected_values, source_of
from app.network import dns
from app.network.targets import parse_source


def _dns(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    subject = spec["dns"]
    client = parse_source(cluster, source_of(cluster, subject["from"]))
    qtype = subject.get("type", "A")
    answer = dns.resolve(cluster, client.pod, expand(cluster, subject["name"]), qtype)
    label = f"{subject['name']} looked up from {subject['from']}"
    expect = spec.get("expect", "answer")
    if expect == "nxdomain":
        if answer.rcode == "NXDOMAIN":
            return Outcome(True, f"{label}: NXDOMAIN, as it should be.")
        return Outcome(
            False, f"{label} still answers {', '.join(answer.addresses()) or answer.rcode}."
        )
    if answer.rcode != "NOERROR" or not answer.answers:
        tried = ", ".join(a.name for a in answer.tried)
        return Outcome(False, f"{label}: {answer.rcode} (tried {tried}).")
    if "address" in spec:
        wanted = expected_values(cluster, spec["address"])
        got = answer.addresses()
        if not set(wanted) & set(got):
            return Outcome(
                False, f"{label} answers {', '.join(got) or 'no address'}, not {', '.join(wanted)}."
            )
    if "cname" in spec:
        cnames = [r.data.rstrip(".") for r in answer.answers if r.type == "CNAME"]
        if spec["cname"].rstrip(".") not in cnames:
            return Outcome(
                False, f"{label} has no CNAME to {spec['cname']} ({', '.join(cnames) or 'none'})."
            )
    shown = ", ".join(f"{r.type} {r.data}" for r in answer.answers)
    return Outcome(True, f"{label}: {shown}.")


def _looked_up(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    wanted = spec["looked_up"]
    lookups = [r for r in state.activity if r["kind"] == "dns"]
    for record in reversed(lookups):
        if "name" in wanted and record["name"] != wanted["name"].rstrip("."):
            continue
        if "type" in wanted and record["type"] != wanted["type"]:
            continue
        if "rcode" in wanted and record["rcode"] != wanted["rcode"]:
            continue
        if "from" in wanted and record["from"] != source_of(cluster, wanted["from"]):
            continue
        return Outcome(
            True,
            f"You looked up {record['name']}: {record['rcode']} {' '.join(record['addresses'])}.",
        )
    asked = wanted.get("name", "a name")
    if not lookups:
        return Outcome(False, f"Look up {asked} in the DNS tab first.")
    return Outcome(
        False,
        f"Your lookups ({', '.join(r['name'] for r in lookups[-3:])}) are not {asked} as asked.",
    )


DNS_CHECKS = {"dns": _dns, "looked_up": _looked_up}
