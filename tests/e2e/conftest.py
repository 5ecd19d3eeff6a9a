"""Browser journeys: Playwright drives Debian's Chromium against pytest-django's live server.

Every page a journey visits is checked with axe-core for WCAG 2.1 A/AA violations, and for
page errors, console errors and failed sub-resources (style sheets, scripts, images). Every
HTML document the browser receives (pages opened, forms posted, the pages redirects lead to)
is kept as the server sent it and checked with the Nu HTML Checker at the end of the journey.
"""

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import time_machine
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    Request,
    Response,
    sync_playwright,
)

from kontaktbok.demo.data import DemoLogins, load_demo
from tests.conftest import SCHOOL_DAY
from tests.e2e.html_checker import Document, html_errors

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
# For a page that scrolls sideways: the innermost elements that reach past the viewport.
WIDEST_ELEMENTS = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")].filter(
    (e) => e.getBoundingClientRect().right > width + 0.5 &&
      ![...e.children].some((c) => c.getBoundingClientRect().right > width + 0.5));
  return wide.slice(0, 5).map((e) => {
    const right = Math.round(e.getBoundingClientRect().right);
    return `<${e.tagName.toLowerCase()} class="${e.className}"> ${right}px`;
  }).join("; ");
}"""
CUT_CAPTIONS = """() => [...document.querySelectorAll("caption")]
  .filter((c) => c.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .map((c) => c.textContent.trim())"""
# Fields of a form drawn over each other: a field's content (its options, say) reaching
# below the top of the next field.
OVERLAPPING_FIELDS = """() => [...document.querySelectorAll(".kb-form")].flatMap((form) => {
  const shown = [...form.children].filter((e) => e.getClientRects().length);
  const drawn = (e) => [e, ...e.querySelectorAll("*")].filter((d) => d.getClientRects().length)
    .map((d) => d.getBoundingClientRect());
  const name = (e) => e.textContent.trim().replace(/\\s+/g, " ").slice(0, 40);
  const drawnOver = [];
  for (let i = 1; i < shown.length; i++) {
    const next = shown[i].getBoundingClientRect();
    const over = drawn(shown[i - 1]).some((r) => r.bottom - 1 > next.top &&
      r.top < next.bottom && r.right - 1 > next.left && r.left < next.right - 1);
    if (over) drawnOver.push(`${name(shown[i - 1])} / ${name(shown[i])}`);
  }
  return drawnOver;
})"""
# Upper bound for Playwright's auto-waiting; a healthy page answers in milliseconds.
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this directory is an end-to-end test (``-m "not e2e"`` skips them)."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def playwright(demo_snapshot: Any) -> Iterator[Playwright]:
    """Playwright for one module of journeys.

    Its sync API runs an asyncio loop in the test thread, and Django refuses ORM calls from a
    thread with a running loop unless told it is safe. In a journey it is: the loop is
    Playwright's, and the test thread only talks to the database between browser steps. So
    the loop and DJANGO_ALLOW_ASYNC_UNSAFE live as long as one module of journeys, never for
    the rest of the suite. The test databases and the demo are made before the loop starts.
    """
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as pw:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield pw


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # `playwright install` is not available here: drive the system's Chromium.
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


@pytest.fixture(scope="session")
def demo_snapshot(
    django_db_setup: Any, django_db_blocker: Any
) -> Iterator[sqlite3.Connection | None]:
    """The demo school built once per test process, as a copy of the SQLite test database.

    On PostgreSQL there is no copy (None): each journey builds the demo itself.
    """
    from django.db import connection

    if connection.vendor != "sqlite":
        yield None
        return
    snapshot = sqlite3.connect(":memory:", check_same_thread=False)
    with django_db_blocker.unblock(), time_machine.travel(SCHOOL_DAY, tick=False):
        _logins, created = load_demo()
        assert created, "the demo school was left over in the test database"
        connection.ensure_connection()
        connection.connection.backup(snapshot)
        from django.core.management import call_command

        call_command("flush", interactive=False, verbosity=0)
    yield snapshot
    snapshot.close()


@pytest.fixture
def demo(live_server: Any, demo_snapshot: sqlite3.Connection | None) -> DemoLogins:
    """The demo school in the test database, fresh for each journey.

    ``live_server`` brings ``transactional_db``, which empties the database after each test;
    on SQLite the demo is copied back from the snapshot (page by page, with SQLite's backup
    API), elsewhere it is built again.
    """
    from django.core.cache import cache
    from django.db import connection

    # Login rate limits and used TOTP codes live in the process-wide cache: start clean.
    cache.clear()
    if demo_snapshot is None:
        logins, created = load_demo()
        assert created, "the demo school was left over from an earlier test"
        return logins
    connection.ensure_connection()
    demo_snapshot.backup(connection.connection)
    logins, created = load_demo()
    assert not created, "the demo snapshot did not reach the test database"
    return logins


@dataclass
class Browsing:
    """A browser tab, with the checks that every page of a journey must pass."""

    page: Page
    base_url: str
    axe: Axe
    phone: bool
    documents: list[Document]
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def goto(self, path: str, *, status: int = 200) -> Response:
        """Open ``path`` by URL, expect ``status``, and check the page."""
        response = self.page.goto(self.url(path))
        assert response is not None
        assert response.status == status, f"GET {path}: HTTP {response.status}, not {status}"
        self.check_page()
        return response

    def follow(self, target: Locator, *, status: int = 200) -> Response:
        """Click a link or submit button that loads a new page; expect ``status``; check it."""
        with self.page.expect_navigation() as navigation:
            target.click()
        response = navigation.value
        assert response is not None
        assert response.status == status, (
            f"{response.request.method} {response.url}: HTTP {response.status}, not {status}"
        )
        self.check_page()
        return response

    def check_page(self) -> None:
        """axe-core with the WCAG 2.1 A and AA rules, browser errors and, on a phone, reflow."""
        page = self.page
        page.wait_for_load_state("load")
        results = self.axe.run(page, options=AXE_OPTIONS)
        self.checked.append(page.url)
        assert results.violations_count == 0, (
            f"axe found WCAG 2.1 A/AA violations on {page.url}:\n{results.generate_report()}"
        )
        assert not self.problems, f"Browser errors up to {page.url}:\n" + "\n".join(self.problems)
        overlapping = page.evaluate(OVERLAPPING_FIELDS)
        assert not overlapping, f"{page.url}: form fields drawn over each other: {overlapping}"
        if self.phone:
            # WCAG 1.4.10 Reflow: no horizontal scrolling at 320 CSS px (we test 390).
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (
                f"{page.url} scrolls sideways by {overflow}px on a phone; too wide: "
                + page.evaluate(WIDEST_ELEMENTS)
            )
            # A table may scroll inside its region, but its caption must be read whole.
            cut = page.evaluate(CUT_CAPTIONS)
            assert not cut, f"{page.url}: table captions cut off on a phone: {cut}"


def _browsing(
    browser: Browser, live_server: Any, axe: Axe, documents: list[Document], viewport: dict
) -> Iterator[Browsing]:
    context = browser.new_context(
        viewport=viewport,
        is_mobile=viewport is PHONE,
        has_touch=viewport is PHONE,
        # The app registers a service worker; keep it out so that every request reaches the
        # live server. axe-core runs through Playwright's evaluate, which the site's strict
        # CSP does not block, so `bypass_csp` is not needed and the real CSP stays on.
        service_workers="block",
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    browsing = Browsing(
        page=page,
        base_url=live_server.url,
        axe=axe,
        phone=viewport is PHONE,
        documents=documents,
    )

    def on_console(message: ConsoleMessage) -> None:
        # A document's own 4xx status is logged as "Failed to load resource"; the journeys
        # assert those statuses themselves, and failed sub-resources are caught below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            browsing.problems.append(f"console error on {page.url}: {message.text}")

    def on_response(response: Response) -> None:
        request = response.request
        if (
            response.status >= 400
            and request.resource_type != "document"
            and not request.url.endswith("/favicon.ico")
        ):
            browsing.problems.append(f"HTTP {response.status} for {request.url}")
        if (
            request.resource_type == "document"
            and not 300 <= response.status < 400
            and response.headers.get("content-type", "").startswith("text/html")
        ):
            browsing.documents.append(
                Document(request.method, response.url, response.status, response.body())
            )

    def on_request_failed(request: Request) -> None:
        browsing.problems.append(f"request failed: {request.url} ({request.failure})")

    page.on("pageerror", lambda error: browsing.problems.append(f"page error: {error}"))
    page.on("console", on_console)
    page.on("response", on_response)
    page.on("requestfailed", on_request_failed)
    yield browsing
    context.close()
    # Every page that axe checked must also reach the HTML checker.
    received = {document.url for document in documents}
    missed = [
        url
        for url in browsing.checked
        if url.startswith(browsing.base_url) and url.partition("#")[0] not in received
    ]
    assert not missed, f"No HTML document was kept for the pages {missed}"


@pytest.fixture
def html_documents() -> Iterator[list[Document]]:
    """The HTML documents of one journey, in all its browser contexts, as the server sent
    them: checked in one run of the Nu HTML Checker when the journey ends."""
    documents: list[Document] = []
    yield documents
    if errors := html_errors(documents):
        pytest.fail("The Nu HTML Checker found errors:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def phone(
    browser: Browser, live_server: Any, axe: Axe, html_documents: list[Document]
) -> Iterator[Browsing]:
    """A new browser context the size of a phone (390 x 844), in the browser's own locale."""
    yield from _browsing(browser, live_server, axe, html_documents, PHONE)


@pytest.fixture
def desktop(
    browser: Browser, live_server: Any, axe: Axe, html_documents: list[Document]
) -> Iterator[Browsing]:
    """A new browser context the size of a desktop screen (1280 x 900)."""
    yield from _browsing(browser, live_server, axe, html_documents, DESKTOP)


@pytest.fixture
def page(phone: Browsing) -> Page:
    """The plain Playwright page of the phone-sized context."""
    return phone.page
