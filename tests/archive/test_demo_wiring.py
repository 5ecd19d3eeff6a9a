"""``kontaktbok serve`` in the demo: the answer reader always, the local stand-ins only when
RabbitMQ answers; without it the demo says so and deliveries stay queued."""

import sys

from kontaktbok import cli
from tests import factories


def test_without_rabbitmq_the_demo_says_so_and_starts_no_stand_in(settings, capsys):
    settings.DEMO = True
    settings.FIKS_IO_ACCOUNT_ID = "8f2c1a52-6d4e-4c36-9e0b-1c0a5b6d7e01"
    settings.FIKS_IO_API_URL = "http://127.0.0.1:8091"
    settings.FIKS_IO_AMQP_URL = "amqp://guest:guest@127.0.0.1:1/%2F"  # nothing listens
    commands = cli._archive_commands(sys.executable)
    assert [c[-1] for c in commands] == ["archive_consumer"]
    out = capsys.readouterr().out
    assert "No RabbitMQ" in out and "queued" in out


def test_with_rabbitmq_the_demo_starts_the_stand_ins(settings, amqp_url):
    settings.DEMO = True
    settings.FIKS_IO_ACCOUNT_ID = "8f2c1a52-6d4e-4c36-9e0b-1c0a5b6d7e01"
    settings.FIKS_IO_API_URL = "http://127.0.0.1:8091"
    settings.FIKS_IO_AMQP_URL = amqp_url
    commands = cli._archive_commands(sys.executable)
    assert [c[-1] for c in commands] == ["archive_consumer", "fiks_standin"]


def test_without_an_account_nothing_is_started(settings, db):
    settings.FIKS_IO_ACCOUNT_ID = ""
    assert cli._archive_commands(sys.executable) == []


def test_a_municipalitys_own_account_starts_the_answer_reader(settings, db):
    from tests.archive.test_accounts import own_client

    settings.DEMO = False
    settings.FIKS_IO_ACCOUNT_ID = ""
    own_client(factories.school("Vassenden skule").municipality)
    assert [c[-1] for c in cli._archive_commands(sys.executable)] == ["archive_consumer"]
