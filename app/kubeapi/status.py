"""``Status`` objects: how the API server answers an error, and so what kubectl prints.

kubectl prints ``Error from server (<reason>): <message>`` for most of them, and for an
Invalid one ``The <Kind> "<name>" is invalid: <field>: <message>`` built from
``details.kind``, ``details.name`` and ``details.causes`` (apimachinery ``errors.NewInvalid``,
kubectl ``cmdutil.CheckErr``). The messages here follow apimachinery's ``errors`` package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.errors import UNKNOWN_FIELD, FieldError, PodpathError, invalid_message
from app.kubeapi.resources import Resource

# What the API server calls the errors Podpath raises, where the names differ.
_REASONS = {"BadRequest": "BadRequest", "Invalid": "Invalid", "Conflict": "Conflict"}


@dataclass
class ApiError(Exception):
    """An error to answer with a ``Status``: ``code`` is the HTTP status."""

    code: int
    reason: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def status(self) -> dict[str, Any]:
        """The ``Status`` object.

        >>> not_found(_pods(), "web").status()["message"]
        'pods "web" not found'
        """
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _pods() -> Resource:
    from app.kubeapi.resources import by_kind

    resource = by_kind("Pod")
    assert resource is not None
    return resource


def qualified_resource(resource: Resource) -> str:
    """``pods``, ``deployments.apps``: how messages name a resource."""
    return f"{resource.plural}.{resource.group}" if resource.group else resource.plural


def _details(resource: Resource, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": resource.plural}
    if resource.group:
        details["group"] = resource.group
    return details


def not_found(resource: Resource, name: str) -> ApiError:
    """404 NotFound: ``deployments.apps "web" not found``.

    >>> from app.kubeapi.resources import by_kind
    >>> not_found(by_kind("Deployment"), "web").message
    'deployments.apps "web" not found'
    """
    message = f'{qualified_resource(resource)} "{name}" not found'
    return ApiError(404, "NotFound", message, _details(resource, name))


def already_exists(resource: Resource, name: str) -> ApiError:
    """409 AlreadyExists: ``services "web" already exists``."""
    message = f'{qualified_resource(resource)} "{name}" already exists'
    return ApiError(409, "AlreadyExists", message, _details(resource, name))


def conflict(resource: Resource, name: str) -> ApiError:
    """409 Conflict: the object changed since the client read it (resourceVersion)."""
    message = (
        f'Operation cannot be fulfilled on {qualified_resource(resource)} "{name}": the object '
        "has been modified; please apply your changes to the latest version and try again"
    )
    return ApiError(409, "Conflict", message, _details(resource, name))


def method_not_allowed() -> ApiError:
    return ApiError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


def no_such_path() -> ApiError:
    """404 for a path that names no resource (kubectl then says the type is unknown)."""
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def invalid(resource: Resource, name: str, errors: list[FieldError]) -> ApiError:
    """422 Invalid, with one cause per broken field.

    >>> from app.kubeapi.resources import by_kind
    >>> problem = FieldError("spec.ports[0].port",
    ...     "Invalid value: 70000: must be between 1 and 65535, inclusive")
    >>> error = invalid(by_kind("Service"), "web", [problem])
    >>> error.message
    'Service "web" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive'
    >>> error.details["causes"][0]["reason"]
    'FieldValueInvalid'
    """
    kind = f"{resource.kind}.{resource.group}" if resource.group else resource.kind
    details: dict[str, Any] = {"name": name, "kind": resource.kind}
    if resource.group:
        details["group"] = resource.group
    details["causes"] = [
        {"reason": e.reason, "message": e.message, "field": e.field} for e in errors
    ]
    return ApiError(422, "Invalid", invalid_message(kind, name, errors), details)


def strict_decoding(resource: Resource, fields: list[str]) -> ApiError:
    """400 BadRequest for fields the kind does not have (kubectl asks for strict field
    validation, ``fieldValidation=Strict``).

    >>> from app.kubeapi.resources import by_kind
    >>> strict_decoding(by_kind("Pod"), ["spec.foo"]).message
    'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo"'
    """
    listed = ", ".join(f'unknown field "{f}"' for f in fields)
    return bad_request(
        f'{resource.kind} in version "{resource.version}" cannot be handled as a '
        f"{resource.kind}: strict decoding error: {listed}"
    )


def from_podpath(error: PodpathError, resource: Resource | None, name: str) -> ApiError:
    """The Status of an error the cluster model raised.

    >>> from app.errors import Forbidden
    >>> from_podpath(Forbidden("quota"), None, "x").code
    403
    """
    unknown = [e for e in error.errors if e.reason == UNKNOWN_FIELD]
    if resource is not None and unknown and len(unknown) == len(error.errors):
        return strict_decoding(resource, [e.field for e in unknown])
    if error.status == 422 and resource is not None:
        return invalid(resource, name, error.errors or [FieldError("", error.message)])
    reason = _REASONS.get(error.reason, error.reason)
    return ApiError(error.status, reason, error.message)


__all__ = [
    "ApiError",
    "already_exists",
    "bad_request",
    "conflict",
    "from_podpath",
    "invalid",
    "method_not_allowed",
    "no_such_path",
    "not_found",
]
