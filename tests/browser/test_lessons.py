"""Lessons in Debian's Chromium: every lesson completed with "Show me" and "Check" on every
step and its quiz answered; the lesson list's progress; presentation mode's keys and hidden
answers; a lesson started with one click (the home page, the next lesson), and a link to a
lesson that only shows it, with a Start button. (One lesson done by hand, as a learner would:
test_lesson_by_hand.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from app.lessons.catalog import load_catalog

CATALOG = load_catalog()
MY_POD = """apiVersion: v1
kind: Pod
metadata: {name: mine, labels: {app: mine}}
spec: {nodeName: worker-2, containers: [{name: c, image: nginx}]}
"""


def start_lesson(page: Page, slug: str, present: bool = False) -> None:
    """Open a lesson's address (it only shows the lesson) and press its Start button."""
    page.goto(f"/lessons/{slug}" + ("?present=1" if present else ""))
    page.get_by_role("button", name="Start this lesson").click()
    expect(page.locator("#lesson .step-count")).to_have_text(re.compile(r"^Step 1 of \d+$"))


def complete_by_show_me(page: Page, lesson) -> None:
    start_lesson(page, lesson.slug)
    panel = page.locator("#lesson")
    expect(panel.locator(".lesson-title")).to_have_text(lesson.title)
    for number, step in enumerate(lesson.steps, start=1):
        expect(panel.locator(".step-count")).to_have_text(f"Step {number} of {len(lesson.steps)}")
        expect(panel.locator("#step-title")).to_contain_text(step.title)
        # Check before doing anything: every check fails, each with its own message.
        if step.question:
            panel.get_by_label(step.question).fill("no idea")
        panel.get_by_role("button", name="Check", exact=True).click()
        expect(panel.locator(".check-results .fail")).to_have_count(len(step.checks))
        panel.get_by_role("button", name="Show me").click()
        expect(panel.locator(".check-results .pass")).to_have_count(len(step.checks))
        expect(panel.locator(".step-done")).to_be_visible()
        panel.get_by_role("button", name="Next →").click()
    expect(panel.locator("#recap-title")).to_be_visible()
    for q, question in enumerate(lesson.quiz):
        right = next(i for i, choice in enumerate(question.choices) if choice.correct)
        panel.locator(f'input[name="q{q}"][value="{right}"]').check()
    panel.get_by_role("button", name="Answer", exact=True).click()
    expect(panel.locator(".quiz-score")).to_contain_text(
        f"{len(lesson.quiz)} of {len(lesson.quiz)} right. Lesson complete."
    )


@pytest.mark.browser
def test_every_lesson_can_be_completed_with_show_me_and_check(
    page: Page, screenshots_dir: Path
) -> None:
    for lesson in CATALOG.lessons:
        complete_by_show_me(page, lesson)
    page.screenshot(path=str(screenshots_dir / "lesson-last-quiz.png"), full_page=True)
    page.goto("/")
    cards = page.locator(".lesson-card")
    expect(cards).to_have_count(len(CATALOG.lessons))
    expect(page.locator(".lesson-card.complete")).to_have_count(len(CATALOG.lessons))
    page.screenshot(path=str(screenshots_dir / "home-lessons-complete.png"), full_page=True)


@pytest.mark.browser
def test_show_me_animates_its_trace_on_the_map(page: Page, screenshots_dir: Path) -> None:
    start_lesson(page, "flat-network")
    page.get_by_role("button", name="Show me").click()
    player = page.locator("#trace-result [data-trace-player]")
    expect(player).to_contain_text("Delivered")
    expect(page.locator("#trace-result .hop[aria-current=step]")).to_have_count(1)
    expect(page.locator("#lesson .step-done")).to_contain_text("Done (shown)")
    page.screenshot(path=str(screenshots_dir / "lesson-show-me.png"), full_page=True)


@pytest.mark.browser
def test_the_home_page_lists_lessons_with_progress(page: Page, screenshots_dir: Path) -> None:
    page.goto("/")
    expect(page.locator(".lesson-card")).to_have_count(len(CATALOG.lessons))
    expect(page.locator(".lesson-card.in-progress")).to_have_count(0)
    page.get_by_role("button", name=CATALOG.lessons[1].title, exact=True).click()
    expect(page.locator("#lesson .lesson-title")).to_have_text(CATALOG.lessons[1].title)
    page.get_by_role("button", name="Show me").click()
    expect(page.locator("#lesson .step-done")).to_be_visible()
    page.goto("/")
    card = page.locator(".lesson-card.in-progress")
    expect(card).to_have_count(1)
    expect(card).to_contain_text(f"In progress: 1 of {len(CATALOG.lessons[1].steps)} steps")
    page.screenshot(path=str(screenshots_dir / "home-lessons.png"), full_page=True)
    # Coming back resumes where the learner was.
    card.get_by_role("button", name=CATALOG.lessons[1].title, exact=True).click()
    expect(page.locator("#lesson .step-dot.done")).to_have_count(1)


@pytest.mark.browser
def test_presentation_mode_moves_by_clicker_and_hides_answers_until_revealed(
    page: Page, screenshots_dir: Path
) -> None:
    lesson = CATALOG.lessons[0]
    start_lesson(page, lesson.slug, present=True)
    expect(page.locator("body")).to_have_class("present")
    panel = page.locator("#lesson")
    expect(panel.locator(".step-count")).to_have_text(f"Step 1 of {len(lesson.steps)}")
    page.screenshot(path=str(screenshots_dir / "lesson-present.png"))
    page.keyboard.press("PageDown")  # what a clicker sends
    expect(panel.locator(".step-count")).to_have_text(f"Step 2 of {len(lesson.steps)}")
    page.keyboard.press("PageUp")
    expect(panel.locator(".step-count")).to_have_text(f"Step 1 of {len(lesson.steps)}")
    for number in range(2, len(lesson.steps) + 1):
        page.keyboard.press("PageDown")
        expect(panel.locator(".step-count")).to_have_text(f"Step {number} of {len(lesson.steps)}")
    page.keyboard.press("PageDown")
    expect(panel.locator("#recap-title")).to_be_visible()
    first = panel.locator(".quiz-question").first
    why = first.locator(".choice.correct .why")
    expect(why).to_be_hidden()
    first.get_by_role("button", name="Reveal the answer").click()
    expect(why).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "lesson-present-quiz.png"))


@pytest.mark.browser
def test_the_cni_lesson_shows_the_plugins_side_by_side(page: Page, screenshots_dir: Path) -> None:
    lesson = CATALOG.get("cni-plugins")
    start_lesson(page, lesson.slug)
    panel = page.locator("#lesson")
    side_by_side = [step.id for step in lesson.steps].index("side-by-side")
    for number in range(2, side_by_side + 2):
        panel.get_by_role("button", name="Next →").click()
        expect(panel.locator(".step-count")).to_have_text(f"Step {number} of {len(lesson.steps)}")
    # The skipped steps switched the cluster to Cilium: the page's head says so.
    expect(page.locator("#sandbox-head select[name=cni]")).to_have_value("cilium")
    # As the step says: client in From, web's address in To, then Compare CNIs.
    web_ip = page.locator('svg.cluster-map [data-at="pod/default/web"] .pod-ip').text_content()
    bar = page.locator("form.trace-bar")
    bar.locator("select[name=from]").select_option("pod/default/client")
    bar.locator("input[name=to]").fill(f"http://{(web_ip or '').strip()}/")
    bar.get_by_role("button", name="Compare CNI plugins").click()
    columns = page.locator(".compare-col")
    expect(columns).to_have_count(4)
    expect(columns.nth(0)).to_contain_text("flannel.1 wraps the packet")
    expect(columns.nth(1)).to_contain_text("No tunnel")
    expect(columns.nth(2)).to_contain_text("vxlan-6784 wraps the packet")
    expect(columns.nth(3)).to_contain_text("running now")
    expect(columns.nth(3)).to_contain_text("cilium_vxlan wraps the packet")
    panel.get_by_role("button", name="Check", exact=True).click()
    expect(panel.locator(".check-results .pass")).to_contain_text("You compared")
    page.screenshot(path=str(screenshots_dir / "lesson-cni-side-by-side.png"), full_page=True)


def workspace_of(page: Page) -> str:
    found = re.search(r"/w/([^/?#]+)", page.url)
    assert found, page.url
    return found.group(1)


def serious_axe_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page (test_accessibility.py's bar)."""
    violations = Axe().run(page).response["violations"]
    return [
        f"{v['id']}: {v['help']}" for v in violations if v.get("impact") in {"serious", "critical"}
    ]


def api_call(base_url: str, method: str, path: str, **kwargs) -> httpx.Response:
    with httpx.Client(base_url=base_url) as client:
        response = client.request(method, path, **kwargs)
    assert response.status_code < 300, response.text
    return response


def apply(base_url: str, workspace: str, manifest: str) -> None:
    api_call(
        base_url,
        "POST",
        f"/api/v1/workspaces/{workspace}/apply",
        content=manifest,
        headers={"Content-Type": "application/yaml"},
    )


def open_lesson_now(base_url: str, workspace: str) -> str | None:
    return api_call(base_url, "GET", f"/api/v1/workspaces/{workspace}/lessons").json()["active"]


@pytest.mark.browser
def test_one_click_or_the_enter_key_on_the_home_page_starts_a_lesson(page: Page) -> None:
    lesson = CATALOG.get("dns")
    page.goto("/")
    # From the keyboard, as a link was: Tab to the lesson's title, Enter.
    title = page.locator(".lesson-card").nth(4).get_by_role("button", name=lesson.title, exact=True)
    title.focus()
    expect(title).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/w/[^/]+/lessons/dns$"))
    expect(page.locator("#lesson .step-count")).to_have_text(f"Step 1 of {len(lesson.steps)}")
    # "Teach it": one click too, and the lesson opens in presentation mode.
    page.goto("/")
    page.get_by_role("button", name=f"Teach it ({lesson.title}, presentation mode)").click()
    expect(page).to_have_url(re.compile(r"/w/[^/]+/lessons/dns\?present=1$"))
    expect(page.locator("body")).to_have_class("present")
    expect(page.locator("#lesson .step-count")).to_have_text(f"Step 1 of {len(lesson.steps)}")


@pytest.mark.browser
def test_a_link_to_another_lesson_keeps_the_learners_pod_until_they_press_start(
    page: Page, live_server, screenshots_dir: Path
) -> None:
    """A link from anywhere to /w/<id>/lessons/dns once switched the learner's lesson and
    rebuilt the cluster, deleting a pod they had made. Now it shows DNS with a Start button,
    and nothing changes until they press it."""
    page.goto("/")
    page.get_by_role("button", name=CATALOG.lessons[0].title, exact=True).click()
    expect(page.locator("#lesson .step-count")).to_have_text("Step 1 of 3")
    workspace = workspace_of(page)
    apply(live_server.url, workspace, MY_POD)
    mine = page.locator('svg.cluster-map [data-at="pod/default/mine"]')

    page.goto(f"/w/{workspace}/lessons/dns")  # as if from another site
    panel = page.locator("#lesson")
    expect(panel.locator(".lesson-title")).to_have_text("DNS")
    expect(panel.locator(".lesson-outline li")).to_have_count(len(CATALOG.get("dns").steps) + 1)
    effect = panel.locator(".start-effect")
    expect(effect).to_contain_text("rebuilds this sandbox's cluster")
    expect(effect).to_contain_text("pod/mine")
    expect(effect).to_contain_text("Undo, at the top of the page, brings them back.")
    expect(mine).to_have_count(1)
    page.screenshot(path=str(screenshots_dir / "lesson-start-panel-1280x800.png"))
    page.reload()
    expect(mine).to_have_count(1)
    assert open_lesson_now(live_server.url, workspace) == "flat-network"
    # Back, as it was: the open lesson, and the pod.
    panel.get_by_role("link", name="← Back to The flat network").click()
    expect(panel.locator(".step-count")).to_have_text("Step 1 of 3")
    expect(mine).to_have_count(1)

    page.goto("/lessons/dns")  # the lesson's own address, with the cookie: the same panel
    expect(page).to_have_url(re.compile(rf"/w/{workspace}/lessons/dns$"))
    expect(mine).to_have_count(1)
    start = panel.get_by_role("button", name="Start this lesson")
    start.click()
    expect(panel.locator(".step-count")).to_have_text("Step 1 of 4")
    expect(mine).to_have_count(0)
    expect(page).to_have_url(re.compile(rf"/w/{workspace}/lessons/dns$"))
    expect(page).to_have_title("DNS · Lesson 5 · Podpath")
    expect(panel.locator("#step-title")).to_be_focused()  # where a screen reader goes on
    assert open_lesson_now(live_server.url, workspace) == "dns"
    # As the panel said: Undo brings the pod back.
    page.locator("#sandbox-head .history-undo").click()
    expect(mine).to_have_count(1)


@pytest.mark.browser
def test_the_next_lesson_starts_with_one_click_after_the_quiz(page: Page) -> None:
    first, following = CATALOG.lessons[0], CATALOG.lessons[1]
    start_lesson(page, first.slug)
    panel = page.locator("#lesson")
    panel.get_by_role("button", name="Recap and quiz").click()
    expect(panel.locator("#recap-title")).to_be_visible()
    panel.get_by_role("button", name=f"Next lesson: {following.title} →").click()
    expect(panel.locator(".lesson-title")).to_have_text(following.title)
    expect(panel.locator(".step-count")).to_have_text(f"Step 1 of {len(following.steps)}")
    expect(page).to_have_url(re.compile(rf"/w/[^/]+/lessons/{following.slug}$"))
    expect(page).to_have_title(f"{following.title} · Lesson 2 · Podpath")
    # The panel was scrolled down to the quiz: the new lesson shows from its beginning.
    page.wait_for_function("document.getElementById('lesson').scrollTop === 0")
    # The trace bar and the side panel are the new cluster's: client is there, web-a is not.
    options = page.locator("form.trace-bar select[name=from] option")
    expect(options.filter(has_text="client")).not_to_have_count(0)
    expect(options.filter(has_text="web-a")).to_have_count(0)


@pytest.mark.browser
@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)], ids=["1280x800", "1920x1080"])
def test_the_start_page_and_the_panels_start_state_look_finished(
    browser: Browser, live_server, screenshots_dir: Path, size: tuple[int, int]
) -> None:
    width, height = size
    name = f"{width}x{height}"
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": height}
    )
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.goto("/lessons/dns")
    start = page.get_by_role("button", name="Start this lesson")
    expect(start).to_be_visible()
    box = start.bounding_box()
    assert box and box["y"] + box["height"] <= height, "Start is on the first screen"
    page.screenshot(path=str(screenshots_dir / f"lesson-start-page-{name}.png"), full_page=True)
    assert not serious_axe_violations(page)
    # A lesson sandbox with another lesson open and a pod of the learner's, then the link.
    workspace = api_call(live_server.url, "POST", "/api/v1/workspaces", json={}).json()["id"]
    api_call(live_server.url, "POST", f"/api/v1/workspaces/{workspace}/lessons/flat-network/start")
    apply(live_server.url, workspace, MY_POD)
    page.goto(f"/w/{workspace}/lessons/dns")
    panel_start = page.locator("#lesson").get_by_role("button", name="Start this lesson")
    expect(panel_start).to_be_visible()
    page.screenshot(path=str(screenshots_dir / f"lesson-start-panel-{name}.png"))
    assert not serious_axe_violations(page)
    context.close()
    assert not refused, refused
