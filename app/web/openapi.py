"""What the JSON API's OpenAPI description says beyond what FastAPI infers from the routes.

* **Errors**: every failure answers with one body, :class:`ApiError` (``status``, ``reason``,
  ``message`` and the ``errors`` naming each field at fault). :func:`failures` declares it
  for the statuses an operation can answer, each with what it means here, and ``Retry-After``
  on 429. The sets by kind of operation are :data:`CATALOG`, :data:`READ`, :data:`QUERY`,
  :data:`CHANGE`, :data:`CREATE` and :data:`COPY`.
* **Success bodies**: the models in :mod:`app.web.api_bodies` are the shapes the routes
  answer with, declared with :func:`ok` (documentation only).
* **Enums and limits** the server checks with its own Kubernetes-style messages are stated
  with :func:`enum` and :func:`limits`, which only add to the schema, so the check and its
  message stay where they are.

``tests/api/test_openapi_contract.py`` runs schemathesis against the description: every
answer must be a status declared here, in a declared content type, matching its schema.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from app.settings import Settings

#: A lowercase RFC 1123 subdomain, the rule for node names (``names.dns1123_subdomain``).
DNS1123_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS1123_SUBDOMAIN_MAX = 253

#: The request body limit of a server with default settings (``PODPATH_MAX_BODY_BYTES``).
DEFAULT_MAX_BODY_BYTES = Settings.max_body_bytes
#: Worker nodes a workspace may have on a server with default settings (``PODPATH_MAX_WORKERS``).
DEFAULT_MAX_WORKERS = Settings.max_workers


def enum(values: Any, **more: Any) -> dict[str, Any]:
    """``json_schema_extra`` stating the values a field takes, for a field the server checks
    itself (so its own message, in the API server's words, is the one a client gets).

    >>> enum(("a", "b"))
    {'json_schema_extra': {'enum': ['a', 'b']}}
    """
    return {"json_schema_extra": {"enum": list(values), **more}}


def limits(**schema: Any) -> dict[str, Any]:
    """``json_schema_extra`` stating limits (``minimum``, ``maxLength``, ``pattern`` ...) the
    server enforces itself.

    >>> limits(minimum=0)
    {'json_schema_extra': {'minimum': 0}}
    """
    return {"json_schema_extra": schema}


def _whole(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: An integer as JSON Schema means one: ``3`` or ``3.0``, but not ``"3"``, ``3.5`` or ``true``
#: (for the fields of a model with ``strict=True``, which refuses the rest).
WholeNumber = Annotated[int, BeforeValidator(_whole)]


# --- errors ---------------------------------------------------------------------------------


class ApiFieldError(BaseModel):
    """One broken rule in one field of one object (a Kubernetes StatusCause, located)."""

    field: str = Field(
        description="The field path as the API server prints it, e.g. `spec.ports[0].port`; "
        "empty when the whole document is at fault."
    )
    message: str = Field(description="What is wrong, in words a learner can act on.")
    reason: str = Field(
        description="The Kubernetes cause type: FieldValueInvalid, FieldValueRequired, "
        "FieldValueNotSupported, FieldValueDuplicate, FieldValueTooLong, SyntaxError ..."
    )
    document: int | None = Field(description="The 1-based document in the applied text.")
    kind: str | None
    name: str | None
    namespace: str | None
    line: int | None = Field(description="The 1-based line of the field, when known.")


class ApiError(BaseModel):
    """What every failure answers with (a Kubernetes Status, with the fields at fault)."""

    status: int = Field(description="The HTTP status, repeated.", ge=400, le=599)
    reason: str = Field(description="NotFound, Invalid, Conflict, Forbidden, TooManyRequests ...")
    message: str = Field(description="One sentence saying what happened.")
    errors: list[ApiFieldError] = Field(description="Every field at fault; often empty.")


#: What each status means in this API.
MEANINGS: dict[int, str] = {
    400: "The body cannot be read (not UTF-8, not YAML or JSON Podpath can parse), or the "
    "Host header names a host this server does not answer to (PODPATH_ALLOWED_HOSTS).",
    403: "Refused by policy: a workspace quota (pods, Services, objects, worker nodes), a "
    "protected object, or a change sent from another site (Sec-Fetch-Site / Origin; "
    "PODPATH_ALLOWED_ORIGINS). Nothing was changed.",
    404: "No such workspace, or no such object, node, lesson or resource type in it.",
    409: "The change collides with the current state (a taken name, port or address; "
    "nothing to undo or redo; too many changes at once). Nothing was changed.",
    413: "The body is over the server's limit (PODPATH_MAX_BODY_BYTES, "
    f"{DEFAULT_MAX_BODY_BYTES} bytes by default).",
    415: "A change sent as text/plain, application/x-www-form-urlencoded or "
    "multipart/form-data: the API takes application/json or application/yaml.",
    422: "The request or the objects in it break a rule; `errors` lists every one, each "
    "naming its field. Nothing was changed.",
    429: "A rate limit was reached (new workspaces per hour, or seconds of server work per "
    "minute, per browser and per address); `Retry-After` says in how many seconds to try "
    "again, the message which limit.",
    503: "The workspace store cannot do this now (read-only, damaged or locked).",
    507: "The disk is full, or below the free space kept for the workspaces that exist "
    "(PODPATH_MIN_FREE_MB): new workspaces are refused, existing ones keep working where "
    "they can.",
}

RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}


def failures(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses`` declaring :class:`ApiError` for each of ``statuses``.

    >>> sorted(failures(404, 429))
    [404, 429]
    >>> failures(429)[429]["headers"]["Retry-After"]["required"]
    True
    """
    declared: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ApiError, "description": MEANINGS[status]}
        if status == 429:
            entry["headers"] = RETRY_AFTER
        declared[status] = entry
    return declared


#: The catalogs (scenarios, lessons): only a Host the server does not answer to fails.
CATALOG = failures(400)
#: Reading a workspace.
READ = failures(400, 404, 422, 503)
#: A POST that computes from a workspace without changing it (trace, traffic): limited like
#: a change.
QUERY = failures(400, 403, 404, 413, 415, 422, 429, 503)
#: Changing a workspace.
CHANGE = failures(400, 403, 404, 409, 413, 415, 422, 429, 503, 507)
#: Making a new workspace.
CREATE = failures(400, 403, 413, 415, 422, 429, 503, 507)
#: Copying a workspace.
COPY = failures(400, 403, 404, 413, 415, 429, 503, 507)

LOCATION = {
    "Location": {
        "description": "The new workspace's URL in this API.",
        "required": True,
        "schema": {"type": "string"},
    }
}


def ok(model: type[BaseModel] | Any, description: str, **more: Any) -> dict[str, Any]:
    """A success response declaring ``model`` (documentation only)."""
    return {"model": model, "description": description, **more}


#: A manifest as ``kubectl apply`` takes it: one object, or a ``List`` of them.
MANIFEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind"],
    "properties": {
        "apiVersion": {"type": "string", "examples": ["v1", "apps/v1"]},
        "kind": {"type": "string", "description": "A kind Podpath models, or List."},
        "metadata": {"type": "object"},
        "items": {"type": "array", "items": {"type": "object"}, "description": "In a List."},
    },
}
