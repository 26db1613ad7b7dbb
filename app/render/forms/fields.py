"""Reading a Build form's fields: each is a string as the browser sent it, and what a form
cannot say in YAML terms (``app=web`` is not a label list, ``eighty`` is not a port number)
is noted as a :class:`Problems` entry, all reported together like ``apply`` reports its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.cluster.objects import API_VERSIONS
from app.errors import FieldError, InvalidObjects, invalid_message, qualified_kind

Fields = Mapping[str, str]


def field_text(fields: Fields, key: str, default: str = "") -> str:
    return (fields.get(key) or "").strip() or default


class Problems:
    """Errors found while reading the form, reported together like apply reports its own."""

    def __init__(self, kind: str, fields: Fields) -> None:
        self.kind = kind
        self.name = field_text(fields, "name") or None
        self.namespace = field_text(fields, "namespace", "default")
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append(
            FieldError(field, message, kind=self.kind, name=self.name, namespace=self.namespace)
        )

    def raise_any(self) -> None:
        if self.errors:
            qualified = qualified_kind(self.kind, API_VERSIONS.get(self.kind))
            if self.name:  # the API server's wording (apimachinery NewInvalid)
                raise InvalidObjects(
                    invalid_message(qualified, self.name, self.errors), self.errors
                )
            raise InvalidObjects(f"{qualified} is invalid", self.errors)


def parse_labels(text: str, field: str = "metadata.labels") -> dict[str, str]:
    """``app=web,tier=front`` as a label map (commas or spaces between pairs).

    Keys and values are checked by the API's own rules when the manifest is applied; here
    only the shape is: each pair is ``key=value``, and no key twice.

    Raises
    ------
    InvalidObjects
        When a pair has no ``=``, an empty key, or a key given twice (422).

    Examples
    --------
    >>> parse_labels("app=web, tier=front")
    {'app': 'web', 'tier': 'front'}
    >>> parse_labels("")
    {}
    >>> parse_labels("app")
    Traceback (most recent call last):
    ...
    app.errors.InvalidObjects: labels are written key=value
    """
    labels: dict[str, str] = {}
    errors: list[FieldError] = []
    for pair in re.split(r"[,\s]+", text.strip()):
        if not pair:
            continue
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            errors.append(
                FieldError(
                    field,
                    f'Invalid value: "{pair}": write each label as key=value, separated by '
                    "commas (app=web,tier=front)",
                )
            )
        elif key in labels:
            errors.append(
                FieldError(
                    field,
                    f'Duplicate value: "{key}": a key may appear only once',
                    "FieldValueDuplicate",
                )
            )
        else:
            labels[key] = value
    if errors:
        raise InvalidObjects("labels are written key=value", errors)
    return labels


def field_labels(problems: Problems, fields: Fields, key: str, path: str) -> dict[str, str]:
    try:
        return parse_labels(field_text(fields, key), path)
    except InvalidObjects as error:
        for e in error.errors:
            problems.add(e.field, e.message)
        return {}


def field_int(problems: Problems, fields: Fields, key: str, path: str) -> int | None:
    """The field as a whole number, None when empty (a problem noted when not a number)."""
    text = field_text(fields, key)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        problems.add(path, f'Invalid value: "{text}": must be a whole number')
        return None


def port_ref(text: str) -> int | str:
    """A targetPort or backend port: a number, or the name of a container port."""
    return int(text) if text.isdigit() else text


def object_meta(fields: Fields, labels: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": field_text(fields, "name"),
        "namespace": field_text(fields, "namespace", "default"),
    }
    if labels:
        metadata["labels"] = labels
    return metadata
