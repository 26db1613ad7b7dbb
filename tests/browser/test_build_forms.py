"""Building by form in a real browser: a Deployment and a Service made with the Build tab's
forms appear on the map, the selector preview counts the pods as the learner types, and a
rejected form keeps what was typed. The screenshot goes to artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect


def open_sandbox(page: Page) -> str:
    page.goto("/")
    page.get_by_role("button", name="Open a new sandbox").click()
    page.wait_for_url("**/w/**")
    return page.url.split("/w/")[1].split("?")[0]


def test_a_deployment_and_a_service_by_form(page: Page, screenshots_dir: Path) -> None:
    open_sandbox(page)
    deployment = page.locator('form[action$="/build/deployment"]')
    expect(deployment).to_be_visible()  # the Deployment form is open from the start

    # A mistake first: the error shows where the learner is looking, the typing stays.
    deployment.get_by_label("Name", exact=True).fill("Web")
    deployment.get_by_label(re.compile("^Labels")).fill("app=web")
    deployment.get_by_role("button", name="Create Deployment").click()
    error = page.locator(".build-form .error-box")
    expect(error).to_contain_text("metadata.name")
    deployment = page.locator('form[action$="/build/deployment"]')
    expect(deployment.get_by_label("Name", exact=True)).to_have_value("Web")
    expect(deployment.get_by_label(re.compile("^Labels"))).to_have_value("app=web")

    deployment.get_by_label("Name", exact=True).fill("web")
    deployment.get_by_role("button", name="Create Deployment").click()
    expect(page.locator(".build-form .applied")).to_contain_text("deployment/web created")
    pods = page.locator('svg.cluster-map [data-kind="Pod"][data-name^="web-"]')
    expect(pods).to_have_count(2)

    page.locator("summary", has_text="Service").click()
    service = page.locator('form[action$="/build/service"]')
    service.get_by_label("Name", exact=True).fill("web")
    service.locator("select[name=type]").select_option("NodePort")
    selector = service.get_by_label(re.compile("^Selector"))
    selector.press_sequentially("app=api")
    preview = page.locator("#svc-preview")
    expect(preview).to_contain_text("matches no pod; pods in default are labelled app=web")
    selector.fill("app=web")
    expect(preview).to_contain_text("matches 2 pods")
    page.screenshot(path=screenshots_dir / "build-forms.png", full_page=True)
    service.get_by_label(re.compile("^Target port")).fill("http")
    service.get_by_role("button", name="Create Service").click()
    expect(page.locator(".build-form .applied")).to_contain_text("service/web created")
    expect(page.locator('svg.cluster-map [data-kind="Service"][data-name="web"]')).to_have_count(1)
    expect(pods).to_have_count(2)

    # The panel stays usable by keyboard: the Scale form is reachable and works.
    page.locator("summary", has_text="Scale").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Scale: web").focus()
    scale = page.locator('form[action$="/build/scale"]').first
    scale.locator('input[name="replicas"]').fill("3")
    page.get_by_role("button", name="Scale: web").press("Enter")
    expect(page.locator(".build-form .applied")).to_contain_text("deployment.apps/web scaled to 3")
    expect(pods).to_have_count(3)

    page.locator("summary", has_text="Nodes").click()
    page.get_by_role("button", name="Add a worker").click()
    expect(page.locator(".build-form .applied")).to_contain_text("node/worker-3 joined")
    expect(page.get_by_role("button", name="Remove: worker-3")).to_be_visible()
    page.screenshot(path=screenshots_dir / "build-forms-nodes.png", full_page=True)
