"""Forms for messages. They only parse the input; the services check the rules, so that the
same rules hold for the web and the API."""

import uuid
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kontaktbok.core.ids import to_id
from kontaktbok.messaging import files as filetypes
from kontaktbok.messaging.selectors import (
    ALWAYS_ROLES,
    OPTIONAL_ROLES,
    RecipientChoice,
    role_label,
)
from kontaktbok.schools.models import Group, StaffMember


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"multiple": True, "accept": filetypes.ACCEPT})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _subject() -> forms.CharField:
    return forms.CharField(
        label=_("Subject"),
        max_length=120,
        error_messages={"required": _("Write a subject.")},
    )


def _body() -> forms.CharField:
    return forms.CharField(
        label=_("Message"),
        max_length=10_000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 20}),
        error_messages={"required": _("Write a message.")},
    )


def _help() -> str:
    return gettext("You can attach %(accepted)s; at most %(count)d files.") % {
        "accepted": filetypes.ACCEPTED_TYPES,
        "count": filetypes.MAX_FILES,
    }


_attachments_help = lazy(_help, str)


def _attachments() -> MultipleFileField:
    return MultipleFileField(
        label=_("Attachments (optional)"),
        required=False,
        help_text=_attachments_help(),
    )


class KeyedForm(forms.Form):
    """A form with a hidden key, so that a double tap on "Send" sends once."""

    idempotency_key = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("idempotency_key"):
            self.initial["idempotency_key"] = uuid.uuid4().hex


class GuardianMessageForm(KeyedForm):
    """Without ``choices`` the form only reads which roles were ticked (any role a guardian
    may ever choose); whom the guardian may write to is the service's rule. Give the
    choices before showing the form (``offer``)."""

    recipients = forms.MultipleChoiceField(
        label=_("To"),
        choices=[(role, role) for role in (*ALWAYS_ROLES, *OPTIONAL_ROLES)],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "ds-input"}),
        error_messages={
            "required": _("Choose who receives the message."),
            "invalid_choice": _("You cannot write to the role you chose. Choose from the list."),
        },
    )
    subject = _subject()
    body = _body()
    attachments = _attachments()

    def __init__(
        self, *args: Any, choices: list[RecipientChoice] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if choices is not None:
            self.offer(choices)

    def offer(self, choices: list[RecipientChoice]) -> None:
        """The roles to show, each with who holds it; the contact teacher ticked."""
        field = self.fields["recipients"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [
            (c.role, f"{c.label} ({', '.join(u.get_full_name() for u in c.users)})")
            for c in choices
        ]
        if not self.is_bound:
            self.initial.setdefault("recipients", [c.role for c in choices if c.default])


class StaffMessageForm(KeyedForm):
    subject = _subject()
    body = _body()
    sensitive = forms.BooleanField(
        label=_("Sensitive"),
        required=False,
        help_text=_("A sensitive message can go to one family only."),
    )
    attachments = _attachments()


class ReplyForm(KeyedForm):
    body = _body()
    attachments = _attachments()


class GroupIdsField(forms.TypedMultipleChoiceField):
    """The ids of the chosen groups. Which groups the sender may write to is the service's
    rule, so reading the form costs no query; the choices are read only to show it."""

    def valid_value(self, value: Any) -> bool:
        return True


class BroadcastForm(KeyedForm):
    groups = GroupIdsField(
        label=_("Groups"),
        coerce=to_id,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "ds-input"}),
        error_messages={
            "required": _("Choose at least one group."),
            "invalid_choice": _("Choose groups of one school from the list."),
        },
    )
    subject = _subject()
    body = _body()
    sensitive = forms.BooleanField(
        label=_("Sensitive"),
        required=False,
        help_text=_("A sensitive message can go to one family only."),
    )

    def __init__(self, *args: Any, groups: QuerySet[Group], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["groups"]
        assert isinstance(field, GroupIdsField)
        field.choices = lambda: [(g.pk, g.name) for g in groups]


class ColleagueField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        title = f" ({obj.title})" if obj.title else ""
        return f"{obj.user.get_full_name()}{title}"


class AddParticipantForm(forms.Form):
    member = ColleagueField(
        label=_("Colleague"),
        queryset=StaffMember.objects.none(),
        error_messages={
            "required": _("Choose a colleague at the school from the list."),
            "invalid_choice": _("Choose a colleague at the school from the list."),
        },
    )

    def __init__(self, *args: Any, colleagues: QuerySet[StaffMember], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offer(colleagues)

    def offer(self, colleagues: QuerySet[StaffMember]) -> None:
        """The colleagues to choose from (to read the choice, or to show the form)."""
        field = self.fields["member"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = colleagues


class MessagingSettingsForm(forms.Form):
    guardian_roles = forms.MultipleChoiceField(
        label=_("Guardians may also write to"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "ds-input"}),
        help_text=_("The contact teacher, the office and the leadership can always be chosen."),
    )
    max_attachment_mb = forms.IntegerField(
        label=_("Largest attachment (MB)"), min_value=1, max_value=25
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["guardian_roles"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(role, role_label(role)) for role in OPTIONAL_ROLES]
