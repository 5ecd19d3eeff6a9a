"""``kontaktbok serve``'s web server, started for real: it does not name itself."""

import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from kontaktbok.cli import gunicorn_command
from tests.waiting import wait_until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _headers(url: str):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
            return response.headers
    except urllib.error.HTTPError as error:
        return error.headers
    except OSError:
        return None


def test_the_web_server_does_not_send_server_gunicorn(tmp_path: Path):
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "KONTAKTBOK_DATA_DIR": str(tmp_path),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    command = gunicorn_command(bind=f"127.0.0.1:{port}", workers="1", argv=[])
    server = subprocess.Popen(  # noqa: S603
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        headers = wait_until(
            lambda: _headers(f"http://127.0.0.1:{port}/healthz"),
            what="the web server",
            timeout=30,
            details=lambda: server.stderr.read().decode() if server.poll() is not None else "",
        )
        assert "gunicorn" not in headers.get("Server", "").lower()
        assert "camera=()" in headers["Permissions-Policy"]
    finally:
        server.terminate()
        server.wait(timeout=10)
