"""Point at the line (issue 10), in a real browser: a Service sends its port to a targetPort
the pods do not listen on; the trace's verdict names the field and links to it; the details
drawer shows the Service's YAML with that line highlighted and in view; the learner fixes it
with Edit as YAML, applies, and the same trace is delivered. Screenshot:
artifacts/screenshots/point-at-line.png."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.scenario import WEB
from tests.browser.test_stage import new_workspace, trace_from_bar

WRONG = WEB.replace("targetPort: http", "targetPort: 9090")


def in_view(page: Page, selector: str) -> bool:
    """Whether the element is inside the window and inside every box that scrolls it."""
    return page.evaluate(
        """(selector) => {
          const el = document.querySelector(selector);
          if (!el) return false;
          const r = el.getBoundingClientRect();
          if (r.height === 0 || r.top < 0 || r.bottom > innerHeight) return false;
          for (let box = el.parentElement; box; box = box.parentElement) {
            const s = getComputedStyle(box);
            if (!/(auto|scroll)/.test(s.overflowY)) continue;
            const b = box.getBoundingClientRect();
            if (r.top < b.top - 1 || r.bottom > b.bottom + 1) return false;
          }
          return true;
        }""",
        selector,
    )


def test_the_verdict_points_at_the_line_and_the_fix_there_delivers(
    page: Page, live_server, screenshots_dir: Path
) -> None:
    assert WRONG != WEB
    workspace = new_workspace(live_server.url, WRONG)
    page.goto(f"/w/{workspace}")
    # The panel folded away: the verdict's link unfolds it.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("e")
    expect(page.locator("#panel")).to_be_hidden()

    trace_from_bar(page, "pod/default/client", "http://web/")
    verdict = page.locator("#trace-result .trace-verdict")
    expect(verdict).to_contain_text("Refused")
    expect(verdict).to_contain_text("targetPort 9090 (spec.ports[0].targetPort)")
    link = verdict.get_by_role("link", name="Show spec.ports[0].targetPort in Service default/web")
    expect(link).to_be_visible()
    link.click()

    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Service default/web")
    yaml_box = panel.locator("details.yaml")
    expect(yaml_box).to_have_attribute("open", "")
    hit = panel.locator("#yaml-hit")
    expect(hit).to_have_text("  targetPort: 9090", use_inner_text=True)
    expect(panel.locator("pre.yaml-lines .hit")).to_have_count(1)
    expect(hit).to_be_in_viewport()
    page.wait_for_function("() => document.querySelector('#yaml-hit')")
    assert in_view(page, "#yaml-hit"), "the highlighted line is scrolled out of sight"
    background = hit.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), background
    page.screenshot(path=str(screenshots_dir / "point-at-line.png"))

    panel.get_by_role("link", name="Edit as YAML").click()
    editor = panel.locator("textarea#manifest")
    expect(editor).to_contain_text("targetPort: 9090")
    editor.fill(editor.input_value().replace("targetPort: 9090", "targetPort: http"))
    panel.get_by_role("button", name="Apply").click()
    expect(panel.locator(".applied")).to_contain_text("service/web configured")

    trace_from_bar(page, "pod/default/client", "http://web/")
    verdict = page.locator("#trace-result .trace-verdict")
    expect(verdict).to_contain_text("Delivered")
    expect(verdict.get_by_role("link", name="Show", exact=False)).to_have_count(0)
