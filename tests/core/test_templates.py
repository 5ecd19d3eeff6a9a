"""What the Nu HTML Checker found on the signed-in pages, kept out of every template:
htmx's attributes in their valid ``data-hx-*`` form, a current breadcrumb that is a real
link, ``<time datetime>`` without microseconds, no ``size`` on number inputs; and every page
has a meta description."""

import re
from pathlib import Path

from django.test import Client

TEMPLATES = sorted(
    Path(__file__).resolve().parents[2].glob("src/kontaktbok/**/templates/**/*.html")
)


def test_the_templates_are_found():
    assert len(TEMPLATES) > 50


def test_no_template_uses_what_the_html_checker_refuses():
    found = []
    for path in TEMPLATES:
        text = path.read_text()
        checks = {
            "hx-* attribute (use data-hx-*)": re.search(r'[\s"]hx-[a-z-]+=', text),
            "current breadcrumb without href": re.search(r'<a aria-current="page">', text),
            "datetime with microseconds": re.search(r"""\|date:["']c["']""", text),
            "size on a number input": re.search(r'type="number"[^>]*\ssize=', text),
        }
        found += [f"{path.name}: {what}" for what, hit in checks.items() if hit]
    assert not found, found


def test_pages_have_a_meta_description(db):
    html = Client().get("/accounts/login/").content.decode()
    assert re.search(r'<meta name="description" content="kontaktbok: [^"]+">', html)
