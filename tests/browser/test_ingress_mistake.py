"""The port-8080 mistake in the Ingress lesson (issue 10), as a learner makes it: an Ingress
whose api backend names the container's port (8080) instead of the Service's (80). The trace
from outside names the cause (the Ingress, its field, 8080, and that Service default/api has
no port 8080, only 80); the verdict's link opens the Ingress's YAML in the panel with that
line highlighted and in view; the learner fixes it there with Edit as YAML, traces again and
the step's Check passes. Screenshots: artifacts/screenshots/ingress-mistake-*.png."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from app.lessons.catalog import load_catalog
from tests.browser.test_point_at_line import in_view
from tests.browser.test_stage import trace_from_bar

LESSON = load_catalog().get("ingress")
STEP = next(step for step in LESSON.steps if step.id == "paths")
FIELD = "spec.rules[0].http.paths[0].backend.service.port.number"
#: The step's Ingress, with the container's port where the Service's belongs.
WRONG = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
spec:
  ingressClassName: nginx
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /api
            pathType: Prefix
            backend:
              service:
                name: api
                port:
                  number: 8080
          - path: /web
            pathType: Prefix
            backend:
              service:
                name: web
                port:
                  number: 80
"""
URL = "http://shop.example.com/api"


@pytest.fixture(autouse=True)
def accept_dialogs(page: Page) -> None:
    page.on("dialog", lambda dialog: dialog.accept())


def shot(page: Page, screenshots_dir: Path, name: str) -> None:
    page.screenshot(path=str(screenshots_dir / f"ingress-mistake-{name}.png"))


def check(page: Page) -> None:
    page.locator("#lesson").get_by_role("button", name="Check", exact=True).click()


def click_where_it_reads_show(page: Page, link: Locator) -> None:
    """Click the link's first line (its word "Show"), as a learner would: Playwright's own
    click scrolls the whole link into view, and a long field name can make that scroll the
    trace column sideways."""
    expect(link).to_be_visible()
    x, y, width, height = link.evaluate(
        "a => { const r = a.getClientRects()[0]; return [r.x, r.y, r.width, r.height]; }"
    )
    page.mouse.click(x + min(width, 30) / 2, y + height / 2)


def test_the_port_8080_mistake_is_named_pointed_at_and_fixed_in_the_ingress_lesson(
    page: Page, screenshots_dir: Path
) -> None:
    lesson = page.locator("#lesson")
    panel = page.locator("#panel")
    page.goto(f"/lessons/{LESSON.slug}")
    page.get_by_role("button", name="Start this lesson").click()  # a link only shows it
    expect(lesson.locator(".lesson-title")).to_have_text(LESSON.title)

    # The step where the learner writes the Ingress, picked from the lesson's step buttons.
    number = LESSON.steps.index(STEP) + 1
    lesson.get_by_role("button", name=f"Step {number}: {STEP.title}").click()
    expect(lesson.locator(".step-count")).to_have_text(f"Step {number} of {len(LESSON.steps)}")
    expect(lesson.locator("#step-title")).to_contain_text(STEP.title)
    expect(lesson.locator(".task-text")).to_contain_text("http://shop.example.com/api")

    # At 1280x800 a lesson starts with the panel folded: unfold it, write the Ingress in YAML.
    expect(panel).to_be_hidden()
    page.locator("#panel-toggle").click()
    expect(panel).to_be_visible()
    panel.get_by_role("link", name="YAML", exact=True).click()
    page.locator("#manifest").fill(WRONG)
    panel.get_by_role("button", name="Apply").click()
    expect(panel.locator(".applied")).to_contain_text("ingress/shop created")
    shot(page, screenshots_dir, "1-applied")

    # The trace the step asks for, from the trace bar: a browser outside to the api path.
    trace_from_bar(page, "external", URL)
    verdict = page.locator("#trace-result .trace-verdict")
    expect(verdict).to_contain_text("503")
    expect(verdict).to_contain_text("Ingress default/shop")
    expect(verdict).to_contain_text(f"{FIELD} is 8080")
    expect(verdict).to_contain_text("Service default/api has no port 8080 (its ports: 80)")
    expect(verdict).not_to_contain_text("no ready endpoints")
    link = verdict.get_by_role("link", name=f"Show {FIELD} in Ingress default/shop")
    expect(link).to_be_visible()
    # The stage clamps the reason to a line or two; hovering or focusing it shows it whole.
    verdict.locator(".verdict-reason").focus()
    shot(page, screenshots_dir, "2-verdict")

    # Check before fixing: it says what the trace shows, not only "not it".
    check(page)
    failure = lesson.locator(".check-results .fail")
    expect(failure.first).to_be_visible()
    expect(lesson.locator(".step-done")).to_have_count(0)

    # The link opens the Ingress's YAML in the panel, the port's line highlighted and in view.
    click_where_it_reads_show(page, link)
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Ingress default/shop")
    expect(panel.locator("details.yaml")).to_have_attribute("open", "")
    hit = panel.locator("#yaml-hit")
    expect(hit).to_have_text(re.compile(r"^\s*number: 8080$"), use_inner_text=True)
    expect(panel.locator("pre.yaml-lines .hit")).to_have_count(1)
    expect(hit).to_be_in_viewport()
    assert in_view(page, "#yaml-hit"), "the highlighted line is scrolled out of sight"
    background = hit.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), background
    shot(page, screenshots_dir, "3-highlighted-line")

    # Fixed there: Edit as YAML, 8080 -> 80, Apply.
    panel.get_by_role("link", name="Edit as YAML").click()
    editor = panel.locator("textarea#manifest")
    expect(editor).to_contain_text("number: 8080")
    fixed = re.sub(r"number: 8080\b", "number: 80", editor.input_value())
    assert fixed != editor.input_value() and "8080" not in fixed
    editor.fill(fixed)
    panel.get_by_role("button", name="Apply").click()
    applied = panel.locator(".applied")
    expect(applied).to_contain_text("ingress/shop configured")
    applied.scroll_into_view_if_needed()
    shot(page, screenshots_dir, "4-fixed")

    # The same trace now reaches an api pod, and the step's Check passes.
    trace_from_bar(page, "external", URL)
    verdict = page.locator("#trace-result .trace-verdict")
    expect(verdict).to_contain_text("Delivered")
    expect(verdict).not_to_contain_text("503")
    expect(verdict.get_by_role("link", name="Show", exact=False)).to_have_count(0)
    check(page)
    expect(lesson.locator(".check-results .pass")).to_have_count(len(STEP.checks))
    expect(lesson.locator(".check-results .fail")).to_have_count(0)
    expect(lesson.locator(".step-done")).to_be_visible()
    lesson.locator(".step-done").scroll_into_view_if_needed()
    shot(page, screenshots_dir, "5-check-passes")
