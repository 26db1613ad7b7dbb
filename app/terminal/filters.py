"""The text filters a pipe can end in: ``grep``, ``head``, ``tail``, ``wc``, ``sort``, ``uniq``.

Each takes the text the command before it printed and its own words, and returns what it
prints and its exit status, as busybox's and GNU's tools do for the options listed here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Result = tuple[str, int]


def _lines(text: str) -> list[str]:
    return text.splitlines()


def _joined(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def grep(args: list[str], text: str) -> Result:
    """``grep [-i] [-v] [-c] [-n] [-w] [-E|-F] [-A|-B|-C N] [-e] PATTERN``: exit 1 when
    nothing matched.

    >>> grep(["-i", "web"], "NAME\\nweb-1\\nWEB-2\\nclient\\n")
    ('web-1\\nWEB-2\\n', 0)
    >>> grep(["-c", "web"], "web\\nweb\\nx\\n")
    ('2\\n', 0)
    >>> grep(["-A1", "b"], "a\\nb\\nc\\nd\\nb\\n")
    ('b\\nc\\n--\\nb\\n', 0)
    >>> grep(["nothing"], "web\\n")
    ('', 1)
    """
    flags, patterns, fixed, invert, count, numbers, word = 0, [], False, False, False, False, False
    after = before = 0
    words = iter(args)
    for arg in words:
        context = re.match(r"^-([ABC])(\d*)$", arg)
        if arg == "--":  # the end of the options: what follows is a pattern
            patterns.extend(words)
        elif context and not patterns:
            value = context.group(2) or next(words, "")
            if not value.isdigit():
                return f"grep: {value}: invalid context length argument\n", 2
            if context.group(1) in "AC":
                after = int(value)
            if context.group(1) in "BC":
                before = int(value)
        elif arg == "-e":
            patterns.append(next(words, ""))
        elif arg.startswith("-") and len(arg) > 1 and not patterns:
            for letter in arg[1:]:
                if letter == "i":
                    flags |= re.IGNORECASE
                elif letter == "v":
                    invert = True
                elif letter == "c":
                    count = True
                elif letter == "n":
                    numbers = True
                elif letter == "w":
                    word = True
                elif letter == "F":
                    fixed = True
                elif letter != "E":
                    return f"grep: invalid option -- '{letter}'\n", 2
        else:
            patterns.append(arg)
    if not patterns:
        return "Usage: grep [OPTION]... PATTERNS [FILE]...\n", 2
    sources = [re.escape(p) if fixed else _basic_to_python(p) for p in patterns]
    if word:
        sources = [rf"\b(?:{s})\b" for s in sources]
    try:
        regex = re.compile("|".join(f"(?:{s})" for s in sources), flags)
    except re.error:
        return "grep: Unmatched ( or \\(\n", 2
    lines = _lines(text)
    hits = [n for n, line in enumerate(lines) if bool(regex.search(line)) != invert]
    if count:
        return f"{len(hits)}\n", 0 if hits else 1
    # -A/-B/-C: the lines around each match too, groups apart separated by "--" as grep does.
    keep = sorted(
        {i for n in hits for i in range(n - before, n + after + 1) if 0 <= i < len(lines)}
    )
    shown: list[str] = []
    for position, i in enumerate(keep):
        if (after or before) and position and i != keep[position - 1] + 1:
            shown.append("--")
        shown.append(f"{i + 1}:{lines[i]}" if numbers else lines[i])
    return _joined(shown), 0 if hits else 1


def _basic_to_python(pattern: str) -> str:
    """grep's patterns as Python reads them: ``\\|`` is alternation in both BRE and here."""
    return pattern.replace("\\|", "|")


def _count_option(args: list[str], name: str) -> tuple[int, bool, str | None]:
    """``-n N``, ``-nN``, ``-N``, ``-n +N`` (tail: from line N): (count, from_start, error)."""
    count, from_start = 10, False
    words = iter(args)
    for arg in words:
        value = None
        if arg == "-n":
            value = next(words, "")
        elif arg.startswith("-n"):
            value = arg[2:]
        elif arg.startswith("-") and arg[1:].isdigit():
            value = arg[1:]
        else:
            return 0, False, f"{name}: cannot open '{arg}' for reading: No such file or directory\n"
        if value.startswith("+"):
            from_start, value = True, value[1:]
        if not value.isdigit():
            return 0, False, f"{name}: invalid number of lines: '{value}'\n"
        count = int(value)
    return count, from_start, None


def head(args: list[str], text: str) -> Result:
    """``head [-n N]``: the first N lines (10).

    >>> head(["-n", "1"], "a\\nb\\n")
    ('a\\n', 0)
    """
    count, _, error = _count_option(args, "head")
    if error:
        return error, 1
    return _joined(_lines(text)[:count]), 0


def tail(args: list[str], text: str) -> Result:
    """``tail [-n N | -n +N]``: the last N lines, or from line N on.

    >>> tail(["-n", "+2"], "NAME\\nweb\\nclient\\n")
    ('web\\nclient\\n', 0)
    >>> tail(["-1"], "a\\nb\\n")
    ('b\\n', 0)
    """
    count, from_start, error = _count_option(args, "tail")
    if error:
        return error, 1
    lines = _lines(text)
    if from_start:
        return _joined(lines[max(count - 1, 0) :]), 0
    return _joined(lines[-count:] if count else []), 0


def wc(args: list[str], text: str) -> Result:
    """``wc -l`` (lines), ``-w`` (words), ``-c`` (bytes); with no option all three.

    >>> wc(["-l"], "a\\nb\\n")
    ('2\\n', 0)
    """
    lines, words, size = text.count("\n"), len(text.split()), len(text.encode())
    if args == ["-l"]:
        return f"{lines}\n", 0
    if args == ["-w"]:
        return f"{words}\n", 0
    if args == ["-c"]:
        return f"{size}\n", 0
    return f"{lines:7d}{words:8d}{size:8d}\n", 0


def sort(args: list[str], text: str) -> Result:
    """``sort [-r] [-u] [-n]``.

    >>> sort(["-r"], "a\\nc\\nb\\n")
    ('c\\nb\\na\\n', 0)
    """
    lines = _lines(text)
    if "-u" in args:
        lines = list(dict.fromkeys(lines))
    if "-n" in args:

        def number(line: str) -> float:
            match = re.match(r"\s*(-?\d+(\.\d+)?)", line)
            return float(match.group(1)) if match else 0.0

        lines.sort(key=number)
    else:
        lines.sort()
    if "-r" in args:
        lines.reverse()
    return _joined(lines), 0


def uniq(args: list[str], text: str) -> Result:
    """``uniq [-c]``: adjacent repeats folded.

    >>> uniq(["-c"], "a\\na\\nb\\n")
    ('      2 a\\n      1 b\\n', 0)
    """
    groups: list[list[str]] = []
    for line in _lines(text):
        if groups and groups[-1][0] == line:
            groups[-1].append(line)
        else:
            groups.append([line])
    if "-c" in args:
        return _joined([f"{len(g):7d} {g[0]}" for g in groups]), 0
    return _joined([g[0] for g in groups]), 0


FILTERS: dict[str, Callable[[list[str], str], Result]] = {
    "grep": grep,
    "egrep": grep,
    "head": head,
    "tail": tail,
    "wc": wc,
    "sort": sort,
    "uniq": uniq,
}
