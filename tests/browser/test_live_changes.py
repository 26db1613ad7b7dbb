"""The real kubectl changes a workspace while its page is open in Chromium: the map, the
head's Undo and a note on the map show the change at once, with no reload (issue 13). The
page's own changes are not drawn twice. Screenshot: artifacts/screenshots/live-kubectl.png."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.api.test_kubeapi_kubectl import KUBECTL, _need_kubectl


def kubectl(page: Page, workspace: str, home: Path, *args: str) -> str:
    config = home / "podpath.yaml"
    if not config.exists():
        config.write_text(page.request.get(f"/k/{workspace}/kubeconfig").text())
    done = subprocess.run(
        [KUBECTL, "--kubeconfig", str(config), *args],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(home)},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_kubectl_changes_show_on_the_open_page(
    page: Page, tmp_path: Path, screenshots_dir: Path
) -> None:
    _need_kubectl()
    answer = page.request.post("/api/v1/workspaces", data={"scenario": "web-service"})
    workspace = answer.json()["id"]
    redraws: list[str] = []
    page.on("request", lambda r: redraws.append(r.url) if r.url.endswith("/redraw") else None)
    page.goto(f"/w/{workspace}?tab=objects")
    api_pods = page.locator('svg.cluster-map [data-kind="Pod"][data-name^="api-"]')
    expect(api_pods).to_have_count(0)

    kubectl(
        page, workspace, tmp_path, "create", "deployment", "api", "--image=nginx", "--replicas=2"
    )
    expect(api_pods).to_have_count(2)
    expect(page.locator(".map-news")).to_contain_text("deployment.apps/api created")
    expect(page.locator(".history-undo")).to_contain_text("deployment.apps/api created")
    expect(page.locator("#panel")).to_contain_text("api-")  # the Objects tab lists them too
    page.screenshot(path=screenshots_dir / "live-kubectl.png")

    kubectl(page, workspace, tmp_path, "scale", "deployment/api", "--replicas=3")
    expect(api_pods).to_have_count(3)
    kubectl(page, workspace, tmp_path, "delete", "deployment", "api")
    expect(api_pods).to_have_count(0)
    assert len(redraws) >= 3

    # A change from the page itself comes back with its answer: no second drawing.
    page.goto(f"/w/{workspace}?tab=yaml")
    redraws.clear()
    page.locator("#manifest").fill("apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".applied")).to_contain_text("namespace/team created")
    page.wait_for_timeout(1500)  # longer than the page waits for its own answer to land
    assert redraws == []
