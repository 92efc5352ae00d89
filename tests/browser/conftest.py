"""Browser tests: the app served on a free local port (waitress in a thread) and driven by
Debian's Chromium through Playwright. Skipped locally without Chromium; a failure in CI."""
from __future__ import annotations

import gc
import json
import os
import shutil
import socket
import threading
import zlib
from pathlib import Path

import pytest

from tests.conftest import IN_CI, database_url

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-core" / "axe.min.js"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def walk_database(name: str) -> str:
    """The database a walk runs on: each walk runs once, on SQLite or PostgreSQL by a stable hash
    of its name (about half on each), so the served app is walked on both while the suite stays
    within its time. Every view runs on both databases in the suite without a browser."""
    return "postgresql" if zlib.crc32(name.encode()) % 2 else "sqlite"


@pytest.fixture
def db_url(request, tmp_path, sqlite_template) -> str:
    return database_url(walk_database(request.node.originalname), tmp_path, sqlite_template)


@pytest.fixture
def live_server(app):
    from waitress.server import create_server
    # finalise what earlier servers left (their file wrappers close their descriptor numbers when
    # collected): collected later, they could close a number this server's pipe reuses
    gc.collect()
    server = create_server(app, host="127.0.0.1", port=_free_port(), threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"

    def close_all():  # in the server's own thread: its loop ends when nothing is left open
        for dispatcher in list(server._map.values()):
            dispatcher.close()

    try:
        server.trigger.pull_trigger(close_all)
    except OSError:  # its pipe is gone already: close from here, the loop then ends
        close_all()
    thread.join(timeout=10)
    server.task_dispatcher.shutdown()


@pytest.fixture(scope="session")
def browser():
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if executable is None:
        if IN_CI:  # .ci/run also fails on any skip in the summary
            pytest.fail("Chromium is required in CI")
        pytest.skip("no Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


def new_context(browser, **options):
    """A browser context as the walks use: Norwegian, and with reduced motion. Designsystemet
    opens a ``ds-details`` with a 0.4 s height transition unless reduced motion is asked for;
    Playwright finds the button inside already "stable" while the content around it still
    moves, so a click could press on the button and release on the field above it (seen in CI:
    the form was then never posted). Reduced motion opens it at once."""
    return browser.new_context(**{"locale": "nb-NO", "reduced_motion": "reduce", **options})


@pytest.fixture
def page(browser):
    context = new_context(browser, bypass_csp=True)  # bypass_csp lets axe-core be injected
    page = context.new_page()
    page.set_default_timeout(15000)
    read = page.content

    def content() -> str:
        """The page's HTML once the document a click started to load has loaded (under load, a
        read right after a click can otherwise catch the new document still empty)."""
        page.wait_for_load_state("load")
        return read()

    page.content = content
    yield page
    context.close()


def axe_violations(page) -> list[dict]:
    """Run axe-core (WCAG 2.1 A/AA rules) on the current page, once the document a click started to
    load has loaded."""
    page.wait_for_load_state("load")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}));
    }""")
    return result


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, indent=1, ensure_ascii=False)


def login(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/logg-inn")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def approve_and_send_minutes(page, base: str, *, accessible: bool = False) -> None:
    """As the coordinator (logged in on ``page``): approve the minutes in every approval step
    still open, then approve them for the group and send them out (``accessible``: check the
    send-out page with axe)."""
    while page.locator("a:has-text('Godkjenn referatet')").count():
        page.locator("a:has-text('Godkjenn referatet')").first.click()
        page.check("label:has-text('Ja, referatet er riktig')")
        page.click("button:has-text('Fullfør steget')")
        page.goto(f"{base}/oppgaver")
    page.click("text=Godkjenn og send ut referatet")
    if accessible:
        assert_accessible(page)
    page.check("label:has-text('Referatet er godkjent av gruppen')")
    page.click("button:has-text('Godkjenn og send referatet')")
