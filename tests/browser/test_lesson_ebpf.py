"""The eBPF lesson (issue 15) in Debian's Chromium: completed with "Show me" and "Check" on
every step and its quiz answered; and by hand, as a learner would: the trace to web under
kube-proxy (the DNAT hop in PREROUTING), tcpdump on worker-1 in the Terminal tab (the
ClusterIP on client's veth), the switch to Cilium in the sandbox head (the kube-proxy select
turns to eBPF), the socket-LB hop at connect(), and the capture again, where no line carries
the ClusterIP. Screenshots at 1280x800 under artifacts/screenshots/lesson-ebpf-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.lessons.catalog import load_catalog
from tests.browser.test_lessons import complete_by_show_me, start_lesson

LESSON = load_catalog().get("ebpf-service-translation")


def step(step_id: str):
    return next(s for s in LESSON.steps if s.id == step_id)


def check(page: Page) -> None:
    page.locator("#lesson").get_by_role("button", name="Check", exact=True).click()


def answer(page: Page, step_id: str, text: str) -> None:
    page.locator("#lesson").get_by_label(step(step_id).question).fill(text)
    check(page)


def passed(page: Page, number: int) -> None:
    """Every check of step ``number`` passed; then on to the next step."""
    panel = page.locator("#lesson")
    expect(panel.locator(".check-results .fail")).to_have_count(0)
    expect(panel.locator(".step-done")).to_be_visible()
    panel.get_by_role("button", name="Next →").click()
    expect(panel.locator(".step-count")).to_have_text(f"Step {number + 1} of {len(LESSON.steps)}")


def trace(page: Page, source: str, to: str) -> None:
    bar = page.locator("form.trace-bar")
    bar.locator('select[name="from"]').select_option(source)
    bar.locator('input[name="to"]').fill(to)
    bar.get_by_role("button", name="Trace it").click()
    expect(page.locator("#trace-result")).to_contain_text("Delivered")


def terminal(page: Page, *lines: str) -> None:
    """Type lines into the Terminal tab, each answered before the next."""
    screen = page.locator("#terminal-screen")
    for line in lines:
        before = screen.locator(".term-command").count()
        page.locator("#terminal-input").fill(line)
        page.locator("#terminal-input").press("Enter")
        expect(screen.locator(".term-command")).to_have_count(before + 1)


def scroll_sideways(page: Page, pixels: int = 200) -> None:
    """Scroll the Terminal's screen sideways to where tcpdump's addresses are, as a learner
    does at 1280 pixels (the lesson, the map and the panel share the width)."""
    page.locator("#terminal-screen").evaluate(f"el => {{ el.scrollLeft = {pixels}; }}")


def web_cluster_ip(page: Page) -> str:
    workspace = page.url.split("/w/")[1].split("?")[0].split("/")[0]
    objects = page.request.get(f"/api/v1/workspaces/{workspace}/objects?kind=Service").json()
    items = objects["items"] if isinstance(objects, dict) else objects
    (web,) = [o for o in items if o["metadata"]["name"] == "web"]
    return web["spec"]["clusterIP"]


@pytest.mark.browser
def test_the_ebpf_lesson_can_be_completed_with_show_me_and_check(
    page: Page, screenshots_dir: Path
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    complete_by_show_me(page, LESSON)
    page.screenshot(path=str(screenshots_dir / "lesson-ebpf-quiz-1280x800.png"))
    page.goto(f"/lessons/{LESSON.slug}")
    expect(page.get_by_role("heading", name=LESSON.title)).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "lesson-ebpf-recap-1280x800.png"))


@pytest.mark.browser
def test_a_learner_sees_the_clusterip_on_the_wire_under_kube_proxy_and_not_under_cilium(
    page: Page, screenshots_dir: Path
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    start_lesson(page, LESSON.slug)

    # Step 1: the trace, and the hook of kube-proxy's DNAT on worker-1.
    trace(page, "pod/default/client", "http://web/")
    expect(page.locator("#trace-result")).to_contain_text("netfilter PREROUTING")
    page.screenshot(path=str(screenshots_dir / "lesson-ebpf-1-dnat-1280x800.png"))
    answer(page, "dnat", "KUBE-SERVICES")
    expect(page.locator("#lesson .check-results .fail")).to_contain_text("kube-proxy's own chain")
    answer(page, "dnat", "PREROUTING")
    passed(page, 1)

    # Step 2: the capture on worker-1, as a learner types it.
    page.locator("#panel-toggle").click()
    page.locator("#panel").get_by_role("link", name="Terminal", exact=True).click()
    expect(page.locator("#terminal-input")).to_be_visible()
    terminal(
        page,
        "kubectl exec client -- curl -s -o /dev/null http://web/",
        "kubectl debug node/worker-1 -it --image=busybox",
        "tcpdump -ni any",
    )
    cluster_ip = web_cluster_ip(page)
    screen = page.locator("#terminal-screen")
    expect(screen).to_contain_text(f"> {cluster_ip}.80: Flags [P.]")
    expect(screen).to_contain_text("flannel.1 Out")
    scroll_sideways(page)  # as a learner does to read a whole line
    page.screenshot(path=str(screenshots_dir / "lesson-ebpf-2-capture-kube-proxy-1280x800.png"))
    answer(page, "capture", cluster_ip)
    passed(page, 2)

    # Step 3: Cilium from the head's Switch form; the kube-proxy select follows.
    head = page.locator("form.switch-form")
    head.locator('select[name="cni"]').select_option("cilium")
    expect(head.locator('select[name="proxy_mode"]')).to_have_value("ebpf")
    head.get_by_role("button", name="Switch").click()
    expect(page.locator("#sandbox-head")).to_contain_text("10.1.0.0/16")
    page.locator("#panel-toggle").click()  # the panel away: the map and the hops wider
    trace(page, "pod/default/client", "http://web/")
    result = page.locator("#trace-result")
    expect(result).to_contain_text("socket LB (cgroup connect4)")
    expect(result).not_to_contain_text("netfilter PREROUTING")
    result.locator(".hop", has_text="socket LB (cgroup connect4)").click()
    expect(result.locator(".hop[aria-current=step]")).to_contain_text("socket LB (cgroup connect4)")
    page.screenshot(path=str(screenshots_dir / "lesson-ebpf-3-socket-lb-1280x800.png"))
    answer(page, "socket-lb", "connect()")
    passed(page, 3)

    # Step 4: the capture again: no line carries the ClusterIP the learner typed.
    page.locator("#panel-toggle").click()
    page.locator("#panel").get_by_role("link", name="Terminal", exact=True).click()
    # The screen is kept while the browser tab is open: step 2's three commands come back.
    expect(screen.locator(".term-command")).to_have_count(3)
    terminal(
        page,
        "exit",
        f"kubectl exec client -- curl -s -o /dev/null http://{cluster_ip}/",
        "kubectl debug node/worker-1 -it --image=busybox",
        "tcpdump -ni any",
    )
    expect(screen).to_contain_text("cilium_vxlan Out")
    capture = screen.inner_text().rsplit("tcpdump -ni any", 1)[1]
    assert " lxc" in capture and "packets captured" in capture
    assert cluster_ip not in capture
    scroll_sideways(page)
    page.screenshot(path=str(screenshots_dir / "lesson-ebpf-4-capture-cilium-1280x800.png"))
    answer(page, "capture-cilium", "0")
    passed(page, 4)

    # Step 5: Cilium's Service table, from the agent's pod.
    terminal(
        page,
        "exit",
        f"kubectl -n kube-system exec ds/cilium -- cilium-dbg service list | grep -A1 {cluster_ip}",
    )
    expect(screen).to_contain_text(f"{cluster_ip}:80/TCP")
    answer(page, "service-list", "2")
    expect(page.locator("#lesson .check-results .pass")).to_have_count(2)
    scroll_sideways(page, 120)
    page.screenshot(path=str(screenshots_dir / "lesson-ebpf-5-service-list-1280x800.png"))
    passed(page, 5)


@pytest.mark.browser
def test_the_cni_lessons_cilium_step_by_hand(page: Page, screenshots_dir: Path) -> None:
    """Lesson 10's Cilium step: switched from the head, traced to web's new address, and the
    outer header's port typed: first IANA's 4789 (refused, with its reason), then 8472."""
    cni = load_catalog().get("cni-plugins")
    page.set_viewport_size({"width": 1280, "height": 800})
    start_lesson(page, cni.slug)
    panel = page.locator("#lesson")
    number = [s.id for s in cni.steps].index("cilium") + 1
    for shown in range(2, number + 1):
        panel.get_by_role("button", name="Next →").click()
        expect(panel.locator(".step-count")).to_have_text(f"Step {shown} of {len(cni.steps)}")
    head = page.locator("form.switch-form")
    head.locator('select[name="cni"]').select_option("cilium")
    head.get_by_role("button", name="Switch").click()
    expect(page.locator("#sandbox-head")).to_contain_text("10.1.0.0/16")
    expect(page.locator("#panel")).to_be_hidden()  # as the lesson opened it
    web = page.locator('svg.cluster-map [data-at="pod/default/web"] .pod-ip').text_content()
    trace(page, "pod/default/client", f"http://{(web or '').strip()}/")
    result = page.locator("#trace-result")
    result.locator(".hop", has_text="cilium_vxlan").first.click()
    expect(result).to_contain_text("10.0.0.12:8472")
    page.screenshot(path=str(screenshots_dir / "lesson-cni-cilium-1280x800.png"))
    question = next(s for s in cni.steps if s.id == "cilium").question
    panel.get_by_label(question).fill("4789")
    check(page)
    expect(panel.locator(".check-results .fail")).to_contain_text("IANA")
    panel.get_by_label(question).fill("8472")
    check(page)
    expect(panel.locator(".check-results .fail")).to_have_count(0)
    expect(panel.locator(".step-done")).to_be_visible()
