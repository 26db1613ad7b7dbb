"""The ``answer`` check: what the learner typed in a question step's box, compared with the
cluster's value now (an address, a port, a name, a number in any reasonable rounding), and
the explanation the lesson wrote for a likely wrong answer."""

from __future__ import annotations

import contextlib
import re
from fractions import Fraction
from typing import Any

from app.errors import PodpathError
from app.lessons.outcome import Outcome, StepState
from app.lessons.refs import expand, expected_values, is_running, matching_pods

_NUMBER = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(%?)$")
#: How far apart two numbers may be and still be the same answer, relative to the expected
#: one: iptables keeps a statistic probability as a fraction of 2^31, so iptables-save
#: prints 0.33333333349 where kube-proxy wrote 0.3333333333.
_PRECISION = Fraction(1, 10**9)
_FRACTION = re.compile(r"^([+-]?\d+)\s*/\s*(\d+)$")


def _number(text: str) -> tuple[Fraction, Fraction | None, int] | None:
    """An answer read as a number: its value, the half unit of its last written digit (None
    for an exact fraction or a whole number), and how many significant digits it has.

    >>> _number("0.33")
    (Fraction(33, 100), Fraction(1, 200), 2)
    >>> _number("33%")
    (Fraction(33, 100), Fraction(1, 200), 2)
    >>> _number("1/3")
    (Fraction(1, 3), None, 0)
    >>> _number("web") is None
    True
    """
    fraction = _FRACTION.match(text)
    if fraction:
        if int(fraction.group(2)) == 0:
            return None
        return Fraction(int(fraction.group(1)), int(fraction.group(2))), None, 0
    number = _NUMBER.match(text)
    if not number:
        return None
    digits, percent = number.groups()
    decimals = len(digits.partition(".")[2])
    scale = 100 if percent else 1
    value = Fraction(digits) / scale
    significant = len(digits.replace(".", "").lstrip("+-").lstrip("0"))
    if "." not in digits and not percent:
        return value, None, significant
    return value, Fraction(1, 2 * 10**decimals * scale), significant


def _same_number(given: str, wanted: str) -> bool:
    """Whether ``given`` is ``wanted`` as a number, allowing any rounding of either to two
    significant digits or more, and to within a billionth (what a value stored as a 32-bit
    fraction loses): 0.33, 0.333, 1/3, 33% and 0.33333333349 (what iptables-save prints
    for the statistic match) are all 0.3333333333 (what kube-proxy writes). A whole number
    must be exact.

    >>> [_same_number(a, "0.3333333333") for a in ("0.33", "1/3", "33.3%", "0.33333333349")]
    [True, True, True, True]
    >>> [_same_number(a, "0.3333333333") for a in ("0.3", "0.34", "0.3334", "3")]
    [False, False, False, False]
    >>> _same_number("10800", "10800"), _same_number("10800.4", "10800")
    (True, False)
    """
    g, w = _number(given), _number(wanted)
    if g is None or w is None:
        return False
    if w[1] is None and w[0].denominator == 1:  # a whole number: a port, a count
        return g[0] == w[0]
    tolerance = max(
        g[1] if g[1] is not None and g[2] >= 2 else Fraction(0),
        w[1] if w[1] is not None else Fraction(0),
        abs(w[0]) * _PRECISION,
    )
    return abs(g[0] - w[0]) <= tolerance


def _same_answer(given: str, wanted: str) -> bool:
    """An answer equal to an expected value, case and surrounding spaces ignored; a DNS name
    with or without its trailing dot (``api.backend.svc.cluster.local.``); a number in any
    reasonable rounding (see ``_same_number``).

    >>> _same_answer("API.backend.svc.cluster.local.", "api.backend.svc.cluster.local")
    True
    >>> _same_answer("10.0.0.11.", "10.0.0.11")
    False
    """
    given, wanted = given.strip().lower(), wanted.strip().lower()
    if given == wanted:
        return True
    if re.search(r"[a-z]", given) and given.rstrip(".") == wanted.rstrip("."):
        return True
    return _same_number(given, wanted)


def _answer(cluster: Any, spec: dict[str, Any], state: StepState) -> Outcome:
    wanted = expected_values(cluster, spec["answer"])
    given = (state.answer or "").strip()
    if not given:
        return Outcome(False, "Type your answer in the box first.")
    if any(_same_answer(given, value) for value in wanted):
        return Outcome(True, f"{given} is right.")
    return Outcome(False, wrong_answer(cluster, spec, given))


def wrong_answer(cluster: Any, spec: dict[str, Any], given: str) -> str:
    """Why ``given`` is wrong: the explanation the lesson wrote for that answer when it is one
    of the step's likely wrong answers (``wrong:``), else its general one (``otherwise:``),
    else a sentence that repeats what the step asked.

    In an explanation, ``{answer}`` is the text typed and ``{node_ip:worker-1}``-style
    placeholders are the cluster's values now.

    >>> from app.cluster.cluster import Cluster
    >>> spec = {
    ...     "answer": {"value": "10.244.1.3"},
    ...     "ask": "Source IP address seen by web-b",
    ...     "wrong": [{"answer": {"node_ip": "worker-1"}, "why": "{answer} is worker-1's own address."}],
    ... }
    >>> cluster = Cluster.create(seed=1)
    >>> wrong_answer(cluster, spec, "10.0.0.11")
    "10.0.0.11 is worker-1's own address."
    >>> wrong_answer(cluster, spec, "web-b")
    'web-b is not the answer to "Source IP address seen by web-b".'
    """
    for wrong in spec.get("wrong", []):
        try:
            values = wrong_values(cluster, wrong["answer"])
        except PodpathError:  # what it names is not there now: it cannot be this answer
            continue
        if any(_same_answer(given, value) for value in values):
            return explain(cluster, wrong["why"], given)
    if spec.get("otherwise"):
        return explain(cluster, spec["otherwise"], given)
    asked = (spec.get("ask") or "what the step asks").rstrip(".?")
    return f'{given} is not the answer to "{asked}".'


def wrong_values(cluster: Any, value: dict[str, Any]) -> list[str]:
    """The answers a wrong answer's value stands for. ``pod_ip`` with a label selector is the
    address of any running pod it matches (``{pod_ip: app=web}``: any web pod's address).

    Parameters
    ----------
    cluster : Cluster
    value : dict
        One value as an ``answer`` check writes it (``{node_ip: worker-1}``).

    Returns
    -------
    list of str

    Raises
    ------
    PodpathError
        When what it names does not exist (see :func:`app.lessons.refs.expected_values`).

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> wrong_values(cluster, {"pod_ip": "kube-system/k8s-app=kube-dns"})
    ['10.244.2.2', '10.244.1.3']
    >>> wrong_values(cluster, {"node_ip": "worker-1"})
    ['10.0.0.11']
    """
    ((kind, text),) = value.items()
    if kind == "pod_ip":
        return [p["status"]["podIP"] for p in matching_pods(cluster, str(text)) if is_running(p)]
    return expected_values(cluster, value)


def explain(cluster: Any, text: str, given: str) -> str:
    """A lesson's explanation of a wrong answer as the learner reads it: ``{answer}`` is what
    they typed, and value placeholders are the cluster's values now.

    Parameters
    ----------
    cluster : Cluster
    text : str
        The explanation as the lesson wrote it (``why:`` or ``otherwise:``).
    given : str
        What the learner typed.

    Returns
    -------
    str
        The explanation; a placeholder whose value is gone is left as written.

    Examples
    --------
    >>> from app.cluster.cluster import Cluster
    >>> cluster = Cluster.create(seed=1)
    >>> explain(cluster, "{answer} is a node: worker-1 is {node_ip:worker-1}.", "10.0.0.11")
    '10.0.0.11 is a node: worker-1 is 10.0.0.11.'
    >>> explain(cluster, "{answer} is {pod_ip:gone}'s address. ", "10.244.1.9")
    "10.244.1.9 is {pod_ip:gone}'s address."
    """
    with contextlib.suppress(PodpathError):  # a value gone now: the words still hold
        text = expand(cluster, text)
    return text.replace("{answer}", given).strip()


ANSWER_CHECKS = {"answer": _answer}
