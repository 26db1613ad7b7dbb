"""The one exception hierarchy of Podpath.

Every error a user can cause is a :class:`PodpathError`. Each carries the HTTP status the
Kubernetes API server would answer with and, where fields are at fault, a list of
:class:`FieldError` naming the document, the object, the field path and the rule broken.
The web layer has a single handler that turns these into JSON, an htmx fragment or a page.

A dropped packet is not an error: the network engine returns it as a result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

# The cause types the API server reports in a Status (k8s.io/apimachinery field.ErrorType).
REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
DUPLICATE = "FieldValueDuplicate"
FORBIDDEN = "FieldValueForbidden"
TOO_LONG = "FieldValueTooLong"
TOO_MANY = "FieldValueTooMany"
NOT_FOUND = "FieldValueNotFound"
TYPE_INVALID = "FieldValueTypeInvalid"
UNKNOWN_FIELD = "FieldUnknown"
SYNTAX = "SyntaxError"


@dataclass(frozen=True)
class FieldError:
    """One broken rule in one field of one object.

    Parameters
    ----------
    field : str
        The field path the way the API server prints it, e.g. ``spec.ports[0].nodePort``.
        Empty when the whole document is at fault.
    message : str
        What is wrong, in words a learner can act on, e.g.
        ``Invalid value: 80: must be between 30000 and 32767, inclusive``.
    reason : str
        The Kubernetes cause type (``FieldValueInvalid``, ``FieldValueRequired`` ...).
    document, kind, name, namespace, line : optional
        Where the error lives: the 1-based document number in the applied text, the object's
        kind, name and namespace, and the 1-based line of the field when known.

    Examples
    --------
    >>> e = FieldError("spec.replicas", "Invalid value: -1: must be greater than or equal to 0")
    >>> e.describe()
    'spec.replicas: Invalid value: -1: must be greater than or equal to 0'
    """

    field: str
    message: str
    reason: str = INVALID
    document: int | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    line: int | None = None

    def describe(self) -> str:
        """The error as one line: ``field: message``."""
        return f"{self.field}: {self.message}" if self.field else self.message

    def located(self, **where: object) -> FieldError:
        """A copy with the location fields (document, kind, name, ...) filled in."""
        missing = {k: v for k, v in where.items() if getattr(self, k) is None}
        return replace(self, **missing)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def qualified_kind(kind: str, api_version: str | None) -> str:
    """The kind as the API server names it in messages (apimachinery ``GroupKind.String``):
    ``Kind.group`` for a named group, the bare kind for the core group.

    >>> qualified_kind("Deployment", "apps/v1"), qualified_kind("Service", "v1")
    ('Deployment.apps', 'Service')
    """
    group = api_version.rpartition("/")[0] if api_version else ""
    return f"{kind}.{group}" if group else kind


def invalid_message(qualified: str, name: str, errors: list[FieldError]) -> str:
    """The message of a 422 Invalid, as apimachinery's ``NewInvalid`` words it:
    ``<Kind.group> "<name>" is invalid: <errors>``, where the errors are aggregated as
    ``utilerrors.NewAggregate`` prints them (one alone; several as ``[a, b]``, each distinct
    text once). No errors: the sentence ends at "is invalid".

    Parameters: ``qualified`` from :func:`qualified_kind`, the object's ``name``, its
    ``errors``. Returns the message.

    >>> a = FieldError("spec.replicas", "Invalid value: -1: must be greater than or equal to 0")
    >>> b = FieldError("metadata.name", "Required value: name or generateName is required")
    >>> invalid_message("Deployment.apps", "Foo", [a])
    'Deployment.apps "Foo" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'
    >>> invalid_message("Service", "web", [a, b, a]).split(" is invalid: ")[1][:16]
    '[spec.replicas: '
    """
    described = list(dict.fromkeys(e.describe() for e in errors))
    head = f'{qualified} "{name}" is invalid'
    if not described:
        return head
    listed = described[0] if len(described) == 1 else "[" + ", ".join(described) + "]"
    return f"{head}: {listed}"


class PodpathError(Exception):
    """Base of every error caused by what a user sent. ``status`` is the HTTP status."""

    status = 400
    reason = "BadRequest"

    def __init__(self, message: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = list(errors or [])

    def to_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "errors": [e.to_dict() for e in self.errors],
        }


class ManifestSyntaxError(PodpathError):
    """The text is not YAML or JSON we can read (or reads into something hostile)."""

    status = 400
    reason = "BadRequest"


class InvalidObjects(PodpathError):
    """One or more objects break the API's rules; nothing was changed."""

    status = 422
    reason = "Invalid"


class NotFound(PodpathError):
    status = 404
    reason = "NotFound"


class Conflict(PodpathError):
    """The change collides with the current state (a taken name, port or address)."""

    status = 409
    reason = "Conflict"


class Forbidden(PodpathError):
    """The change is refused by policy: a quota, a protected object, a change sent from
    another site."""

    status = 403
    reason = "Forbidden"


class PayloadTooLarge(PodpathError):
    status = 413
    reason = "RequestEntityTooLarge"


class UnsupportedMediaType(PodpathError):
    """A body in a content type the route does not take."""

    status = 415
    reason = "UnsupportedMediaType"


class TooManyRequests(PodpathError):
    """A rate limit was reached; ``retry_after`` says in how many seconds to try again."""

    status = 429
    reason = "TooManyRequests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class StorageUnavailable(PodpathError):
    """The workspace store cannot do this now (read-only, damaged, locked); reads that can be
    served still are."""

    status = 503
    reason = "ServiceUnavailable"


class InsufficientStorage(PodpathError):
    """The disk is full, or below the floor kept free for the workspaces that exist."""

    status = 507
    reason = "InsufficientStorage"


class StoreStartupError(Exception):
    """The store cannot be opened; the message is one line naming the path and the problem,
    printed by ``python -m app`` instead of a traceback."""
