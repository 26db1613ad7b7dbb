"""Join codes and display names.

A join code is six characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown
as ``ABC-DEF`` on the projector and accepted however it is typed: lower case, with or without
the dash or spaces. 30 letters and digits to the sixth power is about 729 million codes.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from app.errors import REQUIRED, TOO_LONG, FieldError, InvalidObjects

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ2345679"
LENGTH = 6
NAME_MAX = 40


def new_code(pick: Callable[[int], int]) -> str:
    """A fresh join code, each character chosen by ``pick(n)`` (a number below ``n``).

    >>> new_code(lambda n: 0)
    'AAAAAA'
    """
    return "".join(ALPHABET[pick(len(ALPHABET))] for _ in range(LENGTH))


def normalise(typed: str) -> str | None:
    """The code a student meant, or None when it cannot be one.

    >>> normalise(" abc-dEf "), normalise("abc def"), normalise("ab"), normalise("ABCDE0")
    ('ABCDEF', 'ABCDEF', None, None)
    """
    code = "".join(ch for ch in typed.upper() if ch not in " -")
    if len(code) != LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    return code


def shown(code: str) -> str:
    """The code as projected: ``ABC-DEF``.

    >>> shown("ABCDEF")
    'ABC-DEF'
    """
    return f"{code[:3]}-{code[3:]}"


def display_name(typed: str) -> str:
    """A student's display name, trimmed, with runs of spaces made one.

    Raises
    ------
    InvalidObjects
        When it is empty, longer than 40 characters, or holds control characters.

    Examples
    --------
    >>> display_name("  Ana   María ")
    'Ana María'
    >>> display_name("")
    Traceback (most recent call last):
    ...
    app.errors.InvalidObjects: name: Required value: type the name the class will know you by
    """
    name = " ".join(unicodedata.normalize("NFC", typed).split())
    problem = None
    if not name:
        problem = FieldError(
            "name", "Required value: type the name the class will know you by", REQUIRED
        )
    elif len(name) > NAME_MAX:
        problem = FieldError(
            "name", f"Too long: may not be more than {NAME_MAX} characters", TOO_LONG
        )
    elif any(unicodedata.category(ch).startswith("C") for ch in name):
        problem = FieldError(
            "name", "Invalid value: may hold letters, digits, spaces and punctuation only"
        )
    if problem is not None:
        raise InvalidObjects(problem.describe(), [problem])
    return name


def hint_text(text: str) -> str:
    """A hint as an instructor sends it: trimmed, 1 to 500 characters.

    Raises
    ------
    InvalidObjects
        When it is empty or too long, naming the field ``hint``.

    >>> hint_text("  Look at the selector  ")
    'Look at the selector'
    """
    message = text.strip()
    if not message:
        problem = FieldError("hint", "Required value: type the hint to send", REQUIRED)
    elif len(message) > 500:
        problem = FieldError("hint", "Too long: may not be more than 500 characters", TOO_LONG)
    else:
        return message
    raise InvalidObjects(problem.describe(), [problem])
