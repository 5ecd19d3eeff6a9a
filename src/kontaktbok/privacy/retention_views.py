"""The retention table, for everyone signed in: no personal data, only the rules."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from kontaktbok.privacy import retention


@login_required
@require_GET
def retention_table(request: HttpRequest) -> HttpResponse:
    days = retention.days_chosen()
    rules = [(rule, rule.kept_for(days[rule.code])) for rule in retention.RULES]
    return render(request, "privacy/retention.html", {"rules": rules})
