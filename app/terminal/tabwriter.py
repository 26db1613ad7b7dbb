"""Go's ``text/tabwriter`` as ``kubectl describe`` uses it (minwidth 0, tabwidth 8,
padding 2, padded with spaces): cells end at a tab, and a column is aligned over each run
of consecutive lines that have a cell in it, so a section's labels line up with each other
and a line without tabs (``Containers:``) starts a new run."""

from __future__ import annotations

PADDING = 2


def tabwrite(text: str, padding: int = PADDING) -> str:
    """Align ``text``'s tab-separated cells as Go's tabwriter does.

    >>> print(tabwrite("Name:\\tweb\\nNamespace:\\tdefault\\nIPs:\\n  IP:\\t10.0.0.1\\n"), end="")
    Name:       web
    Namespace:  default
    IPs:
      IP:  10.0.0.1
    """
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []
    _format(lines, 0, len(lines), [], out, padding)
    return "\n".join(out)


def _format(
    lines: list[list[str]], line0: int, line1: int, widths: list[int], out: list[str], padding: int
) -> None:
    column = len(widths)
    this = line0
    while this < line1:
        if column >= len(lines[this]) - 1:
            this += 1
            continue
        _write(lines, line0, this, widths, out)
        line0 = this
        width = 0
        while this < line1 and column < len(lines[this]) - 1:
            width = max(width, len(lines[this][column]) + padding)
            this += 1
        _format(lines, line0, this, [*widths, width], out, padding)
        line0 = this
    _write(lines, line0, line1, widths, out)


def _write(
    lines: list[list[str]], line0: int, line1: int, widths: list[int], out: list[str]
) -> None:
    for cells in lines[line0:line1]:
        text = []
        for j, cell in enumerate(cells):
            if j < len(cells) - 1 and j < len(widths):
                text.append(cell.ljust(widths[j]))
            else:
                text.append(cell)
        out.append("".join(text))
