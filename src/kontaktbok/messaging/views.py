"""Message pages: the inbox, writing (a guardian to the school, the school to a family or to
groups), a thread with its replies, participants and read status, attachments, and the
school's message settings. Every page works without JavaScript; htmx refreshes the inbox."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kontaktbok.core.forms import add_errors
from kontaktbok.core.ratelimit import limit
from kontaktbok.messaging import selectors, services
from kontaktbok.messaging.forms import (
    AddParticipantForm,
    BroadcastForm,
    GuardianMessageForm,
    MessagingSettingsForm,
    ReplyForm,
    StaffMessageForm,
)
from kontaktbok.messaging.models import Participant, Thread
from kontaktbok.messaging.uploads import LimitedUploadHandler, limit_uploads
from kontaktbok.schools import access
from kontaktbok.schools import selectors as school_selectors
from kontaktbok.schools.models import Pupil

# The inbox refreshes itself this often (htmx polling).
REFRESH_SECONDS = 30


def _too_large(form: Form, handler: LimitedUploadHandler) -> bool:
    """A file was dropped on arrival for its size: say so and keep the draft."""
    if not handler.too_large:
        return False
    form.add_error(
        "attachments" if "attachments" in form.fields else None,
        services.too_large_message(handler.limit // (1024 * 1024)),
    )
    return True


def _files_again(form: Form) -> None:
    """Browsers cannot keep chosen files over a refused form: ask for them again."""
    if form.errors and form.files:
        form.add_error(None, _("Your text is kept. Choose the attachments again before sending."))


# --- inbox --------------------------------------------------------------------------------


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    """The actor's threads with unread counts, newest first; search and archive."""
    actor = request.user
    q = request.GET.get("q", "")[:100]
    archived = request.GET.get("archived") == "1"
    page = Paginator(
        selectors.inbox(actor=actor, q=q, archived=archived), selectors.INBOX_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    context: dict[str, Any] = {
        "page": page,
        "q": q,
        "archived": archived,
        "refresh_seconds": REFRESH_SECONDS,
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "messaging/inbox_list.html", context)
    roles = access.roles_of(actor)
    context["children"] = (
        school_selectors.guardian_children(actor=actor) if roles.is_guardian else []
    )
    context["may_broadcast"] = (
        roles.is_staff_member and selectors.broadcast_groups(actor=actor).exists()
    )
    return render(request, "messaging/inbox.html", context)


# --- a guardian writes to the school ------------------------------------------------------


def _guardian_notes(pupil: Pupil, choices: list[selectors.RecipientChoice]) -> list[Any]:
    contact = next((c for c in choices if c.role == selectors.Role.CONTACT_TEACHER), None)
    people = [(_("The contact teacher"), user) for user in (contact.users if contact else [])]
    return selectors.outside_working_hours(people)


@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
@limit("messages.send")
def compose_guardian(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """A guardian writes about one of their children and chooses the recipients."""
    handler = None
    if request.method == "POST":
        handler = limit_uploads(
            request, lambda: selectors.pupil_upload_limit(actor=request.user, pupil_id=pupil_id)
        )
    return _compose_guardian(request, pupil_id, handler)


@csrf_protect
def _compose_guardian(
    request: HttpRequest, pupil_id: int, handler: LimitedUploadHandler | None
) -> HttpResponse:
    actor = request.user
    if request.method == "POST" and handler is not None:
        # The service checks access and the recipients; the page is built only to show
        # the form again.
        form = GuardianMessageForm(request.POST, request.FILES)
        if form.is_valid() and not _too_large(form, handler):
            data = form.cleaned_data
            try:
                thread = services.thread_start_by_guardian(
                    actor=actor,
                    pupil_id=pupil_id,
                    roles=data["recipients"],
                    subject=data["subject"],
                    body=data["body"],
                    files=data["attachments"],
                    idempotency_key=data.get("idempotency_key") or None,
                )
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, _("Your message was sent."))
                return redirect("messaging_thread", thread_id=thread.pk)
        _files_again(form)
    else:
        form = GuardianMessageForm()
    pupil = selectors.guardian_child(actor=actor, pupil_id=pupil_id)
    settings = selectors.settings_of(pupil, pupil.school_id)
    choices = selectors.guardian_recipient_choices(pupil=pupil, settings=settings)
    form.offer(choices)
    context = {
        "pupil": pupil,
        "form": form,
        "notes": _guardian_notes(pupil, choices),
        "as_guardian": True,
    }
    return render(request, "messaging/compose.html", context, status=400 if form.errors else 200)


# --- the school writes to a family --------------------------------------------------------


@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
@limit("messages.send")
def compose_staff(request: HttpRequest, pupil_id: int) -> HttpResponse:
    """Staff who see the pupil write to the guardians; they see who receives it."""
    handler = None
    if request.method == "POST":
        handler = limit_uploads(
            request, lambda: selectors.pupil_upload_limit(actor=request.user, pupil_id=pupil_id)
        )
    return _compose_staff(request, pupil_id, handler)


@csrf_protect
def _compose_staff(
    request: HttpRequest, pupil_id: int, handler: LimitedUploadHandler | None
) -> HttpResponse:
    actor = request.user
    if request.method == "POST" and handler is not None:
        form = StaffMessageForm(request.POST, request.FILES)
        if form.is_valid() and not _too_large(form, handler):
            data = form.cleaned_data
            try:
                thread = services.thread_start_by_staff(
                    actor=actor,
                    pupil_id=pupil_id,
                    subject=data["subject"],
                    body=data["body"],
                    sensitive=data["sensitive"],
                    files=data["attachments"],
                    idempotency_key=data.get("idempotency_key") or None,
                )
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, _("Your message was sent."))
                return redirect("messaging_thread", thread_id=thread.pk)
        _files_again(form)
    else:
        form = StaffMessageForm()
    pupil = selectors.staff_pupil(actor=actor, pupil_id=pupil_id)
    context = {
        "pupil": pupil,
        "form": form,
        "guardians": selectors.family_recipients(pupil),
        "as_guardian": False,
    }
    return render(request, "messaging/compose.html", context, status=400 if form.errors else 200)


# --- messages to groups -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@limit("messages.group")
def broadcast(request: HttpRequest) -> HttpResponse:
    """Staff write to all guardians of their groups. Before sending they see how many
    families and which pupils, and confirm the count."""
    actor = request.user
    if not access.roles_of(actor).is_staff_member:
        raise Http404
    groups = selectors.broadcast_groups(actor=actor)
    chosen = request.GET.get("group", "")
    initial = {"groups": [int(chosen)]} if chosen.isdigit() else {}
    form = BroadcastForm(request.POST or None, groups=groups, initial=initial)
    if request.method == "POST" and form.is_valid() and "edit" not in request.POST:
        data = form.cleaned_data
        confirming = "confirm_step" in request.POST
        try:
            raw = request.POST.get("confirmed_count", "")
            sent = services.broadcast_send(
                actor=actor,
                group_ids=data["groups"],
                subject=data["subject"],
                body=data["body"],
                sensitive=data["sensitive"],
                confirmed_count=int(raw) if raw.isdigit() else None,
                idempotency_key=data.get("idempotency_key") or None,
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            found = dict(getattr(error, "error_dict", {}))
            if set(found) == {"confirmed_count"}:
                families = selectors.broadcast_families(actor=actor, group_ids=data["groups"])
                return render(
                    request,
                    "messaging/broadcast_confirm.html",
                    {
                        "form": form,
                        "families": families,
                        "groups": families.groups,
                        "unconfirmed": confirming,
                    },
                    status=400 if confirming else 200,
                )
            found.pop("confirmed_count", None)
            add_errors(form, ValidationError(found) if found else error)
        else:
            messages.success(
                request,
                ngettext(
                    "The message was sent to %(count)d family.",
                    "The message was sent to %(count)d families.",
                    sent.family_count,
                )
                % {"count": sent.family_count},
            )
            return redirect("messaging_broadcast_detail", broadcast_id=sent.pk)
    if not groups.exists():
        raise Http404
    status = 400 if form.errors else 200
    return render(request, "messaging/broadcast.html", {"form": form}, status=status)


@login_required
@require_GET
def broadcast_detail(request: HttpRequest, broadcast_id: int) -> HttpResponse:
    """The sender's view of a message to groups: per family, read or not, and replies."""
    found = selectors.get_broadcast(actor=request.user, broadcast_id=broadcast_id)
    context = {"broadcast": found, "rows": selectors.broadcast_status(broadcast=found)}
    return render(request, "messaging/broadcast_detail.html", context)


# --- a thread -----------------------------------------------------------------------------


def _thread_page(
    request: HttpRequest,
    thread: Thread,
    me: Participant,
    form: ReplyForm | None = None,
    add_form: AddParticipantForm | None = None,
) -> HttpResponse:
    actor = request.user
    view = selectors.thread_view(actor=actor, thread=thread, me=me)
    as_guardian = me.side == Participant.Side.GUARDIAN
    notes = []
    if as_guardian:
        notes = selectors.outside_working_hours(
            [
                (p.user.get_full_name(), p.user)
                for p in view.participants
                if p.side == Participant.Side.STAFF
            ]
        )
    colleagues = selectors.colleagues(thread=thread) if not as_guardian else None
    context = {
        "thread": thread,
        "view": view,
        "pupil": thread.pupil,
        "as_guardian": as_guardian,
        "form": form or ReplyForm(),
        "add_form": add_form
        or (AddParticipantForm(colleagues=colleagues) if colleagues is not None else None),
        "notes": notes,
    }
    bad = (form is not None and form.errors) or (add_form is not None and add_form.errors)
    return render(request, "messaging/thread.html", context, status=400 if bad else 200)


@csrf_exempt
@login_required
@require_http_methods(["GET", "POST"])
@limit("messages.send")
def thread_detail(request: HttpRequest, thread_id: int) -> HttpResponse:
    """Read a thread (which marks it read for the actor) and reply."""
    handler = None
    if request.method == "POST":
        # The school's size limit matters only for a reply's upload.
        handler = limit_uploads(
            request, lambda: selectors.thread_upload_limit(actor=request.user, thread_id=thread_id)
        )
    return _thread_detail(request, thread_id, handler)


@csrf_protect
def _thread_detail(
    request: HttpRequest, thread_id: int, handler: LimitedUploadHandler | None
) -> HttpResponse:
    actor = request.user
    if request.method == "POST" and handler is not None:
        form = ReplyForm(request.POST, request.FILES)
        if form.is_valid() and not _too_large(form, handler):
            data = form.cleaned_data
            try:
                services.message_reply(
                    actor=actor,
                    thread_id=thread_id,
                    body=data["body"],
                    files=data["attachments"],
                    idempotency_key=data.get("idempotency_key") or None,
                )
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, _("Your reply was sent."))
                return redirect("messaging_thread", thread_id=thread_id)
        _files_again(form)
        thread, me = selectors.get_thread(actor=actor, thread_id=thread_id)
        return _thread_page(request, thread, me, form=form)
    try:
        thread, me = services.thread_mark_read(actor=actor, thread_id=thread_id)
    except PermissionDenied:
        raise Http404 from None
    return _thread_page(request, thread, me)


@login_required
@require_POST
def participant_add(request: HttpRequest, thread_id: int) -> HttpResponse:
    """Staff on the thread add a colleague."""
    actor = request.user
    form = AddParticipantForm(request.POST, colleagues=selectors.staff_of_my_schools(actor=actor))
    if form.is_valid():
        try:
            added = services.participant_add(
                actor=actor, thread_id=thread_id, user_id=form.cleaned_data["member"].user_id
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("%(name)s was added to the conversation.") % {"name": added.user.get_full_name()},
            )
            return redirect("messaging_thread", thread_id=thread_id)
    thread, me = selectors.get_thread(actor=actor, thread_id=thread_id)
    if me.side != Participant.Side.STAFF:
        raise Http404
    form.offer(selectors.colleagues(thread=thread))
    return _thread_page(request, thread, me, add_form=form)


@login_required
@require_POST
def archive(request: HttpRequest, thread_id: int) -> HttpResponse:
    """Archive a thread in one's own view, or bring it back."""
    thread, _me = selectors.get_thread(actor=request.user, thread_id=thread_id)
    archived = request.POST.get("archived", "1") == "1"
    services.thread_archive(actor=request.user, thread_id=thread.pk, archived=archived)
    if archived:
        messages.success(request, _("The conversation was archived."))
        return redirect("messaging_inbox")
    messages.success(request, _("The conversation is back in your inbox."))
    return redirect("messaging_thread", thread_id=thread.pk)


@never_cache
@login_required
@require_GET
def attachment(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """Download an attachment: access-checked, audited, never shown inline."""
    try:
        found, data = services.attachment_open(actor=request.user, attachment_id=attachment_id)
    except PermissionDenied:
        raise Http404 from None
    response = HttpResponse(data, content_type=found.content_type)
    response["Content-Disposition"] = content_disposition_header(True, found.filename) or ""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Content-Length"] = str(len(data))
    return response


# --- the school's settings ----------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest, school_id: int) -> HttpResponse:
    """The school admin decides which other roles guardians may write to."""
    current = selectors.administered_settings(actor=request.user, school_id=school_id)
    school = school_selectors.get_administered_school(actor=request.user, school_id=school_id)
    form = MessagingSettingsForm(
        request.POST or None,
        initial={
            "guardian_roles": current.guardian_roles,
            "max_attachment_mb": current.max_attachment_mb,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.messaging_settings_save(
                actor=request.user,
                school_id=school.pk,
                guardian_roles=form.cleaned_data["guardian_roles"],
                max_attachment_mb=form.cleaned_data["max_attachment_mb"],
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The message options were saved."))
            return redirect("messaging_settings", school_id=school.pk)
    status = 400 if form.errors else 200
    return render(
        request, "messaging/settings.html", {"form": form, "school": school}, status=status
    )
