"""``kubectl get`` tables of custom resources: the CRD's ``additionalPrinterColumns``.

The API server builds a custom resource's Table from its CRD (apiextensions-apiserver's
``tableconvertor``): NAME, then one cell per printer column, read with the column's JSONPath.
Only the first value found is shown (two Gateway addresses show as one), a missing value is
an empty cell, and a list or map printed as a string column is written as JSON
(``["shop.example.com"]``). ``date`` columns show as an age, as kubectl prints them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from app.cluster.validation.crd_schema import crd
from app.render import table_cells as cell
from app.render.table_layout import Column, GetTable

_STEP = re.compile(r'\.([A-Za-z0-9_]+)|\[\*\]|\[\?\(@\.([A-Za-z0-9_]+)=="([^"]*)"\)\]')


def find_first(obj: Any, json_path: str) -> Any:
    """The first value a printer column's JSONPath finds, or None.

    Parameters
    ----------
    obj : Any
        The object.
    json_path : str
        A path of ``.field``, ``[*]`` and ``[?(@.field=="value")]`` steps, the forms the
        Gateway API CRDs' printer columns use.

    Returns
    -------
    Any
        The first match, or None when nothing matches.

    Examples
    --------
    >>> gw = {"status": {"conditions": [{"type": "Accepted", "status": "True"},
    ...                                 {"type": "Programmed", "status": "False"}]}}
    >>> find_first(gw, '.status.conditions[?(@.type=="Programmed")].status')
    'False'
    >>> find_first(gw, ".status.addresses[*].value") is None
    True
    """
    found = [obj]
    for match in _STEP.finditer(json_path):
        field, key, wanted = match.groups()
        step: list[Any] = []
        for value in found:
            if field is not None:
                if isinstance(value, dict) and field in value:
                    step.append(value[field])
            elif isinstance(value, list):
                step.extend(
                    v
                    for v in value
                    if key is None or (isinstance(v, dict) and v.get(key) == wanted)
                )
        found = step
    return found[0] if found else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def crd_table(kind: str, objects: list[dict[str, Any]], now: float | None = None) -> GetTable:
    """The ``kubectl get`` table of a Gateway API kind, from its CRD's printer columns.

    Parameters
    ----------
    kind : str
        GatewayClass, Gateway, HTTPRoute, GRPCRoute or ReferenceGrant.
    objects : list of dict
        The objects, one row each.
    now : float, optional
        Seconds since 1970, for the AGE cells (``<unknown>`` without it).

    Returns
    -------
    GetTable
        NAME and the CRD's columns (priority 1 ones only with ``-o wide``).

    Examples
    --------
    >>> from app.render.table_layout import format_table
    >>> gw = {"metadata": {"name": "eg"}, "spec": {"gatewayClassName": "eg"},
    ...       "status": {"addresses": [{"type": "IPAddress", "value": "203.0.113.20"}],
    ...                  "conditions": [{"type": "Programmed", "status": "True"}]}}
    >>> print(format_table(crd_table("Gateway", [gw])))
    NAME   CLASS   ADDRESS        PROGRAMMED   AGE
    eg     eg      203.0.113.20   True         <unknown>
    >>> route = {"metadata": {"name": "web"}, "spec": {"hostnames": ["shop.example.com"]}}
    >>> print(format_table(crd_table("HTTPRoute", [route])))
    NAME   HOSTNAMES              AGE
    web    ["shop.example.com"]   <unknown>
    """
    printer_columns = crd(kind)["printerColumns"]
    columns = (
        Column("Name", format="name"),
        *(Column(c["name"], priority=c.get("priority", 0)) for c in printer_columns),
    )

    def cells(obj: dict[str, Any]) -> list[Any]:
        row: list[Any] = [cell.meta(obj).get("name", "")]
        for column in printer_columns:
            value = find_first(obj, column["jsonPath"])
            if column["type"] == "date":
                row.append(cell.since(value, now) if value else "<unknown>")
            else:
                row.append(_text(value))
        return row

    return GetTable(columns, [(obj, cells(obj)) for obj in objects])


__all__ = ["crd_table", "find_first"]
