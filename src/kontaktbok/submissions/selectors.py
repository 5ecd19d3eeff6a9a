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


def delivery_key(draft_id: Any) -> str:
    """The archive's duplicate key of what a draft became: one draft, one submission."""
    return f"submission:{draft_id}"


def my_submission_of_draft(actor: Any, draft_id: Any) -> QuerySet[Submission]:
    """The person's submission made from this draft (none when the draft was another's)."""
    return my_submissions(actor).filter(delivery__external_key=delivery_key(draft_id))
