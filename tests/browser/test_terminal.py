"""The Terminal tab in Chromium: kubectl, a shell in a pod by keyboard alone (completion and
history), curl's trace playing on the map, and the tab in presentation mode. Screenshots go
to artifacts/screenshots/terminal-*.png."""

from __future__ import annotations

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.test_accessibility import BLOCKING, describe


def open_terminal(page: Page, query: str = "") -> str:
    answer = page.request.post("/api/v1/workspaces", data={"scenario": "web-service"})
    assert answer.status == 201, answer.text()
    workspace = answer.json()["id"]
    page.goto(f"/w/{workspace}/terminal{query}")
    expect(page.locator("#terminal-input")).to_be_visible()
    return workspace


def run(page: Page, line: str) -> None:
    """Type a line and press Enter; wait until the answer is on the screen."""
    screen = page.locator("#terminal-screen")
    before = screen.locator(".term-command").count()
    page.locator("#terminal-input").fill(line)
    page.locator("#terminal-input").press("Enter")
    expect(screen.locator(".term-command")).to_have_count(before + 1)


def test_kubectl_exec_curl_history_and_completion(page: Page, screenshots_dir: Path) -> None:
    open_terminal(page)
    screen = page.locator("#terminal-screen")
    line = page.locator("#terminal-input")
    run(page, "kubectl get pods")
    expect(screen).to_contain_text("READY   STATUS    RESTARTS")
    expect(screen).to_contain_text("client")

    # kubectl apply -f - reads the YAML typed (or pasted) after it until Ctrl+D; the new
    # Service shows on the map at once.
    line.focus()
    line.type("kubectl apply -f -")
    for yaml_line in (
        "apiVersion: v1",
        "kind: Service",
        "metadata: {name: api}",
        "spec: {selector: {app: web}, ports: [{port: 80, targetPort: http}]}",
    ):
        line.press("Enter")
        line.type(yaml_line)
    line.press("Control+d")
    expect(screen).to_contain_text("service/api created")
    expect(page.locator('svg.cluster-map [data-kind="Service"][data-name="api"]')).to_have_count(1)

    # Tab completes the verb, then the pod's name; Enter opens the pod's shell.
    line.focus()
    line.type("kubectl exe")
    line.press("Tab")
    expect(line).to_have_value("kubectl exec ")
    line.type("-it cli")
    line.press("Tab")
    expect(line).to_have_value("kubectl exec -it client ")
    line.type("-- sh")
    line.press("Enter")
    expect(page.locator("#terminal-prompt")).to_have_text("root@client:/# ")

    # curl -v from the pod: curl's exchange on the screen, the trace on the map.
    run(page, "curl -v http://web")
    expect(screen).to_contain_text("> GET / HTTP/1.1")
    expect(screen).to_contain_text("< HTTP/1.1 200 OK")
    player = page.locator("[data-trace-player]")
    expect(player).to_be_visible()
    expect(page.locator("svg.cluster-map .trace-marker")).to_have_count(1)
    expect(page.locator("#trace-result")).to_contain_text("Delivered")

    # The up arrow brings the last line back; a wrong command says what there is.
    line.press("ArrowUp")
    expect(line).to_have_value("curl -v http://web")
    run(page, "kubectl get pods")
    expect(screen).to_contain_text("sh: kubectl: not found")
    expect(screen).to_contain_text("in a pod you can run curl")
    # Another tab and back: the screen and the shell are where they were.
    page.get_by_role("link", name="Objects", exact=True).click()
    expect(page.locator("#terminal-screen")).to_have_count(0)
    page.get_by_role("link", name="Terminal", exact=True).click()
    expect(page.locator("#terminal-prompt")).to_have_text("root@client:/# ")
    expect(screen).to_contain_text("< HTTP/1.1 200 OK")
    run(page, "exit")
    expect(page.locator("#terminal-prompt")).to_have_text("$ ")
    page.screenshot(path=screenshots_dir / "terminal-desktop.png")
    # axe on the terminal itself (the rest of the page has its own audits).
    violations = Axe().run(page, context="[data-terminal]").response["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING]
    assert not blocking, describe(blocking)


def test_a_node_shell_and_tcpdump_in_presentation_mode(page: Page, screenshots_dir: Path) -> None:
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_terminal(page, "?present=1")
    expect(page.locator("body.present")).to_have_count(1)
    expect(page.locator("#terminal-screen")).to_be_visible()
    run(page, "kubectl exec client -- curl -s http://web | grep title")
    run(page, "kubectl debug node/worker-1 -it --image=busybox")
    expect(page.locator("#terminal-prompt")).to_have_text("root@worker-1:/# ")
    run(page, "tcpdump -ni flannel.1")
    screen = page.locator("#terminal-screen")
    expect(screen).to_contain_text("listening on flannel.1")
    expect(screen).to_contain_text("HTTP: GET / HTTP/1.1")
    # On eth0 the same request is inside flannel's VXLAN packet to worker-2 (port 8472).
    run(page, "tcpdump -ni eth0 | grep -A1 8472 | head -2")
    expect(screen).to_contain_text(
        "10.0.0.11.33572 > 10.0.0.12.8472: OTV, flags [I] (0x08), overlay 0, instance 1"
    )
    size = screen.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= 18, size
    page.screenshot(path=screenshots_dir / "terminal-present.png")


def test_the_terminal_on_a_phone(pages, screenshots_dir: Path) -> None:
    phone = pages(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    answer = phone.request.post("/api/v1/workspaces", data={"scenario": "web-service"})
    phone.goto(f"/w/{answer.json()['id']}")
    phone.get_by_role("link", name="Terminal", exact=True).click()
    run(phone, "kubectl get pods -o wide")
    expect(phone.locator("#terminal-screen")).to_contain_text("web-ff67c48df-2q97c")
    # The table scrolls inside the screen; the page never scrolls sideways.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.locator("#terminal-input").scroll_into_view_if_needed()
    phone.screenshot(path=screenshots_dir / "terminal-phone.png")
