"""Which push services the server posts to: the browsers' own, named in the settings.

A device's push address is checked when it subscribes and again before every send (a
name's DNS may change after the subscription), so the server is never made to post to
itself or to the internal network (server-side request forgery)."""

from urllib.parse import urlsplit

from django.conf import settings


def _host_listed(host: str, listed: list[str]) -> bool:
    """``host`` is one of ``listed``, or under one that starts with a dot."""
    host = host.lower().rstrip(".")
    return any(
        host.endswith(entry.lower()) if entry.startswith(".") else host == entry.lower()
        for entry in listed
    )


def is_push_service(endpoint: str) -> bool:
    """An https address of a known push service (``PUSH_SERVICE_HOSTS``); http only for the
    hosts of ``PUSH_HTTP_HOSTS``, which only the tests' local receiver uses."""
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        return False
    if not host or parts.username or parts.password:
        return False
    if parts.scheme == "http":
        return _host_listed(host, settings.PUSH_HTTP_HOSTS)
    return parts.scheme == "https" and _host_listed(host, settings.PUSH_SERVICE_HOSTS)
