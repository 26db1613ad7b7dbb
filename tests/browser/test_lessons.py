"""Lessons in Debian's Chromium: every lesson completed with "Show me" and "Check" on every
step and its quiz answered; the lesson list's progress; presentation mode's keys and hidden
answers. (One lesson done by hand, as a learner would: test_lesson_by_hand.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.lessons.catalog import load_catalog

CATALOG = load_catalog()


def complete_by_show_me(page: Page, lesson) -> None:
    page.goto(f"/lessons/{lesson.slug}")
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
    page.goto("/lessons/flat-network")
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
    page.get_by_role("link", name=CATALOG.lessons[1].title, exact=True).click()
    expect(page.locator("#lesson .lesson-title")).to_have_text(CATALOG.lessons[1].title)
    page.get_by_role("button", name="Show me").click()
    expect(page.locator("#lesson .step-done")).to_be_visible()
    page.goto("/")
    card = page.locator(".lesson-card.in-progress")
    expect(card).to_have_count(1)
    expect(card).to_contain_text(f"In progress: 1 of {len(CATALOG.lessons[1].steps)} steps")
    page.screenshot(path=str(screenshots_dir / "home-lessons.png"), full_page=True)
    # Coming back resumes where the learner was.
    card.get_by_role("link", name=CATALOG.lessons[1].title, exact=True).click()
    expect(page.locator("#lesson .step-dot.done")).to_have_count(1)


@pytest.mark.browser
def test_presentation_mode_moves_by_clicker_and_hides_answers_until_revealed(
    page: Page, screenshots_dir: Path
) -> None:
    lesson = CATALOG.lessons[0]
    page.goto(f"/lessons/{lesson.slug}?present=1")
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
    page.goto(f"/lessons/{lesson.slug}")
    panel = page.locator("#lesson")
    side_by_side = [step.id for step in lesson.steps].index("side-by-side")
    for number in range(2, side_by_side + 2):
        panel.get_by_role("button", name="Next →").click()
        expect(panel.locator(".step-count")).to_have_text(f"Step {number} of {len(lesson.steps)}")
    # The skipped steps switched the cluster to Weave Net: the page's head says so.
    expect(page.locator("#sandbox-head select[name=cni]")).to_have_value("weave")
    # As the step says: client in From, web's address in To, then Compare CNIs.
    web_ip = page.locator('svg.cluster-map [data-at="pod/default/web"] .pod-ip').text_content()
    bar = page.locator("form.trace-bar")
    bar.locator("select[name=from]").select_option("pod/default/client")
    bar.locator("input[name=to]").fill(f"http://{(web_ip or '').strip()}/")
    bar.get_by_role("button", name="Compare CNI plugins").click()
    columns = page.locator(".compare-col")
    expect(columns).to_have_count(3)
    expect(columns.nth(0)).to_contain_text("flannel.1 wraps the packet")
    expect(columns.nth(1)).to_contain_text("No tunnel")
    expect(columns.nth(2)).to_contain_text("running now")
    panel.get_by_role("button", name="Check", exact=True).click()
    expect(panel.locator(".check-results .pass")).to_contain_text("You compared")
    page.screenshot(path=str(screenshots_dir / "lesson-cni-side-by-side.png"), full_page=True)
