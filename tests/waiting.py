"""Waiting in tests for a condition, never for a fixed time."""

import time
from collections.abc import Callable


def wait_until[T](
    condition: Callable[[], T],
    *,
    what: str,
    timeout: float = 60.0,
    details: Callable[[], str] = lambda: "",
) -> T:
    """Poll ``condition`` until it returns something true and return that; after ``timeout``
    seconds fail, saying what was awaited and adding ``details()`` (a worker's log, say)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{details()}")
        time.sleep(0.02)
