"""The submission form: who writes, to whom, about what, and the files, checked by content."""

import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum.exceptions import ValidationError as NumberError
from stdnum.no import orgnr

from kontaktbok.archive import selectors as archive_selectors
from kontaktbok.messaging import files as file_types
from kontaktbok.schools import phones

CASE_NUMBER = re.compile(r"^\s*(\d{4})\s*/\s*(\d{1,7})\s*$")
OFFICE = {file_types.DOCX, file_types.ODT}
ACCEPTED = {"application/pdf", "image/jpeg", "image/png", *OFFICE}


def parse_case_number(value: str) -> tuple[int, int] | None:
    """«2026/587» → (2026, 587); None for an empty value; ``ValidationError`` otherwise."""
    if not value.strip():
        return None
    match = CASE_NUMBER.match(value)
    if not match or not 1900 <= int(match[1]) <= 2200 or int(match[2]) == 0:
        raise ValidationError(
            _("Write the case number as year/number, for example 2026/587."), code="case"
        )
    return int(match[1]), int(match[2])


def receipt_address(channel: str, email: str, mobile: str) -> str:
    """Where the receipt goes: the mobile number for SMS, the e-mail address for e-mail,
    "" for none. ``ValidationError`` (with the field it concerns) when it cannot go there."""
    if channel == "sms":
        if not mobile.strip():
            raise ValidationError(
                {"receipt_mobile": _("Write your mobile number, or choose another way.")}
            )
        return phones.mobile_number(mobile)
    if channel == "email":
        if not email.strip():
            raise ValidationError(
                {"receipt_email": _("Write your e-mail address, or choose another way.")}
            )
        validate_email(email)
        return email.strip()
    if channel == "none":
        return ""
    raise ValidationError({"receipt_channel": _("Choose how you get the receipt.")})


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [f for f in items if f]


class SubmissionForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=gettext_lazy("Send to"),
        queryset=archive_selectors.receiving_units(),
        empty_label=gettext_lazy("Choose a recipient"),
    )
    sender_kind = forms.ChoiceField(
        label=gettext_lazy("I write"),
        choices=[
            ("person", gettext_lazy("as a private person")),
            ("organisation", gettext_lazy("on behalf of a business")),
        ],
        widget=forms.RadioSelect,
        initial="person",
    )
    organisation_number = forms.CharField(
        label=gettext_lazy("Organisation number"),
        required=False,
        max_length=20,
        help_text=gettext_lazy("Nine digits. Only when you write on behalf of a business."),
    )
    organisation_name = forms.CharField(
        label=gettext_lazy("Name of the business"), required=False, max_length=200
    )
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=200)
    receipt_channel = forms.ChoiceField(
        label=gettext_lazy("Send me the receipt by"),
        choices=[
            ("sms", gettext_lazy("SMS")),
            ("email", gettext_lazy("e-mail")),
            ("none", gettext_lazy("Neither: I note the reference myself")),
        ],
        widget=forms.RadioSelect,
        initial="sms",
        help_text=gettext_lazy("The receipt has the reference only, never what you write."),
    )
    receipt_mobile = forms.CharField(
        label=gettext_lazy("Mobile number for the receipt"),
        required=False,
        max_length=30,
        help_text=gettext_lazy("Needed for the receipt by SMS. For example 412 34 567."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    receipt_email = forms.EmailField(
        label=gettext_lazy("E-mail address for the receipt"),
        required=False,
        max_length=254,
        help_text=gettext_lazy("Needed for the receipt by e-mail."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    case_number = forms.CharField(
        label=gettext_lazy("Case number"),
        required=False,
        max_length=20,
        help_text=gettext_lazy("If you have one from the municipality, for example 2026/587."),
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 8})
    )
    attachments = MultipleFileField(
        label=gettext_lazy("Attachments"),
        required=False,
        help_text=gettext_lazy("PDF, JPEG, PNG, and DOCX or ODT where the recipient takes them."),
    )

    def __init__(self, *args: Any, user: Any, kept: list[Any] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        self.kept = kept or []  # files uploaded earlier and kept in the draft
        self.checked_files: list[tuple[str, str, bytes]] = []
        self.file_errors: list[str] = []
        self.over_limit = False
        self.fields["attachments"].widget.attrs["accept"] = ".pdf,.jpg,.jpeg,.png,.docx,.odt"

    def clean_organisation_number(self) -> str:
        value = re.sub(r"\s", "", self.cleaned_data.get("organisation_number", ""))
        if not value:
            return ""
        try:
            return str(orgnr.validate(value))
        except NumberError:
            raise ValidationError(
                _("This is not a valid organisation number: check the nine digits."),
                code="orgnr",
            ) from None

    def clean_receipt_mobile(self) -> str:
        value = self.cleaned_data.get("receipt_mobile", "")
        return phones.mobile_number(value) if value.strip() else ""

    def clean_case_number(self) -> str:
        value = self.cleaned_data.get("case_number", "")
        parsed = parse_case_number(value)
        return f"{parsed[0]}/{parsed[1]}" if parsed else ""

    def clean_attachments(self) -> list[UploadedFile]:
        files = self.cleaned_data.get("attachments") or []
        max_file = settings.SUBMISSION_MAX_FILE_MB * 1024 * 1024
        errors = []
        for upload in files:
            name = file_types.safe_filename(upload.name or "")
            if upload.size is not None and upload.size > max_file:
                errors.append(
                    _("%(name)s is too large: a file can be at most %(mb)d MB.")
                    % {"name": name, "mb": settings.SUBMISSION_MAX_FILE_MB}
                )
                continue
            content_type = file_types.detect(upload.file)
            upload.file.seek(0)
            if content_type not in ACCEPTED:
                errors.append(
                    _(
                        "%(name)s is not a PDF, JPEG, PNG, DOCX or ODT file "
                        "(we look at the content, not the name)."
                    )
                    % {"name": name}
                )
                continue
            self.checked_files.append((name, content_type, upload.read()))
        # Reported in ``clean``: the files that passed are kept even when another did not.
        self.file_errors = errors
        return files

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("sender_kind") == "organisation":
            if not data.get("organisation_number") and "organisation_number" not in self.errors:
                self.add_error(
                    "organisation_number", _("Write the business's organisation number.")
                )
            if not data.get("organisation_name"):
                self.add_error("organisation_name", _("Write the name of the business."))
        channel = data.get("receipt_channel", "")
        address_field = {"sms": "receipt_mobile", "email": "receipt_email"}.get(channel)
        if channel and address_field not in self.errors:
            try:
                receipt_address(
                    channel, data.get("receipt_email", ""), data.get("receipt_mobile", "")
                )
            except ValidationError as exc:
                self.add_error(None, exc)
        for error in self.file_errors:
            self.add_error("attachments", error)
        unit = data.get("unit")
        all_files = [(f.content_type, f.size) for f in self.kept] + [
            (t, len(b)) for _n, t, b in self.checked_files
        ]
        if (
            unit is not None
            and not unit.office_documents
            and any(t in OFFICE for t, _s in all_files)
        ):
            self.add_error("attachments", _("This recipient takes PDF and pictures only."))
        if len(all_files) > settings.SUBMISSION_MAX_FILES:
            self.over_limit = True
            self.add_error(
                "attachments",
                _("You can send at most %(n)d files.") % {"n": settings.SUBMISSION_MAX_FILES},
            )
        if sum(s for _t, s in all_files) > settings.SUBMISSION_MAX_TOTAL_MB * 1024 * 1024:
            self.over_limit = True
            self.add_error(
                "attachments",
                _("The files are %(mb)d MB at most together.")
                % {"mb": settings.SUBMISSION_MAX_TOTAL_MB},
            )
        return data
