"""Settings for worker processes started by tests on a moved clock (tests/absence/
test_lookup_tasks.py, tests/notifications/test_workers.py): the test settings, with the demo
clock file the test moves (``KONTAKTBOK_TEST_DEMO_CLOCK``), read afresh on every look at the
clock so that a move takes effect at once."""

import os
from pathlib import Path

from tests.settings import *  # noqa: F403

DEMO_CLOCK_FILE = Path(os.environ["KONTAKTBOK_TEST_DEMO_CLOCK"])
DEMO_CLOCK_CACHE_SECONDS = 0.0
