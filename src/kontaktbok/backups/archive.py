"""Backups of the whole system in one file: the database, the data dir's keys and the
uploaded files, with a manifest, encrypted for the operator's age public key.

A backup is taken from the running system (SQLite's online backup API; ``pg_dump`` in
custom format inside one exported snapshot, so the counts match the dump). A restore needs
the private key, which belongs away from the server; it refuses a file whose checksums do
not match its manifest, and a file made by a newer version of the schema than the code.

This module must not import Django settings at module level: ``kontaktbok restore`` runs
before the settings exist, because reading them would create fresh keys in the data dir.
"""

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyrage
from pyrage import x25519

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_PART = "database.sqlite3"
POSTGRES_PART = "database.pgdump"
# The data dir's generated secrets: without them encrypted files cannot be opened and
# identity numbers cannot be matched, even with the database intact.
KEY_FILES = ("secret_key", "nin_digest_key", "file_key", "audit_seal_key", "vapid_private.pem")
MEDIA = "media"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the operator."""


@dataclass(frozen=True)
class Database:
    """Where the data is: a SQLite file or a PostgreSQL database."""

    engine: str  # "sqlite" or "postgres"
    name: str  # the file path, or the database name
    host: str = ""
    port: str = ""
    user: str = ""
    password: str = ""

    @classmethod
    def from_django(cls, settings_dict: dict[str, Any]) -> "Database":
        if settings_dict["ENGINE"].endswith("sqlite3"):
            return cls("sqlite", str(settings_dict["NAME"]))
        return cls(
            "postgres",
            settings_dict["NAME"],
            str(settings_dict.get("HOST") or ""),
            str(settings_dict.get("PORT") or ""),
            settings_dict.get("USER") or "",
            settings_dict.get("PASSWORD") or "",
        )

    @classmethod
    def from_environment(cls, data_dir: Path) -> "Database":
        """As the settings would read it, without reading them."""
        url = os.environ.get("KONTAKTBOK_DATABASE_URL")
        if not url:
            return cls("sqlite", str(data_dir / "kontaktbok.sqlite3"))
        import dj_database_url

        return cls.from_django(dict(dj_database_url.parse(url)))

    def pg_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {k: v for k, v in {"PGHOST": self.host, "PGPORT": self.port}.items() if v},
        )
        if self.user:
            env["PGUSER"] = self.user
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    @contextmanager
    def pg_connect(self, dbname: str | None = None) -> Iterator[Any]:
        import psycopg

        with psycopg.connect(
            dbname=dbname or self.name,
            host=self.host or None,
            port=self.port or None,
            user=self.user or None,
            password=self.password or None,
            autocommit=True,
        ) as connection:
            yield connection


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- reading a database: counts and migrations --------------------------------------------


def _sqlite_state(path: Path) -> tuple[dict[str, int], list[list[str]]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        # Table names come from the catalog, not from input.
        count = 'SELECT COUNT(*) FROM "{}"'
        counts = {t: connection.execute(count.format(t)).fetchone()[0] for t in tables}
        migrations = _migrations(connection.execute, "django_migrations" in tables)
    return counts, migrations


def _migrations(execute: Callable[[str], Any], present: bool) -> list[list[str]]:
    if not present:
        return []
    rows = execute("SELECT app, name FROM django_migrations ORDER BY app, name").fetchall()
    return [[app, name] for app, name in rows]


def _postgres_tables(cursor: Any) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [row[0] for row in cursor.fetchall()]


def _postgres_state(cursor: Any) -> tuple[dict[str, int], list[list[str]]]:
    tables = _postgres_tables(cursor)
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 (names from the catalog)
        counts[table] = cursor.fetchone()[0]
    return counts, _migrations(cursor.execute, "django_migrations" in tables)


def database_state(database: Database) -> tuple[dict[str, int], list[list[str]]]:
    """Rows per table and the applied migrations of ``database`` as it is now."""
    if database.engine == "sqlite":
        return _sqlite_state(Path(database.name))
    with database.pg_connect() as connection, connection.cursor() as cursor:
        return _postgres_state(cursor)


# --- taking a backup --------------------------------------------------------------------


def _snapshot_sqlite(database: Database, target: Path) -> tuple[dict[str, int], list[list[str]]]:
    source = sqlite3.connect(database.name)
    try:
        with sqlite3.connect(target) as copy:
            source.backup(copy)  # the online backup API: writers may go on meanwhile
        copy.close()
    finally:
        source.close()
    return _sqlite_state(target)


def _snapshot_postgres(database: Database, target: Path) -> tuple[dict[str, int], list[list[str]]]:
    import psycopg

    with database.pg_connect() as connection:
        connection.autocommit = False
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            # The dump and the counts see the same snapshot of the database.
            result = subprocess.run(  # noqa: S603
                [
                    shutil.which("pg_dump") or "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                    database.name,
                ],
                env=database.pg_env(),
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode:
                raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
            state = _postgres_state(cursor)
        connection.rollback()
    return state


def _add_tree(parts: dict[str, Path], root: Path, prefix: str) -> None:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            parts[f"{prefix}/{path.relative_to(root).as_posix()}"] = path


def create(
    *,
    output: Path,
    recipient: str,
    database: Database,
    data_dir: Path,
    media_dir: Path,
    key_files: dict[str, Path],
    version: str,
) -> dict[str, Any]:
    """Write one encrypted backup file to ``output``; return its manifest."""
    try:
        public_key = x25519.Recipient.from_str(recipient.strip())
    except pyrage.RecipientError as exc:
        raise BackupError(f"KONTAKTBOK_BACKUP_RECIPIENT is not an age public key: {exc}") from exc
    with tempfile.TemporaryDirectory(prefix="kontaktbok-backup-") as scratch:
        work = Path(scratch)
        if database.engine == "sqlite":
            db_part = SQLITE_PART
            counts, migrations = _snapshot_sqlite(database, work / db_part)
        else:
            db_part = POSTGRES_PART
            counts, migrations = _snapshot_postgres(database, work / db_part)
        parts: dict[str, Path] = {db_part: work / db_part}
        for name, path in key_files.items():
            if path.is_file():
                parts[f"keys/{name}"] = path
        _add_tree(parts, media_dir, MEDIA)
        manifest = {
            "format": FORMAT,
            "version": version,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "engine": database.engine,
            "migrations": migrations,
            "counts": counts,
            "parts": {
                name: {"sha256": sha256_of(p), "size": p.stat().st_size}
                for name, p in parts.items()
            },
        }
        archive = work / "backup.tar"
        with tarfile.open(archive, "w") as tar:
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            (work / MANIFEST).write_bytes(data)
            tar.add(work / MANIFEST, arcname=MANIFEST)
            for name, path in parts.items():
                tar.add(path, arcname=name)
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(f".{output.name}.partial")
        pyrage.encrypt_file(str(archive), str(partial), [public_key])
        partial.replace(output)  # the file appears whole or not at all
    return manifest


# --- opening a backup -------------------------------------------------------------------


def _identity(identity_file: Path) -> Any:
    for line in identity_file.read_text().splitlines():
        line = line.strip()
        if line.startswith("AGE-SECRET-KEY-"):
            return x25519.Identity.from_str(line)
    raise BackupError(f"{identity_file} holds no age private key (AGE-SECRET-KEY-...).")


def open_backup(path: Path, identity_file: Path, into: Path) -> dict[str, Any]:
    """Decrypt and unpack ``path`` into ``into``; check every part against the manifest."""
    archive = into / "backup.tar"
    try:
        pyrage.decrypt_file(str(path), str(archive), [_identity(identity_file)])
    except (pyrage.DecryptError, OSError) as exc:  # a wrong key, or a file changed on the way
        raise BackupError(
            f"The backup cannot be opened with this key, or it was damaged or changed: {exc}"
        ) from exc
    unpacked = into / "parts"
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")  # refuses links and paths outside
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"The backup is damaged: {exc}") from exc
    archive.unlink()
    try:
        manifest = json.loads((unpacked / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError("The backup has no readable manifest.") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    found = {p.relative_to(unpacked).as_posix() for p in unpacked.rglob("*") if p.is_file()} - {
        MANIFEST
    }
    expected = set(manifest["parts"])
    if found != expected:
        raise BackupError(
            "The backup's parts do not match its manifest: "
            f"missing {sorted(expected - found)}, unexpected {sorted(found - expected)}."
        )
    for name, part in manifest["parts"].items():
        if sha256_of(unpacked / name) != part["sha256"]:
            raise BackupError(f"The checksum of {name} does not match the manifest.")
    return manifest


def newer_migrations(manifest: dict[str, Any], known: set[tuple[str, str]]) -> list[str]:
    """Migrations the backup's database has and this code does not know."""
    return sorted(
        f"{app}.{name}" for app, name in manifest["migrations"] if (app, name) not in known
    )


def _ensure_empty(database: Database, data_dir: Path, media_dir: Path) -> None:
    occupied = [name for name in KEY_FILES if (data_dir / name).exists()]
    if media_dir.is_dir() and any(media_dir.iterdir()):
        occupied.append(MEDIA)
    if database.engine == "sqlite":
        if Path(database.name).exists() and Path(database.name).stat().st_size:
            occupied.append(Path(database.name).name)
    else:
        with database.pg_connect() as connection, connection.cursor() as cursor:
            if _postgres_tables(cursor):
                occupied.append(f"database {database.name}")
    if occupied:
        raise BackupError(
            "A backup is restored only into an empty place; found: " + ", ".join(occupied)
        )


def place(
    *, manifest: dict[str, Any], parts: Path, database: Database, data_dir: Path, media_dir: Path
) -> None:
    """Put the parts of an opened backup in their places (which must be empty)."""
    if manifest["engine"] != database.engine:
        raise BackupError(
            f"This backup holds a {manifest['engine']} database; the target is {database.engine}."
        )
    _ensure_empty(database, data_dir, media_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in manifest["parts"]:
        source = parts / name
        if name.startswith("keys/"):
            target = data_dir / name.removeprefix("keys/")
            shutil.copyfile(source, target)
            target.chmod(0o600)
        elif name.startswith(f"{MEDIA}/"):
            target = media_dir / name.removeprefix(f"{MEDIA}/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    if database.engine == "sqlite":
        Path(database.name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(parts / SQLITE_PART, database.name)
        return
    result = subprocess.run(  # noqa: S603
        [
            shutil.which("pg_restore") or "pg_restore",
            "--no-owner",
            "--exit-on-error",
            f"--dbname={database.name}",
            str(parts / POSTGRES_PART),
        ],
        env=database.pg_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")


def compare_counts(manifest: dict[str, Any], restored: dict[str, int]) -> tuple[str, bool]:
    """A table of the counts in the manifest next to those restored, and whether all match."""
    lines = [f"{'table':<48} {'backup':>10} {'restored':>10}"]
    same = True
    for table in sorted(set(manifest["counts"]) | set(restored)):
        expected, got = manifest["counts"].get(table), restored.get(table)
        mark = "" if expected == got else "  <- differs"
        same = same and expected == got
        lines.append(f"{table:<48} {expected!s:>10} {got!s:>10}{mark}")
    return "\n".join(lines), same


# --- checks after a restore, registered by the apps --------------------------------------

_CHECKS: list[Callable[[int], str]] = []


def restore_check(check: Callable[[int], str]) -> Callable[[int], str]:
    """Register a check run on a restored system: given a sample size, it opens what the
    keys protect (e.g. decrypts attachments) and returns a line for the report, or raises
    ``BackupError``."""
    _CHECKS.append(check)
    return check


def run_restore_checks(sample: int) -> list[str]:
    from django.apps import apps

    for config in apps.get_app_configs():
        try:
            __import__(f"{config.name}.backup_checks")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.backup_checks":
                raise
    return [check(sample) for check in _CHECKS]


# --- restore and verify, driven from the command line ------------------------------------


def data_dir_from_environment() -> Path:
    """The data dir as the settings would find it (``KONTAKTBOK_DATA_DIR``)."""
    from kontaktbok.paths import data_dir

    return data_dir()


def _kontaktbok(args: list[str], env: dict[str, str]) -> str:
    """Run a ``kontaktbok`` command in a fresh process with ``env``; return its output. The
    data dirs given here are the restore's own (a scratch one, the one restored into), so
    the process may start them."""
    import sys

    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "kontaktbok.cli", *args],
        env={**env, "KONTAKTBOK_CREATE_DATA_DIR": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise BackupError(f"kontaktbok {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result.stdout


def restore(
    *, path: Path, identity_file: Path, data_dir: Path, database: Database, env: dict[str, str]
) -> tuple[str, bool]:
    """Restore ``path`` into an empty ``data_dir`` / ``database``, migrate forward, and
    return the counts of the backup next to those restored."""
    with tempfile.TemporaryDirectory(prefix="kontaktbok-restore-") as scratch:
        work = Path(scratch)
        manifest = open_backup(path, identity_file, work)
        # What this code knows, asked of a process with a throwaway data dir.
        probe = {**env, "KONTAKTBOK_DATA_DIR": str(work / "probe")}
        known = {
            tuple(m) for m in json.loads(_kontaktbok(["backup_inspect", "--migrations"], probe))
        }
        newer = newer_migrations(manifest, known)
        if newer:
            raise BackupError(
                "This backup was made by a newer version of kontaktbok (unknown migrations: "
                + ", ".join(newer[:5])
                + "). Restore it with that version or a later one."
            )
        place(
            manifest=manifest,
            parts=work / "parts",
            database=database,
            data_dir=data_dir,
            media_dir=data_dir / MEDIA,
        )
    counts, _migrations = database_state(database)
    target = {**env, "KONTAKTBOK_DATA_DIR": str(data_dir)}
    _kontaktbok(["migrate", "--no-input", "-v", "0"], target)
    # The static files are made from the code, not backed up: collect them for this data dir.
    _kontaktbok(["collectstatic", "--no-input", "-v", "0"], target)
    return compare_counts(manifest, counts)


@contextmanager
def scratch_place(database: Database) -> Iterator[tuple[Path, Database, dict[str, str]]]:
    """An empty data dir, and an empty database beside ``database``, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="kontaktbok-verify-") as scratch:
        data_dir = Path(scratch) / "data"
        env = {**os.environ, "KONTAKTBOK_DATA_DIR": str(data_dir)}
        if database.engine == "sqlite":
            env.pop("KONTAKTBOK_DATABASE_URL", None)
            yield data_dir, Database("sqlite", str(data_dir / "kontaktbok.sqlite3")), env
            return
        name = f"{database.name}_verify_{os.getpid()}"[:63]
        with database.pg_connect("postgres") as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        scratch_db = Database(
            "postgres", name, database.host, database.port, database.user, database.password
        )
        env["KONTAKTBOK_DATABASE_URL"] = _postgres_url(scratch_db)
        try:
            yield data_dir, scratch_db, env
        finally:
            with database.pg_connect("postgres") as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_url(database: Database) -> str:
    from urllib.parse import quote

    auth = quote(database.user, safe="")
    if database.password:
        auth += ":" + quote(database.password, safe="")
    host = database.host or "localhost"
    port = f":{database.port}" if database.port else ""
    return f"postgres://{auth}@{host}{port}/{database.name}"


def verify(*, path: Path, identity_file: Path, database: Database, sample: int) -> str:
    """Restore ``path`` into a scratch place and open a sample of what the keys protect,
    without touching the live system. Raises ``BackupError`` when anything differs."""
    with scratch_place(database) as (data_dir, scratch_db, env):
        table, same = restore(
            path=path, identity_file=identity_file, data_dir=data_dir, database=scratch_db, env=env
        )
        if not same:
            raise BackupError("The restored counts differ from the backup's:\n" + table)
        checks = _kontaktbok(["backup_inspect", "--checks", str(sample)], env)
    return f"{table}\n{checks}".strip()
