"""The ``kontaktbok`` command says which data dir it uses, and does not quietly start an
empty one for a command run without the server's ``KONTAKTBOK_DATA_DIR``."""

from tests.test_settings import run_django


def test_a_command_on_a_missing_data_dir_is_refused_and_creates_nothing(tmp_path):
    missing = tmp_path / "not-the-servers"
    result = run_django(["check"], {"KONTAKTBOK_DATA_DIR": str(missing)})
    assert result.returncode == 2
    assert f"the data dir {missing} does not exist" in result.stderr
    assert "KONTAKTBOK_CREATE_DATA_DIR=1" in result.stderr
    assert not missing.exists()


def test_asked_for_a_new_data_dir_it_starts_one(tmp_path):
    new = tmp_path / "new"
    env = {"KONTAKTBOK_DATA_DIR": str(new), "KONTAKTBOK_CREATE_DATA_DIR": "1"}
    result = run_django(["check"], env)
    assert result.returncode == 0, result.stderr
    assert f"kontaktbok: data dir {new} (new)" in result.stderr
    assert (new / "secret_key").exists()


def test_an_existing_data_dir_is_named(tmp_path):
    result = run_django(["check"], {"KONTAKTBOK_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == f"kontaktbok: data dir {tmp_path}"


def test_the_web_server_logs_each_request_only_when_asked():
    from kontaktbok.cli import gunicorn_command

    quiet = gunicorn_command(bind="127.0.0.1:1", workers="1", argv=[])
    assert "--access-logfile" not in quiet
    assert "--no-control-socket" in quiet  # no file outside the data dir
    verbose = gunicorn_command(bind="127.0.0.1:1", workers="1", argv=[], access_log=True)
    assert verbose[verbose.index("--access-logfile") + 1] == "-"


def test_the_worker_logs_warnings_only_unless_asked():
    import logging

    from django_tasks_db.compat import TASKS_LOGGER

    from kontaktbok.core.management.commands.task_worker import Command

    Command().configure_logging(1)
    assert logging.getLogger(TASKS_LOGGER).level == logging.WARNING
    Command().configure_logging(2)
    assert logging.getLogger(TASKS_LOGGER).level == logging.INFO
    Command().configure_logging(1)
