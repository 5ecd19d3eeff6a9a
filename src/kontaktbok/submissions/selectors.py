from typing import Any

from django.db.models import QuerySet

from kontaktbok.submissions.models import Draft, Submission


def my_drafts(actor: Any) -> QuerySet[Draft]:
    if not getattr(actor, "is_authenticated", False):
        return Draft.objects.none()
    return Draft.objects.filter(sender=actor)


def my_submissions(actor: Any) -> QuerySet[Submission]:
    if not getattr(actor, "is_authenticated", False):
        return Submission.objects.none()
    return Submission.objects.filter(sender=actor).select_related("unit", "delivery")
