"""The ``kontaktbok`` command.

kontaktbok demo        migrate, load the demo school (again: keeps data), print logins,
                       and set the demo's clock to a school morning if it is not one
kontaktbok serve       web server, task worker and scheduler together on one machine; the
                       console shows warnings, errors and a line a minute (--verbose: all)
kontaktbok worker      a task worker (run several on PostgreSQL; -v 2 logs every task)
kontaktbok scheduler   the one scheduler that enqueues periodic work every minute
kontaktbok tick        enqueue the periodic work once (for cron instead of the scheduler)
kontaktbok backup      an encrypted backup of the database, keys and files (--verify FILE)
kontaktbok restore F   restore backup F into an empty data dir (--identity KEYFILE)
kontaktbok <other>     any Django management command (migrate, createsuperuser, ...)
"""

import os
import signal
import socket
import subprocess
import sys
import time

from kontaktbok.paths import data_dir

# The commands that may start a new, empty data dir. Any other refuses to run on one that
# does not exist (the server's is most likely elsewhere), unless KONTAKTBOK_CREATE_DATA_DIR=1.
CREATES_DATA_DIR = {"demo", "serve", "migrate", "restore", "collectstatic"}


def _django(argv: list[str]) -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kontaktbok", *argv])


def _setup() -> None:
    import django

    django.setup()


def gunicorn_command(
    *, bind: str, workers: str, argv: list[str], access_log: bool = False
) -> list[str]:
    """The web server as ``serve`` starts it (settings in ``kontaktbok.gunicorn_conf``):
    no control socket (nothing uses it; it would be written outside the data dir), and an
    access log line per request only when asked for."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "kontaktbok.wsgi:application",
        "--config",
        "python:kontaktbok.gunicorn_conf",
        "--bind",
        bind,
        "--workers",
        workers,
        "--no-control-socket",
        *(["--access-logfile", "-"] if access_log else []),
        *argv,
    ]


def serve(argv: list[str]) -> int:
    """Run gunicorn, one worker and the scheduler; stop all when one stops. The console
    keeps to warnings, errors and the scheduler's line a minute; ``--verbose`` adds every
    request and every task."""
    verbose = "--verbose" in argv
    argv = [arg for arg in argv if arg != "--verbose"]
    bind = os.environ.get("KONTAKTBOK_BIND", "127.0.0.1:8000")
    web_workers = os.environ.get("KONTAKTBOK_WEB_WORKERS", "2")
    _django(["migrate", "--no-input", "-v", "0"])
    _django(["createcachetable", "-v", "0"])
    python = sys.executable
    standins = _national_standins(bind)
    commands = [
        gunicorn_command(bind=bind, workers=web_workers, argv=argv, access_log=verbose),
        [python, "-m", "kontaktbok.cli", "worker", *(["-v", "2"] if verbose else [])],
        [python, "-m", "kontaktbok.cli", "scheduler"],
    ]
    commands += _archive_commands(python)
    processes = [subprocess.Popen(command) for command in commands]  # noqa: S603
    print(f"kontaktbok is running at http://{bind}/ (Ctrl+C stops it)", flush=True)
    _print_demo_logins()
    if standins is not None:
        processes.append(standins[0])
        print(standins[1], flush=True)

    def stop(*_: object) -> None:
        for process in processes:
            if process.poll() is None:
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
    finally:
        stop()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    return max((process.returncode or 0) for process in processes)


def _national_standins(bind: str) -> tuple[subprocess.Popen, str] | None:
    """In the demo, local stand-ins for ID-porten and Feide (Node, scripts/oidc-standin),
    unless real ones are set or KONTAKTBOK_DEMO_NATIONAL_LOGIN=off; the servers started
    after this are pointed at them. Returns the process and who can log in as whom."""
    from django.conf import settings

    if (
        not settings.DEMO
        or settings.PRODUCTION
        or os.environ.get("KONTAKTBOK_IDPORTEN_ISSUER")
        or os.environ.get("KONTAKTBOK_FEIDE_ISSUER")
        or os.environ.get("KONTAKTBOK_DEMO_NATIONAL_LOGIN", "on").lower() in {"off", "0", "no"}
    ):
        return None
    from kontaktbok.demo import national

    idporten = int(os.environ.get("KONTAKTBOK_DEMO_IDPORTEN_PORT", "8401"))
    feide = int(os.environ.get("KONTAKTBOK_DEMO_FEIDE_PORT", "8402"))
    try:
        process = national.start_standins(
            data_dir() / "oidc-standin.json", f"http://{bind}", idporten, feide
        )
    except (RuntimeError, OSError) as error:
        print(f"kontaktbok: no national login in the demo: {error}", file=sys.stderr)
        return None
    os.environ.update(national.standin_env(idporten, feide))
    os.environ.setdefault("KONTAKTBOK_SITE_URL", f"http://{bind}")
    return process, national.persons_text(idporten, feide)


def _broker_up(url: str) -> bool:
    from urllib.parse import urlsplit

    address = urlsplit(url)
    try:
        socket.create_connection((address.hostname or "127.0.0.1", address.port or 5672), 2).close()
    except OSError:
        return False
    return True


def _archive_commands(python: str) -> list[list[str]]:
    """The archive's answer reader and, in the demo, the local Fiks IO and archive
    stand-ins (they need RabbitMQ; without it submissions stay queued, nothing is lost)."""
    _setup()
    from django.conf import settings
    from django.db import DatabaseError

    from kontaktbok.archive.models import FiksClient

    if not settings.FIKS_IO_ACCOUNT_ID:
        try:
            own_accounts = FiksClient.objects.exists()  # municipalities with their own
        except DatabaseError:  # not migrated yet
            own_accounts = False
        if not own_accounts:
            return []
    commands = [[python, "-m", "kontaktbok.cli", "archive_consumer"]]
    if settings.DEMO and settings.FIKS_IO_API_URL.startswith("http://127.0.0.1"):
        if _broker_up(settings.FIKS_IO_AMQP_URL):
            commands.append([python, "-m", "kontaktbok.cli", "fiks_standin"])
        else:
            print(
                "No RabbitMQ on 127.0.0.1:5672: the local Fiks IO and archive stand-ins are "
                "not started. Submissions are kept, queued, and go to the archive when "
                "RabbitMQ runs (rabbitmq-server -detached) and kontaktbok is restarted.",
                flush=True,
            )
    return commands


def _print_demo_logins() -> None:
    """In the demo, the logins once more at the end of start-up, where they are seen."""
    from django.conf import settings

    if settings.DEMO and not settings.PRODUCTION:
        _django(["load_demo", "--logins-only"])
        sys.stdout.flush()


def restore(argv: list[str]) -> int:
    """Restore a backup into an empty data dir (or empty PostgreSQL database). Runs before
    the settings are read: reading them would create fresh keys in the data dir."""
    import argparse
    from pathlib import Path

    from kontaktbok.backups import archive

    parser = argparse.ArgumentParser(prog="kontaktbok restore")
    parser.add_argument("file", type=Path)
    parser.add_argument(
        "--identity",
        type=Path,
        default=os.environ.get("KONTAKTBOK_BACKUP_IDENTITY"),
        required=not os.environ.get("KONTAKTBOK_BACKUP_IDENTITY"),
        help="the age private key file",
    )
    args = parser.parse_args(argv)
    data_dir = archive.data_dir_from_environment()
    try:
        table, same = archive.restore(
            path=args.file,
            identity_file=args.identity,
            data_dir=data_dir,
            database=archive.Database.from_environment(data_dir),
            env=dict(os.environ),
        )
    except archive.BackupError as exc:
        print(f"kontaktbok restore: {exc}", file=sys.stderr)
        return 1
    print(table)
    print("restored" if same else "restored, but the counts differ from the backup's")
    return 0 if same else 1


def _check_data_dir(command: str) -> bool:
    """Say which data dir this command uses (on stderr); refuse a missing one unless the
    command starts one."""
    path = data_dir()
    if path.exists():
        print(f"kontaktbok: data dir {path}", file=sys.stderr)
        return True
    if command in CREATES_DATA_DIR or os.environ.get("KONTAKTBOK_CREATE_DATA_DIR") == "1":
        print(f"kontaktbok: data dir {path} (new)", file=sys.stderr)
        return True
    print(
        f"kontaktbok: the data dir {path} does not exist. Run with the server's "
        "KONTAKTBOK_DATA_DIR, or set KONTAKTBOK_CREATE_DATA_DIR=1 to start a new one.",
        file=sys.stderr,
    )
    return False


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kontaktbok.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else "help"
    rest = args[1:]
    if command in {"help", "-h", "--help"}:
        print(__doc__)
        return 0
    if not _check_data_dir(command):
        return 2
    if command == "serve":
        return serve(rest)
    if command == "worker":
        _django(["task_worker", *rest])
        return 0
    if command == "demo":
        _django(["migrate", "--no-input", "-v", "0"])
        _django(["createcachetable", "-v", "0"])
        _django(["load_demo", *rest])
        _django(["archive_demo_unit"])
        # A demo is tried at any hour; the morning routines need a school morning.
        _django(["demo_clock", "--school-morning"])
        return 0
    if command == "restore":
        return restore(rest)
    if command == "scheduler":
        _setup()
        from kontaktbok.core.scheduler import run_forever

        run_forever()
        return 0
    if command == "tick":
        _setup()
        from kontaktbok.core.scheduler import tick

        tick()
        return 0
    _django(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
