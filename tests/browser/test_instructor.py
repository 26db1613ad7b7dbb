"""For instructors, in a real browser: presentation mode (by URL, by the button, by the key P),
a share link that opens a copy while the original stays unchanged, and reset to the default
cluster (kept across a server restart). Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.scenario import WEB

EXTRA = """apiVersion: v1
kind: Pod
metadata: {name: only-in-the-copy, labels: {app: extra}}
spec:
  containers: [{name: shell, image: busybox}]
"""


def new_workspace(base_url: str, manifest: str | None = WEB) -> str:
    with httpx.Client(base_url=base_url) as client:
        created = client.post("/api/v1/workspaces", json={})
        assert created.status_code == 201, created.text
        workspace = created.json()["id"]
        if manifest:
            applied = client.post(
                f"/api/v1/workspaces/{workspace}/apply",
                content=manifest,
                headers={"Content-Type": "application/yaml"},
            )
            assert applied.status_code == 200, applied.text
    return workspace


def pod_names(base_url: str, workspace: str, user_only: bool = False) -> set[str]:
    response = httpx.get(f"{base_url}/api/v1/workspaces/{workspace}/objects?kind=Pod")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    if user_only:
        items = [p for p in items if p["metadata"].get("namespace") == "default"]
    return {p["metadata"]["name"] for p in items}


def show_trace(page: Page, workspace: str, query: str = "") -> None:
    page.goto(f"/w/{workspace}?tab=trace{query}")
    bar = page.locator("form.trace-bar")
    bar.locator('select[name="from"]').select_option("pod/default/client")
    bar.locator('input[name="to"]').fill("http://web/")
    bar.get_by_role("button", name="Trace it").click()
    expect(page.locator("[data-trace-player]")).to_contain_text("Delivered")


def font_px(page: Page, selector: str) -> float:
    size = page.locator(selector).first.evaluate("el => getComputedStyle(el).fontSize")
    return float(size.removesuffix("px"))


def test_presentation_mode_by_url(page: Page, live_server, screenshots_dir: Path) -> None:
    workspace = new_workspace(live_server.url)
    show_trace(page, workspace)
    expect(page.locator("body")).not_to_have_class("present")
    expect(page.locator(".side-panel")).to_be_visible()
    normal = font_px(page, ".trace-area .hop-button")

    page.goto(f"/w/{workspace}?present=1")
    expect(page.locator("body")).to_have_class("present")
    expect(page.locator(".side-panel")).to_be_hidden()
    expect(page.locator("#present-toggle")).to_have_attribute("aria-pressed", "true")
    # The hint shown without a trace is larger too; the trace itself is checked below.
    assert font_px(page, ".trace-area .hint") > 16

    # Set the trace up in normal mode (the Trace tab is in the hidden panel), then present it.
    page.goto(f"/w/{workspace}?present=0")
    expect(page.locator("body")).not_to_have_class("present")
    show_trace(page, workspace)
    page.keyboard.press("p")
    expect(page.locator("body")).to_have_class("present")
    presented = font_px(page, ".trace-area .hop-button")
    assert presented >= normal * 1.25, (normal, presented)
    # The map and the trace fill the screen, the map over the trace, the panel gone.
    map_box = page.locator(".map-area").bounding_box()
    trace_box = page.locator(".trace-area").bounding_box()
    assert map_box and trace_box
    assert map_box["width"] > 1200 and trace_box["width"] > 1200
    assert map_box["y"] + map_box["height"] <= trace_box["y"]  # the map above the trace
    assert trace_box["y"] + trace_box["height"] <= 800 + 1  # within the screen, no page scroll

    # Stepping by keyboard works as before.
    player = page.locator("[data-trace-player]")
    page.keyboard.press("Home")
    start = int(player.get_attribute("data-current-hop") or "0")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("PageDown")
    expect(player).to_have_attribute("data-current-hop", str(start + 2))
    page.screenshot(path=screenshots_dir / "presentation-1280.png")


def test_presentation_screenshot_at_projector_size(
    browser: Browser, live_server, screenshots_dir: Path
) -> None:
    workspace = new_workspace(live_server.url)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1920, "height": 1080}
    )
    try:
        page = context.new_page()
        show_trace(page, workspace)
        page.keyboard.press("p")
        expect(page.locator("body")).to_have_class("present")
        player = page.locator("[data-trace-player]")
        page.keyboard.press("Home")
        for _ in range(7):
            page.keyboard.press("ArrowRight")
        expect(player).to_have_attribute("data-current-hop", "7")
        page.wait_for_timeout(700)  # the marker's move to the hop
        page.screenshot(path=screenshots_dir / "presentation.png")
        assert page.evaluate("document.documentElement.scrollHeight") <= 1080 + 1
    finally:
        context.close()


def test_presentation_toggle_button_and_key(page: Page, live_server) -> None:
    workspace = new_workspace(live_server.url, manifest=None)
    page.goto(f"/w/{workspace}")
    body = page.locator("body")
    toggle = page.locator("#present-toggle")
    expect(body).not_to_have_class("present")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(body).to_have_class("present")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".side-panel")).to_be_hidden()
    assert "present=1" in page.url  # a reload or a copied link stays in presentation mode
    page.reload()
    expect(body).to_have_class("present")
    page.keyboard.press("p")
    expect(body).not_to_have_class("present")
    expect(page.locator(".side-panel")).to_be_visible()
    assert "present=1" not in page.url
    # Typing a "p" into a form field is typing, not a toggle.
    page.get_by_role("link", name="YAML", exact=True).click()
    page.locator("#manifest").press("p")
    expect(body).not_to_have_class("present")
    expect(page.locator("#manifest")).to_have_value("p")
    page.keyboard.press("Escape")


def open_menu(page: Page) -> None:
    """The share link and reset live in the head's "Share, reset, more" menu; a sandbox has
    no share link until its owner makes one."""
    page.locator(".head-menu > summary").click()
    if not page.locator("#share-link").count():
        page.get_by_role("button", name="Make a share link").click()
    expect(page.locator("#share-link")).to_be_visible()


def test_share_link_opens_a_copy_and_the_original_stays(page: Page, live_server) -> None:
    base = live_server.url
    original = new_workspace(base)
    before = pod_names(base, original)
    page.goto(f"/w/{original}")
    open_menu(page)
    link = page.locator("#share-link")
    token = (link.get_attribute("href") or "").removeprefix("/s/")
    assert token and token != original, "the link must not reveal the original's id"
    expect(link).to_have_text(f"{base}/s/{token}")
    link.click()
    # The link shows what the copy will hold; only the button makes it.
    expect(page.get_by_role("heading", name="A sandbox shared with you")).to_be_visible()
    expect(page.locator(".shared-objects")).to_contain_text("client")
    assert pod_names(base, original) == before
    page.get_by_role("button", name="Make my copy").click()
    page.wait_for_url("**/w/**")
    copy = page.url.split("/w/")[1].split("?")[0]
    assert copy != original
    # The copy shows the same pods as the original.
    for name in sorted(n for n in before if n.startswith("web-") or n == "client"):
        expect(
            page.locator(f'svg.cluster-map [data-kind="Pod"][data-name="{name}"]')
        ).to_have_count(1)
    assert pod_names(base, copy) == before

    # Change the copy in the browser: the original does not move.
    page.get_by_role("link", name="YAML", exact=True).click()
    page.fill("#manifest", EXTRA)
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".applied")).to_contain_text("pod/only-in-the-copy created")
    assert "only-in-the-copy" in pod_names(base, copy)
    assert pod_names(base, original) == before

    # Opening the link makes nothing (a chat app's preview GETs it); each copy is a new one.
    assert httpx.get(f"{base}/s/{token}", follow_redirects=False).status_code == 200
    again = httpx.post(f"{base}/s/{token}", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/w/")
    assert again.headers["location"] not in (f"/w/{original}", f"/w/{copy}")
    assert httpx.get(f"{base}/s/no-such-workspace-0000000").status_code == 404
    assert httpx.get(f"{base}/s/{original}").status_code == 404  # an id is not a share token


def test_the_owner_replaces_or_stops_the_share_link(page: Page, live_server) -> None:
    base = live_server.url
    workspace = new_workspace(base, manifest=None)
    page.goto(f"/w/{workspace}")
    open_menu(page)
    first = page.locator("#share-link").get_attribute("href")
    expect(page.locator(".share-box")).to_contain_text("The link works until")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="New link").click()
    expect(page.locator("#share-link")).not_to_have_attribute("href", first or "")
    second = page.locator("#share-link").get_attribute("href")
    assert httpx.get(f"{base}{first}").status_code == 404
    assert httpx.get(f"{base}{second}").status_code == 200
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Stop sharing").click()
    expect(page.get_by_role("button", name="Make a share link")).to_be_visible()
    gone = httpx.get(f"{base}{second}")
    assert gone.status_code == 404 and "turned off" in gone.text


def test_copy_button_puts_the_link_on_the_clipboard(browser: Browser, live_server) -> None:
    workspace = new_workspace(live_server.url, manifest=None)
    context = browser.new_context(
        base_url=live_server.url, permissions=["clipboard-read", "clipboard-write"]
    )
    try:
        page = context.new_page()
        page.goto(f"/w/{workspace}")
        open_menu(page)
        page.get_by_role("button", name="Copy link").click()
        expect(page.locator("[data-copy-status]")).to_contain_text("Copied")
        copied = page.evaluate("navigator.clipboard.readText()")
        token = page.locator("#share-link").get_attribute("href")
        assert copied == f"{live_server.url}{token}" and workspace not in copied
    finally:
        context.close()


def test_reset_empties_the_learners_objects(page: Page, live_server) -> None:
    base = live_server.url
    workspace = new_workspace(base)
    assert "client" in pod_names(base, workspace)
    system_pods = {n for n in pod_names(base, workspace) if not n.startswith(("web-", "client"))}
    page.goto(f"/w/{workspace}")
    expect(page.locator('svg.cluster-map [data-kind="Pod"][data-name="client"]')).to_have_count(1)
    page.once("dialog", lambda dialog: dialog.accept())
    open_menu(page)
    page.get_by_role("button", name="Reset to the default cluster").click()
    expect(page.locator('svg.cluster-map [data-kind="Pod"][data-name="client"]')).to_have_count(0)
    assert page.url.endswith(f"/w/{workspace}")
    assert pod_names(base, workspace, user_only=True) == set()
    assert pod_names(base, workspace) == system_pods
    with httpx.Client(base_url=base) as client:
        made = client.get(f"/api/v1/workspaces/{workspace}/manifests?format=json").json()
        events = client.get(f"/api/v1/workspaces/{workspace}/events").json()["items"]
    assert made["items"] == []
    assert events == []


def test_reset_dismissed_changes_nothing(page: Page, live_server) -> None:
    workspace = new_workspace(live_server.url)
    page.goto(f"/w/{workspace}")
    page.once("dialog", lambda dialog: dialog.dismiss())
    open_menu(page)
    page.get_by_role("button", name="Reset to the default cluster").click()
    page.wait_for_timeout(300)
    assert "client" in pod_names(live_server.url, workspace)


@pytest.mark.slow
def test_reset_is_saved_whole_across_a_restart(server_factory, tmp_path: Path) -> None:
    """A reset deletes every saved row of the old cluster: after a crash and a restart on the
    same SQLite file, nothing of it comes back (objects or events), and the settings stay."""
    data = tmp_path / "data"
    first = server_factory(data)
    with httpx.Client(base_url=first.url) as client:
        created = client.post("/api/v1/workspaces", json={"cni": "calico", "proxyMode": "ipvs"})
        workspace = created.json()["id"]
        applied = client.post(
            f"/api/v1/workspaces/{workspace}/apply",
            content=WEB,
            headers={"Content-Type": "application/yaml"},
        )
        assert applied.status_code == 200, applied.text
        fresh = client.post("/api/v1/workspaces", json={"cni": "calico", "proxyMode": "ipvs"})
        fresh_summary = client.get(f"/api/v1/workspaces/{fresh.json()['id']}").json()
        reset = client.post(f"/w/{workspace}/reset", follow_redirects=False)
        assert reset.status_code == 303
        assert reset.headers["location"] == f"/w/{workspace}"
        htmx = client.post(f"/w/{workspace}/reset", headers={"HX-Request": "true"})
        assert htmx.status_code == 204
        assert htmx.headers["HX-Redirect"] == f"/w/{workspace}"
        assert client.post("/w/no-such-workspace-0000000/reset").status_code == 404
        before = client.get(f"/api/v1/workspaces/{workspace}/objects").json()["items"]
    first.kill()
    second = server_factory(data)
    with httpx.Client(base_url=second.url) as client:
        summary = client.get(f"/api/v1/workspaces/{workspace}").json()
        after = client.get(f"/api/v1/workspaces/{workspace}/objects").json()["items"]
        events = client.get(f"/api/v1/workspaces/{workspace}/events").json()["items"]
        made = client.get(f"/api/v1/workspaces/{workspace}/manifests?format=json").json()
    key = lambda o: (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])  # noqa: E731
    assert sorted(map(key, after)) == sorted(map(key, before))
    assert not [o for o in after if o["metadata"]["name"] in ("web", "client")]
    assert summary["settings"] == fresh_summary["settings"]
    assert summary["settings"]["cni"] == "calico"
    assert events == []
    assert made["items"] == []
