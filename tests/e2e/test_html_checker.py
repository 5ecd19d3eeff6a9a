"""The Nu HTML Checker that the journeys run on every document: it must find errors, so that
a broken Java or checker cannot let every page pass."""

import pytest

from tests.e2e import html_checker
from tests.e2e.html_checker import Document, html_errors

VALID = b"""<!DOCTYPE html>
<html lang="nn"><head><meta charset="utf-8"><title>Fr\xc3\xa5v\xc3\xa6r</title></head>
<body><p id="note"><span>Heime sjuk</span></p></body></html>
"""
INVALID = b"""<!DOCTYPE html>
<html lang="nn"><head><meta charset="utf-8"><title>Fr\xc3\xa5v\xc3\xa6r</title></head>
<body>
<div id="note"><span><div>Heime sjuk</div></span></div>
<p id="note">Borte</p>
</body></html>
"""


def test_the_checker_passes_a_valid_document():
    assert html_errors([Document("GET", "/valid/", 200, VALID)]) == []


def test_the_checker_names_the_document_the_line_and_the_error():
    errors = html_errors(
        [Document("GET", "/valid/", 200, VALID), Document("POST", "/invalid/", 400, INVALID)]
    )

    assert [error.split("\n")[0] for error in errors] == [
        "POST /invalid/ (HTTP 400) line 4: Element “div” not allowed as child of element "
        "“span” in this context. (Suppressing further errors from this subtree.)",
        "POST /invalid/ (HTTP 400) line 5: Duplicate ID “note”.",
    ]


def test_without_java_the_check_fails(monkeypatch):
    monkeypatch.setattr(html_checker, "JAVA", ["no-such-java", "-jar", "vnu.jar"])
    with pytest.raises(FileNotFoundError):
        html_errors([Document("GET", "/valid/", 200, VALID)])


def test_without_the_checker_the_check_fails(monkeypatch):
    monkeypatch.setattr(html_checker, "JAVA", ["java", "-jar", "no-such-vnu.jar"])
    with pytest.raises(RuntimeError, match="did not run"):
        html_errors([Document("GET", "/valid/", 200, VALID)])
