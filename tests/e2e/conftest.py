"""Browser journeys: Playwright drives Debian's Chromium against pytest-django's live server.

Every page a journey visits is checked with axe-core for WCAG 2.1 A/AA violations.
"""

import base64
import hmac
import os
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls from a
# thread with a running loop unless told that this is safe (it is: the loop is Playwright's).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import (  # noqa: E402
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    expect,
    sync_playwright,
)

from kontaktbok.demo.data import DemoLogins, load_demo  # noqa: E402

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
# Auto-waiting limits: generous for a loaded CI machine, short enough to fail fast.
TIMEOUT_MS = 10_000

pytestmark = pytest.mark.e2e


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this directory as an end-to-end test."""
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def demo(live_server) -> DemoLogins:
    """The demo school in the test database (flushed after every test by transactional_db)."""
    from django.core.cache import cache

    # Rate limits and used TOTP codes live in the (process-wide) cache: start each test clean.
    cache.clear()
    logins, created = load_demo()
    assert created
    return logins


@dataclass
class Browsing:
    """A page with the checks every journey needs: axe after each load, no page errors."""

    page: Page
    base_url: str
    axe: Axe
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def goto(self, path: str, *, status: int = 200) -> Response:
        response = self.page.goto(self.url(path))
        assert response is not None
        assert response.status == status, f"{path}: HTTP {response.status}, expected {status}"
        self.check_a11y()
        return response

    def check_a11y(self) -> None:
        """Run axe-core (WCAG 2.1 A and AA rules) on the current page; fail on any violation."""
        self.page.wait_for_load_state("load")
        results = self.axe.run(
            self.page,
            options={
                "runOnly": {"type": "tag", "values": WCAG_TAGS},
                "resultTypes": ["violations"],
            },
        )
        self.checked.append(self.page.url)
        assert results.violations_count == 0, (
            f"axe: WCAG violations on {self.page.url}:\n{results.generate_report()}"
        )

    def assert_no_problems(self) -> None:
        assert not self.problems, "Browser errors:\n" + "\n".join(self.problems)


def _new_browsing(request, browser: Browser, live_server, axe: Axe, viewport) -> Iterator[Browsing]:
    context = browser.new_context(
        viewport=viewport,
        base_url=live_server.url,
        # The app registers a service worker; keep it out of the tests so that every
        # navigation reaches the live server.
        service_workers="block",
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    browsing = Browsing(page=page, base_url=live_server.url, axe=axe)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            browsing.problems.append(f"console error on {page.url}: {message.text}")

    page.on("pageerror", lambda error: browsing.problems.append(f"page error: {error}"))
    page.on("console", on_console)
    yield browsing
    context.close()


@pytest.fixture
def phone(request, browser: Browser, live_server, axe: Axe) -> Iterator[Browsing]:
    """A browser tab the size of a phone (390 x 844)."""
    yield from _new_browsing(request, browser, live_server, axe, PHONE)


@pytest.fixture
def desktop(request, browser: Browser, live_server, axe: Axe) -> Iterator[Browsing]:
    """A browser tab the size of a desktop screen."""
    yield from _new_browsing(request, browser, live_server, axe, DESKTOP)


@pytest.fixture
def page(phone: Browsing) -> Page:
    return phone.page


def totp_now(secret: str, *, step: int = 30, digits: int = 6) -> str:
    """The current TOTP code (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits).

    ``time.time()`` is the patched clock of ``time_machine``, shared with the live server.
    """
    padded = secret.upper() + "=" * (-len(secret) % 8)
    key = base64.b32decode(padded)
    counter = int(time.time()) // step
    digest = hmac.new(key, struct.pack(">Q", counter), "sha1").digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


__all__ = ["DESKTOP", "PHONE", "Browsing", "expect", "totp_now"]
