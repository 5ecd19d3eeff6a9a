"""Helpers shared by the leave pages."""

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse

from kontaktbok.leave.models import LeaveApplication

Status = LeaveApplication.Status


def add_errors(form: forms.BaseForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def pdf_response(content: bytes | memoryview, filename: str) -> HttpResponse:
    response = HttpResponse(bytes(content), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
