"""``kontaktbok worker``: django-tasks-db's worker, quiet by default.

At the default verbosity it logs warnings and errors only (a failed task, a lost
database); ``-v 2`` logs every task's start and end, as ``db_worker -v 1`` does."""

import logging

from django_tasks_db.compat import TASKS_LOGGER
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorker


class Command(DatabaseWorker):
    help = "Run a background task worker (quiet: -v 2 logs every task)."

    def configure_logging(self, verbosity: int) -> None:
        if verbosity > 1:  # -v 2: every task (db_worker's -v 1), -v 3: debug
            super().configure_logging(verbosity - 1)
            return
        super().configure_logging(1)  # its handlers, then only warnings and errors
        for name in (TASKS_LOGGER, "django_tasks_db"):
            logging.getLogger(name).setLevel(logging.WARNING)
