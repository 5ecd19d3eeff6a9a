"""Pages that need no school data: the web app manifest, the service worker, health."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from kontaktbok.core import health as core_health


@require_GET
@cache_control(max_age=86400, public=True)
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest, so the site installs as an app on a phone."""
    icons = [
        {
            "src": static(f"core/icons/icon-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "any maskable",
        }
        for size in (192, 512)
    ]
    data = {
        "name": "kontaktbok",
        "short_name": "kontaktbok",
        "description": _("Home and school together"),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1e2b3c",
        "lang": request.LANGUAGE_CODE,
        "icons": icons,
    }
    return JsonResponse(
        data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False}
    )


SERVICE_WORKER = """\
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', () => {});
self.addEventListener('push', (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {}; }
  event.waitUntil(self.registration.showNotification(data.title || 'kontaktbok', {
    body: data.body || '', tag: data.tag, data: { url: data.url || '/notifications/' },
    icon: '/static/core/icons/icon-192.png', badge: '/static/core/icons/icon-192.png',
  }));
});
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || '/';
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true })
    .then((windows) => {
      for (const w of windows) { if (w.url === url && 'focus' in w) return w.focus(); }
      return self.clients.openWindow(url);
    }));
});
"""


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """A minimal service worker at the site root (needed for installing as an app)."""
    body = SERVICE_WORKER
    response = HttpResponse(body, content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """For monitoring: the database, and what the apps registered (``core.health``)."""
    status, body = core_health.report()
    return JsonResponse(body, status=status)
