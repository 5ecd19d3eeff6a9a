"""The citizen's pages: the form, the summary to confirm, and the receipt."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from kontaktbok.archive import selectors as archive_selectors
from kontaktbok.submissions import selectors, services
from kontaktbok.submissions.forms import SubmissionForm
from kontaktbok.submissions.identity import sender_identity

TEXT_FIELDS = (
    "unit",
    "sender_kind",
    "organisation_number",
    "organisation_name",
    "name",
    "receipt_channel",
    "receipt_mobile",
    "receipt_email",
    "title",
    "case_number",
)


def _draft(request: HttpRequest) -> Any:
    draft_id = request.POST.get("draft") or request.GET.get("draft")
    if not draft_id:
        return None
    try:
        return selectors.my_drafts(request.user).filter(uuid=draft_id).first()
    except ValidationError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    draft = _draft(request)
    identity = sender_identity(request)
    kept = list(draft.files.all()) if draft else []
    if request.method == "POST":
        remove = request.POST.get("remove")
        if draft is not None and remove and remove.isdigit():
            services.draft_remove_file(actor=request.user, draft=draft, file_id=int(remove))
            kept = list(draft.files.all())
        form = SubmissionForm(request.POST, request.FILES, user=request.user, kept=kept)
        valid = form.is_valid() and not remove
        fields = {name: request.POST.get(name, "") for name in TEXT_FIELDS}
        if valid:
            fields.update(
                organisation_number=form.cleaned_data["organisation_number"],
                case_number=form.cleaned_data["case_number"],
                receipt_mobile=form.cleaned_data["receipt_mobile"],
                receipt_email=form.cleaned_data["receipt_email"],
                unit=form.cleaned_data["unit"].pk,
            )
        # Nothing typed or uploaded is lost: the draft keeps it, whatever the errors.
        draft = services.draft_save(
            actor=request.user,
            draft=draft,
            fields=fields,
            comment=request.POST.get("comment", ""),
            files=[] if form.over_limit else form.checked_files,
        )
        if valid:
            return redirect("submission_confirm", draft_id=draft.uuid)
        kept = list(draft.files.all())
        form.kept = kept
    elif draft is not None:
        initial = {**draft.fields, "comment": services.draft_comment(draft)}
        form = SubmissionForm(initial=initial, user=request.user, kept=kept)
    else:
        # The account's mobile and e-mail, where it has them; a citizen known by ID-porten
        # only types them (they are used for this receipt, not saved on the account).
        mobile = getattr(request.user, "phone", "") or ""
        email = getattr(request.user, "email", "") or ""
        form = SubmissionForm(
            initial={
                "name": identity.name,
                "receipt_channel": "email" if email and not mobile else "sms",
                "receipt_mobile": mobile,
                "receipt_email": email,
            },
            user=request.user,
        )
    return render(
        request,
        "submissions/form.html",
        {"form": form, "draft": draft, "kept": kept, "identity": identity},
    )


@login_required
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, draft_id: str) -> HttpResponse:
    draft = selectors.my_drafts(request.user).filter(uuid=draft_id).first()
    if draft is None:
        # "Send" pressed twice: the first made the submission and used up the draft.
        sent = get_object_or_404(selectors.my_submission_of_draft(request.user, draft_id))
        return redirect("submission_receipt", submission_id=sent.uuid)
    identity = sender_identity(request)
    error = ""
    if request.method == "POST":
        try:
            submission = services.submission_send(
                actor=request.user, draft=draft, identity=identity
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            return redirect("submission_receipt", submission_id=submission.uuid)
    unit = archive_selectors.receiving_units().filter(pk=draft.fields.get("unit")).first()
    return render(
        request,
        "submissions/confirm.html",
        {
            "draft": draft,
            "fields": draft.fields,
            "unit": unit,
            "comment": services.draft_comment(draft),
            "files": list(draft.files.all()),
            "identity": identity,
            "error": error,
        },
    )


@login_required
@require_GET
def receipt(request: HttpRequest, submission_id: str) -> HttpResponse:
    submission = get_object_or_404(selectors.my_submissions(request.user), uuid=submission_id)
    return render(request, "submissions/receipt.html", {"submission": submission})
