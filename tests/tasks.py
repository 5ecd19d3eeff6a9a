"""Tasks in tests run after the write that queued them commits, as a worker would see them.

Production queues a task row in the service's transaction and a worker runs it once that
transaction has committed. The test backend runs the task in the same process, but only
then: when the service's outermost transaction commits, and never if it rolls back.

pytest-django's ``db`` fixture wraps each test in a transaction of its own, so nothing
there ever commits; :func:`run_commit_hooks_of_outermost_blocks` makes the end of the
outermost block *inside* that test transaction count as the commit.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from django.db import transaction
from django.db.transaction import Atomic
from django.tasks.backends.immediate import ImmediateBackend
from django.tasks.base import TaskResultStatus

logger = logging.getLogger(__name__)


def _inside_test_transaction_only(using: str | None) -> bool:
    connection = transaction.get_connection(using)
    return all(block._from_testcase for block in connection.atomic_blocks)


class TaskFailed(AssertionError):
    """A task failed in a test: the test fails with the task's traceback."""


class AfterCommitBackend(ImmediateBackend):
    """Runs each task in this process once the enqueuing transaction has committed; a task
    that fails makes the test fail (a worker would log it and retry)."""

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        self.validate_task(task)
        if _inside_test_transaction_only(None):
            return self._run(task, args, kwargs)
        transaction.on_commit(partial(self._run, task, args, kwargs))
        return None

    def _run(self, task: Any, args: Any, kwargs: Any) -> Any:
        result = super().enqueue(task, args, kwargs)
        if result.status == TaskResultStatus.FAILED:
            raise TaskFailed(f"task {task.name} failed:\n{result.errors[-1].traceback}")
        return result


class RecordingBackend(AfterCommitBackend):
    """Records each task once its transaction has committed, and runs nothing: for tests
    that drive the workers themselves (the ``queued_tasks`` fixture)."""

    def __init__(self, alias: str, params: dict) -> None:
        super().__init__(alias, params)
        self.queued: list[tuple[str, tuple, dict]] = []

    def _run(self, task: Any, args: Any, kwargs: Any) -> Any:
        self.queued.append((task.name, tuple(args), dict(kwargs)))
        return None


@contextmanager
def run_commit_hooks_of_outermost_blocks() -> Iterator[None]:
    """Inside a test transaction, run a block's on-commit hooks when it is the outermost
    block of the code under test and it exits without error (its savepoint is released)."""
    original_exit = Atomic.__exit__

    def exit_(self: Atomic, exc_type: Any, exc_value: Any, traceback: Any) -> Any:
        connection = transaction.get_connection(self.using)
        blocks = connection.atomic_blocks
        outermost = (
            not self._from_testcase
            and bool(blocks)
            and blocks[-1] is self
            and len(blocks) > 1
            and all(block._from_testcase for block in blocks[:-1])
        )
        sid = connection.savepoint_ids[-1] if outermost and connection.savepoint_ids else None
        result = original_exit(self, exc_type, exc_value, traceback)
        if sid is not None and exc_type is None and not connection.needs_rollback:
            mine = [hook for hook in connection.run_on_commit if sid in hook[0]]
            connection.run_on_commit = [
                hook for hook in connection.run_on_commit if sid not in hook[0]
            ]
            for _, func, robust in mine:
                if robust:
                    try:
                        func()
                    except Exception:
                        logger.exception("on-commit hook %s failed", func)
                else:
                    func()
        return result

    Atomic.__exit__ = exit_  # type: ignore[method-assign]
    try:
        yield
    finally:
        Atomic.__exit__ = original_exit  # type: ignore[method-assign]
