"""``ValidateConfigMap``: the name is a DNS-1123 subdomain, every key a config key
(k8s.io/apimachinery ``validation.IsConfigMapKey``), no key in both data and binaryData."""

from __future__ import annotations

import re

from app.cluster.names import regex_error
from app.cluster.validation import semantic_meta as fe
from app.cluster.validation.semantic_meta import obj, validate_metadata
from app.errors import FieldError

CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_KEY = re.compile(f"^{CONFIG_KEY_FMT}$")
MAX_KEY_LENGTH = 253


def config_key_errors(key: str) -> list[str]:
    """What is wrong with a ConfigMap key, as ``IsConfigMapKey`` says it.

    >>> config_key_errors("app.conf"), config_key_errors("..")
    ([], ["must not be '..'"])
    >>> config_key_errors("a b")[0].startswith("a valid config key must consist of")
    True
    """
    problems = []
    if len(key) > MAX_KEY_LENGTH:
        problems.append(f"must be no more than {MAX_KEY_LENGTH} characters")
    if not _CONFIG_KEY.match(key):
        problems.append(
            regex_error(
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                CONFIG_KEY_FMT,
                "key.name",
                "KEY_NAME",
                "key-name",
            )
        )
    if key == ".":
        problems.append("must not be '.'")
    elif key == "..":
        problems.append("must not be '..'")
    elif key.startswith(".."):
        problems.append("must not start with '..'")
    return problems


def validate_config_map(config_map: dict) -> list[FieldError]:
    """The rules of a ConfigMap that passed the schema check.

    >>> bad = {"metadata": {"name": "app"}, "data": {"a b": "1"}, "binaryData": {"x": "eA=="}}
    >>> [e.field for e in validate_config_map(bad)]
    ['data[a b]']
    >>> both = {"metadata": {"name": "app"}, "data": {"x": "1"}, "binaryData": {"x": "eA=="}}
    >>> validate_config_map(both)[0].message
    'Invalid value: "x": duplicate of key present in binaryData'
    """
    errs = validate_metadata(config_map.get("metadata"), "ConfigMap", True)
    data, binary = obj(config_map.get("data")), obj(config_map.get("binaryData"))
    for field, keys in (("data", data), ("binaryData", binary)):
        for key in keys:
            errs.extend(fe.invalid_each(f"{field}[{key}]", key, config_key_errors(key)))
    for key in data:
        if key in binary:
            errs.append(fe.invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
    return errs
