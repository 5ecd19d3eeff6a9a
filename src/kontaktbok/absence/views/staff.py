"""Staff: attendance registration, the class team's daily check, statistics, a pupil's
absence history, and the school's check status for kontor and leiing."""

from django.http import HttpRequest, HttpResponse


def register(request: HttpRequest, group_id: int) -> HttpResponse:
    raise NotImplementedError


def daily_check(request: HttpRequest, group_id: int) -> HttpResponse:
    raise NotImplementedError


def statistics(request: HttpRequest, group_id: int) -> HttpResponse:
    raise NotImplementedError


def pupil_history(request: HttpRequest, pupil_id: int) -> HttpResponse:
    raise NotImplementedError


def school_status(request: HttpRequest, school_id: int) -> HttpResponse:
    raise NotImplementedError
