"""Helpers shared by the leave pages."""

from django.http import HttpResponse

from kontaktbok.leave.models import LeaveApplication

Status = LeaveApplication.Status


def pdf_response(content: bytes | memoryview, filename: str) -> HttpResponse:
    response = HttpResponse(bytes(content), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
