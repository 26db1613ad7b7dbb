"""A class in real browsers: one instructor and several students, each in their own browser
context (their own cookies), one of them on a phone-sized screen.

Covered: starting a class, joining by code and by the QR code's link, following the
teacher's step and trace hop by hop, stopping and resuming following, the dashboard showing
a failing Check and a stuck student live, hints to one student and to all, the quiz
histogram, the CSV export, and a student's attempts to reach the instructor's pages.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.lessons.catalog import load_catalog

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (
        f"{width} px of content in a {page.viewport_size['width']} px screen"
    )


def start_class(teacher: Page, lesson: str) -> tuple[str, str]:
    teacher.goto("/classes/new")
    teacher.get_by_label("Lesson").select_option(lesson)
    teacher.locator("form.class-start").first.get_by_role("button", name="Start the class").click()
    expect(teacher.get_by_role("heading", name="Students")).to_be_visible()
    assert "key=" not in teacher.url  # the key went into a cookie
    code = teacher.locator(".dashboard-head .class-badge").inner_text().removeprefix("Class ")
    return teacher.url.rstrip("/").rsplit("/", 1)[1], code


def join(page: Page, code: str, name: str, typed: bool = True) -> None:
    if typed:
        page.goto("/join")
        page.get_by_label("The join code on the projector").fill(code.lower())
        page.get_by_role("button", name="Next").click()
    else:
        page.goto(f"/join/{code.replace('-', '')}")  # what the QR code opens
    page.get_by_label("Your name, as the class will see it").fill(name)
    page.get_by_role("button", name="Join").click()
    expect(page.locator(".class-who")).to_contain_text(f"You are {name}")


def student_row(dashboard: Page, name: str):
    return dashboard.locator(f'tr[data-student="{name}"]')


def test_a_class_with_an_instructor_and_three_students(
    pages, screenshots_dir: Path, tmp_path: Path
) -> None:
    dashboard = pages()
    class_id, code = start_class(dashboard, "services")
    dashboard.screenshot(path=str(screenshots_dir / "class-dashboard-empty.png"), full_page=True)

    ana, cy = pages(), pages()
    ben = pages(**PHONE)
    join(ana, code, "Ana")
    join(ben, code, "Ben", typed=False)
    no_sideways_scroll(ben)
    join(cy, code, "Cy")
    for name in ("Ana", "Ben", "Cy"):
        expect(student_row(dashboard, name)).to_contain_text("1. Make the Service")

    # The instructor teaches from their own sandbox, in another tab of the same browser.
    teacher = dashboard.context.new_page()
    teacher.goto(f"/classes/{class_id}")
    teacher.get_by_role("link", name="Open my sandbox to teach").click()
    expect(teacher.locator(".class-who")).to_contain_text("you are teaching")

    # Cy works on their own; Ana and Ben follow.
    cy.get_by_role("button", name="Stop following").click()
    expect(cy.locator(".following-off")).to_have_text("Working on your own")
    expect(student_row(dashboard, "Cy")).to_contain_text("on their own")

    teacher.get_by_title("Step 2: Follow a request").click()
    for student in (ana, ben):
        expect(student.locator(".lesson")).to_have_attribute("data-step", "1")
    expect(cy.locator(".lesson")).to_have_attribute("data-step", "0")

    # The teacher's trace plays on each follower's own cluster, at the teacher's hop.
    teacher.locator("#trace-bar select[name=from]").select_option("pod/default/client")
    teacher.locator("#trace-bar input[name=to]").fill("http://web/")
    teacher.get_by_role("button", name="Trace it").click()
    expect(teacher.locator("#trace-result [data-trace-player]")).to_be_visible()
    for student in (ana, ben):
        expect(student.locator("#trace-result [data-trace-player]")).to_be_visible()
    teacher.locator("#trace-result [data-hop-index='3']").click()
    for student in (ana, ben):
        expect(student.locator("#trace-result [data-trace-player]")).to_have_attribute(
            "data-current-hop", "3"
        )
    expect(cy.locator("#trace-result [data-trace-player]")).to_have_count(0)
    no_sideways_scroll(ben)
    ben.screenshot(path=str(screenshots_dir / "class-phone-following.png"), full_page=True)
    teacher.screenshot(path=str(screenshots_dir / "class-teacher.png"))
    ana.screenshot(path=str(screenshots_dir / "class-student.png"))

    # Ana fails the step's Check again and again: the dashboard says so, without a reload.
    for _ in range(3):
        with ana.expect_response(lambda r: r.url.endswith("/check")):
            ana.get_by_role("button", name="Check").first.click()
    row = student_row(dashboard, "Ana")
    expect(row).to_have_class(re.compile("is-stuck"))
    expect(row.locator(".stuck-flag")).to_contain_text("failed 3 times in a row")
    expect(row.locator(".last-failure")).not_to_be_empty()

    # A hint for Ana alone, then one for everyone.
    dashboard.get_by_label("To").fill("Ana")
    dashboard.get_by_role("textbox", name="Hint").fill(
        "Read the Check's message: which step does it name?"
    )
    dashboard.get_by_role("button", name="Send").click()
    expect(dashboard.locator(".sent")).to_contain_text("Sent to Ana")
    expect(ana.locator(".class-hint")).to_contain_text("which step does it name?")
    dashboard.get_by_label("To").fill("")
    dashboard.get_by_role("textbox", name="Hint").fill("Five minutes left on this step.")
    dashboard.get_by_role("button", name="Send").click()
    expect(ben.locator(".class-hint")).to_contain_text("Five minutes left")
    expect(ben.locator(".class-hint")).to_have_count(1)  # Ana's hint never reached Ben

    # Cy goes to the quiz on their own and answers it: the histogram counts the answers.
    cy.get_by_title("Recap and quiz").click()
    expect(cy.locator("fieldset.quiz-question")).to_have_count(3)
    for question in cy.locator("fieldset.quiz-question").all():
        question.locator("input[type=radio]").first.check()
    cy.get_by_role("button", name="Answer", exact=True).click()
    expect(dashboard.locator(".quiz-question").first).to_contain_text("1 answered")
    dashboard.screenshot(path=str(screenshots_dir / "class-dashboard.png"), full_page=True)

    # Cy follows again and catches up at once.
    cy.get_by_role("button", name="Follow the teacher again").click()
    expect(cy.locator(".lesson")).to_have_attribute("data-step", "1")

    # The export: one row per student and step, and a quiz row each.
    with dashboard.expect_download() as download:
        dashboard.get_by_role("link", name="Export CSV").click()
    saved = tmp_path / "class.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert {r["student"] for r in rows} == {"Ana", "Ben", "Cy"}
    steps = len(load_catalog().get("services").steps)
    assert len(rows) == 3 * (steps + 1)
    ana_first = next(r for r in rows if r["student"] == "Ana" and r["step"] == "1")
    assert ana_first["status"] == "done" and ana_first["solution_shown"] == "yes"

    # The projected join screen.
    screen = dashboard.context.new_page()
    screen.goto(f"/classes/{class_id}/join-screen")
    expect(screen.locator(".join-code")).to_have_text(code)
    expect(screen.locator(".join-qr svg")).to_be_visible()
    screen.screenshot(path=str(screenshots_dir / "class-join-screen.png"))


def test_a_student_cannot_reach_the_instructors_pages(pages) -> None:
    dashboard = pages()
    class_id, code = start_class(dashboard, "services")
    ana = pages()
    join(ana, code, "Ana")
    seat = dashboard.locator('tr[data-student="Ana"] a').get_attribute("href")
    # Guessing the URLs: the dashboard, a student's sandbox, the export, the join screen.
    for path in (f"/classes/{class_id}", seat, f"/classes/{class_id}/export.csv"):
        answer = ana.goto(path)
        assert answer.status == 403, path
        expect(ana.locator("body")).to_contain_text("this page is for the class")
    # Replaying the instructor's requests without the key.
    for path, form in (
        (f"/classes/{class_id}/hint", {"hint": "fake"}),
        (f"/classes/{class_id}/push", {}),
        (f"/classes/{class_id}/hop", {"trace": "1", "hop": "1"}),
    ):
        assert ana.request.post(path, form=form).status == 403, path
    # The dashboard names no student's sandbox, and a student's page names no other's.
    ben = pages()
    join(ben, code, "Ben")
    ben_sandbox = ben.url.split("/")[4]
    dashboard.reload()
    assert ben_sandbox not in dashboard.content()
    ana.goto(ana.url)
    assert ben_sandbox not in ana.content()


def test_the_join_pages_fit_a_phone(pages, screenshots_dir: Path) -> None:
    dashboard = pages()
    _, code = start_class(dashboard, "services")
    phone = pages(**PHONE)
    phone.goto("/join")
    no_sideways_scroll(phone)
    phone.get_by_label("The join code on the projector").fill("nope")
    phone.get_by_role("button", name="Next").click()
    expect(phone.locator(".form-error")).to_contain_text("six letters and digits")
    phone.goto(f"/join/{code.replace('-', '')}")
    no_sideways_scroll(phone)
    phone.screenshot(path=str(screenshots_dir / "class-phone-join.png"))
    phone.get_by_role("button", name="Join").click()  # no name: the browser asks for one
    expect(phone.get_by_label("Your name, as the class will see it")).to_be_focused()
