"""A teacher's trace with an IP family reaches the class with that family.

On a dual-stack cluster a name resolves to both families and the client tries IPv6 first, as
curl does; the Trace tab's and the trace bar's family select, and ``curl -4`` / ``-6`` in the
Terminal, pick one. A class following the teacher must see the same packets: a teacher's
IPv4 trace is an IPv4 trace on every student's screen, and an IPv6 one an IPv6 one. The
bar's Send 100, beside the select, sends in its family too.

Sources: curl's docs (``-4`` / ``--ipv4``, ``-6`` / ``--ipv6``: resolve names to that family
only); RFC 8305 (Happy Eyeballs: IPv6 first).
"""

from __future__ import annotations

import re

import pytest

from app.cluster.cluster import Cluster
from app.cluster.state import ClusterConfig
from tests.api.conftest import Api, apply_ok, make_api, new_workspace
from tests.api.test_classroom import Class
from tests.api.test_dual_stack_traces_api import OBJECTS

HX = {"HX-Request": "true"}
TRACE = {"from": "pod/default/client", "to": "http://web/", "seed": "0"}


@pytest.fixture
def api(tmp_path) -> Api:
    return make_api(tmp_path)


def rebuilt_as(api: Api, workspace: str, ip_family: str) -> None:
    """The workspace's cluster made again with ``ip_family`` (its notes, the class's among
    them, kept), as a reset to another cluster would."""
    fresh = Cluster.create(ClusterConfig(ip_family=ip_family), seed=1)
    api.app.state.workspaces.change(workspace, lambda cluster: cluster.replace_with(fresh))


def dual_stack_class(api: Api) -> tuple[Class, str, list[str]]:
    """A class whose starting point is a dual-stack cluster with a PreferDualStack Service
    ``web``; Ana joins it. Returns the class, Ana's sandbox and web's two ClusterIPs."""
    room = Class(api, scenario="default")
    rebuilt_as(api, room.teacher, "dual")
    apply_ok(api, room.teacher, OBJECTS)
    assert room.teach("POST", "/push").status_code == 303  # everyone starts from here
    ana = room.join("Ana")
    spec = api.get(f"/api/v1/workspaces/{ana}/objects/Service/default/web").json()["spec"]
    return room, ana, spec["clusterIPs"]


def followed(api: Api, student: str) -> str:
    """The student's page catching up with the teacher's newest trace."""
    caught = api.post(f"/w/{student}/class/follow", headers=HX, data={"shown_trace": ""})
    assert caught.status_code == 200, caught.text
    return caught.text


def player(page: str) -> str:
    return re.search(r'<section class="trace-player.*?</section>', page, re.S)[0]


def bar_family(page: str) -> str:
    """The option the trace bar's family select shows chosen ("" for both)."""
    bar = re.search(r'<form class="trace-bar".*?</form>', page, re.S)[0]
    select = re.search(r'<select name="ipFamily">.*?</select>', bar, re.S)[0]
    chosen = re.search(r'<option value="(\w*)" selected', select)
    return chosen[1] if chosen else ""


@pytest.mark.parametrize("family", ["IPv4", "IPv6"])
def test_the_teachers_trace_bar_family_goes_to_the_students(api: Api, family: str) -> None:
    room, ana, (v4, v6) = dual_stack_class(api)
    sent = api.post(f"/w/{room.teacher}/trace", data={**TRACE, "ipFamily": family}, headers=HX)
    assert 'data-class-trace="' in sent.text
    page = followed(api, ana)
    shown = player(page)
    wanted, other = (f"{v4}:80", f"[{v6}]:80") if family == "IPv4" else (f"[{v6}]:80", v4)
    assert "verdict-delivered" in shown and wanted in shown and other not in shown
    # The student's bar says which family, as the teacher's select does (still chosen).
    assert bar_family(page) == family


@pytest.mark.parametrize(("flag", "family"), [("-4", "IPv4"), ("-6", "IPv6")])
def test_the_teachers_curl_family_goes_to_the_students(api: Api, flag: str, family: str) -> None:
    room, ana, (v4, v6) = dual_stack_class(api)
    line = f"kubectl exec client -- curl -s {flag} http://web/"
    sent = api.post(f"/w/{room.teacher}/terminal", data={"line": line}, headers=HX)
    assert sent.status_code == 200 and 'data-class-trace="' in sent.text
    assert bar_family(sent.text) == family  # the teacher's own bar names the family too
    page = followed(api, ana)
    shown = player(page)
    wanted, other = (f"{v4}:80", f"[{v6}]:80") if family == "IPv4" else (f"[{v6}]:80", v4)
    assert "verdict-delivered" in shown and wanted in shown and other not in shown
    assert bar_family(page) == family


def test_a_trace_without_a_family_is_told_to_the_class_as_before(api: Api) -> None:
    room, ana, (_v4, v6) = dual_stack_class(api)
    api.post(f"/w/{room.teacher}/trace", data=TRACE, headers=HX)
    told = api.app.state.classes.follow_state(room.id).trace.data
    assert told == {"from": "pod/default/client", "to": "http://web/", "seed": 0}
    page = followed(api, ana)
    assert f"[{v6}]:80" in player(page)  # both families: IPv6 first, as curl
    assert bar_family(page) == ""


def test_a_student_whose_cluster_lacks_the_family_sees_why_not_an_error(api: Api) -> None:
    room, ana, _ips = dual_stack_class(api)
    followed(api, ana)  # caught up with the starting point
    rebuilt_as(api, ana, "ipv4")  # the student's cluster switched to IPv4 only
    apply_ok(api, ana, OBJECTS)
    own = api.post(f"/w/{ana}/trace", data={**TRACE, "ipFamily": "IPv6"}, headers=HX)
    api.post(f"/w/{room.teacher}/trace", data={**TRACE, "ipFamily": "IPv6"}, headers=HX)
    shown = player(followed(api, ana))
    reason = "The name web has no AAAA record (the answer is NOERROR, empty)"
    assert reason in player(own.text) and reason in shown


@pytest.mark.parametrize(
    ("family", "pod_network"), [("IPv4", "10.244."), ("IPv6", "[fd00:10:244:")]
)
def test_send_100_beside_the_family_select_sends_in_that_family(
    api: Api, family: str, pod_network: str
) -> None:
    """The bar's Send 100 posts the same form: the requests go in the family it shows."""
    workspace = new_workspace(api, ipFamily="dual")
    apply_ok(api, workspace, OBJECTS)
    sent = api.post(f"/w/{workspace}/traffic", data={**TRACE, "ipFamily": family}, headers=HX)
    assert sent.status_code == 200 and "100 requests to http://web/" in sent.text
    # Where each request landed, an IPv6 address in brackets before its port (as curl writes it)
    landed = re.findall(r'<span class="muted">([^<]+) on worker-', sent.text)
    assert landed and all(where.startswith(pod_network) for where in landed), landed
    bad = api.post(f"/w/{workspace}/traffic", data={**TRACE, "ipFamily": "IPv5"}, headers=HX)
    # Refused as a trace is (a 422; htmx still shows it where the bars go), and explained.
    assert bad.status_code == 422
    assert "ipFamily: Unsupported value: &#34;IPv5&#34;" in bad.text, bad.text
