"""The embedded default and the production profile."""

import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_django(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KONTAKTBOK_")}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    clean.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests only
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "kontaktbok.cli", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_embedded_default_creates_secrets_with_mode_600(tmp_path):
    result = run_django(["check"], {"KONTAKTBOK_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    for name in ("secret_key", "nin_digest_key"):
        path = tmp_path / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert len(path.read_text()) >= 50
    first = (tmp_path / "secret_key").read_text()
    run_django(["check"], {"KONTAKTBOK_DATA_DIR": str(tmp_path)})
    assert (tmp_path / "secret_key").read_text() == first


def test_production_profile_passes_check_deploy(tmp_path):
    result = run_django(
        ["check", "--deploy", "--fail-level", "WARNING"],
        {
            "KONTAKTBOK_DATA_DIR": str(tmp_path),
            "KONTAKTBOK_PROFILE": "production",
            "KONTAKTBOK_ALLOWED_HOSTS": "kontaktbok.example.no",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_embedded_profile_is_not_mistaken_for_production(tmp_path):
    result = run_django(
        ["check", "--deploy", "--fail-level", "WARNING"], {"KONTAKTBOK_DATA_DIR": str(tmp_path)}
    )
    assert result.returncode != 0


def test_pages_send_a_csp_with_a_nonce(client, db):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()
    assert response["X-Frame-Options"] == "DENY"
