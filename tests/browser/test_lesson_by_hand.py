"""A learner does "Services and the ClusterIP" by hand, the way the lesson asks: a Service
made with the Build form (with the wrong selector first, so Check says what is wrong), fixed
with YAML, traces from the Trace tab, the chain name read off the Rules tab, a pod deleted
from the map, the ClusterIP read from the Objects tab, and the quiz answered. Screenshots of
each stage are saved under artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.lessons.catalog import load_catalog

LESSON = load_catalog().get("services")
FIXED_SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 80
      targetPort: 80
"""


@pytest.fixture(autouse=True)
def accept_dialogs(page: Page) -> None:
    page.on("dialog", lambda dialog: dialog.accept())


def check(page: Page) -> None:
    page.locator("#lesson").get_by_role("button", name="Check", exact=True).click()


def trace(page: Page, source: str, target: str) -> None:
    """As the lesson says: the trace bar above the map."""
    form = page.locator("form.trace-bar")
    form.locator('select[name="from"]').select_option(source)
    form.locator('input[name="to"]').fill(target)
    form.get_by_role("button", name="Trace it").click()
    expect(page.locator("#trace-result [data-trace-player]")).to_contain_text(target.split("/")[2])


@pytest.mark.browser
def test_a_learner_completes_the_services_lesson_by_hand(page: Page, screenshots_dir: Path) -> None:
    lesson_panel = page.locator("#lesson")
    page.goto("/")
    page.get_by_role("button", name=LESSON.title, exact=True).click()  # starts it (a POST)
    expect(lesson_panel.locator(".step-count")).to_have_text(f"Step 1 of {len(LESSON.steps)}")
    page.screenshot(path=str(screenshots_dir / "by-hand-1-start.png"), full_page=True)

    # Step 1: a Service from the Build form, with the selector a learner might guess first.
    # At 1280 px the lesson folds the panel to a rail beside the stage: unfold it.
    expect(page.locator("#panel")).to_be_hidden()
    page.locator("#panel-toggle").click()
    page.locator("#panel").get_by_role("link", name="Build", exact=True).click()
    page.locator("summary", has_text="Service").click()
    service = page.locator('form[action$="/build/service"]')
    service.get_by_label("Name", exact=True).fill("web")
    service.get_by_label(re.compile("^Selector")).fill("app=frontend")
    service.get_by_label(re.compile("^Target port")).fill("80")
    service.get_by_role("button", name="Create Service").click()
    expect(page.locator(".build-form .applied")).to_contain_text("service/web created")
    check(page)
    failure = lesson_panel.locator(".check-results .fail")
    # The Check traces the Service and names the cause: the selector, and the labels pods have.
    expect(failure.first).to_contain_text(
        "its selector app=frontend (spec.selector) matches no pod"
    )
    expect(failure.first).to_contain_text("app=web")
    page.screenshot(path=str(screenshots_dir / "by-hand-2-wrong-selector.png"), full_page=True)
    # Fixed by YAML, as kubectl apply would.
    page.locator("#panel").get_by_role("link", name="YAML", exact=True).click()
    page.locator("#manifest").fill(FIXED_SERVICE)
    page.locator("#panel").get_by_role("button", name="Apply").click()
    expect(page.locator("#panel .applied")).to_contain_text("service/web configured")
    check(page)
    expect(lesson_panel.locator(".check-results .fail")).to_have_count(0)
    expect(lesson_panel.locator(".step-done")).to_be_visible()
    lesson_panel.get_by_role("button", name="Next →").click()

    # Step 2: the learner's own trace through the ClusterIP.
    expect(lesson_panel.locator(".step-count")).to_have_text(f"Step 2 of {len(LESSON.steps)}")
    check(page)
    expect(lesson_panel.locator(".check-results .fail")).to_contain_text("not run a trace")
    trace(page, "pod/default/client", "http://web/")
    check(page)
    expect(lesson_panel.locator(".check-results .pass")).to_contain_text("You traced")
    page.screenshot(path=str(screenshots_dir / "by-hand-3-trace.png"), full_page=True)
    lesson_panel.get_by_role("button", name="Next →").click()

    # Step 3: the KUBE-SVC chain, read off the Rules tab.
    expect(lesson_panel.locator(".step-count")).to_have_text(f"Step 3 of {len(LESSON.steps)}")
    page.locator("#panel").get_by_role("link", name="Rules", exact=True).click()
    rules = page.locator("pre.rules").inner_text()
    chain = re.search(r"default/web cluster IP.*-j (KUBE-SVC-[A-Z0-9]{16})", rules).group(1)
    lesson_panel.get_by_label(LESSON.steps[2].question).fill("KUBE-SVC-WRONGWRONGWRONG1")
    check(page)
    expect(lesson_panel.locator(".check-results .fail")).to_contain_text(
        "is not web's KUBE-SVC chain"
    )
    lesson_panel.get_by_label(LESSON.steps[2].question).fill(chain)
    check(page)
    expect(lesson_panel.locator(".check-results .pass")).to_contain_text("is right")
    lesson_panel.get_by_role("button", name="Next →").click()

    # Step 4: the EndpointSlice, read in the Terminal as kubectl prints it.
    expect(lesson_panel.locator(".step-count")).to_have_text(f"Step 4 of {len(LESSON.steps)}")
    check(page)
    expect(lesson_panel.locator(".check-results .fail")).to_contain_text(
        "kubectl get endpointslices -l kubernetes.io/service-name=web"
    )
    page.locator("#panel").get_by_role("link", name="Terminal", exact=True).click()
    terminal = page.locator("#terminal-input")
    expect(terminal).to_be_visible()
    terminal.fill("kubectl get endpointslices --selector kubernetes.io/service-name=web")
    terminal.press("Enter")  # the same command as the step's, written another way
    expect(page.locator("#terminal-screen")).to_contain_text("ENDPOINTS")
    check(page)
    expect(lesson_panel.locator(".check-results .fail")).to_have_count(0)
    expect(lesson_panel.locator(".step-done")).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "by-hand-4-terminal.png"), full_page=True)
    lesson_panel.get_by_role("button", name="Next →").click()

    # Step 5: delete a web pod from the map, see it replaced, trace again.
    expect(lesson_panel.locator(".step-count")).to_have_text(f"Step 5 of {len(LESSON.steps)}")
    pod = page.locator('svg.cluster-map [data-kind="Pod"][data-name^="web-"]').first
    name = pod.get_attribute("data-name")
    pod.click()
    page.get_by_role("button", name=f"Delete pod {name}").click()
    expect(page.locator(".applied")).to_contain_text(f"pod/{name} deleted")
    trace(page, "pod/default/client", "http://web/")
    check(page)
    expect(lesson_panel.locator(".check-results .pass")).to_have_count(2)
    page.screenshot(path=str(screenshots_dir / "by-hand-5-replaced.png"), full_page=True)
    lesson_panel.get_by_role("button", name="Next →").click()

    # Step 6: the ClusterIP from the Objects tab, on a port the Service does not expose.
    expect(lesson_panel.locator(".step-count")).to_have_text(f"Step 6 of {len(LESSON.steps)}")
    page.locator("#panel").get_by_role("link", name="Objects", exact=True).click()
    row = page.locator("#panel tr", has=page.locator("td", has_text=re.compile("^web$")))
    cluster_ip = row.first.locator("td").nth(3).inner_text()
    trace(page, "pod/default/client", f"http://{cluster_ip}:8080/")
    check(page)
    expect(lesson_panel.locator(".check-results .pass")).to_have_count(1)
    lesson_panel.get_by_role("button", name="Next →").click()

    # The quiz: one wrong answer, the rest right; every explanation shows.
    expect(lesson_panel.locator("#recap-title")).to_be_visible()
    for q, question in enumerate(LESSON.quiz):
        right = next(i for i, c in enumerate(question.choices) if c.correct)
        pick = (right + 1) % len(question.choices) if q == 0 else right
        lesson_panel.locator(f'input[name="q{q}"][value="{pick}"]').check()
    lesson_panel.get_by_role("button", name="Answer", exact=True).click()
    expect(lesson_panel.locator(".quiz-score")).to_contain_text(
        f"{len(LESSON.quiz) - 1} of {len(LESSON.quiz)} right. Lesson complete."
    )
    expect(lesson_panel.locator(".quiz-verdict.wrong")).to_have_count(1)
    expect(lesson_panel.locator(".why").first).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "by-hand-6-quiz.png"), full_page=True)
    page.goto("/")
    expect(page.locator(".lesson-card.complete")).to_contain_text(LESSON.title)
