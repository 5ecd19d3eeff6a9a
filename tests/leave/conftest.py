import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    """English, the source language, so that messages can be asserted on."""
    with translation.override("en"):
        yield


@pytest.fixture
def client_en(client):
    client.cookies["kontaktbok_language"] = "en"
    return client
