"""The disk-space floor: below it new sandboxes are refused, existing ones keep working."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from app.errors import InsufficientStorage

MB = 1024 * 1024


def free_bytes(path: Path) -> int:
    """Free space of the disk holding ``path``, in bytes, for this process."""
    return shutil.disk_usage(path).free


class DiskFloor:
    """Refuse new sandboxes while the disk holding ``path`` has less than ``min_free_mb`` free.

    Parameters
    ----------
    path : Path
        The data folder (named in the message).
    min_free_mb : int
        The floor, in MB (0: no floor).
    probe : callable, optional
        Returns the free bytes of the disk holding a path; :func:`free_bytes` by default
        (tests give their own).

    Examples
    --------
    >>> floor = DiskFloor(Path("/data"), 200, probe=lambda path: 120 * MB)
    >>> floor.free_mb()
    120
    >>> floor.check()
    Traceback (most recent call last):
    ...
    app.errors.InsufficientStorage: the disk holding /data has 120 MB free, below the 200 MB \
kept for the sandboxes that exist: new sandboxes are refused until space is freed
    """

    def __init__(
        self, path: Path, min_free_mb: int, probe: Callable[[Path], int] = free_bytes
    ) -> None:
        self.path = Path(path)
        self.min_free_mb = min_free_mb
        self.probe = probe

    def free_mb(self) -> int | None:
        """The free space in whole MB, or None when it cannot be measured."""
        try:
            return self.probe(self.path) // MB
        except OSError:
            return None

    def problem(self) -> str | None:
        """Why new sandboxes are refused now, or None when they are not."""
        if not self.min_free_mb:
            return None
        free = self.free_mb()
        if free is None or free >= self.min_free_mb:
            return None
        return (
            f"the disk holding {self.path} has {free} MB free, below the {self.min_free_mb} MB "
            "kept for the sandboxes that exist: new sandboxes are refused until space is freed"
        )

    def check(self) -> None:
        """Do nothing while there is room for a new sandbox.

        Raises
        ------
        InsufficientStorage
            When the free space is below the floor.
        """
        problem = self.problem()
        if problem is not None:
            raise InsufficientStorage(problem)
