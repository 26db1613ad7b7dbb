"""Object metadata rules (``ValidateObjectMeta``) and small helpers shared by the kinds.

The semantic checks run only after the schema check passed, so every value already has its
schema type, but any field may still be ``null``: the helpers below read fields null-safely.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from app.cluster import names
from app.cluster.selectors import validate_annotations, validate_labels
from app.errors import (
    DUPLICATE,
    FORBIDDEN,
    INVALID,
    NOT_SUPPORTED,
    REQUIRED,
    TOO_LONG,
    TOO_MANY,
    TYPE_INVALID,
    FieldError,
)

# --- FieldError builders, worded like k8s.io/apimachinery/pkg/util/validation/field ---------


def is_int(value: object) -> bool:
    """True for a JSON integer (``bool`` is not one).

    Parameters
    ----------
    value : object
        The candidate.

    Returns
    -------
    bool
        Whether it is an int and not a bool.

    Examples
    --------
    >>> is_int(3), is_int(True), is_int(3.0)
    (True, False, False)
    """
    return isinstance(value, int) and not isinstance(value, bool)


def fmt_value(value: object) -> str:
    """Print a value the way ``field.Error`` prints it: strings quoted, numbers bare.

    Parameters
    ----------
    value : object
        The offending value.

    Returns
    -------
    str
        Its printed form; mappings and lists are printed as compact JSON.

    Examples
    --------
    >>> fmt_value("Foo"), fmt_value(80), fmt_value(None), fmt_value(True)
    ('"Foo"', '80', 'null', 'true')
    """
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        return repr(value)


def invalid(path: str, value: object, detail: str) -> FieldError:
    """``field.Invalid``: ``Invalid value: <value>: <detail>``.

    Parameters
    ----------
    path : str
        The field path.
    value : object
        The offending value.
    detail : str
        Why it is wrong.

    Returns
    -------
    FieldError
        With reason ``FieldValueInvalid``.

    Examples
    --------
    >>> invalid("spec.replicas", -1, "must be greater than or equal to 0").describe()
    'spec.replicas: Invalid value: -1: must be greater than or equal to 0'
    """
    return FieldError(path, f"Invalid value: {fmt_value(value)}: {detail}", INVALID)


def type_invalid(path: str, value: object, detail: str) -> FieldError:
    """``field.TypeInvalid``: ``Invalid value: <value>: <detail>``.

    Parameters
    ----------
    path : str
        The field path.
    value : object
        The offending value.
    detail : str
        The expected type.

    Returns
    -------
    FieldError
        With reason ``FieldValueTypeInvalid``.

    Examples
    --------
    >>> type_invalid("spec.replicas", "three", "must be an integer").message
    'Invalid value: "three": must be an integer'
    """
    return FieldError(path, f"Invalid value: {fmt_value(value)}: {detail}", TYPE_INVALID)


def required(path: str, detail: str = "") -> FieldError:
    """``field.Required``: ``Required value`` plus an optional detail.

    Parameters
    ----------
    path : str
        The field path.
    detail : str, optional
        Extra words.

    Returns
    -------
    FieldError
        With reason ``FieldValueRequired``.

    Examples
    --------
    >>> required("spec.selector").describe()
    'spec.selector: Required value'
    >>> required("metadata.name", "name or generateName is required").message
    'Required value: name or generateName is required'
    """
    return FieldError(path, f"Required value: {detail}" if detail else "Required value", REQUIRED)


def forbidden(path: str, detail: str) -> FieldError:
    """``field.Forbidden``: ``Forbidden: <detail>``.

    Parameters
    ----------
    path : str
        The field path.
    detail : str
        Why.

    Returns
    -------
    FieldError
        With reason ``FieldValueForbidden``.

    Examples
    --------
    >>> forbidden("spec.ports[0].nodePort", "may not be used when `type` is 'ClusterIP'").message
    "Forbidden: may not be used when `type` is 'ClusterIP'"
    """
    return FieldError(path, f"Forbidden: {detail}", FORBIDDEN)


def not_supported(path: str, value: object, supported: Iterable[str]) -> FieldError:
    """``field.NotSupported``: ``Unsupported value: "X": supported values: "A", "B"``.

    Parameters
    ----------
    path : str
        The field path.
    value : object
        The offending value.
    supported : iterable of str
        The allowed values, in the order the API server lists them.

    Returns
    -------
    FieldError
        With reason ``FieldValueNotSupported``.

    Examples
    --------
    >>> not_supported("spec.type", "Foo", ["ClusterIP", "NodePort"]).message
    'Unsupported value: "Foo": supported values: "ClusterIP", "NodePort"'
    """
    listed = ", ".join(fmt_value(s) for s in supported)
    return FieldError(
        path, f"Unsupported value: {fmt_value(value)}: supported values: {listed}", NOT_SUPPORTED
    )


def duplicate(path: str, value: object) -> FieldError:
    """``field.Duplicate``: ``Duplicate value: <value>``.

    Parameters
    ----------
    path : str
        The field path.
    value : object
        The repeated value.

    Returns
    -------
    FieldError
        With reason ``FieldValueDuplicate``.

    Examples
    --------
    >>> duplicate("spec.ports[1].name", "http").message
    'Duplicate value: "http"'
    """
    return FieldError(path, f"Duplicate value: {fmt_value(value)}", DUPLICATE)


def too_long(path: str, max_length: int) -> FieldError:
    """``field.TooLong``: ``Too long: may not be more than N bytes``.

    Parameters
    ----------
    path : str
        The field path.
    max_length : int
        The limit in bytes.

    Returns
    -------
    FieldError
        With reason ``FieldValueTooLong``.

    Examples
    --------
    >>> too_long("metadata.annotations", 262144).message
    'Too long: may not be more than 262144 bytes'
    """
    unit = "byte" if max_length == 1 else "bytes"
    return FieldError(path, f"Too long: may not be more than {max_length} {unit}", TOO_LONG)


def too_many(path: str, actual: int, max_items: int) -> FieldError:
    """``field.TooMany``: ``Too many: N: must have at most M items``.

    Parameters
    ----------
    path : str
        The field path.
    actual : int
        How many there are.
    max_items : int
        The limit.

    Returns
    -------
    FieldError
        With reason ``FieldValueTooMany``.

    Examples
    --------
    >>> too_many("endpoints[0].addresses", 101, 100).message
    'Too many: 101: must have at most 100 items'
    """
    return FieldError(path, f"Too many: {actual}: must have at most {max_items} items", TOO_MANY)


def invalid_each(path: str, value: object, messages: list[str]) -> list[FieldError]:
    """One ``Invalid value`` error per problem message.

    Parameters
    ----------
    path : str
        The field path.
    value : object
        The offending value.
    messages : list of str
        Problems from one of the checks above.

    Returns
    -------
    list of FieldError
        One per message.

    Examples
    --------
    >>> [e.field for e in invalid_each("spec.hostname", "A", names.dns1123_label("A"))]
    ['spec.hostname']
    """
    return [invalid(path, value, m) for m in messages]


# How each kind's metadata.name is checked (pkg/apis/*/validation: Validate<Kind>Name).
NAME_RULES: dict[str, Callable[[str], list[str]]] = {
    "Namespace": names.dns1123_label,
    "Service": names.dns1035_label,
    "Pod": names.dns1123_subdomain,
    "Deployment": names.dns1123_subdomain,
    "DaemonSet": names.dns1123_subdomain,
    "Ingress": names.dns1123_subdomain,
    "IngressClass": names.dns1123_subdomain,
    "NetworkPolicy": names.dns1123_subdomain,
    "EndpointSlice": names.dns1123_subdomain,
    "Node": names.dns1123_subdomain,
}


def obj(value: object) -> dict:
    """The value if it is a mapping, else an empty one.

    Parameters
    ----------
    value : object
        A field value.

    Returns
    -------
    dict
        ``value`` or ``{}``.

    Examples
    --------
    >>> obj(None), obj({"a": 1})
    ({}, {'a': 1})
    """
    return value if isinstance(value, dict) else {}


def arr(value: object) -> list:
    """The value if it is a list, else an empty one.

    Parameters
    ----------
    value : object
        A field value.

    Returns
    -------
    list
        ``value`` or ``[]``.

    Examples
    --------
    >>> arr(None), arr([1])
    ([], [1])
    """
    return value if isinstance(value, list) else []


def text(value: object) -> str:
    """The value if it is a string, else ``""`` (Go's zero value).

    Parameters
    ----------
    value : object
        A field value.

    Returns
    -------
    str
        ``value`` or ``""``.

    Examples
    --------
    >>> text(None), text("x")
    ('', 'x')
    """
    return value if isinstance(value, str) else ""


def num(value: object) -> int:
    """The value if it is an integer, else ``0`` (Go's zero value).

    Parameters
    ----------
    value : object
        A field value.

    Returns
    -------
    int
        ``value`` or ``0``.

    Examples
    --------
    >>> num(None), num(8080), num(True)
    (0, 8080, 0)
    """
    return value if is_int(value) else 0  # type: ignore[return-value]


def nonnegative(value: object, path: str) -> list[FieldError]:
    """``ValidateNonnegativeField``.

    Parameters
    ----------
    value : object
        The number (non-integers are ignored).
    path : str
        The field path.

    Returns
    -------
    list of FieldError
        One error when negative.

    Examples
    --------
    >>> nonnegative(-1, "spec.replicas")[0].message
    'Invalid value: -1: must be greater than or equal to 0'
    """
    if is_int(value) and value < 0:  # type: ignore[operator]
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []


def port_num_or_name(value: object, path: str) -> list[FieldError]:
    """``ValidatePortNumOrName``: an int 1-65535 or an IANA_SVC_NAME.

    Parameters
    ----------
    value : object
        An IntOrString port.
    path : str
        The field path.

    Returns
    -------
    list of FieldError
        The broken rules.

    Examples
    --------
    >>> port_num_or_name("http", "spec.ports[0].targetPort")
    []
    >>> port_num_or_name(70000, "spec.ports[0].targetPort")[0].message
    'Invalid value: 70000: must be between 1 and 65535, inclusive'
    """
    if is_int(value):
        return invalid_each(path, value, names.port_number(value))  # type: ignore[arg-type]
    if isinstance(value, str):
        return invalid_each(path, value, names.iana_svc_name(value))
    return []


def validate_metadata(meta: object, kind: str, namespaced: bool) -> list[FieldError]:
    """``ValidateObjectMeta``: name format for the kind, namespace, labels, annotations.

    A namespace on a cluster-scoped object is accepted silently: the API server clears it
    (``EnsureObjectNamespaceMatchesRequestNamespace``) before validating.

    Parameters
    ----------
    meta : object
        ``metadata``.
    kind : str
        The object's kind, choosing the name rule in :data:`NAME_RULES`.
    namespaced : bool
        Whether the kind lives in a namespace.

    Returns
    -------
    list of FieldError
        The broken rules (a missing name is reported by the caller).

    Examples
    --------
    >>> validate_metadata({"name": "1web"}, "Service", True)[0].field
    'metadata.name'
    >>> validate_metadata({"name": "web", "namespace": "Dev"}, "Pod", True)[0].field
    'metadata.namespace'
    """
    m = obj(meta)
    errs: list[FieldError] = []
    name = m.get("name")
    rule = NAME_RULES.get(kind, names.dns1123_subdomain)
    if isinstance(name, str) and name:
        errs.extend(invalid_each("metadata.name", name, rule(name)))
    ns = m.get("namespace")
    if namespaced and isinstance(ns, str) and ns:
        errs.extend(invalid_each("metadata.namespace", ns, names.dns1123_label(ns)))
    errs.extend(validate_labels(m.get("labels"), "metadata.labels"))
    errs.extend(validate_annotations(m.get("annotations"), "metadata.annotations"))
    return errs
