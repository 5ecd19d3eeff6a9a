"""The comment as a PDF/A document for the archive (WeasyPrint)."""

from typing import Any

from django.template.loader import render_to_string
from weasyprint import HTML


def comment_pdf(context: dict[str, Any]) -> bytes:
    html = render_to_string("submissions/comment_pdf.html", context)
    return bytes(HTML(string=html).write_pdf(pdf_variant="pdf/a-2b"))
