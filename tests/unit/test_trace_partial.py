"""templates/_trace.html renders a real trace: verdict, hop strip, inspector, controls, data."""

from __future__ import annotations

import copy
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from app.cluster.apply import apply_text
from app.network.trace import trace
from app.render.stage import PLAYER_HOP_FIELDS
from app.web.rendering import template_environment
from tests.unit.scenarios import cluster, service, web_app

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
CLIENT = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: client, labels: {app: client}}\n"
    "spec: {nodeName: worker-1, containers: [{name: shell, image: busybox}]}\n"
)


# --- helpers the browser test shares ------------------------------------------------------------


def sample_traces() -> dict[str, dict[str, Any]]:
    """A delivered trace that crosses nodes in VXLAN, and a refused one (no endpoints).

    Seed 0 sends the client on worker-1 to a web pod on worker-2, so the trace has DNS hops,
    a DNAT, an encapsulation and a reply.
    """
    c = web_app(cluster(), replicas=3)
    apply_text(c, CLIENT)
    apply_text(c, service("empty", selector={"app": "nothing"}))
    delivered = trace(c, "pod/default/client", "http://web/", seed=0).to_dict()
    refused = trace(c, "pod/default/client", "http://empty/", seed=0).to_dict()
    return {"delivered": delivered, "refused": refused}


def fake_marks(t: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Where each hop is drawn, as the page computes it: the same device gives the same point."""
    seen: dict[str, list[float]] = {}
    for hop in [*t["hops"], *t["reply"]]:
        if hop["at"] not in seen:
            n = len(seen)
            seen[hop["at"]] = [100.0 + (n % 6) * 150.0, 100.0 + (n // 6) * 180.0]
    return {
        part: [{"at": h["at"], "point": seen[h["at"]], "lit": []} for h in t[part]]
        for part in ("hops", "reply")
    }


def render_trace(t: dict[str, Any], marks: dict[str, Any] | None = None, **extra: Any) -> str:
    env = template_environment(TEMPLATES)
    return env.get_template("_trace.html").render(
        trace=t, marks=fake_marks(t) if marks is None else marks, **extra
    )


def badge_text(hop: dict[str, Any]) -> str:
    """What the badge says: the action, except conntrack undoing NAT on the way back (the
    reply, and the DNS answer)."""
    back = hop["phase"] == "reply" or hop["where"] == "conntrack"
    if back and hop["action"] in ("dnat", "snat"):
        undone = [n for n, f in (("DNAT", "src"), ("SNAT", "dst")) if f in hop["changed"]]
        return " + ".join(undone or [hop["action"].upper()]) + " undone"
    return hop["action"]


# --- a small DOM, enough to ask questions of the markup ------------------------------------------

VOID = {"br", "hr", "img", "input", "meta", "link", "source", "wbr", "col", "area", "base"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return " ".join(" ".join(parts).split())

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str | bool) -> list[Node]:
        def ok(node: Node) -> bool:
            if tag and node.tag != tag:
                return False
            for name, want in attrs.items():
                name = name.rstrip("_").replace("_", "-")
                if want is True:
                    if name not in node.attrs:
                        return False
                elif name == "class":
                    if want not in (node.attrs.get("class") or "").split():
                        return False
                elif node.attrs.get(name) != want:
                    return False
            return True

        return [n for n in self.iter() if ok(n)]

    def find(self, tag: str | None = None, **attrs: str | bool) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag or '*'} {attrs}>"
        return found[0]

    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.at = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), self.at)
        self.at.children.append(node)
        if tag not in VOID:
            self.at = node

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.at
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None and node.parent is not None, f"stray </{tag}>"
        self.at = node.parent

    def handle_data(self, data: str) -> None:
        self.at.children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    assert builder.at is builder.root, f"unclosed <{builder.at.tag}>"
    return builder.root


# --- the tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def traces() -> dict[str, dict[str, Any]]:
    return sample_traces()


@pytest.fixture(scope="module")
def delivered(traces) -> Node:
    return parse(render_trace(traces["delivered"]))


def panel(doc: Node, step: int) -> Node:
    return doc.find(data_hop_panel=str(step))


def field(p: Node, label: str) -> Node:
    for node in p.find_all("div", class_="pkt-field"):
        dt = node.find("dt")
        if dt.text().removesuffix(" changed") == label:
            return node
    raise AssertionError(f"no field {label!r}")


def test_the_sample_trace_has_what_the_player_shows(traces):
    t = traces["delivered"]
    assert {"dns", "request"} <= {h["phase"] for h in t["hops"]} and t["reply"]
    assert {"dnat", "encapsulate", "decapsulate", "snat"} <= {h["action"] for h in t["hops"]}
    assert traces["refused"]["verdict"] == "refused"


def test_the_strip_is_an_ordered_list_with_one_item_per_hop_in_order(traces, delivered):
    t = traces["delivered"]
    steps = [*t["hops"], *t["reply"]]
    items = delivered.find_all("li", data_hop=True)
    assert [int(li.attrs["data-hop"]) for li in items] == list(range(len(steps)))
    assert all(li.parent.tag == "ol" for li in items)
    for li, hop in zip(items, steps, strict=True):
        assert li.find(class_="badge").text() == badge_text(hop)
        assert li.find(class_="hop-where").text() == " ".join(hop["where"].split())
        assert li.find(class_="hop-summary").text() == " ".join(hop["summary"].split())
        assert li.find(class_="hop-node").text() == (
            f"on {hop['node']}" if hop["node"] else "off the nodes"
        )
        assert li.find("button", data_hop_index=li.attrs["data-hop"]).attrs["type"] == "button"
    # The DNS lookup, the request, then a heading and the reply; numbering carries on.
    headings = [h.text() for h in delivered.find_all("h3", class_="hop-phase")]
    assert headings == ["DNS lookup", "Request", "Reply"]
    lists = delivered.find_all("ol", class_="hop-list")
    dns = sum(h["phase"] == "dns" for h in t["hops"])
    assert [ol.attrs["start"] for ol in lists] == ["1", str(dns + 1), str(len(t["hops"]) + 1)]
    # The first hop is current until the player moves.
    assert [li.attrs["data-hop"] for li in items if li.attrs.get("aria-current") == "step"] == ["0"]


def test_a_polite_live_region_announces_the_hop(delivered):
    live = delivered.find(data_live=True)
    assert live.attrs["aria-live"] == "polite"
    assert "visually-hidden" in live.classes()


def test_the_root_carries_the_player_state(delivered):
    root = delivered.find("section", data_trace_player=True)
    assert root.attrs["data-current-hop"] == "0"
    assert root.attrs["data-playing"] == "false"
    assert root.attrs["data-autoplay"] == "true"


def test_autoplay_can_be_turned_off(traces):
    doc = parse(render_trace(traces["delivered"], autoplay=False))
    assert doc.find("section", data_trace_player=True).attrs["data-autoplay"] == "false"


def test_the_verdict_is_said_in_words_with_a_class_per_verdict(traces, delivered):
    banner = delivered.find(class_="trace-verdict")
    assert "verdict-delivered" in banner.classes()
    assert banner.find(class_="verdict-word").text() == "Delivered"
    assert banner.find(class_="verdict-reason").text() == traces["delivered"]["reason"]
    assert not banner.find_all(class_="verdict-http")


def test_a_refused_trace_says_so_and_has_no_reply(traces):
    t = traces["refused"]
    doc = parse(render_trace(t))
    banner = doc.find(class_="trace-verdict")
    assert "verdict-refused" in banner.classes()
    assert banner.find(class_="verdict-word").text() == "Refused"
    assert "no endpoints" in banner.find(class_="verdict-reason").text()
    last = doc.find_all("li", data_hop=True)[-1]
    assert "action-reject" in last.classes()
    assert [h.text() for h in doc.find_all("h3", class_="hop-phase")] == ["DNS lookup", "Request"]
    assert "No reply" in doc.find(class_="hop-noreply").text()


@pytest.mark.parametrize(
    "verdict,word",
    [
        ("dropped", "Dropped"),
        ("nxdomain", "Name not found (NXDOMAIN)"),
        ("unreachable", "Unreachable"),
    ],
)
def test_every_verdict_has_a_label(traces, verdict, word):
    t = copy.deepcopy(traces["refused"]) | {"verdict": verdict}
    banner = parse(render_trace(t)).find(class_="trace-verdict")
    assert f"verdict-{verdict}" in banner.classes()
    assert banner.find(class_="verdict-word").text() == word


def test_an_http_status_is_shown(traces):
    t = copy.deepcopy(traces["delivered"]) | {"http_status": 503}
    banner = parse(render_trace(t)).find(class_="trace-verdict")
    assert banner.find(class_="verdict-http").text() == "HTTP 503"


def test_the_inspector_shows_the_dnat_before_and_after(traces, delivered):
    t = traces["delivered"]
    step = next(
        i for i, h in enumerate(t["hops"]) if h["action"] == "dnat" and h["phase"] == "request"
    )
    before, after = t["hops"][step - 1]["packet"], t["hops"][step]["packet"]
    p = panel(delivered, step)
    assert "hidden" in p.attrs  # only the current hop's panel shows
    dst = field(p, "dst")
    assert "is-changed" in dst.classes()
    assert dst.find(class_="changed-tag").text() == "changed"
    assert dst.find("del").text() == before["dst"]
    assert dst.find("ins").text() == after["dst"]
    for unchanged in ("src", "protocol"):
        f = field(p, unchanged)
        assert "is-changed" not in f.classes() and not f.find_all("del")
        assert f.find("code").text() == after[unchanged]
    # The HTTP request line rides along, unchanged.
    assert field(p, "host").find("code").text() == "web"
    assert field(p, "path").find("code").text() == "/"
    assert "KUBE-SEP" in p.find(class_="pkt-rule").text()


def test_the_inspector_shows_the_outer_header_added_then_removed(traces, delivered):
    t = traces["delivered"]
    enc = next(i for i, h in enumerate(t["hops"]) if h["action"] == "encapsulate")
    outer = t["hops"][enc]["packet"]["outer"]
    p = panel(delivered, enc)
    # The whole header is new: "added" on its heading, its fields shown as they are (nothing
    # in it "changed": there was no value before).
    assert "added" in p.find("h4", class_="is-added").text()
    for label, key in [
        ("outer src", "src"),
        ("outer dst", "dst"),
        ("UDP port", "port"),
        ("VNI", "vni"),
    ]:
        f = field(p, label)
        assert "is-changed" not in f.classes() and not f.find_all("del")
        assert f.find("code").text() == str(outer[key])
    dec = next(i for i, h in enumerate(t["hops"]) if h["action"] == "decapsulate")
    removed = panel(delivered, dec).find(class_="pkt-removed")
    assert "removed" in removed.text() and outer["dst"] in removed.text()


def test_the_first_hop_of_a_phase_is_a_new_packet_not_a_change(traces, delivered):
    t = traces["delivered"]
    first_request = next(i for i, h in enumerate(t["hops"]) if h["phase"] == "request")
    # The engine says everything changed (compared with the DNS answer before it) ...
    assert t["hops"][first_request]["changed"]
    # ... but the request is a new packet: nothing to highlight.
    assert not panel(delivered, first_request).find_all(class_="is-changed")


def test_every_hop_has_a_panel_and_only_the_first_shows(traces, delivered):
    t = traces["delivered"]
    panels = delivered.find_all(data_hop_panel=True)
    assert [p.attrs["data-hop-panel"] for p in panels] == [
        str(i) for i in range(len(t["hops"]) + len(t["reply"]))
    ]
    assert ["hidden" in p.attrs for p in panels] == [False] + [True] * (len(panels) - 1)


def test_the_controls_are_labelled_buttons_and_a_speed_select(delivered):
    controls = delivered.find(class_="trace-controls")
    buttons = {b.attrs["data-action"]: b for b in controls.find_all("button")}
    assert set(buttons) == {"play", "back", "forward", "restart"}
    assert all(b.attrs["type"] == "button" for b in buttons.values())
    assert buttons["play"].text() == "▶ Play"
    assert buttons["back"].attrs["aria-label"] == "Step back" and "Back" in buttons["back"].text()
    assert buttons["forward"].attrs["aria-label"] == "Step forward"
    assert buttons["restart"].attrs["aria-label"] == "Restart"
    label = controls.find("label", class_="trace-speed")
    options = label.find("select", data_speed=True).find_all("option")
    assert [o.attrs["value"] for o in options] == ["0.5", "1", "2"]
    assert [o.attrs["value"] for o in options if "selected" in o.attrs] == ["1"]


def test_the_data_is_the_trace_and_where_each_hop_is_drawn(traces):
    """The player gets each hop's place, action, summary and packet (the rules and the "why"
    are in the markup, not sent twice), and where each hop is drawn."""
    t = traces["delivered"]
    marks = fake_marks(t)
    doc = parse(render_trace(t, marks))
    script = doc.find("script", id="trace-data")
    assert script.attrs["type"] == "application/json"
    data = json.loads(script.text())
    assert data["marks"] == marks
    assert data["trace"]["verdict"] == t["verdict"]
    for phase in ("hops", "reply"):
        assert len(data["trace"][phase]) == len(t[phase])
        for sent, hop in zip(data["trace"][phase], t[phase], strict=True):
            assert sent == {key: hop[key] for key in PLAYER_HOP_FIELDS}
    assert any("rule" in hop for hop in t["hops"])  # what the markup shows and JSON need not


def test_the_regions_have_names_for_tests_and_screen_readers(delivered):
    hops = delivered.find("section", class_="hop-strip")
    assert hops.attrs["aria-label"] == "Hops"
    assert hops.find("li", aria_current="step") is not None
    headers = delivered.find("section", class_="trace-inspector")
    assert headers.attrs["aria-label"] == "Packet headers"


def test_conntrack_on_the_reply_undoes_the_nat_it_is_not_a_new_snat(traces, delivered):
    """The reply to a pod -> ClusterIP request: conntrack rewrites its source back from the
    endpoint to the Service address (the DNAT undone); no new NAT happens on the way back."""
    t = traces["delivered"]
    steps = [*t["hops"], *t["reply"]]
    undo = [
        i
        for i, h in enumerate(steps)
        if (h["phase"] == "reply" or h["where"] == "conntrack") and h["action"] in ("dnat", "snat")
    ]
    assert undo, "the sample reply has a conntrack step"
    # The DNS answer's way back is conntrack undoing kube-proxy's DNAT too.
    assert any(steps[i]["phase"] == "dns" for i in undo)
    for i in undo:
        label = delivered.find("li", data_hop=str(i)).find(class_="badge").text()
        assert label.endswith("undone") and label != "snat"
    src_rewrite = [i for i in undo if "src" in steps[i]["changed"]]
    assert all(
        delivered.find("li", data_hop=str(i)).find(class_="badge").text().startswith("DNAT")
        for i in src_rewrite
    )


def test_a_header_is_changed_only_where_its_value_changed(traces):
    """A field that keeps its value (the Host header through a DNAT) is not tagged; a field
    that appears is "added"; one whose value differs is "changed" with before -> after."""
    t = copy.deepcopy(traces["delivered"])
    request = [i for i, h in enumerate(t["hops"]) if h["phase"] == "request"]
    first, second = request[0], request[1]
    t["hops"][first]["packet"]["http"] = {"host": "web", "path": "/", "headers": {}}
    t["hops"][second]["packet"]["http"] = {
        "host": "web",
        "path": "/api",
        "headers": {"X-Forwarded-For": "198.51.100.7"},
    }
    doc = parse(render_trace(t))
    p = panel(doc, second)
    assert "is-changed" not in field(p, "host").classes()
    assert "is-added" not in field(p, "host").classes()
    assert "is-changed" in field(p, "path").classes()
    assert field(p, "path").find("del").text() == "/"
    xff = next(f for f in p.find_all("div", class_="pkt-field") if "X-Forwarded-For" in f.text())
    assert "is-added" in xff.classes() and "added" in xff.find("dt").text()


def test_text_from_the_cluster_is_escaped_everywhere(traces):
    t = copy.deepcopy(traces["refused"])
    t["reason"] = "</script><script>alert(1)</script>"
    t["hops"][0]["summary"] = "<b>bold</b>"
    html = render_trace(t)
    assert "<script>alert(1)" not in html and "<b>bold</b>" not in html
    doc = parse(html)
    assert json.loads(doc.find("script", id="trace-data").text())["trace"]["reason"] == t["reason"]
    assert doc.find(class_="verdict-reason").text() == t["reason"]
