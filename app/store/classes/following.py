"""Where the teacher is, as each process keeps it: the newest step, trace, hop and starting
point of a class, brought up to date from the class's log."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from app.store.classes.base import ClassBackend, ClassEvent

#: The kinds :class:`FollowState` keeps, in its fields' order: what a student's page follows.
FOLLOWED = ("step", "trace", "hop", "state")
FOLLOW_KINDS = frozenset(FOLLOWED)
#: Events read at a time when bringing a class's follow state up to date.
FOLD_BATCH = 500


@dataclass(frozen=True)
class FollowState:
    """Where the teacher is: the newest step, trace, hop and starting-point events."""

    step: ClassEvent | None
    trace: ClassEvent | None
    hop: ClassEvent | None
    state: ClassEvent | None

    @property
    def hop_index(self) -> int:
        """The hop of the current trace the teacher is on (0 before they step)."""
        if self.hop is None or self.trace is None or self.hop.data.get("trace") != self.trace.seq:
            return 0
        return int(self.hop.data.get("hop", 0))


class FollowStates:
    """Each class's newest event seq and follow state, kept by this process."""

    def __init__(self, backend: ClassBackend) -> None:
        self.backend = backend
        self._states: dict[str, tuple[int, FollowState]] = {}
        self._guard = threading.Lock()
        self._heard: dict[str, int] = {}  # appends heard of, per class
        #: Per class, what was heard when its state was last read: (hearing, appends heard).
        self._read_when: dict[str, tuple[int, int]] = {}
        backend.on_event(self._hear)

    def _hear(self, class_id: str) -> None:
        with self._guard:
            self._heard[class_id] = self._heard.get(class_id, 0) + 1

    def followed(self, class_id: str, *, may_skip_read: bool = False) -> tuple[int, FollowState]:
        """The sequence number of the class's newest event, and where the teacher is.

        Every page of a student asks, so this process keeps both per class and brings them up
        to date with the events added since (one short read): the log only grows, in
        sequence order, whichever process or machine adds to it.

        ``may_skip_read``: for a page that only shows where the teacher is (its event stream
        brings what comes next). When the backend hears every append by any process and none
        was heard of since the last read, the kept answer is given without reading the log.
        One just committed elsewhere may not be heard of yet: a step a moment old.
        """
        hearing = self.backend.hearing()
        with self._guard:
            known = self._states.get(class_id)
            heard = self._heard.get(class_id, 0)
            if (
                may_skip_read
                and known is not None
                and hearing is not None
                and self._read_when.get(class_id) == (hearing, heard)
            ):
                return known
        if known is None:
            seq = self.backend.last_seq(class_id)
            last = self.backend.last_event
            state = FollowState(*(last(class_id, kind) for kind in FOLLOWED))
        else:
            seq, state = known
        while True:  # events added since (read again if added during the lines above)
            found = self.backend.events_after(class_id, seq, FOLD_BATCH)
            newest = {e.kind: e for e in found if e.target is None and e.kind in FOLLOW_KINDS}
            if newest:
                state = replace(state, **newest)
            if found:
                seq = found[-1].seq
            if len(found) < FOLD_BATCH:
                break
        with self._guard:
            kept = self._states.get(class_id)
            if kept is None or kept[0] < seq:
                self._states[class_id] = (seq, state)
            if hearing is not None:  # what was heard before this read is in it
                self._read_when[class_id] = (hearing, heard)
        return seq, state
