"""Geometry of the cluster map: the sizes of its boxes and the small helpers that place them.

All lengths are SVG viewBox units (px at the default size). The map is drawn in bands, top to
bottom: the internet, the cloud load balancer, the Services (and the ingress controller), the
rows of nodes with the node network bar under each row, and the legend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MIN_WIDTH = 1280
MARGIN = 20

INTERNET_Y = 14
INTERNET_W, INTERNET_H = 520, 62
LB_W, LB_H = 640, 62
BAND_GAP = 26

SERVICE_W, SERVICE_H = 228, 92
SERVICE_GAP = 16
INGRESS_W = 340
INGRESS_HEAD = 54
INGRESS_LINE = 19
MAX_INGRESS_RULES = 5

NODE_W = 392
NODE_GAP = 24
NODE_PAD = 13
NODE_HEAD = 60
POD_W, POD_H = 178, 64
POD_GAP = 10
POD_COLUMNS = 2
MAX_SHOWN_PODS = 12
NOTE_H = 22
STRIP_H = 52
DEVICE_H = 36
NODE_ROW_GAP = 34  # from a row's node boxes to its node network bar
BAR_H = 8
BAR_TO_NEXT_ROW = 40
LEGEND_H = 46

PALETTE_SIZE = 8


@dataclass(frozen=True)
class Rect:
    """A box: top-left corner and size."""

    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def contains(self, other: Rect) -> bool:
        """Whether ``other`` lies entirely inside this box.

        >>> Rect(0, 0, 10, 10).contains(Rect(2, 2, 8, 8)), Rect(0, 0, 10, 10).contains(Rect(5, 5, 6, 1))
        (True, False)
        """
        return (
            other.x >= self.x
            and other.y >= self.y
            and other.x + other.w <= self.x + self.w
            and other.y + other.h <= self.y + self.h
        )

    def overlaps(self, other: Rect) -> bool:
        """Whether the two boxes share any area (touching edges do not count).

        >>> Rect(0, 0, 10, 10).overlaps(Rect(10, 0, 5, 5)), Rect(0, 0, 10, 10).overlaps(Rect(9, 9, 5, 5))
        (False, True)
        """
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )


def node_columns(count: int) -> int:
    """How many nodes sit side by side: three for a small cluster, more as it grows.

    >>> [node_columns(n) for n in (1, 3, 4, 9, 50)]
    [1, 3, 3, 4, 9]
    """
    if count <= 3:
        return max(count, 1)
    return max(3, math.ceil(math.sqrt(count * 1.5)))


def map_width(columns: int) -> float:
    """The viewBox width that fits ``columns`` nodes (never narrower than 1280).

    >>> map_width(3), map_width(9)
    (1280, 3760)
    """
    return max(MIN_WIDTH, 2 * MARGIN + columns * NODE_W + (columns - 1) * NODE_GAP)


def pod_rows(shown: int) -> int:
    """Rows of pod tiles a node needs for ``shown`` tiles (at least one, for the empty note).

    >>> pod_rows(0), pod_rows(3), pod_rows(12)
    (1, 2, 6)
    """
    return max(1, math.ceil(shown / POD_COLUMNS))


def node_height(shown: int, with_note: bool) -> float:
    """The height of a node box holding ``shown`` pod tiles."""
    rows = pod_rows(shown)
    pods = rows * POD_H + (rows - 1) * POD_GAP
    return NODE_HEAD + pods + (NOTE_H if with_note else 0) + STRIP_H + NODE_PAD


def pod_slot(node: Rect, index: int) -> Rect:
    """The box of the ``index``-th pod tile inside ``node`` (two columns, row by row)."""
    row, column = divmod(index, POD_COLUMNS)
    return Rect(
        node.x + NODE_PAD + column * (POD_W + POD_GAP),
        node.y + NODE_HEAD + row * (POD_H + POD_GAP),
        POD_W,
        POD_H,
    )


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when it was longer.

    >>> truncate("ingress-nginx-controller-6696998879-vqxct", 22), truncate("web", 22)
    ('ingress-nginx-control…', 'web')
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shorten_name(name: str, limit: int) -> str:
    """A pod name cut in the middle, keeping its random suffix (what tells replicas apart).

    >>> shorten_name("web-6dbb75cd76-bqgc6", 19), shorten_name("api-7f7bd6f6cd-5ms5n", 30)
    ('web-6dbb75cd…-bqgc6', 'api-7f7bd6f6cd-5ms5n')
    """
    if len(name) <= limit:
        return name
    tail = name[-6:] if "-" in name[-6:] else name[-5:]
    return name[: limit - len(tail) - 1] + "…" + tail


def curve(x1: float, y1: float, x2: float, y2: float) -> str:
    """A smooth cubic curve that leaves downwards and arrives from above.

    >>> curve(0, 0, 100, 200)
    'M0,0 C0,100 100,100 100,200'
    """
    middle = y1 + (y2 - y1) / 2
    return f"M{_n(x1)},{_n(y1)} C{_n(x1)},{_n(middle)} {_n(x2)},{_n(middle)} {_n(x2)},{_n(y2)}"


def route_to_pod(x1: float, y1: float, node: Rect, pod: Rect, row: int, column: int) -> str:
    """The path of a line from a box above the nodes to a pod tile.

    A pod in the first row is reached from above, at the middle of its top edge. A pod lower
    down is reached along the node's side gutter (left for the first column, right for the
    second) and then sideways, so the line never seems to end at the pod above it.

    >>> route_to_pod(0, 0, Rect(0, 100, 392, 300), Rect(13, 160, 178, 64), 0, 0)
    'M0,0 C0,80 102,80 102,160'
    >>> route_to_pod(0, 0, Rect(0, 100, 392, 300), Rect(13, 234, 178, 64), 1, 0)
    'M0,0 C0,60 6.5,60 6.5,120 V258 Q6.5,266 13,266'
    """
    if row == 0:
        return curve(x1, y1, pod.cx, pod.y)
    if column == 0:
        gutter, end = pod.x - NODE_PAD / 2, pod.x
    else:
        gutter, end = pod.x + pod.w + NODE_PAD / 2, pod.x + pod.w
    top = node.y + 20
    return f"{curve(x1, y1, gutter, top)} V{_n(pod.cy - 8)} Q{_n(gutter)},{_n(pod.cy)} {_n(end)},{_n(pod.cy)}"


def _n(value: float) -> str:
    """A coordinate as short text: ``12`` rather than ``12.0``."""
    rounded = round(value, 1)
    return str(int(rounded)) if rounded == int(rounded) else str(rounded)


def dom_id(anchor: str) -> str:
    """The element id of a device: ``/`` becomes ``-`` and ``.`` becomes ``_``.

    >>> dom_id("node/worker-1/flannel.1")
    'dev-node-worker-1-flannel_1'
    """
    return "dev-" + anchor.replace("/", "-").replace(".", "_")
