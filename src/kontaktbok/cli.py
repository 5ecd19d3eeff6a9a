"""The ``kontaktbok`` command.

kontaktbok demo        migrate, load the demo school (again: keeps data), print logins,
                       and set the demo's clock to a school morning if it is not one
kontaktbok serve       web server, task worker and scheduler together on one machine
kontaktbok worker      a task worker (run several on PostgreSQL)
kontaktbok scheduler   the one scheduler that enqueues periodic work every minute
kontaktbok tick        enqueue the periodic work once (for cron instead of the scheduler)
kontaktbok backup      an encrypted backup of the database, keys and files (--verify FILE)
kontaktbok restore F   restore backup F into an empty data dir (--identity KEYFILE)
kontaktbok <other>     any Django management command (migrate, createsuperuser, ...)
"""

import os
import signal
import subprocess
import sys
import time


def _django(argv: list[str]) -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kontaktbok", *argv])


def _setup() -> None:
    import django

    django.setup()


def gunicorn_command(*, bind: str, workers: str, argv: list[str]) -> list[str]:
    """The web server as ``serve`` starts it (settings in ``kontaktbok.gunicorn_conf``)."""
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
        "--access-logfile",
        "-",
        *argv,
    ]


def serve(argv: list[str]) -> int:
    """Run gunicorn, one worker and the scheduler; stop all when one stops."""
    bind = os.environ.get("KONTAKTBOK_BIND", "127.0.0.1:8000")
    web_workers = os.environ.get("KONTAKTBOK_WEB_WORKERS", "2")
    _django(["migrate", "--no-input", "-v", "0"])
    _django(["createcachetable", "-v", "0"])
    python = sys.executable
    commands = [
        gunicorn_command(bind=bind, workers=web_workers, argv=argv),
        [python, "-m", "kontaktbok.cli", "worker"],
        [python, "-m", "kontaktbok.cli", "scheduler"],
    ]
    processes = [subprocess.Popen(command) for command in commands]  # noqa: S603
    print(f"kontaktbok is running at http://{bind}/ (Ctrl+C stops it)", flush=True)

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


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kontaktbok.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else "help"
    rest = args[1:]
    if command in {"help", "-h", "--help"}:
        print(__doc__)
        return 0
    if command == "serve":
        return serve(rest)
    if command == "worker":
        _django(["db_worker", *rest])
        return 0
    if command == "demo":
        _django(["migrate", "--no-input", "-v", "0"])
        _django(["createcachetable", "-v", "0"])
        _django(["load_demo", *rest])
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
