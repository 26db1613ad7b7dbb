"""The NetworkPolicy lesson (issue 14) in Debian's Chromium: completed with "Show me" and
"Check" on every step and its quiz answered; and its first steps done by hand, as a learner
would: the default deny written in the YAML tab, the drop read off the trace, the AND/OR
mistake traced from crawler; screenshots of the lesson at 1280x800 and in presentation mode at
1920x1080 under artifacts/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from app.lessons.catalog import load_catalog
from tests.browser.test_lessons import complete_by_show_me, start_lesson

LESSON = load_catalog().get("network-policy")
DEFAULT_DENY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: backend
spec:
  podSelector: {}
"""


def check(page: Page) -> None:
    page.locator("#lesson").get_by_role("button", name="Check", exact=True).click()


def trace(page: Page, source: str, target: str) -> None:
    form = page.locator("form.trace-bar")
    form.locator('select[name="from"]').select_option(source)
    form.locator('input[name="to"]').fill(target)
    form.get_by_role("button", name="Trace it").click()
    expect(page.locator("#trace-result [data-trace-player]")).to_contain_text(target.split("/")[2])


@pytest.mark.browser
def test_the_network_policy_lesson_can_be_completed_with_show_me_and_check(page: Page) -> None:
    complete_by_show_me(page, LESSON)


@pytest.mark.browser
def test_a_learner_denies_by_default_then_finds_the_or_mistake(
    page: Page, screenshots_dir: Path
) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    start_lesson(page, LESSON.slug)
    panel = page.locator("#lesson")
    # Step 1 by hand: the policy without policyTypes (Kubernetes sets Ingress), from YAML.
    expect(page.locator("#panel")).to_be_hidden()
    page.locator("#panel-toggle").click()
    page.locator("#panel").get_by_role("link", name="YAML", exact=True).click()
    page.locator("#manifest").fill(DEFAULT_DENY)
    page.locator("#panel").get_by_role("button", name="Apply").click()
    expect(page.locator("#panel .applied")).to_contain_text("networkpolicy")
    check(page)
    # Not traced yet: the Check says so, and the policy already drops both requests.
    expect(panel.locator(".check-results .pass")).to_have_count(1)
    expect(panel.locator(".check-results .fail")).to_contain_text("not run a trace")
    trace(page, "pod/frontend/ui", "http://api.backend/")
    result = page.locator("#trace-result")
    expect(result).to_contain_text("Dropped")
    expect(result).to_contain_text("isolated for ingress")
    page.screenshot(path=str(screenshots_dir / "lesson-network-policy-drop-1280x800.png"))
    check(page)
    expect(panel.locator(".check-results .fail")).to_have_count(0)
    panel.get_by_role("button", name="Next →").click()

    # Step 2 shown; step 3: the teammate's two peers let crawler in.
    panel.get_by_role("button", name="Show me").click()
    expect(panel.locator(".step-done")).to_be_visible()
    panel.get_by_role("button", name="Next →").click()
    expect(panel.locator(".step-count")).to_have_text(f"Step 3 of {len(LESSON.steps)}")
    trace(page, "pod/frontend/crawler", "http://api.backend/")
    expect(result).to_contain_text("Delivered")
    check(page)
    failure = panel.locator(".check-results .fail")
    expect(failure).to_have_count(1)
    expect(failure).to_contain_text("from frontend/crawler")
    expect(panel.locator(".check-results .pass")).to_contain_text("You traced")
    page.screenshot(path=str(screenshots_dir / "lesson-network-policy-and-or-1280x800.png"))


@pytest.mark.browser
def test_the_dns_drop_reads_on_a_projector(
    browser: Browser, live_server, screenshots_dir: Path
) -> None:
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1920, "height": 1080}
    )
    page = context.new_page()
    start_lesson(page, LESSON.slug, present=True)
    panel = page.locator("#lesson")
    deny_egress = [step.id for step in LESSON.steps].index("deny-egress")
    for number in range(2, deny_egress + 2):
        panel.get_by_role("button", name="Next →").click()
        expect(panel.locator(".step-count")).to_have_text(f"Step {number} of {len(LESSON.steps)}")
    panel.get_by_role("button", name="Show me").click()
    result = page.locator("#trace-result")
    expect(result).to_contain_text("Dropped")
    expect(result).to_contain_text("DNS lookup of api.backend never gets an answer")
    page.screenshot(path=str(screenshots_dir / "lesson-network-policy-dns-present-1920x1080.png"))
    context.close()
