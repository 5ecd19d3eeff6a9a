"""The decision letter (enkeltvedtak) and the appeal case as PDF, made with WeasyPrint."""

from typing import Any

from django.template.loader import render_to_string
from django.utils import translation


def render_pdf(template: str, context: dict[str, Any], *, language: str) -> bytes:
    """Render ``template`` in ``language`` (the school's, Nynorsk by default) to a tagged,
    accessible PDF (PDF/UA-1: structure tree, language and title, for screen readers)."""
    from weasyprint import HTML  # imported late: it loads pango at import time

    with translation.override(language):
        html = render_to_string(template, context)
    return HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")
