"""NetworkPolicy in a real browser: a policy made with the Build form marks its pod isolated
on the map, the Reachability matrix turns the cell from allowed to denied (and back, live,
when the policy goes elsewhere), and with flannel the same policy is stored but not enforced,
as the page says. Screenshots at 1280x800, in presentation mode at 1920x1080, and on a phone."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

PODS = """apiVersion: v1
kind: Pod
metadata: {name: db, labels: {app: db}}
spec:
  nodeName: worker-1
  containers: [{name: db, image: postgres, ports: [{name: pg, containerPort: 5432}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: api, labels: {app: api}}
spec: {nodeName: worker-2, containers: [{name: api, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: other, labels: {app: other}}
spec: {nodeName: worker-2, containers: [{name: other, image: busybox}]}
"""


def new_workspace(url: str, cni: str) -> str:
    with httpx.Client(base_url=url) as client:
        workspace = client.post("/api/v1/workspaces", json={"cni": cni}).json()["id"]
        answer = client.post(
            f"/api/v1/workspaces/{workspace}/apply",
            content=PODS,
            headers={"content-type": "application/yaml"},
        )
        assert answer.status_code == 200, answer.text
    return workspace


def cell(page: Page, source: str, target: str):
    return page.locator(
        f'td.cell[data-from="pod/default/{source}"][data-to="pod/default/{target}"]'
    )


def fill_policy_form(page: Page, screenshots_dir: Path) -> None:
    page.locator("summary", has_text="NetworkPolicy").click()
    form = page.locator('form[action$="/build/networkpolicy"]')
    form.get_by_label("Name", exact=True).fill("db-from-api")
    form.get_by_label(re.compile("^Pod selector")).fill("app=db")
    form.locator('select[name="in0_p0_kind"]').select_option("pods")
    form.locator('input[name="in0_p0_pods"]').fill("app=api")
    form.locator('input[name="in0_ports"]').fill("pg")
    # the second peer of rule 1 waits behind its button; the second rule behind its own
    expect(form.locator('input[name="in0_p1_pods"]')).to_be_hidden()
    form.get_by_role("button", name="Add a peer (or)").first.click()
    expect(form.locator('input[name="in0_p1_pods"]')).to_be_visible()
    # ... and a peer added by mistake goes again, leaving nothing behind
    form.locator('input[name="in0_p1_namespaces"]').fill("team=oops")
    form.get_by_role("button", name="Remove peer 2 of ingress rule 1").click()
    expect(form.locator('input[name="in0_p1_pods"]')).to_be_hidden()
    expect(form.locator('input[name="in0_p1_namespaces"]')).to_have_value("")
    form.locator('select[name="in0_p0_kind"]').evaluate("e => e.scrollIntoView({block: 'center'})")
    page.screenshot(path=screenshots_dir / "network-policy-form-filled.png")
    form.get_by_role("button", name="Create NetworkPolicy").click()
    expect(page.locator(".build-form .applied")).to_contain_text(
        "networkpolicy/db-from-api created"
    )


def test_a_policy_by_form_isolates_its_pod_and_the_matrix_follows_the_cni(
    browser: Browser, live_server, screenshots_dir: Path
) -> None:
    workspace = new_workspace(live_server.url, "calico")
    page = browser.new_page(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    page.goto(f"/w/{workspace}?tab=reachability")
    expect(page.locator(".reach-cni")).to_contain_text("Calico enforces NetworkPolicy")
    expect(cell(page, "other", "db")).to_have_attribute("data-state", "allowed")
    db_pill = page.locator('svg.cluster-map [data-at="pod/default/db"] .iso-pill')
    expect(db_pill).to_have_count(0)

    page.locator("nav.tabs").get_by_role("link", name="Build").click()
    fill_policy_form(page, screenshots_dir)
    page.screenshot(path=screenshots_dir / "network-policy-form.png", full_page=True)
    # the map marks db isolated for ingress, and the legend says what the badge means
    expect(db_pill).to_have_attribute("data-isolated", "in")
    expect(page.locator(".map-legend .legend-iso")).to_contain_text("isolated by a NetworkPolicy")

    page.locator("nav.tabs").get_by_role("link", name="Reachability").click()
    expect(cell(page, "other", "db")).to_have_attribute("data-state", "denied")
    expect(cell(page, "api", "db")).to_have_attribute("data-state", "allowed")
    # hovering the policy lights its pod and the peer its rule allows
    page.locator("#reach-title").scroll_into_view_if_needed()
    page.locator(".policy-item", has_text="default/db-from-api").hover()
    expect(page.locator('svg.cluster-map [data-at="pod/default/db"]')).to_have_class(
        re.compile("policy-target")
    )
    expect(page.locator('svg.cluster-map [data-at="pod/default/api"]')).to_have_class(
        re.compile("policy-peer")
    )
    page.screenshot(path=screenshots_dir / "reachability-policy-lit-1280x800.png")
    # a cell says why, on click (and by keyboard: it is a summary)
    denied = cell(page, "other", "db")
    denied.locator("summary").click()
    expect(denied.locator(".cell-detail")).to_contain_text("default/db-from-api")
    expect(denied.locator(".cell-detail")).to_contain_text("TCP 5432 (pg)")
    page.screenshot(path=screenshots_dir / "reachability-1280x800.png")
    denied.locator("summary").click()

    # flannel: the same policy, stored and ignored, and the page says so first
    page.locator('.switch-form select[name="cni"]').select_option("flannel")
    page.locator(".switch-form").get_by_role("button", name="Switch").click()
    expect(page.locator(".reach-cni")).to_contain_text("flannel: NetworkPolicy is not enforced")
    expect(cell(page, "other", "db")).to_have_attribute("data-state", "allowed")
    expect(page.locator('svg.cluster-map [data-at="pod/default/db"] .iso-pill')).to_have_class(
        re.compile("unenforced")
    )
    page.locator(".reach-cni").scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "reachability-flannel-1280x800.png")

    # back to Weave Net, then the policy deleted elsewhere (the API): the matrix redraws live
    page.locator('.switch-form select[name="cni"]').select_option("weave")
    page.locator(".switch-form").get_by_role("button", name="Switch").click()
    expect(cell(page, "other", "db")).to_have_attribute("data-state", "denied")
    with httpx.Client(base_url=live_server.url) as client:
        gone = client.delete(
            f"/api/v1/workspaces/{workspace}/objects/NetworkPolicy/default/db-from-api"
        )
        assert gone.status_code == 200, gone.text
    expect(cell(page, "other", "db")).to_have_attribute("data-state", "allowed", timeout=10_000)
    expect(page.locator('svg.cluster-map [data-at="pod/default/db"] .iso-pill')).to_have_count(0)
    page.close()


def test_isolated_pods_read_in_presentation_mode_and_the_matrix_on_a_phone(
    browser: Browser, live_server, screenshots_dir: Path
) -> None:
    workspace = new_workspace(live_server.url, "calico")
    with httpx.Client(base_url=live_server.url) as client:
        client.post(
            f"/api/v1/workspaces/{workspace}/apply",
            content="apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            "metadata: {name: deny-all}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n",
            headers={"content-type": "application/yaml"},
        )
    page = browser.new_page(base_url=live_server.url, viewport={"width": 1920, "height": 1080})
    page.goto(f"/w/{workspace}?present=1")
    pill = page.locator('svg.cluster-map [data-at="pod/default/db"] .iso-pill text')
    expect(pill).to_have_text("in+out")
    # readable from the back of the room: the badge's text as drawn on screen
    height = pill.bounding_box()["height"]
    assert height >= 14, height
    page.screenshot(path=screenshots_dir / "network-policy-present-1920x1080.png")
    page.close()

    phone = browser.new_page(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    phone.goto(f"/w/{workspace}")
    # on a phone the panel is folded to its tabs: a tap opens the matrix
    phone.locator("#panel .tabs").get_by_role("link", name="Reachability").tap()
    expect(cell(phone, "api", "db")).to_have_attribute("data-state", "denied")
    scroller = phone.locator(".reach-scroll")
    scroller.scroll_into_view_if_needed()
    # the matrix scrolls inside its own box; the page itself never scrolls sideways
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 390
    phone.screenshot(path=screenshots_dir / "reachability-phone-390x844.png")
    phone.close()


def test_the_reachability_tab_and_the_form_pass_an_axe_audit(
    page: Page, live_server, artifacts_dir: Path
) -> None:
    """No serious or critical axe-core violation (issue 4's bar) with a policy in place."""
    from tests.browser.test_accessibility import Axe, audit

    workspace = new_workspace(live_server.url, "calico")
    with httpx.Client(base_url=live_server.url) as client:
        client.post(
            f"/api/v1/workspaces/{workspace}/apply",
            content="apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            "metadata: {name: db-deny}\nspec: {podSelector: {matchLabels: {app: db}}}\n",
            headers={"content-type": "application/yaml"},
        )
    page.goto(f"/w/{workspace}?tab=reachability")
    expect(cell(page, "api", "db")).to_have_attribute("data-state", "denied")
    audit(Axe(), page, "sandbox-reachability", artifacts_dir)
    page.goto(f"/w/{workspace}?tab=build")
    page.locator("summary", has_text="NetworkPolicy").click()
    expect(page.locator('form[action$="/build/networkpolicy"]')).to_be_visible()
    audit(Axe(), page, "sandbox-networkpolicy-form", artifacts_dir)
