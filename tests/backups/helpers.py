"""Shared by the backup tests: the environment of a ``kontaktbok`` process run as an
operator runs it (the real settings, its own data dir), and backups rewritten on purpose."""

import os
import tarfile
from collections.abc import Callable
from pathlib import Path

import pyrage
from pyrage import x25519

ROOT = Path(__file__).resolve().parents[2]


def operator_env(data_dir: Path, database_url: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KONTAKTBOK_", "DJANGO_"))}
    env.pop("PYTEST_XDIST_WORKER", None)
    env.update(
        KONTAKTBOK_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="kontaktbok.settings",
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    )
    if database_url:
        env["KONTAKTBOK_DATABASE_URL"] = database_url
    return env


def key_pair(folder: Path) -> tuple[x25519.Identity, Path]:
    """A new age key pair; the private key in a file, as the operator keeps it."""
    identity = x25519.Identity.generate()
    key_file = folder / "backup-key.txt"
    key_file.write_text(f"# the private key\n{identity}\n")
    return identity, key_file


def rewrite(
    backup: Path, identity: x25519.Identity, change: Callable[[Path], None], work: Path
) -> Path:
    """A copy of ``backup`` whose unpacked parts ``change`` has altered, encrypted again for
    the same key: what an attacker holding the public key could make."""
    work.mkdir()
    archive, parts = work / "backup.tar", work / "parts"
    pyrage.decrypt_file(str(backup), str(archive), [identity])
    with tarfile.open(archive) as tar:
        tar.extractall(parts, filter="data")
    change(parts)
    with tarfile.open(archive, "w") as tar:
        for path in sorted(parts.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=path.relative_to(parts).as_posix())
    rewritten = work / backup.name
    pyrage.encrypt_file(str(archive), str(rewritten), [identity.to_public()])
    return rewritten
