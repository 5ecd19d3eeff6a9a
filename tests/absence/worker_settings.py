"""Settings for worker processes started by tests/absence/test_lookup_tasks.py: the test
settings, with the demo clock file the test moves (``KONTAKTBOK_TEST_DEMO_CLOCK``)."""

import os
from pathlib import Path

from tests.settings import *  # noqa: F403

DEMO_CLOCK_FILE = Path(os.environ["KONTAKTBOK_TEST_DEMO_CLOCK"])
