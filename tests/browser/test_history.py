"""Undo and redo in a real browser: the key u brings a deleted pod back on the map, under its
own name, and the Undo button names each change; Shift+U redoes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.scenario import WEB


@pytest.fixture(autouse=True)
def accept_dialogs(page: Page) -> None:
    page.on("dialog", lambda dialog: dialog.accept())


def pod_on_map(page: Page, name: str):
    return page.locator(f'svg.cluster-map [data-kind="Pod"][data-name="{name}"]')


def test_u_undoes_a_pod_deletion_and_shift_u_redoes_it(page: Page, screenshots_dir: Path) -> None:
    page.goto("/")
    page.get_by_role("button", name="Open a new sandbox").click()
    page.wait_for_url("**/w/**")
    undo = page.locator("#history button.history-undo")
    redo = page.locator("#history button.history-redo")
    expect(undo).to_be_disabled()

    page.get_by_role("link", name="YAML", exact=True).click()
    page.fill("#manifest", WEB)
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".applied")).to_contain_text("deployment/web created")
    # The head's buttons were fetched again after the change: Undo names it.
    expect(undo).to_have_attribute(
        "title", "Undo: deployment.apps/web created, pod/client created and 1 more (key u)"
    )

    pod = page.locator('svg.cluster-map [data-kind="Pod"][data-name^="web-"]').first
    name = pod.get_attribute("data-name")
    pod.click()
    page.get_by_role("button", name=f"Delete pod {name}").click()  # hx-confirm: accepted
    expect(page.locator(".applied")).to_contain_text(f"pod/{name} deleted")
    expect(pod_on_map(page, name)).to_have_count(0)
    expect(undo).to_have_attribute("title", f"Undo: pod default/{name} deleted (key u)")

    # Typing a u into a field types it; it does not undo.
    page.get_by_role("link", name="YAML", exact=True).click()
    page.locator("#manifest").press("u")
    expect(page.locator("#manifest")).to_have_value("u")
    expect(undo).to_have_attribute("title", f"Undo: pod default/{name} deleted (key u)")
    page.evaluate("document.activeElement && document.activeElement.blur()")

    page.keyboard.press("u")
    expect(pod_on_map(page, name)).to_have_count(1)  # the same pod, back on the map
    expect(page.locator(".applied")).to_contain_text(f"Undone: pod default/{name} deleted")
    expect(redo).to_be_enabled()
    expect(redo).to_have_attribute("title", f"Redo: pod default/{name} deleted (Shift+U)")
    expect(undo).to_contain_text("Undo")
    expect(undo).to_have_attribute(
        "title", "Undo: deployment.apps/web created, pod/client created and 1 more (key u)"
    )
    expect(redo).to_be_visible()  # a long label gives way, never the Redo button
    page.locator("#history summary").click()
    undone = page.locator("#history li.undone")
    expect(undone).to_be_visible()
    expect(undone).to_contain_text(f"pod default/{name} deleted")
    page.screenshot(path=screenshots_dir / "sandbox-undo.png")
    page.locator("#history summary").click()

    page.keyboard.press("Shift+U")
    expect(pod_on_map(page, name)).to_have_count(0)
    expect(page.locator(".applied")).to_contain_text(f"Redone: pod default/{name} deleted")
    expect(undo).to_have_attribute("title", f"Undo: pod default/{name} deleted (key u)")
    expect(redo).to_be_disabled()

    # The Undo button works by click too, and a reload shows the same state (it was saved).
    undo.click()
    expect(pod_on_map(page, name)).to_have_count(1)
    page.reload()
    expect(pod_on_map(page, name)).to_have_count(1)
    expect(page.locator("#history button.history-redo")).to_be_enabled()
