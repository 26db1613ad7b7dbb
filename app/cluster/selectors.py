"""Label selectors: matching, validation and kubectl's string form.

Two kinds of selector exist in the API. A ``metav1.LabelSelector`` (Deployments, DaemonSets,
NetworkPolicy peers) has ``matchLabels`` and ``matchExpressions``; ``nil`` selects nothing
and an empty selector selects everything. A Service's ``spec.selector`` is a plain map whose
every pair must be present on the pod.
"""

from __future__ import annotations

from app.cluster import names
from app.errors import FieldError

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024


def _fe():
    """The FieldError builders (imported late: the validation package imports this module)."""
    from app.cluster.validation import semantic_meta

    return semantic_meta


def _requirements(selector: dict) -> list[tuple[str, str, list[str]]] | None:
    """The selector as (key, operator, values) triples, or None when it is malformed."""
    reqs: list[tuple[str, str, list[str]]] = []
    match_labels = selector.get("matchLabels") or {}
    exprs = selector.get("matchExpressions") or []
    if not isinstance(match_labels, dict) or not isinstance(exprs, list):
        return None
    for key, value in match_labels.items():
        reqs.append((str(key), "=", [value]))
    for expr in exprs:
        if not isinstance(expr, dict):
            return None
        op = expr.get("operator")
        values = expr.get("values") or []
        if op not in OPERATORS or not isinstance(values, list):
            return None
        reqs.append((str(expr.get("key")), op, values))
    return reqs


def matches(selector: dict | None, labels: dict) -> bool:
    """Whether a ``metav1.LabelSelector`` selects an object with these labels.

    Parameters
    ----------
    selector : dict or None
        ``{"matchLabels": {...}, "matchExpressions": [...]}``. ``None`` selects nothing; an
        empty selector selects everything; a malformed one selects nothing.
    labels : dict
        The object's labels.

    Returns
    -------
    bool
        True when every ``matchLabels`` pair and every expression holds.

    Examples
    --------
    >>> matches({"matchLabels": {"app": "web"}}, {"app": "web", "tier": "fe"})
    True
    >>> matches({"matchExpressions": [{"key": "legacy", "operator": "DoesNotExist"}]}, {})
    True
    >>> matches({}, {"anything": "x"}), matches(None, {"app": "web"})
    (True, False)
    """
    if not isinstance(selector, dict):
        return False
    reqs = _requirements(selector)
    if reqs is None:
        return False
    labels = labels if isinstance(labels, dict) else {}
    for key, op, values in reqs:
        present = key in labels
        if op == "=":
            if not present or labels[key] != values[0]:
                return False
        elif op == "In":
            if not present or labels[key] not in values:
                return False
        elif op == "NotIn":
            if present and labels[key] in values:
                return False
        elif op == "Exists":
            if not present:
                return False
        elif present:  # DoesNotExist
            return False
    return True


def service_selector_matches(selector: dict | None, labels: dict) -> bool:
    """Whether a Service's plain map selector selects a pod with these labels.

    Parameters
    ----------
    selector : dict or None
        ``spec.selector``. The caller decides what "no selector" means (no managed endpoints).
    labels : dict
        The pod's labels.

    Returns
    -------
    bool
        True when every pair of the selector is present in ``labels``.

    Examples
    --------
    >>> service_selector_matches({"app": "web"}, {"app": "web", "pod-template-hash": "x"})
    True
    >>> service_selector_matches({"app": "web"}, {"app": "api"})
    False
    """
    if not isinstance(selector, dict) or not isinstance(labels, dict):
        return False
    return all(k in labels and labels[k] == v for k, v in selector.items())


def validate_labels(labels: object, path: str) -> list[FieldError]:
    """``ValidateLabels``: keys are qualified names, values are label values.

    Parameters
    ----------
    labels : object
        The label map (anything else is left to the schema check).
    path : str
        Its field path, e.g. ``metadata.labels``; errors are reported on this path.

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> validate_labels({"app": "web"}, "metadata.labels")
    []
    >>> e = validate_labels({"app": "-web"}, "metadata.labels")[0]
    >>> e.field, e.message[:22]
    ('metadata.labels', 'Invalid value: "-web":')
    """
    errs: list[FieldError] = []
    if not isinstance(labels, dict):
        return errs
    for key, value in labels.items():
        key = str(key)
        errs.extend(_fe().invalid_each(path, key, names.qualified_name(key)))
        if isinstance(value, str):
            errs.extend(_fe().invalid_each(path, value, names.label_value(value)))
    return errs


def validate_annotations(annotations: object, path: str) -> list[FieldError]:
    """``ValidateAnnotations``: keys are qualified names, total size at most 256 KiB.

    Parameters
    ----------
    annotations : object
        The annotation map.
    path : str
        Its field path, e.g. ``metadata.annotations``.

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> validate_annotations({"Example.com/Note": "hi"}, "metadata.annotations")
    []
    >>> validate_annotations({"a": "x" * 262144}, "metadata.annotations")[0].message
    'Too long: may not be more than 262144 bytes'
    """
    errs: list[FieldError] = []
    if not isinstance(annotations, dict):
        return errs
    total = 0
    for key, value in annotations.items():
        key = str(key)
        errs.extend(_fe().invalid_each(path, key, names.qualified_name(key.lower())))
        total += len(key.encode()) + len(value.encode() if isinstance(value, str) else b"")
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(_fe().too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return errs


def validate_label_selector(selector: object, path: str) -> list[FieldError]:
    """``ValidateLabelSelector``: keys, values and operators of a ``metav1.LabelSelector``.

    Parameters
    ----------
    selector : object
        The selector (``None`` is valid here: callers that require one say so).
    path : str
        Its field path, e.g. ``spec.selector``.

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> validate_label_selector({"matchLabels": {"app": "web"}}, "spec.selector")
    []
    >>> sel = {"matchExpressions": [{"key": "tier", "operator": "In"}]}
    >>> e = validate_label_selector(sel, "spec.selector")[0]
    >>> e.field
    'spec.selector.matchExpressions[0].values'
    >>> e.message
    "Required value: must be specified when `operator` is 'In' or 'NotIn'"
    """
    errs: list[FieldError] = []
    if not isinstance(selector, dict):
        return errs
    exprs = selector.get("matchExpressions")
    for i, expr in enumerate(exprs if isinstance(exprs, list) else []):
        if not isinstance(expr, dict):
            continue
        p = f"{path}.matchExpressions[{i}]"
        op = expr.get("operator")
        values = expr.get("values")
        values = values if isinstance(values, list) else []
        if op in ("In", "NotIn"):
            if not values:
                errs.append(
                    _fe().required(
                        f"{p}.values", "must be specified when `operator` is 'In' or 'NotIn'"
                    )
                )
        elif op in ("Exists", "DoesNotExist"):
            if values:
                errs.append(
                    _fe().forbidden(
                        f"{p}.values",
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    )
                )
        else:
            errs.append(_fe().invalid(f"{p}.operator", op, "not a valid selector operator"))
        key = expr.get("key")
        key = key if isinstance(key, str) else ""
        errs.extend(_fe().invalid_each(f"{p}.key", key, names.qualified_name(key)))
        for j, value in enumerate(values):
            if isinstance(value, str):
                errs.extend(_fe().invalid_each(f"{p}.values[{j}]", value, names.label_value(value)))
    errs.extend(validate_labels(selector.get("matchLabels"), f"{path}.matchLabels"))
    return errs


def describe(selector: dict | None) -> str:
    """kubectl's string form of a ``metav1.LabelSelector``.

    Requirements are sorted by key, as ``labels.Selector.String()`` sorts them.

    Parameters
    ----------
    selector : dict or None
        The selector.

    Returns
    -------
    str
        e.g. ``app=web,!legacy,tier in (a,b)``; ``""`` for the empty selector (everything)
        and ``"<none>"`` for ``None`` or a malformed selector (nothing).

    Examples
    --------
    >>> describe({"matchLabels": {"app": "web"}, "matchExpressions": [
    ...     {"key": "tier", "operator": "In", "values": ["b", "a"]},
    ...     {"key": "legacy", "operator": "DoesNotExist"}]})
    'app=web,!legacy,tier in (a,b)'
    >>> describe({}), describe(None)
    ('', '<none>')
    """
    if not isinstance(selector, dict):
        return "<none>"
    reqs = _requirements(selector)
    if reqs is None:
        return "<none>"
    parts = []
    for key, op, values in sorted(reqs, key=lambda r: r[0]):
        vals = ",".join(sorted(str(v) for v in values))
        if op == "=":
            parts.append(f"{key}={values[0]}")
        elif op == "In":
            parts.append(f"{key} in ({vals})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({vals})")
        elif op == "Exists":
            parts.append(key)
        else:
            parts.append(f"!{key}")
    return ",".join(parts)
