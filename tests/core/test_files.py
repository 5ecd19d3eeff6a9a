"""Secrets and keys made on first run, when several processes start at once."""

import multiprocessing
import stat
from pathlib import Path

from kontaktbok.core.files import create_once


def _make(path: str, content: bytes, start: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    create_once(Path(path), content)
    assert Path(path).read_bytes() != b""


def test_the_first_writer_wins_and_no_reader_sees_a_half_written_file(tmp_path):
    path = tmp_path / "keys" / "secret"
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    contents = [f"secret-{n}-".encode() * 1000 for n in range(6)]
    processes = [context.Process(target=_make, args=(str(path), c, start)) for c in contents]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(30)
    assert [p.exitcode for p in processes] == [0] * len(processes)
    assert path.read_bytes() in contents
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret"]  # no temporary files left


def test_an_existing_file_is_kept(tmp_path):
    path = tmp_path / "secret"
    create_once(path, b"first")
    create_once(path, b"second")
    assert path.read_bytes() == b"first"
