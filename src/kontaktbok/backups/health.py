"""The backup's line in ``/healthz``."""

from typing import Any

from kontaktbok.backups import selectors
from kontaktbok.core import clock, health


@health.register("backup")
def backup() -> dict[str, Any]:
    state = selectors.backup_health(clock.now())
    last = state.last_success
    return {
        "ok": state.state != selectors.LATE,
        "state": state.state,
        "last_success": last.isoformat(timespec="seconds") if last else None,
    }
