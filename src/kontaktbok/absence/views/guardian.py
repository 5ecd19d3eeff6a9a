"""Guardians: meld fråvær, change or withdraw a report, and the child's absence this year."""

from django.http import HttpRequest, HttpResponse


def child_absence(request: HttpRequest, pupil_id: int) -> HttpResponse:
    raise NotImplementedError


def report_create(request: HttpRequest, pupil_id: int) -> HttpResponse:
    raise NotImplementedError


def report_edit(request: HttpRequest, report_id: int) -> HttpResponse:
    raise NotImplementedError


def report_withdraw(request: HttpRequest, report_id: int) -> HttpResponse:
    raise NotImplementedError
