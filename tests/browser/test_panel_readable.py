"""The side panel at 1280×800, as a learner meets it: the Service form shows the fields of the
chosen type only, a create keeps the page still while the map lights up what arrived, the
Ingress form takes several paths, the Rules tab shows its matched rules in readable type
inside its own box, and the Objects tables scroll sideways instead of cutting a column off.
Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.browser.scenario import WEB

#: The Service form's type-dependent fields, by the name of their input.
TYPE_FIELDS = ["headless", "selector", "port", "node_port", "external_traffic_policy",
               "health_check_node_port", "external_name"]  # fmt: skip
SHOWN = {
    "ClusterIP": {"headless", "selector", "port"},
    "NodePort": {"selector", "port", "node_port", "external_traffic_policy"},
    "LoadBalancer": {
        "selector",
        "port",
        "node_port",
        "external_traffic_policy",
        "health_check_node_port",
    },
    "ExternalName": {"external_name"},
}


def open_sandbox(page: Page) -> str:
    page.goto("/")
    page.get_by_role("button", name="Open a new sandbox").click()
    page.wait_for_url("**/w/**")
    return page.url.split("/w/")[1].split("?")[0]


def apply(page: Page, text: str) -> None:
    if not page.locator("#manifest").count():
        page.get_by_role("link", name="YAML", exact=True).click()
    page.fill("#manifest", text)
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".applied")).to_be_visible()


def open_form(page: Page, summary: str) -> Locator:
    details = page.locator("details.build-form", has=page.locator("summary", has_text=summary))
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    return details.locator("form")


def sticking_out(page: Page) -> list[str]:
    """What in the panel (or anywhere under the sandbox head) reaches past the window's right
    edge, making the page scroll sideways. (The head's own links are the head's business.)"""
    return page.evaluate(
        """() => [...document.querySelectorAll('#panel, #panel *, .sandbox-grid *')]
          .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
          .filter(e => !e.closest('.table-scroll, pre.rules') || e.matches('.table-scroll, pre.rules'))
          .map(e => `${e.tagName}.${e.className}`)"""
    )


def test_the_service_form_shows_the_fields_of_its_type(page: Page, screenshots_dir: Path) -> None:
    open_sandbox(page)
    form = open_form(page, "Service")
    kind = form.locator("select[name=type]")
    for chosen, shown in SHOWN.items():
        kind.select_option(chosen)
        for name in TYPE_FIELDS:
            field = form.locator(f'[name="{name}"]')
            if name in shown:
                expect(field, f"{name} with {chosen}").to_be_visible()
            else:
                expect(field, f"{name} with {chosen}").to_be_hidden()
        form.scroll_into_view_if_needed()
        page.screenshot(path=screenshots_dir / f"panel-service-{chosen.lower()}.png")


def where(page: Page, form: Locator) -> tuple[float, float]:
    """The page's scroll position and where the form starts on screen: both stay put when
    nothing moved (the panel may scroll on its own, so the window's scrollY is not enough)."""
    box = form.bounding_box()
    assert box is not None
    return page.evaluate("window.scrollY"), round(box["y"])


def still(now: tuple[float, float], before: tuple[float, float]) -> bool:
    """Nothing moved: the same window scroll, and the form within a pixel of where it was
    (the panel scrolls by whole pixels, so a fraction of one may remain)."""
    return now[0] == before[0] and abs(now[1] - before[1]) <= 1


def test_a_create_keeps_the_page_still_and_the_map_lights_up(
    page: Page, screenshots_dir: Path
) -> None:
    open_sandbox(page)
    deployment = open_form(page, "Deployment")
    deployment.get_by_label("Name", exact=True).fill("web")
    deployment.get_by_label(re.compile("^Labels")).fill("app=web")
    create = deployment.get_by_role("button", name="Create Deployment")
    create.scroll_into_view_if_needed()
    before = where(page, deployment)
    create.click()
    expect(page.locator(".build-form .applied")).to_contain_text("deployment/web created")
    assert still(where(page, deployment), before), "the page moved after Create"
    pods = page.locator('svg.cluster-map [data-kind="Pod"][data-name^="web-"]')
    expect(pods).to_have_count(2)
    for i in range(2):
        expect(pods.nth(i)).to_have_class(re.compile(r"\bis-new\b"))

    service = open_form(page, "Service")
    service.get_by_label("Name", exact=True).fill("web")
    service.get_by_label(re.compile("^Selector")).fill("app=web")
    expect(page.locator("#svc-preview")).to_contain_text("matches 2 pods")
    service.get_by_label(re.compile("^Target port")).fill("http")
    create = service.get_by_role("button", name="Create Service")
    create.scroll_into_view_if_needed()
    before = where(page, service)
    create.click()
    expect(page.locator(".build-form .applied")).to_contain_text("service/web created")
    assert still(where(page, service), before), "the page moved after Create"
    # No warning after a create: the form is empty again, and so is its selector preview.
    expect(page.locator(".build-forms .error-box, .build-forms .preview-miss")).to_have_count(0)
    expect(page.locator("#svc-preview")).not_to_contain_text("No selector")
    web = page.locator('svg.cluster-map [data-kind="Service"][data-name="web"]')
    expect(web).to_have_class(re.compile(r"\bis-new\b"))
    expect(pods.first).not_to_have_class(re.compile(r"\bis-new\b"))  # not new any more
    # The Deployment form the learner left open is still open: nothing above moved.
    expect(page.locator('form[action$="/build/deployment"]')).to_be_visible()
    expect(page.locator(".build-form .applied")).to_be_in_viewport()
    page.screenshot(path=screenshots_dir / "panel-service-created.png")


def test_an_ingress_with_two_paths_by_form(page: Page, screenshots_dir: Path) -> None:
    open_sandbox(page)
    apply(page, WEB)
    page.get_by_role("link", name="Build", exact=True).click()
    form = open_form(page, "Ingress")
    form.get_by_label("Name", exact=True).fill("shop")
    form.get_by_label(re.compile("^Host")).fill("shop.example.com")
    rows = form.locator("[data-path-row]")
    expect(rows.nth(1)).to_be_hidden()  # the spare rows wait behind the button
    first = rows.nth(0)
    first.get_by_label("Service").fill("web")
    form.get_by_role("button", name="Add a path").click()
    second = rows.nth(1)
    expect(second).to_be_visible()
    second.get_by_label("Path", exact=True).fill("/api")
    second.get_by_label("Service").fill("web")
    second.get_by_label(re.compile("^Port")).fill("http")
    form.get_by_role("button", name="Add a path").scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "panel-ingress-paths.png")
    form.get_by_role("button", name="Create Ingress").click()
    expect(page.locator(".build-form .applied")).to_contain_text("ingress/shop created")
    page.locator(".made-yaml summary").click()
    made = page.locator(".made-yaml pre")
    expect(made).to_contain_text("path: /api")
    expect(made).to_contain_text("name: http")
    ingress_box = page.locator('svg.cluster-map [data-kind="IngressController"]')
    expect(ingress_box).to_have_class(re.compile(r"\bis-new\b"))  # it lists the new routes


def test_the_rules_tab_shows_the_matched_rules_readably(page: Page, screenshots_dir: Path) -> None:
    workspace = open_sandbox(page)
    apply(page, WEB)
    page.goto(f"/w/{workspace}?tab=rules&node=worker-1&from=pod/default/client&to=http://web/")
    box = page.locator("pre.rules")
    expect(box).to_contain_text("KUBE-SERVICES")
    expect(page.locator(".rules-legend")).to_contain_text(re.compile(r"matched \d+ of these"))
    box.scroll_into_view_if_needed()
    page.wait_for_function("document.querySelector('pre.rules').scrollTop > 0")
    inside = box.evaluate(
        """box => {
          const view = box.getBoundingClientRect();
          return [...box.querySelectorAll('.hit')].some(hit => {
            const r = hit.getBoundingClientRect();
            return r.top >= view.top && r.bottom <= view.bottom && r.height > 0;
          });
        }"""
    )
    assert inside, "no matched rule is inside the rules box's visible part"
    size = float(box.evaluate("b => getComputedStyle(b.querySelector('.hit')).fontSize")[:-2])
    assert size >= 13, f"rules in {size}px type"
    # Long rules wrap inside the box (no sideways scrolling), and the page stays in its width.
    assert box.evaluate("b => b.scrollWidth <= b.clientWidth + 1")
    assert not sticking_out(page)
    page.screenshot(path=screenshots_dir / "panel-rules.png")
    # Shown again through htmx (the panel swapped, not the page loaded): scrolled again.
    page.locator("#panel").get_by_role("button", name="Show").click()
    page.wait_for_function("document.querySelector('pre.rules').scrollTop > 0")


def test_the_objects_tables_scroll_instead_of_cutting_columns(
    page: Page, screenshots_dir: Path
) -> None:
    open_sandbox(page)
    apply(page, WEB)
    page.get_by_role("link", name="Objects", exact=True).click()
    wrapper = page.get_by_role("region", name="Pods table")
    expect(wrapper).to_be_visible()
    assert wrapper.get_attribute("tabindex") == "0"
    headers = wrapper.locator("th")
    expect(headers.last).to_have_text("NODE")
    # Every column is reachable by scrolling the wrapper, and no name wraps.
    reach = wrapper.evaluate(
        """w => {
          const table = w.querySelector('table');
          const left = w.getBoundingClientRect().left + w.clientLeft - w.scrollLeft;
          const right = Math.max(...[...w.querySelectorAll('th')].map(th => th.getBoundingClientRect().right - left));
          const tall = [...w.querySelectorAll('td')].some(td => td.getClientRects().length > 1
            || td.getBoundingClientRect().height > 2.2 * parseFloat(getComputedStyle(td).lineHeight || 16));
          return {scroll: w.scrollWidth, right, table: table.offsetWidth, tall};
        }"""
    )
    assert reach["scroll"] >= reach["right"] - 1, reach
    assert not reach["tall"], "a cell wrapped"
    wrapper.focus()
    page.keyboard.press("End")
    wrapper.evaluate("w => { w.scrollLeft = w.scrollWidth; }")
    node = headers.last
    box, cell = wrapper.bounding_box(), node.bounding_box()
    assert box and cell
    assert cell["x"] >= box["x"] - 1 and cell["x"] + cell["width"] <= box["x"] + box["width"] + 1
    wrapper.evaluate("w => { w.scrollLeft = 0; }")
    assert not sticking_out(page)
    page.get_by_role("heading", name=re.compile("^Pods")).scroll_into_view_if_needed()
    page.screenshot(path=screenshots_dir / "panel-objects.png")
