"""A Service's IP families, defaulted and checked as the API server's allocator does.

kubernetes ``pkg/registry/core/service/storage/alloc.go`` ``initIPFamilyFields`` runs before
any ClusterIP is allocated, on create and update:

- ``ipFamilyPolicy`` left out: the old object's on update; ``RequireDualStack`` for a headless
  Service without a selector; else ``SingleStack``.
- ``ipFamilies`` left out: the families of the given ``clusterIPs``, else the cluster's primary
  family; a policy other than SingleStack on a dual-stack cluster adds the other family.
- Refused: RequireDualStack on a single-stack cluster, a family the cluster has no range for,
  two families or addresses with SingleStack, and (on update) dropping the secondary address
  without saying SingleStack.
"""

from __future__ import annotations

from typing import Any

from app.cluster.families import IPV4, IPV6, family_of, other
from app.cluster.validation.semantic_meta import invalid
from app.errors import FieldError


def _invalid(path: str, value: Any, message: str) -> FieldError:
    return invalid(path, value, message)


def init_ip_families(
    spec: dict[str, Any], live_spec: dict[str, Any] | None, cluster: tuple[str, ...]
) -> list[FieldError]:
    """Default ``spec.ipFamilyPolicy`` and ``spec.ipFamilies`` in place, or say why not.

    Parameters
    ----------
    spec : dict
        The Service's spec (``clusterIP``/``clusterIPs`` already carried over on update).
    live_spec : dict or None
        The stored Service's spec on update; None on create.
    cluster : tuple of str
        The cluster's families, primary first (:func:`app.cluster.families.of`).

    Returns
    -------
    list of FieldError
        Empty when the Service may be allocated; the API server's errors otherwise.

    Examples
    --------
    >>> spec = {"ipFamilyPolicy": "PreferDualStack"}
    >>> init_ip_families(spec, None, ("IPv4", "IPv6")), spec["ipFamilies"]
    ([], ['IPv4', 'IPv6'])
    >>> spec = {"ipFamilyPolicy": "PreferDualStack"}
    >>> init_ip_families(spec, None, ("IPv4",)), spec["ipFamilies"]
    ([], ['IPv4'])
    >>> [e.describe() for e in init_ip_families({"ipFamilies": ["IPv6"]}, None, ("IPv4",))]
    ['spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster']
    """
    if spec.get("type") == "ExternalName":
        spec.pop("ipFamilies", None)
        spec.pop("ipFamilyPolicy", None)
        return []
    live_spec = live_spec or None
    headless_selectorless = spec.get("clusterIP") == "None" and not spec.get("selector")
    if not spec.get("ipFamilyPolicy"):
        if live_spec and live_spec.get("ipFamilyPolicy"):
            spec["ipFamilyPolicy"] = live_spec["ipFamilyPolicy"]
        elif headless_selectorless:
            spec["ipFamilyPolicy"] = "RequireDualStack"
        else:
            spec["ipFamilyPolicy"] = "SingleStack"
    policy = spec["ipFamilyPolicy"]
    ips = [
        ip
        for ip in spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    ]
    families = list(spec.get("ipFamilies") or ())
    errors: list[FieldError] = []
    if live_spec:
        errors += _update_rules(spec, live_spec, policy, ips, families)
        ips = list(spec.get("clusterIPs") or ips)
        families = list(spec.get("ipFamilies") or families)
    if policy == "SingleStack":
        if len(ips) == 2:
            errors.append(
                _invalid(
                    "spec.ipFamilyPolicy",
                    policy,
                    "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs "
                    "are specified",
                )
            )
        if len(families) == 2:
            errors.append(
                _invalid(
                    "spec.ipFamilyPolicy",
                    policy,
                    "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families "
                    "are specified",
                )
            )
    for i, ip in enumerate(ips):
        if ip == "None":
            break
        if i >= len(families):
            family = family_of(ip)
            if family in cluster:
                families.append(family)
            else:
                errors.append(
                    _invalid(
                        f"spec.clusterIPs[{i}]", ips, f"{family} is not configured on this cluster"
                    )
                )
    if errors:
        return errors
    if headless_selectorless:
        families = families or [cluster[0]]
        if len(families) < 2 and policy != "SingleStack":
            families.append(other(families[0]))
        spec["ipFamilies"] = families
        return []
    if policy == "RequireDualStack" and len(cluster) < 2:
        errors.append(
            _invalid(
                "spec.ipFamilyPolicy",
                policy,
                "this cluster is not configured for dual-stack services",
            )
        )
    for i, family in enumerate(families):
        if family in (IPV4, IPV6) and family not in cluster:
            errors.append(
                _invalid(f"spec.ipFamilies[{i}]", family, "not configured on this cluster")
            )
    if errors:
        return errors
    families = families or [cluster[0]]
    if policy != "SingleStack" and len(families) == 1 and len(cluster) == 2:
        families.append(other(families[0]))
    spec["ipFamilies"] = families
    return []


def _update_rules(
    spec: dict[str, Any], live_spec: dict[str, Any], policy: str, ips: list[str], families: list
) -> list[FieldError]:
    """The update-only part: SingleStack drops an unchanged secondary address and family;
    any other policy may not drop them."""
    old_ips = list(live_spec.get("clusterIPs") or ())
    old_families = list(live_spec.get("ipFamilies") or ())
    if policy == "SingleStack":
        if ips == old_ips and len(ips) > 1:
            spec["clusterIPs"] = ips[:1]
        if families == old_families and len(families) > 1:
            spec["ipFamilies"] = families[:1]
        return []
    errors = []
    if old_ips[:1] != ["None"] and 0 < len(ips) < len(old_ips):
        errors.append(
            _invalid(
                "spec.ipFamilyPolicy",
                policy,
                "must be 'SingleStack' to release the secondary cluster IP",
            )
        )
    if 0 < len(families) < len(old_families):
        errors.append(
            _invalid(
                "spec.ipFamilyPolicy",
                policy,
                "must be 'SingleStack' to release the secondary IP family",
            )
        )
    return errors


__all__ = ["init_ip_families"]
