"""What ``/healthz`` reports. Apps register their checks (``core`` must not know them).

The answer is 503 when the database cannot be reached or a check registered as critical
fails, so a load balancer takes the server out; a failed non-critical check (a late
backup) leaves the server serving and says ``"status": "degraded"`` for monitoring."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[], dict[str, Any]]  # returns at least {"ok": bool}
    critical: bool


_CHECKS: dict[str, Check] = {}


def register(name: str, *, critical: bool = False) -> Callable[[Callable], Callable]:
    def add(run: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
        _CHECKS[name] = Check(name, run, critical)
        return run

    return add


def report() -> tuple[int, dict[str, Any]]:
    """The HTTP status and the body of ``/healthz``."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return 503, {"status": "failing", "checks": {"database": {"ok": False}}}
    checks: dict[str, Any] = {"database": {"ok": True}}
    failing = degraded = False
    for check in _CHECKS.values():
        result = check.run()
        checks[check.name] = result
        if not result["ok"]:
            failing = failing or check.critical
            degraded = True
    status = "failing" if failing else "degraded" if degraded else "ok"
    return (503 if failing else 200), {"status": status, "checks": checks}
