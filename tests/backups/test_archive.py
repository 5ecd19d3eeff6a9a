"""What ``kontaktbok restore`` refuses: a file that was tampered with or damaged, a wrong
key, parts or checksums that do not match the manifest, a schema newer than the code, a
place that is not empty. Nothing is written where the restore was refused."""

import json
import sqlite3
from pathlib import Path

import pytest
from django.db.migrations.loader import MigrationLoader

from kontaktbok.backups import archive
from tests.backups.helpers import key_pair, operator_env, rewrite


def _small_database(path: Path) -> None:
    """A database with this code's migrations recorded and a few rows."""
    known = sorted(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT, "
            "applied TEXT)"
        )
        connection.executemany(
            "INSERT INTO django_migrations (app, name, applied) VALUES (?, ?, '2026-11-24')",
            known,
        )
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.executemany("INSERT INTO notes VALUES (?)", [("a",), ("b",), ("c",)])
    connection.close()


@pytest.fixture
def made(tmp_path):
    """A backup of a small system: database, keys and one uploaded file."""
    live = tmp_path / "live"
    (live / "media" / "2026").mkdir(parents=True)
    (live / "media" / "2026" / "file.bin").write_bytes(b"encrypted bytes")
    (live / "file_key").write_text("the file key")
    (live / "nin_digest_key").write_text("the digest key")
    _small_database(live / "kontaktbok.sqlite3")
    identity, key_file = key_pair(tmp_path)
    backup = tmp_path / "kontaktbok-20261124T010000Z.age"
    archive.create(
        output=backup,
        recipient=str(identity.to_public()),
        database=archive.Database("sqlite", str(live / "kontaktbok.sqlite3")),
        data_dir=live,
        media_dir=live / "media",
        key_files={name: live / name for name in archive.KEY_FILES},
        version="test",
    )
    return backup, identity, key_file


def _restore(backup: Path, key_file: Path, target: Path) -> tuple[str, bool]:
    return archive.restore(
        path=backup,
        identity_file=key_file,
        data_dir=target,
        database=archive.Database("sqlite", str(target / "kontaktbok.sqlite3")),
        env=operator_env(target),
    )


def _refused(backup: Path, key_file: Path, target: Path, message: str) -> None:
    with pytest.raises(archive.BackupError, match=message):
        _restore(backup, key_file, target)
    assert not target.exists() or not any(target.iterdir())


def test_the_file_holds_nothing_readable_and_the_manifest_describes_every_part(made, tmp_path):
    backup, _identity, key_file = made
    assert b"the file key" not in backup.read_bytes()
    manifest = archive.open_backup(backup, key_file, tmp_path)
    assert manifest["counts"]["notes"] == 3
    assert manifest["engine"] == "sqlite"
    assert set(manifest["parts"]) == {
        "database.sqlite3",
        "keys/file_key",
        "keys/nin_digest_key",
        "media/2026/file.bin",
    }
    assert all(len(part["sha256"]) == 64 for part in manifest["parts"].values())


def test_a_changed_byte_is_refused(made, tmp_path):
    backup, _identity, key_file = made
    data = bytearray(backup.read_bytes())
    data[len(data) // 2] ^= 0x01
    backup.write_bytes(bytes(data))
    _refused(backup, key_file, tmp_path / "target", "cannot be opened")


def test_a_wrong_key_is_refused(made, tmp_path):
    backup, _identity, _key_file = made
    (tmp_path / "other").mkdir()
    _other, other_key = key_pair(tmp_path / "other")
    _refused(backup, other_key, tmp_path / "target", "cannot be opened with this key")


def test_a_part_that_does_not_match_its_checksum_is_refused(made, tmp_path):
    backup, identity, key_file = made

    def change(parts: Path) -> None:
        (parts / "keys" / "file_key").write_text("another key")

    tampered = rewrite(backup, identity, change, tmp_path / "work")
    _refused(tampered, key_file, tmp_path / "target", "checksum of keys/file_key")


def test_a_missing_or_added_part_is_refused(made, tmp_path):
    backup, identity, key_file = made

    def change(parts: Path) -> None:
        (parts / "media" / "2026" / "file.bin").unlink()
        (parts / "media" / "extra.bin").write_bytes(b"x")

    tampered = rewrite(backup, identity, change, tmp_path / "work")
    _refused(tampered, key_file, tmp_path / "target", "do not match its manifest")


def test_a_schema_newer_than_the_code_is_refused(made, tmp_path):
    backup, identity, key_file = made

    def change(parts: Path) -> None:
        manifest = json.loads((parts / "manifest.json").read_text())
        manifest["migrations"].append(["absence", "9999_from_a_later_version"])
        (parts / "manifest.json").write_text(json.dumps(manifest))

    newer = rewrite(backup, identity, change, tmp_path / "work")
    _refused(newer, key_file, tmp_path / "target", "absence.9999_from_a_later_version")


def test_a_place_that_is_not_empty_is_refused_and_left_as_it_was(made, tmp_path):
    backup, _identity, key_file = made
    target = tmp_path / "target"
    target.mkdir()
    (target / "file_key").write_text("the running system's key")
    with pytest.raises(archive.BackupError, match="only into an empty place"):
        _restore(backup, key_file, target)
    assert (target / "file_key").read_text() == "the running system's key"
    assert sorted(p.name for p in target.iterdir()) == ["file_key"]
