"""Deployment and DaemonSet rules (pkg/apis/apps/validation)."""

from __future__ import annotations

from app.cluster import names
from app.cluster.selectors import (
    matches,
    validate_annotations,
    validate_label_selector,
    validate_labels,
)
from app.cluster.validation import semantic_meta as fe
from app.cluster.validation.semantic_meta import nonnegative, obj, text, validate_metadata
from app.cluster.validation.semantic_pod import validate_pod_spec
from app.errors import FieldError


def _int_or_percent(value: object, path: str) -> list[FieldError]:
    """``ValidatePositiveIntOrPercent`` plus ``IsNotMoreThan100Percent`` when asked."""
    if isinstance(value, str):
        return fe.invalid_each(path, value, names.percent(value))
    return nonnegative(value, path)


def _value(value: object) -> int:
    """``getIntOrPercentValue``: the number, or the percentage as a number."""
    if fe.is_int(value):
        return value  # type: ignore[return-value]
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        return int(value[:-1])
    return -1


def _not_over_100(value: object, path: str) -> list[FieldError]:
    if isinstance(value, str) and _value(value) > 100:
        return [fe.invalid(path, value, "must not be greater than 100%")]
    return []


def _selector_and_template(spec: dict, kind: str) -> list[FieldError]:
    errs: list[FieldError] = []
    selector = spec.get("selector")
    template = obj(spec.get("template"))
    tmeta = obj(template.get("metadata"))
    if selector is None:
        errs.append(fe.required("spec.selector"))
    else:
        errs.extend(validate_label_selector(selector, "spec.selector"))
        sel = obj(selector)
        if not obj(sel.get("matchLabels")) and not sel.get("matchExpressions"):
            errs.append(
                fe.invalid("spec.selector", selector, f"empty selector is invalid for {kind}")
            )
        elif not errs and not matches(sel, obj(tmeta.get("labels"))):
            errs.append(
                fe.invalid(
                    "spec.template.metadata.labels",
                    tmeta.get("labels"),
                    "`selector` does not match template `labels`",
                )
            )
    errs.extend(validate_metadata_template(tmeta))
    tspec = obj(template.get("spec"))
    errs.extend(validate_pod_spec(tspec, "spec.template.spec"))
    restart = tspec.get("restartPolicy")
    if isinstance(restart, str) and restart != "Always":
        errs.append(fe.not_supported("spec.template.spec.restartPolicy", restart, ["Always"]))
    if tspec.get("activeDeadlineSeconds") is not None:
        errs.append(
            fe.invalid(
                "spec.template.spec.activeDeadlineSeconds",
                tspec.get("activeDeadlineSeconds"),
                f"activeDeadlineSeconds in {'ReplicaSet' if kind == 'deployment' else 'DaemonSet'}"
                " is not Supported",
            )
        )
    return errs


def validate_metadata_template(meta: dict) -> list[FieldError]:
    """Labels and annotations of a pod template (``ValidateTemplateObjectMeta``).

    Parameters
    ----------
    meta : dict
        ``spec.template.metadata``.

    Returns
    -------
    list of FieldError
        The broken rules, on ``spec.template.metadata.*`` paths.

    Examples
    --------
    >>> validate_metadata_template({"labels": {"app": "web"}})
    []
    """
    errs = validate_labels(meta.get("labels"), "spec.template.metadata.labels")
    errs.extend(validate_annotations(meta.get("annotations"), "spec.template.metadata.annotations"))
    return errs


def validate_deployment(dep: dict) -> list[FieldError]:
    """``ValidateDeployment``: metadata, replicas, selector vs template, strategy.

    Parameters
    ----------
    dep : dict
        A Deployment that passed the schema check.

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> dep = {"metadata": {"name": "web"}, "spec": {
    ...     "selector": {"matchLabels": {"app": "web"}},
    ...     "template": {"metadata": {"labels": {"app": "api"}},
    ...                  "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}
    >>> e = validate_deployment(dep)[0]
    >>> e.field
    'spec.template.metadata.labels'
    >>> e.message
    'Invalid value: {"app":"api"}: `selector` does not match template `labels`'
    """
    errs = validate_metadata(dep.get("metadata"), "Deployment", True)
    spec = obj(dep.get("spec"))
    errs.extend(nonnegative(spec.get("replicas"), "spec.replicas"))
    errs.extend(_selector_and_template(spec, "deployment"))
    strategy = obj(spec.get("strategy"))
    stype = text(strategy.get("type")) or "RollingUpdate"
    rolling = strategy.get("rollingUpdate")
    if stype == "Recreate":
        if rolling is not None:
            errs.append(
                fe.forbidden(
                    "spec.strategy.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                )
            )
    elif stype == "RollingUpdate":
        ru = obj(rolling)
        surge = ru.get("maxSurge") if ru.get("maxSurge") is not None else "25%"
        unavail = ru.get("maxUnavailable") if ru.get("maxUnavailable") is not None else "25%"
        p = "spec.strategy.rollingUpdate"
        errs.extend(_int_or_percent(unavail, f"{p}.maxUnavailable"))
        errs.extend(_int_or_percent(surge, f"{p}.maxSurge"))
        if _value(unavail) == 0 and _value(surge) == 0:
            errs.append(
                fe.invalid(f"{p}.maxUnavailable", unavail, "may not be 0 when `maxSurge` is 0")
            )
        errs.extend(_not_over_100(unavail, f"{p}.maxUnavailable"))
    else:
        errs.append(fe.not_supported("spec.strategy.type", stype, ["Recreate", "RollingUpdate"]))
    errs.extend(nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    errs.extend(nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit"))
    deadline = spec.get("progressDeadlineSeconds")
    if fe.is_int(deadline):
        errs.extend(nonnegative(deadline, "spec.progressDeadlineSeconds"))
        min_ready = spec.get("minReadySeconds")
        min_ready = min_ready if fe.is_int(min_ready) else 0
        if deadline <= min_ready:  # type: ignore[operator]
            errs.append(
                fe.invalid(
                    "spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"
                )
            )
    return errs


def validate_daemonset(ds: dict) -> list[FieldError]:
    """``ValidateDaemonSet``: metadata, selector vs template, update strategy.

    Parameters
    ----------
    ds : dict
        A DaemonSet that passed the schema check.

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> ds = {"metadata": {"name": "agent"}, "spec": {"selector": {},
    ...     "template": {"spec": {"containers": [{"name": "a", "image": "busybox"}]}}}}
    >>> validate_daemonset(ds)[0].message
    'Invalid value: {}: empty selector is invalid for daemonset'
    """
    errs = validate_metadata(ds.get("metadata"), "DaemonSet", True)
    spec = obj(ds.get("spec"))
    errs.extend(_selector_and_template(spec, "daemonset"))
    errs.extend(nonnegative(spec.get("minReadySeconds"), "spec.minReadySeconds"))
    errs.extend(nonnegative(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit"))
    strategy = obj(spec.get("updateStrategy"))
    stype = text(strategy.get("type")) or "RollingUpdate"
    p = "spec.updateStrategy.rollingUpdate"
    if stype == "RollingUpdate":
        ru = obj(strategy.get("rollingUpdate"))
        unavail = ru.get("maxUnavailable") if ru.get("maxUnavailable") is not None else 1
        surge = ru.get("maxSurge") if ru.get("maxSurge") is not None else 0
        errs.extend(_int_or_percent(unavail, f"{p}.maxUnavailable"))
        errs.extend(_int_or_percent(surge, f"{p}.maxSurge"))
        errs.extend(_not_over_100(unavail, f"{p}.maxUnavailable"))
        errs.extend(_not_over_100(surge, f"{p}.maxSurge"))
        has_unavail, has_surge = _value(unavail) != 0, _value(surge) != 0
        if has_unavail and has_surge:
            errs.append(
                fe.invalid(f"{p}.maxSurge", surge, "may not be set when maxUnavailable is non-zero")
            )
        elif not has_unavail and not has_surge:
            errs.append(fe.required(f"{p}.maxUnavailable", "cannot be 0 when maxSurge is 0"))
    elif stype != "OnDelete":
        errs.append(
            fe.not_supported("spec.updateStrategy.type", stype, ["RollingUpdate", "OnDelete"])
        )
    return errs
