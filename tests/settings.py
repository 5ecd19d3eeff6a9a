"""Settings for the test suite: the real settings, with fast hashing, and tasks run in the
test process once the transaction that queued them commits (``tests/tasks.py``)."""

import os
from pathlib import Path

_root = Path(__file__).resolve().parent.parent
os.environ.setdefault("KONTAKTBOK_DATA_DIR", str(_root / "build" / "test-data"))
os.environ.setdefault("KONTAKTBOK_TASK_BACKEND", "tests.tasks.AfterCommitBackend")
# The demo's sink keeps e-mail and SMS where the tests read them.
os.environ.setdefault("KONTAKTBOK_DEMO", "1")

from kontaktbok.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if not os.environ.get("KONTAKTBOK_EMAIL_HOST"):  # worker processes may get a real one
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
(DATA_DIR / "static").mkdir(parents=True, exist_ok=True)  # noqa: F405

# The test database is a file (not in memory) so that worker processes started by the tests
# can share it. A process started with KONTAKTBOK_USE_TEST_DATABASE=1 uses it as its own.
# Under pytest-xdist each test process has its own database, named with pytest-django's
# suffix (``_gw0``, ...); the processes a test starts inherit PYTEST_XDIST_WORKER.
_db = DATABASES["default"]  # noqa: F405
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER")
_xdist_suffix = f"_{_xdist_worker}" if _xdist_worker else ""
if _db["ENGINE"].endswith("sqlite3"):
    _db["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405
    if os.environ.get("KONTAKTBOK_USE_TEST_DATABASE"):
        _db["NAME"] = _db["TEST"]["NAME"] + _xdist_suffix
elif os.environ.get("KONTAKTBOK_USE_TEST_DATABASE"):
    _db["NAME"] = f"test_{_db['NAME']}{_xdist_suffix}"

# The tests' push service runs on 127.0.0.1 over http: that host, and no other, is added.
PUSH_HTTP_HOSTS = ["127.0.0.1"]

# Kinds of notification used by the tests: tests.urgent (urgent) and tests.plain.
NOTIFICATION_KIND_MODULES = ["tests.notifications.kinds"]

# Tests move time with time-machine; the demo clock is tried on its own (tests/demo).
DEMO_CLOCK_FILE = None
