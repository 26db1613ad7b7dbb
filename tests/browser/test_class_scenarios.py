""" "Open for a class" in a real browser: pick a ready scenario on the home page, by keyboard,
and land in presentation mode on its cluster, with its first request in the address.
The home page's screenshot goes to artifacts/screenshots/home-scenarios.png."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.sync_api import Page, expect

from app.cluster.scenarios import BY_NAME


def test_home_page_offers_every_scenario_with_its_description(
    page: Page, live_server, screenshots_dir: Path
) -> None:
    page.goto("/")
    group = page.get_by_role("group", name="Teaching? Open a ready scenario for a class")
    radios = group.get_by_role("radio")
    expect(radios).to_have_count(len(BY_NAME))
    for scenario in BY_NAME.values():
        radio = group.get_by_role("radio", name=scenario.title)
        expect(radio).to_have_attribute("value", scenario.name)
        expect(radio).to_have_accessible_description(re.compile(re.escape(scenario.description)))
    expect(radios.first).to_be_checked()
    # At 1280×800 the whole picker, its button included, is on screen without scrolling.
    button = page.get_by_role("button", name="Open for a class").bounding_box()
    assert button and button["y"] + button["height"] <= 800, button
    page.screenshot(path=screenshots_dir / "home-scenarios.png")
    page.screenshot(path=screenshots_dir / "home-scenarios-full.png", full_page=True)


def test_a_scenario_picked_by_keyboard_opens_in_presentation_mode_ready_to_trace(
    page: Page, live_server
) -> None:
    nodeport = BY_NAME["nodeport-policies"]
    page.goto("/")
    first = page.get_by_role("radio", name=BY_NAME["web-service"].title)
    first.focus()
    # Arrow keys move through a radio group; the third choice is the NodePort one.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("radio", name=nodeport.title)).to_be_checked()
    page.get_by_role("button", name="Open for a class").click()
    page.wait_for_url("**/w/**")

    expect(page.locator("body")).to_have_class("present")
    query = parse_qs(urlsplit(page.url).query)
    request = nodeport.requests[0]
    assert query == {"present": ["1"], "from": [request.source], "to": [request.to]}
    workspace = urlsplit(page.url).path.removeprefix("/w/")

    # The map shows the scenario's pods, all of them on worker-1.
    pods = httpx.get(
        f"{live_server.url}/api/v1/workspaces/{workspace}/objects?kind=Pod&namespace=default"
    ).json()["items"]
    assert len(pods) == 2 and {p["spec"]["nodeName"] for p in pods} == {"worker-1"}
    for pod in pods:
        expect(
            page.locator(
                f'svg.cluster-map [data-kind="Pod"][data-name="{pod["metadata"]["name"]}"]'
            )
        ).to_have_count(1)
    summary = httpx.get(f"{live_server.url}/api/v1/workspaces/{workspace}").json()
    assert summary["scenario"] == "nodeport-policies"


def test_the_web_service_scenario_lands_on_its_client_and_service(page: Page, live_server) -> None:
    page.goto("/")
    page.get_by_role("button", name="Open for a class").click()  # the first one is checked
    page.wait_for_url("**/w/**")
    expect(page.locator("body")).to_have_class("present")
    assert parse_qs(urlsplit(page.url).query)["to"] == ["http://web/"]
    expect(page.locator('svg.cluster-map [data-kind="Pod"][data-name="client"]')).to_have_count(1)
    expect(page.locator('svg.cluster-map [data-kind="Pod"][data-name^="web-"]')).to_have_count(3)
