"""A local stand-in for a browser's push service, which checks what the application sends.

``PushReceiver`` is a real HTTP server on 127.0.0.1 (random port, own thread). For every
subscription it hands out it holds the browser's side of the keys, and it accepts a push
only if the request is what a real push service and browser need:

* RFC 8292 (VAPID): ``Authorization: vapid t=<JWT>, k=<key>``; the JWT is ES256-signed with
  ``k``, ``k`` is the application's public key, ``aud`` is the endpoint's origin, ``exp`` is
  in the future and at most 24 hours ahead, ``sub`` is a ``mailto:`` or ``https:`` URL;
* RFC 8030: a ``TTL`` header (a non-negative integer), at most 4096 bytes of body;
* RFC 8291 / RFC 8188: ``Content-Encoding: aes128gcm``, a body that decrypts with the
  subscription's private key and auth secret, whose key id is the sender's P-256 point;
* the application's own format: a JSON object with ``title``, ``body``, ``url`` and ``tag``.

A request that breaks a rule is answered ``400`` and its reason kept in ``rejected``. A valid
one is answered with the next status queued by ``answer`` (``201 Created`` by default), and
kept in ``requests``; those answered 201 are also in ``pushes``.
"""

import base64
import json
import re
import secrets
import struct
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

MAX_BODY = 4096
DAY = 24 * 60 * 60
AUTHORIZATION = re.compile(r"^vapid\s+t=(?P<t>[^,\s]+)\s*,\s*k=(?P<k>[^,\s]+)\s*$", re.IGNORECASE)


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Rejected(Exception):
    """The request is not one a push service would accept."""


@dataclass
class Subscription:
    """The browser's side of one push subscription: endpoint, key pair and auth secret."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.endpoint).path

    @property
    def p256dh(self) -> str:
        """The public key as the browser reports it: base64url of the uncompressed point."""
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url_encode(raw)

    @property
    def auth(self) -> str:
        return b64url_encode(self.auth_secret)

    def to_json(self) -> dict[str, Any]:
        """What ``PushSubscription.toJSON()`` gives in a browser."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass
class Push:
    """One valid request the receiver got, decrypted."""

    endpoint: str
    status: int
    claims: dict[str, Any]
    vapid_key: str
    ttl: int
    headers: dict[str, str]
    payload: dict[str, Any]


@dataclass
class PushReceiver:
    """A push service on localhost; ``vapid_public_key`` is the key pushes must be signed with."""

    vapid_public_key: str
    requests: list[Push] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    _subscriptions: dict[str, Subscription] = field(default_factory=dict)
    _answers: dict[str, deque[int]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    # -- running --------------------------------------------------------------------------

    @contextmanager
    def running(self) -> Iterator["PushReceiver"]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = receiver._receive(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                if status == 201:
                    self.send_header("Location", f"/message/{secrets.token_urlsafe(8)}")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(5)

    @property
    def origin(self) -> str:
        assert self._server is not None, "the receiver is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- set-up by the test ---------------------------------------------------------------

    def subscription(self) -> Subscription:
        """A new browser subscription (fresh P-256 key pair and auth secret) at this service."""
        subscription = Subscription(
            endpoint=f"{self.origin}/push/{secrets.token_urlsafe(16)}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=secrets.token_bytes(16),
        )
        with self._lock:
            self._subscriptions[subscription.path] = subscription
        return subscription

    def answer(self, subscription: Subscription, *statuses: int) -> None:
        """Answer the next valid pushes to ``subscription`` with these statuses, then 201."""
        with self._lock:
            self._answers[subscription.path].extend(statuses)

    # -- what arrived ---------------------------------------------------------------------

    @property
    def pushes(self) -> list[Push]:
        """Valid pushes that were accepted (201)."""
        with self._lock:
            return [push for push in self.requests if push.status == 201]

    def pushes_to(self, subscription: Subscription) -> list[Push]:
        return [push for push in self.pushes if push.endpoint == subscription.endpoint]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Push]:
        """Wait until ``count`` requests (valid or not) have arrived; return the valid ones."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.requests) + len(self.rejected) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
            return list(self.requests)

    # -- the checks -----------------------------------------------------------------------

    def _receive(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            subscription = self._subscriptions.get(path)
        if subscription is None:
            return 404
        try:
            push = self._check(subscription, {k.lower(): v for k, v in headers.items()}, body)
        except Rejected as exc:
            with self._lock:
                self.rejected.append(f"POST {path}: {exc}")
                self._lock.notify_all()
            return 400
        with self._lock:
            answers = self._answers[path]
            push.status = answers.popleft() if answers else 201
            self.requests.append(push)
            self._lock.notify_all()
        return push.status

    def _check(self, subscription: Subscription, headers: dict[str, str], body: bytes) -> Push:
        claims, key = self._check_vapid(subscription, headers.get("authorization", ""))
        ttl = headers.get("ttl", "")
        if not ttl.isdigit():
            raise Rejected(f"TTL header missing or not a non-negative integer: {ttl!r}")
        if headers.get("content-encoding", "").lower() != "aes128gcm":
            raise Rejected(f"Content-Encoding is {headers.get('content-encoding')!r}")
        if len(body) > MAX_BODY:
            raise Rejected(f"body of {len(body)} bytes is over {MAX_BODY}")
        payload = self._decrypt(subscription, body)
        return Push(
            endpoint=subscription.endpoint,
            status=0,
            claims=claims,
            vapid_key=key,
            ttl=int(ttl),
            headers=headers,
            payload=payload,
        )

    def _check_vapid(self, subscription: Subscription, authorization: str) -> tuple[dict, str]:
        match = AUTHORIZATION.match(authorization)
        if match is None:
            raise Rejected(f"Authorization is not 'vapid t=..., k=...': {authorization[:80]!r}")
        token, key = match["t"], match["k"]
        if key != self.vapid_public_key:
            raise Rejected(f"k={key} is not the application's VAPID public key")
        try:
            public = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), b64url_decode(key)
            )
        except ValueError as exc:
            raise Rejected(f"k is not a P-256 point: {exc}") from exc
        parts = token.split(".")
        if len(parts) != 3:
            raise Rejected("t is not a JWS in compact form")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except ValueError as exc:
            raise Rejected(f"t does not decode: {exc}") from exc
        if header.get("alg") != "ES256" or header.get("typ", "JWT") != "JWT":
            raise Rejected(f"JWT header is {header}, not ES256")
        if len(signature) != 64:
            raise Rejected(f"ES256 signature of {len(signature)} bytes, not 64 (r||s)")
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        try:
            public.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise Rejected("the JWT signature does not verify with k") from None
        origin = urlsplit(subscription.endpoint)
        if claims.get("aud") != f"{origin.scheme}://{origin.netloc}":
            raise Rejected(f"aud={claims.get('aud')!r}, not {origin.scheme}://{origin.netloc}")
        exp, now = claims.get("exp"), time.time()
        if not isinstance(exp, int) or not now < exp <= now + DAY:
            raise Rejected(f"exp={exp!r} is not within the next 24 hours (now {int(now)})")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not re.match(r"^(mailto:\S+@\S+|https://\S+)$", sub):
            raise Rejected(f"sub={sub!r} is not a mailto: or https: URL")
        return claims, key

    def _decrypt(self, subscription: Subscription, body: bytes) -> dict[str, Any]:
        if len(body) < 21:
            raise Rejected("body shorter than an aes128gcm header")
        (record_size,) = struct.unpack("!L", body[16:20])
        key_id = body[21 : 21 + body[20]]
        if record_size < 18:
            raise Rejected(f"record size {record_size} is under 18")
        if len(key_id) != 65 or key_id[0] != 4:
            raise Rejected("the key id is not the sender's uncompressed P-256 point")
        try:
            plain = http_ece.decrypt(
                body,
                private_key=subscription.private_key,
                auth_secret=subscription.auth_secret,
                version="aes128gcm",
            )
        except Exception as exc:
            raise Rejected(f"aes128gcm decryption failed: {exc!r}") from exc
        try:
            payload = json.loads(plain)
        except ValueError as exc:
            raise Rejected(f"the payload is not JSON: {plain[:80]!r}") from exc
        if not isinstance(payload, dict):
            raise Rejected(f"the payload is not a JSON object: {payload!r}")
        missing = {"title", "body", "url", "tag"} - payload.keys()
        if missing:
            raise Rejected(f"the payload lacks {sorted(missing)}: {payload}")
        return payload
