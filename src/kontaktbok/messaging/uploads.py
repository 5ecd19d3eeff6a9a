"""Refuse an attachment that is too large while it arrives, before it is stored whole: on
the pages (``limit_uploads``) and in the API (``limit_api_uploads``)."""

import contextlib
import functools
from collections.abc import Callable
from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest, HttpResponse

from kontaktbok.core.api import error_response
from kontaktbok.messaging.models import MIN_ATTACHMENT_MB

SMALLEST_LIMIT = MIN_ATTACHMENT_MB * 1024 * 1024
# Room for the text fields and the multipart framing around the files.
FORM_ALLOWANCE = 1024 * 1024


class LimitedUploadHandler(FileUploadHandler):
    """Drops a file as soon as it passes ``limit`` bytes and remembers its name; the view
    then answers with a clear message and keeps the draft. ``limit`` may be a function,
    asked only when a file passes ``floor`` bytes, the smallest limit there can be (so a
    form with small files or none never needs it)."""

    def __init__(
        self, request: HttpRequest, limit: int | Callable[[], int], *, floor: int = 0
    ) -> None:
        super().__init__(request)
        self._limit = limit
        self.floor = floor
        self.received = 0
        self.too_large: list[str] = []

    @property
    def limit(self) -> int:
        if callable(self._limit):
            self._limit = self._limit()
        return self._limit

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.floor and self.received > self.limit:
            self.too_large.append(str(self.file_name or ""))
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def limit_uploads(request: HttpRequest, limit: Callable[[], int]) -> LimitedUploadHandler:
    """Put the school's size limit (in bytes, asked when a file passes the smallest limit a
    school can set) in front of Django's own upload handlers. Call it before anything reads
    ``request.POST`` (the view is csrf-exempt and checks CSRF after)."""
    handler = LimitedUploadHandler(request, limit, floor=SMALLEST_LIMIT)
    # If the body was already read, the handler cannot be put in; the service checks the size.
    with contextlib.suppress(AttributeError):
        request.upload_handlers.insert(0, handler)
    return handler


def limit_api_uploads(
    limit: Callable[..., int], *, max_files: int, field: str, message: Callable[[int], str]
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """For an API operation (``ninja.decorators.decorate_view``): the school's size limit,
    ``limit(request, **path)`` in bytes, put in front before anything (the login and CSRF
    checks, the parameters) reads the body. A body that declares more than ``max_files``
    files at the limit answers 413 unread; a file that passes the limit while it arrives is
    dropped and the request answers 413, in the API's error shape."""

    def _too_large(handler: LimitedUploadHandler) -> HttpResponse:
        return error_response(413, message(handler.limit // (1024 * 1024)), field=field)

    def decorator(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(run)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method != "POST":
                return run(request, *args, **kwargs)
            if not request.user.is_authenticated:
                return error_response(401)  # nobody uploads before logging in
            handler = limit_uploads(request, lambda: limit(request, **kwargs))
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0  # as Django reads it
            # A body that fits files at the smallest limit needs no look-up of the school's.
            could_fit = max_files * handler.floor + FORM_ALLOWANCE
            if declared > could_fit and declared > max_files * handler.limit + FORM_ALLOWANCE:
                return _too_large(handler)
            request.FILES  # noqa: B018 - read the body now, with the limit in front
            if handler.too_large:
                return _too_large(handler)
            return run(request, *args, **kwargs)

        return wrapper

    return decorator
