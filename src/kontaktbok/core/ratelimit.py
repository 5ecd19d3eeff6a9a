"""Named rate limits ("buckets") on what a person can do many times over.

Each bucket has rates per user and per client address (``RATE_LIMITS``, e.g.
``"20/h/user,200/h/ip"``), counted in fixed windows in the cache (Redis in production, so
all web hosts share them). A request over any rate of its bucket is refused before it does
anything: a page answers 429 with ``Retry-After`` and a message in the person's language
(``limit``), the API through django-ninja's throttling (``throttles``) in its documented
error shape. Client addresses are kept only as a keyed digest."""

import functools
import hashlib
import hmac
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import ngettext
from ninja.throttling import BaseThrottle

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    amount: int
    seconds: int
    per: str  # "user" or "ip"


class RateLimited(Exception):
    def __init__(self, bucket: str, wait: int) -> None:
        super().__init__(f"{bucket}: over its rate limit; wait {wait} s")
        self.bucket = bucket
        self.wait = wait


def parse(spec: str) -> list[Rate]:
    """``"20/h/user,200/10m/ip"`` → its rates; a period is a number of s, m, h or d."""
    rates = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        amount, period, per = part.split("/")
        digits = period[:-1]
        seconds = (int(digits) if digits else 1) * _PERIODS[period[-1]]
        if per not in ("user", "ip") or int(amount) < 1 or seconds < 1:
            raise ValueError(f"rate limit {part!r}: want AMOUNT/PERIOD/user|ip")
        rates.append(Rate(int(amount), seconds, per))
    return rates


def rates(bucket: str) -> list[Rate]:
    return parse(settings.RATE_LIMITS[bucket])


def client_ip(request: HttpRequest) -> str:
    """The client's address: past the ``TRUSTED_PROXY_COUNT`` proxies we run, read from
    the right of X-Forwarded-For (the same rule as the login limits)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        addresses = [a.strip() for a in forwarded.split(",")]
        return addresses[-min(proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR", "")


def _who(request: HttpRequest, rate: Rate) -> str | None:
    if rate.per == "user":
        user = getattr(request, "user", None)
        return str(user.pk) if user is not None and user.is_authenticated else None
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, client_ip(request).encode(), hashlib.sha256).hexdigest()[:20]


def _count(key: str, timeout: int) -> int:
    if cache.add(key, 1, timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # the window ran out in between
        cache.set(key, 1, timeout)
        return 1


def hit(request: HttpRequest, bucket: str) -> None:
    """Count one action of ``bucket``; raise ``RateLimited`` (with the seconds to wait)
    when it goes over any of the bucket's rates."""
    now = time.time()
    waits = []
    for rate in rates(bucket):
        who = _who(request, rate)
        if who is None:
            continue
        window = int(now // rate.seconds)
        key = f"ratelimit:{bucket}:{rate.per}:{rate.seconds}:{who}:{window}"
        if _count(key, rate.seconds + 1) > rate.amount:
            waits.append(math.ceil((window + 1) * rate.seconds - now))
    if waits:
        raise RateLimited(bucket, max(max(waits), 1))


def message(wait: int) -> str:
    minutes = max(math.ceil(wait / 60), 1)
    return ngettext(
        "You have done this many times in a short while. Try again in %(count)s minute.",
        "You have done this many times in a short while. Try again in %(count)s minutes.",
        minutes,
    ) % {"count": minutes}


def too_many(request: HttpRequest, exc: RateLimited, *, as_json: bool = False) -> HttpResponse:
    text = message(exc.wait)
    response: HttpResponse
    if as_json:
        response = JsonResponse({"ok": False, "errors": {"__all__": [text]}}, status=429)
    else:
        response = render(request, "core/rate_limited.html", {"message": text}, status=429)
    response["Retry-After"] = str(exc.wait)
    return response


def limit(bucket: str, *, as_json: bool = False) -> Callable:
    """A view's writes (not its GET) count against ``bucket``; over it, 429."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in SAFE_METHODS:
                try:
                    hit(request, bucket)
                except RateLimited as exc:
                    return too_many(request, exc, as_json=as_json)
            return view(request, *args, **kwargs)

        return limited

    return decorate


class Bucket(BaseThrottle):
    """django-ninja's throttling with one of our buckets; only writes count."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        self._wait: int | None = None

    def allow_request(self, request: HttpRequest) -> bool:
        if request.method in SAFE_METHODS:
            return True
        try:
            hit(request, self.bucket)
        except RateLimited as exc:
            self._wait = exc.wait
            return False
        return True

    def wait(self) -> float | None:
        return self._wait


def throttles(*buckets: str) -> list[BaseThrottle]:
    """An API operation's throttles: every write counts against ``api.write``, and against
    the named buckets of what it does (``absence.report``, ``messages.send``, ...)."""
    return [Bucket(name) for name in ("api.write", *buckets)]
