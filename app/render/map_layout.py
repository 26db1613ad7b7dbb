"""Geometry of the cluster map: the sizes of its boxes and the small helpers that place them.

All lengths are SVG viewBox units (px at the default size). The map is drawn in bands, top to
bottom: the internet, the cloud load balancer, the Services (and the ingress controller), the
rows of nodes with the node network bar under each row, and the legend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# The map is drawn to be read from the back of a classroom: the stage shows it at about 0.65 of
# its size on a 1280-px screen, so a pod's IP (20 units) still renders at 12 px or more.
MIN_WIDTH = 1000
MARGIN = 10

TOP_Y = 10
OUTSIDE_W, OUTSIDE_H = 310, 46  # the internet, and the cloud load balancer under it
OUTSIDE_GAP = 8

SERVICE_W, SERVICE_H = 250, 100
SERVICE_GAP = 14
INGRESS_W = 380
INGRESS_HEAD = 60
INGRESS_LINE = 21
MAX_INGRESS_RULES = 5

NODE_W = 416
NODE_GAP = 14
NODE_PAD = 12
NODE_HEAD = 56
POD_W, POD_H = 190, 70
POD_GAP = 10
POD_COLUMNS = 2
MAX_SHOWN_PODS = 12
NOTE_H = 24
NETFILTER_H = 28
DEVICE_H = 42
STRIP_H = 8 + NETFILTER_H + 6 + DEVICE_H  # under the pods: the netfilter bar, then devices
LANE_GAP = 7  # between the lanes that Service lines run along above the nodes
LANES_PAD = 16
MAX_LANES = 12
BAR_GAP = 22  # from a row's node boxes to its node network bar
BAR_H = 8
BAR_TO_NEXT_ROW = 40

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
    (1296, 3876)
    """
    return max(MIN_WIDTH, 2 * MARGIN + columns * NODE_W + (columns - 1) * NODE_GAP)


def pod_rows(shown: int) -> int:
    """Rows of pod tiles a node needs for ``shown`` tiles (at least one, for the empty note).

    >>> pod_rows(0), pod_rows(3), pod_rows(12)
    (1, 2, 6)
    """
    return max(1, math.ceil(shown / POD_COLUMNS))


def node_height(shown: int, with_note: bool) -> float:
    """The height of a node box holding ``shown`` pod tiles.

    >>> node_height(2, False), node_height(3, True)
    (222, 326)
    """
    rows = pod_rows(shown)
    pods = rows * POD_H + (rows - 1) * POD_GAP
    return NODE_HEAD + pods + (NOTE_H if with_note else 0) + STRIP_H + NODE_PAD


def pod_slot(node: Rect, index: int) -> Rect:
    """The box of the ``index``-th pod tile inside ``node`` (two columns, row by row).

    >>> pod_slot(Rect(0, 0, 416, 300), 3)
    Rect(x=212, y=136, w=190, h=70)
    """
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


def lb_link(x1: float, y1: float, x2: float, y2: float) -> str:
    """The dashed line from the load balancer's right side to the bottom of a box it feeds.

    >>> lb_link(0, 50, 400, 100)
    'M0,50 C400,50 400,50 400,100'
    """
    return f"M{_n(x1)},{_n(y1)} C{_n(x2)},{_n(y1)} {_n(x2)},{_n(y1)} {_n(x2)},{_n(y2)}"


def lane_y(top: float, lane: int) -> float:
    """The height of the ``lane``-th horizontal lane in the band that starts at ``top``.

    >>> lane_y(200, 0), lane_y(200, 2)
    (208.0, 222.0)
    """
    return top + LANES_PAD / 2 + (lane % MAX_LANES) * LANE_GAP


def route_to_pod(
    x1: float, y1: float, lane: float, node: Rect, pod: Rect, row: int, column: int
) -> str:
    """The path of a line from a box above the nodes down to a pod tile, along a lane.

    The line drops from the box to its own horizontal ``lane`` (one per Service, so lines
    never run on top of each other), runs sideways above the pod and drops into it: into the
    top edge for a pod in the first row, else along the node's side gutter (left for the
    first column, right for the second) and sideways into the pod, so the line never seems
    to end at the pod above it. Corners are rounded.

    >>> route_to_pod(300, 0, 50, Rect(0, 100, 416, 300), Rect(12, 156, 190, 70), 0, 0)
    'M300,0 V44 Q300,50 294,50 H113 Q107,50 107,56 V156'
    >>> route_to_pod(100, 0, 50, Rect(0, 100, 416, 300), Rect(12, 236, 190, 70), 1, 0)
    'M100,0 V44 Q100,50 94,50 H12 Q6,50 6,56 V263 Q6,271 12,271'
    """
    if row == 0:
        drop_x, end = pod.cx, None
    elif column == 0:
        drop_x, end = pod.x - NODE_PAD / 2, pod.x
    else:
        drop_x, end = pod.x + pod.w + NODE_PAD / 2, pod.x + pod.w
    r = 6.0
    path = f"M{_n(x1)},{_n(y1)}"
    if abs(drop_x - x1) < 2 * r:
        path += f" V{_n(lane)} H{_n(drop_x)}"
    else:
        step = r if drop_x > x1 else -r
        path += (
            f" V{_n(lane - r)} Q{_n(x1)},{_n(lane)} {_n(x1 + step)},{_n(lane)}"
            f" H{_n(drop_x - step)} Q{_n(drop_x)},{_n(lane)} {_n(drop_x)},{_n(lane + r)}"
        )
    if end is None:
        return path + f" V{_n(pod.y)}"
    return path + f" V{_n(pod.cy - 8)} Q{_n(drop_x)},{_n(pod.cy)} {_n(end)},{_n(pod.cy)}"


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


def place_in_rows(
    boxes: list[Any],
    start: tuple[float, float],
    left: float,
    right: float,
    top: float,
    height: float,
) -> float:
    """Place wide boxes (the ingress controller, the Gateways) left to right from ``start``,
    wrapping to a new row under the others when one would pass ``right``; return the height
    of the band from ``top`` that holds everything.

    >>> from types import SimpleNamespace as Box
    >>> boxes = [Box(w=380, h=100), Box(w=380, h=120)]
    >>> place_in_rows(boxes, (500, 10), 200, 1000, 10, 100), (boxes[1].x, boxes[1].y)
    (234, (200, 124))
    """
    x, y = start
    for box in boxes:
        if x + box.w > right and x > left:
            x, y = left, top + height + SERVICE_GAP
        box.x, box.y = x, y
        x += box.w + SERVICE_GAP
        height = max(height, y + box.h - top)
    return height
