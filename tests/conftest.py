import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import time_machine

from tests import factories
from tests.tasks import run_commit_hooks_of_outermost_blocks

# A school day in the demo school year: Tuesday 24 November 2026, 07:45 in Oslo.
SCHOOL_DAY = "2026-11-24 07:45 +0100"


@pytest.fixture(autouse=True)
def _default_language():
    """Each test begins in the default language: a request in another one (the language
    middleware activates it for the thread) must not leak into the next test."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _school_day():
    with time_machine.travel(SCHOOL_DAY, tick=True):
        yield


@pytest.fixture(autouse=True, scope="session")
def _tasks_after_commit():
    with run_commit_hooks_of_outermost_blocks():
        yield


@pytest.fixture
def queued_tasks(settings):
    """Tasks are recorded when their transaction commits, not run: the test runs the workers.
    Returns the list of (task name, args, kwargs) in the order they were queued."""
    from django.tasks import task_backends

    settings.TASKS = {"default": {"BACKEND": "tests.tasks.RecordingBackend"}}
    return task_backends["default"].queued


_COMMITTING = {"transactional_db", "live_server", "django_db_reset_sequences"}


def _shares_one_world(module_items: list[pytest.Item]) -> bool:
    """A module's tests can share one world when every test that touches the database uses
    the world and none commits (a test that commits needs an empty database around it)."""
    on_database = [item for item in module_items if "db" in getattr(item, "fixturenames", ())]
    return bool(on_database) and all(
        "world" in item.fixturenames and not _commits(item) for item in on_database
    )


def _commits(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    marked = marker is not None and (
        marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")
    )
    return bool(marked) or bool(_COMMITTING & set(getattr(item, "fixturenames", ())))


@contextmanager
def built_for_module(django_db_blocker: Any, build: Callable[[], Any]) -> Iterator[Any]:
    """Build test data once for a module, on the school day, inside a transaction that is
    rolled back at the module's end; each test then runs in a savepoint inside it
    (pytest-django's ``db``), so what a test writes is gone before the next one."""
    from django.test import TestCase

    with django_db_blocker.unblock():
        atomics = TestCase._enter_atomics()
        try:
            with time_machine.travel(SCHOOL_DAY, tick=False):
                built = build()
        except BaseException:
            TestCase._rollback_atomics(atomics)
            raise
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            TestCase._rollback_atomics(atomics)


@pytest.fixture(scope="module")
def _module_world(request, django_db_setup, django_db_blocker):
    """The world, built once for a module whose tests can share it (else None)."""
    items = [item for item in request.session.items if item.module is request.module]
    if not _shares_one_world(items):
        yield None
        return
    with built_for_module(django_db_blocker, factories.world) as built:
        yield built


@pytest.fixture
def world(_module_world, db):
    """Two schools with families and staff of every kind (``tests/factories.py``).

    Shared by the tests of a module where it can be (each gets its own copy of the objects,
    and its database changes are rolled back); built for the test otherwise."""
    if _module_world is None:
        return factories.world()
    from django.core.cache import cache

    cache.clear()  # roles and rate limits cached by an earlier test of the same people
    return copy.deepcopy(_module_world)


class _SmtpSink:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on localhost; the default mailer points at it."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = _SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    try:
        yield sink
    finally:
        controller.stop()
