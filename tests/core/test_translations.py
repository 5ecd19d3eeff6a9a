"""Nynorsk and Bokmål are complete: every string in the code and the templates has a
translation in both catalogs, and none is a fuzzy guess. Checked on a copy of the source
with Django's own makemessages, so a string added without its translation fails here."""

import shutil
import subprocess
import sys
from pathlib import Path

import kontaktbok

LANGUAGES = ("nn", "nb")


def _entries(catalog: Path, *flags: str) -> list[str]:
    out = subprocess.run(  # noqa: S603
        ["/usr/bin/msgattrib", *flags, "--no-obsolete", str(catalog)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line for line in out.splitlines() if line.startswith("msgid ") and line != 'msgid ""']


def test_every_string_is_translated_to_nynorsk_and_bokmal(tmp_path: Path):
    source = Path(kontaktbok.__file__).parent
    copy = tmp_path / "kontaktbok"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "django", "makemessages", "--ignore", "accounts/allauth_locale/*"]
        + [arg for language in LANGUAGES for arg in ("-l", language)],
        cwd=copy,
        check=True,
        capture_output=True,
        # Without settings, makemessages writes to the copy's own locale folder only.
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
    missing = {}
    for language in LANGUAGES:
        catalog = copy / "locale" / language / "LC_MESSAGES" / "django.po"
        untranslated = _entries(catalog, "--untranslated")
        fuzzy = _entries(catalog, "--only-fuzzy")
        if untranslated or fuzzy:
            missing[language] = {"untranslated": untranslated, "fuzzy": fuzzy}
    assert not missing, missing
