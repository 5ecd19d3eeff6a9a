"""A guardian turns on push for her phone, sends herself a test notification and reads it.

Everything is real except the browser's own push service. Headless Chromium here has no
network, so ``pushManager.subscribe()`` could not reach Google's push service (FCM). The init
script below replaces only ``PushManager.prototype.subscribe`` and ``getSubscription``: they
hand back a subscription whose endpoint is the local ``PushReceiver`` and whose keys the test
made, as a browser would after talking to its push service. The page's own JavaScript, the
service worker registration, the notification permission, the POST to the server, the
server's VAPID-signed, encrypted push to the receiver and the in-app list are all real.

The last leg, from the push service to the phone, is played through Chrome DevTools
(``ServiceWorker.deliverPushMessage``): the payload the receiver decrypted goes to the site's
real service worker, which must show it as a notification.
"""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.utils import translation
from playwright.sync_api import Browser, BrowserContext, expect

from kontaktbok.accounts.models import User
from kontaktbok.demo.data import DemoLogins
from kontaktbok.notifications import kinds, vapid
from kontaktbok.notifications.models import Channel, Delivery, Notification, PushSubscription
from tests.e2e.conftest import PHONE, Browsing, _browsing
from tests.e2e.html_checker import Document
from tests.e2e.test_journeys import log_in, text
from tests.notifications.push_receiver import PushReceiver, Subscription

pytestmark = pytest.mark.e2e

NOTIFICATIONS = text("Varsel", "Varslingar", "Varsler", "Notifications")
NOTIFICATION_SETTINGS = text(
    "Varslingsinnstillingar", "Varslingsinnstillinger", "Notification settings"
)
TURN_ON = text("Slå på for denne eininga", "Slå på for denne enheten", "Turn on for this device")
TURN_OFF = text("Slå av for denne eininga", "Slå av for denne enheten", "Turn off for this device")
PUSH_ON = text(
    "Pushvarsel er slått på for denne eininga",
    "Pushvarsler er slått på for denne enheten",
    "Push notifications are on for this device",
)
PUSH_OFF = text(
    "Pushvarsel er slått av for denne eininga",
    "Pushvarsler er slått av for denne enheten",
    "Push notifications are off for this device",
)
SEND_TEST = text("Send meg eit testvarsel", "Send meg et testvarsel", "Send me a test notification")
TEST_SENT = text(
    "Eit testvarsel er på veg", "Et testvarsel er på vei", "A test notification is on its way"
)
NEW = re.compile(r"^\s*(Ny|Nytt|New)\s*$", re.IGNORECASE)

# Replaces only the two PushManager calls that would talk to the browser's push service (see
# the module docstring). The subscription lives in sessionStorage, as the browser keeps a
# real one across page loads. What the page asked ``subscribe`` for is kept for the test.
PUSH_STUB = """
(() => {
  const subscription = %s;
  const STORED = "kontaktbok-test-push-subscribed";
  const bytes = (b64url) => {
    const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(b64 + "===".slice((b64.length + 3) %% 4)), (c) => c.charCodeAt(0));
  };
  const b64url = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  const make = (applicationServerKey) => ({
    endpoint: subscription.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey },
    getKey: (name) => name in subscription.keys ? bytes(subscription.keys[name]).buffer : null,
    toJSON: () => ({ endpoint: subscription.endpoint, expirationTime: null,
                     keys: { ...subscription.keys } }),
    unsubscribe: async () => { sessionStorage.removeItem(STORED); return true; },
  });
  PushManager.prototype.subscribe = async function (options) {
    const key = options.applicationServerKey;
    const raw = key instanceof ArrayBuffer ? key : key.buffer.slice(
      key.byteOffset, key.byteOffset + key.byteLength);
    sessionStorage.setItem(STORED, JSON.stringify({
      userVisibleOnly: options.userVisibleOnly, applicationServerKey: b64url(raw),
    }));
    return make(raw);
  };
  PushManager.prototype.getSubscription = async function () {
    const stored = sessionStorage.getItem(STORED);
    return stored ? make(bytes(JSON.parse(stored).applicationServerKey).buffer) : null;
  };
})();
"""


class _ServiceWorkersAllowed:
    """The browser, but new contexts let the site register its service worker.

    The shared fixtures block service workers; here the page's push code needs its
    registration (``navigator.serviceWorker.ready``), as on a real phone.
    """

    def __init__(self, browser: Browser) -> None:
        self._browser = browser

    def new_context(self, **options: Any) -> BrowserContext:
        return self._browser.new_context(**{**options, "service_workers": "allow"})


@pytest.fixture
def receiver() -> Iterator[PushReceiver]:
    with PushReceiver(vapid_public_key=vapid.public_key()).running() as receiver:
        yield receiver


@pytest.fixture
def push_phone(
    browser: Browser, live_server: Any, axe: Axe, html_documents: list[Document]
) -> Iterator[Browsing]:
    """A phone-sized context like ``phone``, with service workers on."""
    browser_with_workers: Any = _ServiceWorkersAllowed(browser)
    yield from _browsing(browser_with_workers, live_server, axe, html_documents, PHONE)


def stub_push_service(browsing: Browsing, subscription: Subscription) -> None:
    browsing.page.add_init_script(PUSH_STUB % json.dumps(subscription.to_json()))


def show_in_service_worker(browsing: Browsing, origin: str, payload: dict) -> list[dict]:
    """Hand ``payload`` to the page's service worker as a push; return the notifications shown."""
    page = browsing.page
    cdp = page.context.new_cdp_session(page)
    registrations: list[dict] = []
    activated: set[str] = set()
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(r for r in e["registrations"] if not r["isDeleted"]),
    )
    cdp.on(
        "ServiceWorker.workerVersionUpdated",
        lambda e: activated.update(
            v["registrationId"] for v in e["versions"] if v["status"] == "activated"
        ),
    )
    cdp.send("ServiceWorker.enable")
    # A push handed to a worker that is not yet active is dropped: wait until it is.
    for _ in range(100):
        if registrations and activated:
            break
        page.wait_for_timeout(50)
    [registration_id] = {r["registrationId"] for r in registrations}
    assert registration_id in activated
    # The service worker shows it asynchronously: poll (bounded) until it is there. (An async
    # predicate in wait_for_function resolves at once, so it cannot wait for this.) A push the
    # browser dropped is handed over again; the tag makes a second one replace the first.
    shown: Any = []
    for attempt in range(60):
        if attempt % 20 == 0:
            cdp.send(
                "ServiceWorker.deliverPushMessage",
                {"origin": origin, "registrationId": registration_id, "data": json.dumps(payload)},
            )
        shown = page.evaluate(
            """async () => {
              const registration = await navigator.serviceWorker.ready;
              const shown = await registration.getNotifications();
              return shown.map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
            }"""
        )
        if shown:
            break
        page.wait_for_timeout(100)
    cdp.detach()
    return shown


def test_guardian_turns_on_push_and_gets_a_test_notification(
    push_phone: Browsing, demo: DemoLogins, receiver: PushReceiver, live_server: Any
) -> None:
    phone, page = push_phone, push_phone.page
    guardian = User.objects.get(email=demo.guardian)
    assert not PushSubscription.objects.filter(user=guardian).exists()
    device = receiver.subscription()
    stub_push_service(phone, device)
    page.context.grant_permissions(["notifications"], origin=live_server.url)

    log_in(phone, demo.guardian, demo.password)
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name=NOTIFICATIONS).locator(".kb-count")).to_have_count(0)
    phone.follow(nav.get_by_role("link", name=NOTIFICATIONS))
    phone.follow(page.get_by_role("main").get_by_role("link", name=NOTIFICATION_SETTINGS))
    expect(page).to_have_url(phone.url("/notifications/settings/"))

    push = page.locator("#push")
    status = push.get_by_role("status")
    expect(status).to_have_text(PUSH_OFF)
    expect(push.get_by_role("button", name=TURN_OFF)).to_be_hidden()
    push.get_by_role("button", name=TURN_ON).click()
    expect(status).to_have_text(PUSH_ON)
    expect(push.get_by_role("button", name=TURN_ON)).to_be_hidden()
    expect(push.get_by_role("button", name=TURN_OFF)).to_be_visible()
    phone.check_page()

    # The page subscribed with the application's VAPID key, for visible notifications only.
    asked = json.loads(
        page.evaluate("sessionStorage.getItem('kontaktbok-test-push-subscribed')") or "{}"
    )
    assert asked == {"userVisibleOnly": True, "applicationServerKey": vapid.public_key()}
    subscription = PushSubscription.objects.get(user=guardian)
    assert (subscription.endpoint, subscription.p256dh, subscription.auth) == (
        device.endpoint,
        device.p256dh,
        device.auth,
    )
    assert subscription.device == page.evaluate("navigator.userAgent.slice(0, 200)")

    phone.follow(push.get_by_role("button", name=SEND_TEST))
    expect(page).to_have_url(phone.url("/notifications/settings/"))
    expect(page.get_by_role("main")).to_contain_text(TEST_SENT)
    expect(status).to_have_text(PUSH_ON)

    # Exactly one push reached the phone's push service: signed, encrypted, in her language.
    receiver.wait_for(1)
    assert receiver.rejected == []
    notification = Notification.objects.get(recipient=guardian, kind=kinds.TEST.code)
    with translation.override(guardian.language or settings.LANGUAGE_CODE):
        title, body = str(kinds.TEST.title), str(kinds.TEST.body)
    [received] = receiver.pushes
    assert received.endpoint == device.endpoint
    assert received.payload == {
        "title": title,
        "body": body,
        "url": settings.SITE_URL.rstrip("/") + "/notifications/settings/",
        "tag": f"notification-{notification.pk}",
    }
    row = notification.deliveries.get(channel=Channel.PUSH)
    assert (row.status, row.target) == (Delivery.Status.DELIVERED, str(subscription.pk))
    shown = show_in_service_worker(phone, live_server.url, received.payload)
    assert shown == [
        {
            "title": title,
            "body": body,
            "tag": received.payload["tag"],
            "data": {"url": received.payload["url"]},
        }
    ]

    # In the app: an unread count in the header, the notification in the list, and opening it
    # marks it read and leads to the page it is about.
    link = nav.get_by_role("link", name=NOTIFICATIONS)
    expect(link.locator(".kb-count")).to_contain_text("1")
    phone.follow(link)
    items = page.get_by_test_id("notification")
    expect(items).to_have_count(1)
    expect(items).to_contain_text(title)
    expect(items).to_contain_text(body)
    expect(items.get_by_text(NEW)).to_be_visible()
    phone.follow(items.get_by_role("link", name=title))
    expect(page).to_have_url(phone.url("/notifications/settings/"))
    notification.refresh_from_db()
    assert notification.read_at is not None
    expect(link.locator(".kb-count")).to_have_count(0)
    phone.follow(link)
    expect(items).to_have_count(1)
    expect(items.get_by_text(NEW)).to_have_count(0)

    # Turning push off again forgets the device on the server.
    phone.goto("/notifications/settings/")
    expect(status).to_have_text(PUSH_ON)
    push.get_by_role("button", name=TURN_OFF).click()
    expect(status).to_have_text(PUSH_OFF)
    expect(push.get_by_role("button", name=TURN_ON)).to_be_visible()
    phone.check_page()
    assert not PushSubscription.objects.filter(user=guardian).exists()
    assert len(receiver.requests) == 1
