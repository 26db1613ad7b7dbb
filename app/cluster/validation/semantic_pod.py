"""Pod rules (pkg/apis/core/validation: ValidatePodSpec and the container checks).

:func:`validate_pod_spec` is shared by Pods and by the pod templates of Deployments and
DaemonSets. Values not yet defaulted (``restartPolicy``, ``dnsPolicy``, port ``protocol``)
are accepted when absent, because the API server defaults them before validating.
"""

from __future__ import annotations

from app.cluster import names
from app.cluster.selectors import validate_labels
from app.cluster.validation import semantic_meta as fe
from app.cluster.validation.semantic_meta import arr, num, obj, text, validate_metadata
from app.errors import FieldError

PROTOCOLS = ("SCTP", "TCP", "UDP")
RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
MAX_INT32 = 2**31 - 1


def _container_ports(ports: list, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()  # port names are unique within one container's ports
    for i, port in enumerate(ports):
        p = f"{path}[{i}]"
        port = obj(port)
        name = text(port.get("name"))
        if name:
            msgs = names.iana_svc_name(name)
            if msgs:
                errs.extend(fe.invalid_each(f"{p}.name", name, msgs))
            elif name in seen:
                errs.append(fe.duplicate(f"{p}.name", name))
            else:
                seen.add(name)
        cport = num(port.get("containerPort"))
        if cport == 0:
            errs.append(fe.required(f"{p}.containerPort"))
        else:
            errs.extend(fe.invalid_each(f"{p}.containerPort", cport, names.port_number(cport)))
        hport = num(port.get("hostPort"))
        if hport != 0:
            errs.extend(fe.invalid_each(f"{p}.hostPort", hport, names.port_number(hport)))
        proto = port.get("protocol")
        if isinstance(proto, str) and proto not in PROTOCOLS:
            errs.append(fe.not_supported(f"{p}.protocol", proto, PROTOCOLS))
    return errs


def _containers(spec: dict, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    all_names: set[str] = set()
    containers = arr(spec.get("containers"))
    if not containers:
        errs.append(fe.required(f"{path}.containers"))
    groups = (("containers", containers), ("initContainers", arr(spec.get("initContainers"))))
    host_ports: set[str] = set()
    for field, items in groups:
        for i, ctr in enumerate(items):
            p = f"{path}.{field}[{i}]"
            ctr = obj(ctr)
            name = text(ctr.get("name"))
            if not name:
                errs.append(fe.required(f"{p}.name"))
            elif name in all_names:
                errs.append(fe.duplicate(f"{p}.name", name))
            else:
                errs.extend(fe.invalid_each(f"{p}.name", name, names.dns1123_label(name)))
                all_names.add(name)
            image = text(ctr.get("image"))
            if not image:
                errs.append(fe.required(f"{p}.image"))
            elif image != image.strip():
                errs.append(
                    fe.invalid(f"{p}.image", image, "must not have leading or trailing whitespace")
                )
            policy = ctr.get("imagePullPolicy")
            if isinstance(policy, str) and policy and policy not in PULL_POLICIES:
                errs.append(fe.not_supported(f"{p}.imagePullPolicy", policy, PULL_POLICIES))
            ports = arr(ctr.get("ports"))
            errs.extend(_container_ports(ports, f"{p}.ports"))
            for j, port in enumerate(ports):  # AccumulateUniqueHostPorts
                port = obj(port)
                hport = num(port.get("hostPort"))
                if hport == 0:
                    continue
                proto = text(port.get("protocol")) or "TCP"
                key = f"{proto}/{text(port.get('hostIP'))}/{hport}"
                if key in host_ports:
                    errs.append(fe.duplicate(f"{p}.ports[{j}].hostPort", key))
                host_ports.add(key)
    if spec.get("hostNetwork") is True:
        for i, ctr in enumerate(containers):
            for j, port in enumerate(arr(obj(ctr).get("ports"))):
                port = obj(port)
                cport, hport = num(port.get("containerPort")), num(port.get("hostPort"))
                if hport not in (0, cport):
                    errs.append(
                        fe.invalid(
                            f"{path}.containers[{i}].ports[{j}].containerPort",
                            cport,
                            "must match `hostPort` when `hostNetwork` is true",
                        )
                    )
    return errs


def validate_tolerations(tolerations: list, path: str) -> list[FieldError]:
    """``validateTolerations``: keys, operators, values and effects.

    Parameters
    ----------
    tolerations : list
        ``spec.tolerations``.
    path : str
        Its field path.

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> t = [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
    ...       "effect": "NoSchedule"}]
    >>> validate_tolerations(t, "spec.tolerations")
    []
    >>> validate_tolerations([{"key": "a", "operator": "Is"}], "spec.tolerations")[0].message
    'Unsupported value: "Is": supported values: "Equal", "Exists"'
    """
    errs: list[FieldError] = []
    for i, tol in enumerate(tolerations):
        p = f"{path}[{i}]"
        tol = obj(tol)
        key, op = text(tol.get("key")), text(tol.get("operator"))
        value, effect = text(tol.get("value")), text(tol.get("effect"))
        if key:
            errs.extend(fe.invalid_each(f"{p}.key", key, names.qualified_name(key)))
        if not key and op != "Exists":
            errs.append(
                fe.invalid(
                    f"{p}.operator",
                    op,
                    'operator must be Exists when `key` is empty, which means "match all values '
                    'and all keys"',
                )
            )
        if tol.get("tolerationSeconds") is not None and effect != "NoExecute":
            errs.append(
                fe.invalid(
                    f"{p}.effect",
                    effect,
                    "effect must be 'NoExecute' when `tolerationSeconds` is set",
                )
            )
        if op in ("Equal", ""):
            msgs = names.label_value(value)
            if msgs:
                errs.append(fe.invalid(f"{p}.operator", value, ";".join(msgs)))
        elif op == "Exists":
            if value:
                errs.append(
                    fe.invalid(
                        f"{p}.operator", tol, "value must be empty when `operator` is 'Exists'"
                    )
                )
        else:
            errs.append(fe.not_supported(f"{p}.operator", op, ("Equal", "Exists")))
        if effect and effect not in TAINT_EFFECTS:
            errs.append(fe.not_supported(f"{p}.effect", effect, TAINT_EFFECTS))
    return errs


def validate_pod_spec(spec: object, path: str) -> list[FieldError]:
    """``ValidatePodSpec`` for the fields a course uses.

    Parameters
    ----------
    spec : object
        A pod spec (``spec`` of a Pod or ``spec.template.spec`` of a workload).
    path : str
        Its field path.

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> validate_pod_spec({"containers": [{"name": "web", "image": "nginx"}]}, "spec")
    []
    >>> validate_pod_spec({"containers": []}, "spec")[0].describe()
    'spec.containers: Required value'
    """
    spec = obj(spec)
    errs = _containers(spec, path)
    restart = spec.get("restartPolicy")
    if isinstance(restart, str) and restart not in RESTART_POLICIES:
        errs.append(fe.not_supported(f"{path}.restartPolicy", restart, RESTART_POLICIES))
    dns = spec.get("dnsPolicy")
    if isinstance(dns, str) and dns not in DNS_POLICIES:
        errs.append(fe.not_supported(f"{path}.dnsPolicy", dns, DNS_POLICIES))
    if dns == "None" and spec.get("dnsConfig") is None:
        errs.append(
            fe.required(f"{path}.dnsConfig", "must provide `dnsConfig` when `dnsPolicy` is None")
        )
    for field in ("hostname", "subdomain"):
        value = text(spec.get(field))
        if value:
            errs.extend(fe.invalid_each(f"{path}.{field}", value, names.dns1123_label(value)))
    errs.extend(validate_labels(spec.get("nodeSelector"), f"{path}.nodeSelector"))
    errs.extend(validate_tolerations(arr(spec.get("tolerations")), f"{path}.tolerations"))
    deadline = spec.get("activeDeadlineSeconds")
    if fe.is_int(deadline) and not 1 <= deadline <= MAX_INT32:  # type: ignore[operator]
        errs.append(
            fe.invalid(
                f"{path}.activeDeadlineSeconds",
                deadline,
                f"must be between 1 and {MAX_INT32}, inclusive",
            )
        )
    node_name = text(spec.get("nodeName"))
    if node_name:
        errs.extend(
            fe.invalid_each(f"{path}.nodeName", node_name, names.dns1123_subdomain(node_name))
        )
    return errs


def validate_pod(pod: dict) -> list[FieldError]:
    """``ValidatePod``: metadata plus the pod spec.

    Parameters
    ----------
    pod : dict
        A Pod manifest that passed the schema check.

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> pod = {"metadata": {"name": "web"},
    ...        "spec": {"containers": [{"name": "Web", "image": "nginx"}]}}
    >>> validate_pod(pod)[0].field
    'spec.containers[0].name'
    """
    errs = validate_metadata(pod.get("metadata"), "Pod", True)
    errs.extend(validate_pod_spec(pod.get("spec"), "spec"))
    return errs
