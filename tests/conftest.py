import pytest
import time_machine

from tests import factories

# A school day in the demo school year: Tuesday 24 November 2026, 07:45 in Oslo.
SCHOOL_DAY = "2026-11-24 07:45 +0100"


@pytest.fixture(autouse=True)
def _school_day():
    with time_machine.travel(SCHOOL_DAY, tick=True):
        yield


@pytest.fixture
def world(db):
    return factories.world()
