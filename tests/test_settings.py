"""The embedded default and the production profile."""

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pyrage import x25519

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
    for name in ("secret_key", "nin_digest_key", "audit_seal_key"):
        path = tmp_path / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert len(path.read_text()) >= 50
    first = (tmp_path / "secret_key").read_text()
    run_django(["check"], {"KONTAKTBOK_DATA_DIR": str(tmp_path)})
    assert (tmp_path / "secret_key").read_text() == first


CHECK_ID = re.compile(r"\((\w+\.[CEIW]\d{3})\)")
PRODUCTION = {
    "KONTAKTBOK_PROFILE": "production",
    "KONTAKTBOK_ALLOWED_HOSTS": "kontaktbok.example.no",
    "KONTAKTBOK_BACKUP_RECIPIENT": str(x25519.Identity.generate().to_public()),
}


def check_deploy(tmp_path: Path, env: dict[str, str]) -> tuple[int, set[str], str]:
    """``check --deploy`` failing on warnings: its exit code, the ids of the issues it found
    and its output."""
    result = run_django(
        ["check", "--deploy", "--fail-level", "WARNING"],
        {"KONTAKTBOK_DATA_DIR": str(tmp_path), **env},
    )
    output = result.stdout + result.stderr
    return result.returncode, set(CHECK_ID.findall(output)), output


def test_production_profile_passes_check_deploy(tmp_path):
    code, found, output = check_deploy(tmp_path, PRODUCTION)
    assert (code, found) == (0, set()), output
    assert "System check identified no issues (0 silenced)." in output


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"KONTAKTBOK_HSTS_SECONDS": "0"}, {"security.W004"}),
        ({"KONTAKTBOK_SSL_REDIRECT": "false"}, {"security.W008"}),
        ({"KONTAKTBOK_BACKUP_RECIPIENT": ""}, {"kontaktbok.W010"}),
        ({"KONTAKTBOK_BACKUP_RECIPIENT": "age1notakey"}, {"kontaktbok.E011"}),
        ({"KONTAKTBOK_BACKUP_AT": "2 o'clock"}, {"kontaktbok.E012"}),
    ],
)
def test_check_deploy_sees_what_an_operator_turns_off_in_production(tmp_path, change, expected):
    code, found, output = check_deploy(tmp_path, PRODUCTION | change)
    assert (code, found) == (1, expected), output


def test_embedded_profile_is_not_mistaken_for_production(tmp_path):
    """Plain HTTP on one machine: no HSTS, no SSL redirect, no secure-only cookies."""
    code, found, output = check_deploy(tmp_path, {})
    assert code == 1, output
    assert found == {
        "security.W004",
        "security.W008",
        "security.W012",
        "security.W016",
        "kontaktbok.W010",
    }, output


def test_pages_send_a_csp_with_a_nonce(client, db):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()
    assert response["X-Frame-Options"] == "DENY"


def test_the_demo_school_is_never_loaded_in_production(tmp_path):
    """Its logins share a published password and TOTP key."""
    result = run_django(["load_demo"], {"KONTAKTBOK_DATA_DIR": str(tmp_path), **PRODUCTION})
    assert result.returncode == 1
    assert "never loaded in the production profile" in result.stderr


def test_the_demo_is_never_on_in_production(tmp_path):
    code = "from django.conf import settings; print(settings.DEMO, settings.SMS_GATEWAY)"
    env = {"KONTAKTBOK_DATA_DIR": str(tmp_path), "KONTAKTBOK_DEMO": "1"}
    result = run_django(["shell", "--no-imports", "-c", code], env | PRODUCTION)
    assert result.stdout.split() == ["False", "none"], result.stderr
    result = run_django(["shell", "--no-imports", "-c", code], env)
    assert result.stdout.split() == ["True", "sink"], result.stderr
