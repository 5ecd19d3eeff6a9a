"""Refuse an attachment that is too large while it arrives, before it is stored whole."""

import contextlib
from collections.abc import Callable
from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest


class LimitedUploadHandler(FileUploadHandler):
    """Drops a file as soon as it passes ``limit`` bytes and remembers its name; the view
    then answers with a clear message and keeps the draft. ``limit`` may be a function,
    asked when the first file arrives (a form sent without files never needs it)."""

    def __init__(self, request: HttpRequest, limit: int | Callable[[], int]) -> None:
        super().__init__(request)
        self._limit = limit
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
        if self.received > self.limit:
            self.too_large.append(str(self.file_name or ""))
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def limit_uploads(request: HttpRequest, limit: Callable[[], int]) -> LimitedUploadHandler:
    """Put the school's size limit (in bytes, asked when a file arrives) in front of Django's
    own upload handlers. Call it before anything reads ``request.POST`` (the view is
    csrf-exempt and checks CSRF after)."""
    handler = LimitedUploadHandler(request, limit)
    # If the body was already read, the handler cannot be put in; the service checks the size.
    with contextlib.suppress(AttributeError):
        request.upload_handlers.insert(0, handler)
    return handler
