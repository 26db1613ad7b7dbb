"""The API server's update rules between two defaulted objects of the same kind.

``spec.selector`` of Deployments and DaemonSets, a Service's cluster IPs and IP families, an
EndpointSlice's ``addressType``, a GatewayClass's ``controllerName`` and almost all of a
Pod's spec cannot change after creation.
A Service whose new ``clusterIP`` is empty is not an error: the API server carries the old
one over (the caller does that).
"""

from __future__ import annotations

from app.cluster.validation import semantic_meta as fe
from app.cluster.validation.semantic_meta import arr, obj, text
from app.cluster.validation.semantic_service import cluster_ips
from app.errors import FieldError

POD_UPDATE_MESSAGE = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)


def _immutable(old: object, new: object, path: str) -> list[FieldError]:
    if old == new:
        return []
    return [fe.invalid(path, new, "field is immutable")]


def _service(old: dict, new: dict) -> list[FieldError]:
    old_spec, new_spec = obj(old.get("spec")), obj(new.get("spec"))
    if "ExternalName" in (old_spec.get("type"), new_spec.get("type")):
        return []
    errs: list[FieldError] = []
    old_ips, new_ips = cluster_ips(old_spec), cluster_ips(new_spec)
    if old_ips and new_ips and not (old_ips[0] == new_ips[0] == "None"):
        for i, ip in enumerate(old_ips[: len(new_ips)]):
            if ip != new_ips[i]:
                errs.append(fe.invalid(f"spec.clusterIPs[{i}]", new_ips, "may not change once set"))
    old_fam, new_fam = arr(old_spec.get("ipFamilies")), arr(new_spec.get("ipFamilies"))
    for i, fam in enumerate(old_fam[: len(new_fam)]):
        if fam != new_fam[i]:
            errs.append(fe.invalid(f"spec.ipFamilies[{i}]", new_fam, "may not change once set"))
    return errs


def _changed_paths(old: object, new: object, path: str, out: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            _changed_paths(old.get(key), new.get(key), f"{path}.{key}", out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _changed_paths(a, b, f"{path}[{i}]", out)
    elif old != new:
        out.append(path)


def _pod(old: dict, new: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    old_spec, new_spec = obj(old.get("spec")), obj(new.get("spec"))
    munged = dict(new_spec)
    for field in ("containers", "initContainers"):
        old_ctrs, new_ctrs = arr(old_spec.get(field)), arr(new_spec.get(field))
        if len(old_ctrs) != len(new_ctrs):
            return [fe.forbidden(f"spec.{field}", "pod updates may not add or remove containers")]
        mixed = []
        for o, n in zip(old_ctrs, new_ctrs, strict=True):
            n = dict(obj(n))
            if obj(o).get("image") != n.get("image"):
                # A new tag may default another imagePullPolicy; kubectl apply would keep the
                # stored one, so neither counts as a change.
                for key in ("image", "imagePullPolicy"):
                    _restore(n, obj(o), key)
            mixed.append(n)
        if field in new_spec:
            munged[field] = mixed
    old_deadline, new_deadline = (
        old_spec.get("activeDeadlineSeconds"),
        new_spec.get("activeDeadlineSeconds"),
    )
    if old_deadline is not None:
        if new_deadline is None:
            errs.append(
                fe.invalid(
                    "spec.activeDeadlineSeconds",
                    new_deadline,
                    "must not update from a positive integer to nil value",
                )
            )
        elif fe.is_int(new_deadline) and fe.is_int(old_deadline) and new_deadline > old_deadline:
            errs.append(
                fe.invalid(
                    "spec.activeDeadlineSeconds",
                    new_deadline,
                    "must be less than or equal to previous value",
                )
            )
    _restore(munged, old_spec, "activeDeadlineSeconds")
    old_tols, new_tols = arr(old_spec.get("tolerations")), arr(new_spec.get("tolerations"))
    for i, tol in enumerate(old_tols):
        if tol not in new_tols:
            errs.append(
                fe.forbidden(
                    f"spec.tolerations[{i}]",
                    "existing toleration can not be modified except its tolerationSeconds",
                )
            )
    _restore(munged, old_spec, "tolerations")
    if munged != old_spec:
        changed: list[str] = []
        _changed_paths(old_spec, munged, "spec", changed)
        detail = POD_UPDATE_MESSAGE + "\nchanged: " + ", ".join(changed)
        errs.append(fe.forbidden("spec", detail))
    return errs


def _restore(munged: dict, old_spec: dict, field: str) -> None:
    if field in old_spec:
        munged[field] = old_spec[field]
    else:
        munged.pop(field, None)


def validate_update(old: dict, new: dict) -> list[FieldError]:
    """The API server's update rules between two defaulted objects of the same kind.

    Parameters
    ----------
    old : dict
        The stored object.
    new : dict
        The object replacing it (already validated and defaulted).

    Returns
    -------
    list of FieldError
        The immutable fields that changed.

    Examples
    --------
    >>> old = {"kind": "Deployment", "spec": {"selector": {"matchLabels": {"app": "web"}}}}
    >>> new = {"kind": "Deployment", "spec": {"selector": {"matchLabels": {"app": "api"}}}}
    >>> validate_update(old, new)[0].describe()
    'spec.selector: Invalid value: {"matchLabels":{"app":"api"}}: field is immutable'
    """
    if not isinstance(old, dict) or not isinstance(new, dict):
        return []
    kind = text(new.get("kind"))
    if text(old.get("kind")) != kind:
        return _immutable(old.get("kind"), new.get("kind"), "kind")
    if kind in ("Deployment", "DaemonSet"):
        return _immutable(
            obj(old.get("spec")).get("selector"),
            obj(new.get("spec")).get("selector"),
            "spec.selector",
        )
    if kind == "Service":
        return _service(old, new)
    if kind == "Pod":
        return _pod(old, new)
    if kind == "EndpointSlice":
        return _immutable(old.get("addressType"), new.get("addressType"), "addressType")
    if kind == "GatewayClass":
        # The GatewayClass CRD's transition rule on spec.controllerName: self == oldSelf.
        old_name = obj(old.get("spec")).get("controllerName")
        new_name = obj(new.get("spec")).get("controllerName")
        if old_name != new_name:
            return [fe.invalid("spec.controllerName", "string", "Value is immutable")]
    return []
