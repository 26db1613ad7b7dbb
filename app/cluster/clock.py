"""The time a cluster's changes happen at, as the API server stamps it.

The engine reads no clock (DESIGN.md: the domain is pure and deterministic). A
:class:`~app.cluster.state.ClusterState` carries ``now``, the seconds since 1970 that the
change being made happens at; whoever runs the change sets it (the workspace store, from its
clock, before each change; the web layer when it builds a new cluster). The state stamps it as
``metadata.creationTimestamp`` on each object it creates, and nowhere else: an update keeps
the object's first stamp, as the API server does. ``now`` is not saved and is no part of what
tells whether a change changed anything, so a change that creates nothing stays a no-op.

Tests and doctests that set no time get :data:`DEFAULT_NOW`, one fixed instant, so their
outputs stay the same from run to run.
"""

from __future__ import annotations

from typing import Any

#: 2026-01-01T00:00:00Z: the time of a cluster that was given none.
DEFAULT_NOW = 1_767_225_600


def rfc3339(seconds: float) -> str:
    """Seconds since 1970 as the API server writes a ``metav1.Time``: RFC 3339 in UTC, to the
    second (the fraction is dropped, as the API server's JSON drops it).

    >>> rfc3339(DEFAULT_NOW)
    '2026-01-01T00:00:00Z'
    >>> rfc3339(1_796_563_500.9), rfc3339(0), rfc3339(951_782_400)
    ('2026-12-06T13:25:00Z', '1970-01-01T00:00:00Z', '2000-02-29T00:00:00Z')
    """
    whole = int(seconds // 1)
    days, rest = divmod(whole, 86400)
    hour, rest = divmod(rest, 3600)
    minute, second = divmod(rest, 60)
    # The civil date of a day count (Howard Hinnant's algorithm), so no clock module is needed.
    days += 719468
    era = days // 146097
    day_of_era = days - era * 146097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36524 - day_of_era // 146096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_index + 2) // 5 + 1
    month = month_index + 3 if month_index < 10 else month_index - 9
    year = year_of_era + era * 400 + (month <= 2)
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"


def stamp(meta: dict[str, Any], old: dict[str, Any] | None, now: float) -> None:
    """Set an object's ``creationTimestamp`` in ``meta`` as the API server does when it stores
    it: a new object (no ``old`` metadata) is created ``now``, whatever the client sent; a
    changed one keeps the time it was created at. An object saved before Podpath kept times
    has none, and keeps having none (kubectl shows its AGE as ``<unknown>``).

    >>> meta = {"name": "web", "creationTimestamp": "1999-01-01T00:00:00Z"}
    >>> stamp(meta, None, DEFAULT_NOW)
    >>> meta["creationTimestamp"]
    '2026-01-01T00:00:00Z'
    >>> stamp(meta, {"creationTimestamp": "2026-12-06T13:25:00Z"}, DEFAULT_NOW + 60)
    >>> meta["creationTimestamp"]
    '2026-12-06T13:25:00Z'
    >>> stamp(meta, {"name": "saved-before-times-were-kept"}, DEFAULT_NOW)
    >>> "creationTimestamp" in meta
    False
    """
    if old is None:
        meta["creationTimestamp"] = rfc3339(now)
    elif old.get("creationTimestamp"):
        meta["creationTimestamp"] = old["creationTimestamp"]
    else:
        meta.pop("creationTimestamp", None)
