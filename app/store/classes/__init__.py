"""Classes: an instructor's sandbox, the students' seats and the class's event log."""

from app.store.classes.base import ClassBackend, ClassEvent, ClassRow, NameTaken, Seat
from app.store.classes.following import FollowState
from app.store.classes.service import Classes, class_note

__all__ = [
    "ClassBackend", "ClassEvent", "ClassRow", "Classes", "FollowState", "NameTaken", "Seat",
    "class_note",
]  # fmt: skip
