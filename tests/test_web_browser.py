"""The dashboard in a real headless Chromium (Playwright driving Debian's ``chromium``): every page
loads, a failing check leads to its fix, a detection to its timeline, and no script planted in a
log (user agent, URI, S3 key, principal, resource) runs. Screenshots of every page go to
``test-artifacts/screenshots/`` (``./scripts/test`` lists them in the CI log).

Without Chromium these tests are skipped on a workstation, and fail under CI (``CI`` set):
``./scripts/setup`` installs it with apt-get where it can.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time

import pytest

from tests.conftest import REPO
from tests.webcase import build

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = REPO / "test-artifacts" / "screenshots"
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("no chromium on this machine (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory, cli):
    import uvicorn

    from awsir.web.app import create_app

    case, history = build(tmp_path_factory.mktemp("browser"), cli)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(case, history)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "CI needs chromium: ./scripts/setup installs it (apt-get install chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.dialogs = []  # any alert() from a planted payload lands here
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.violations = []
    page.on(
        "console",
        lambda m: page.violations.append(m.text) if "Content Security" in m.text else None,
    )
    yield page
    context.close()


def _no_injection(page) -> None:
    assert page.dialogs == []
    injected = page.evaluate(
        "() => [...document.querySelectorAll('img, [onerror], [onload], script')]"
        ".filter(e => !(e.tagName === 'SCRIPT' && e.getAttribute('src') === '/static/app.js'))"
        ".map(e => e.outerHTML)"
    )
    assert injected == []


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("readiness", "/readiness"),
        ("sources", "/sources?q=flow"),
        (
            "search",
            "/search?sql=SELECT+time,source,actor,action,user_agent,message+FROM+events"
            "+WHERE+source+IN+('cloudtrail','alb','s3_access')+ORDER+BY+time+DESC",
        ),
        ("timeline", "/timeline?ip=198.51.100.99"),
        ("detections", "/detections"),
        ("collection", "/collection?verify=1"),
    ],
)
def test_each_page_loads_and_nothing_planted_runs(server, page, name, path):
    response = page.goto(server + path)
    assert response.status == 200
    assert page.locator("h1").first.is_visible()
    page.wait_for_load_state("networkidle")
    _no_injection(page)
    assert page.violations == []  # our own page breaks no rule of its CSP
    _shot(page, name)


def test_payloads_are_shown_as_text(server, page):
    page.goto(
        server + "/search?sql=SELECT+user_agent,action,message+FROM+events+WHERE+"
        "contains(user_agent,'alert')+OR+contains(message,'alert')"
    )
    body = page.inner_text("body")
    assert "<script>alert('ua')</script>" in body
    assert "<img/src=x/onerror=alert('key')>.csv" in body
    _no_injection(page)


def test_from_a_failing_check_to_its_fix(server, page):
    page.goto(server + "/readiness")
    gap = page.locator("table.gaps tr", has_text="vpc_flow_logs").first
    gap.locator("summary", has_text="Fix").click()
    command = gap.locator("pre code").first
    assert command.is_visible() and command.inner_text().startswith("aws ec2 create-flow-logs")
    gap.locator("button.copy").click()
    page.wait_for_selector("button.copy.copied")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == command.inner_text()
    _no_injection(page)
    _shot(page, "readiness-fix")


def test_from_a_detection_to_its_timeline(server, page):
    page.goto(server + "/detections")
    row = page.locator("#findings tr", has_text="ct_admin_user_created")
    row.locator("a.open").click()
    page.wait_for_url(lambda url: "/timeline?finding=" in url)
    actions = page.locator("#events tr td:nth-child(6)").all_inner_texts()
    assert len(actions) == 3 and "CreateUser" in actions[0]
    assert page.locator("svg.histogram").is_visible()
    _no_injection(page)
    _shot(page, "detection-timeline")


def test_the_planted_principal_finding_opens_safely(server, page):
    page.goto(server + "/detections")
    row = page.locator("#findings tr", has_text="ct_federation_token").filter(has_text="<img")
    assert row.count() == 1  # the hostile ARN is shown, as text
    row.locator("a.open").click()
    page.wait_for_url(lambda url: "/timeline?finding=" in url)
    assert "GetFederationToken" in page.inner_text("#events")
    _no_injection(page)
