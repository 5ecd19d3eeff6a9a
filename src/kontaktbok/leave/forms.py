"""Forms for leave. They only parse the input; the services check the rules, so that the
same rules hold for the web and the API."""

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kontaktbok.leave.models import Decision, LeaveApplication, LeaveRules
from kontaktbok.leave.services import RULES_FIELDS


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


def _radio() -> forms.RadioSelect:
    return forms.RadioSelect(attrs={"class": "ds-input"})


class ApplicationForm(forms.Form):
    start_date = forms.DateField(label=_("First day of leave"), widget=DateInput())
    end_date = forms.DateField(label=_("Last day of leave"), widget=DateInput())
    category = forms.ChoiceField(
        label=_("Reason"), choices=LeaveApplication.Category.choices, widget=_radio()
    )
    reason = forms.CharField(
        label=_("About the reason"),
        max_length=1000,
        help_text=_("For example the event or the journey. At most 1000 characters."),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 20}),
    )
    learning_plan = forms.CharField(
        label=_("How will the child's learning be taken care of?"),
        max_length=1000,
        help_text=_("During leave, the guardians see to the child's learning."),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 20}),
    )
    rules_confirmed = forms.BooleanField(
        label=_("I have read the school's leave rules"),
        error_messages={"required": _("Confirm that you have read the school's leave rules.")},
    )
    idempotency_key = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("idempotency_key"):
            self.initial["idempotency_key"] = uuid.uuid4().hex

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The last day cannot be before the first day."))
        return data

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "start_date": data["start_date"],
            "end_date": data["end_date"],
            "category": data["category"],
            "reason": data["reason"],
            "learning_plan": data["learning_plan"],
            "rules_confirmed": data["rules_confirmed"],
        }


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Decision"), choices=Decision.Outcome.choices, widget=_radio()
    )
    approved_start = forms.DateField(
        label=_("Leave given from (partial approval)"), required=False, widget=DateInput()
    )
    approved_end = forms.DateField(
        label=_("Leave given to (partial approval)"), required=False, widget=DateInput()
    )
    reasons = forms.CharField(
        label=_("Reasons"),
        max_length=4000,
        help_text=_(
            "The reasons are part of the decision letter: the facts and the assessment "
            "that the decision rests on."
        ),
        widget=forms.Textarea(attrs={"rows": 5, "cols": 20}),
    )


class ReconsiderForm(DecisionForm):
    CHANGE = "change"
    UPHOLD = "uphold"

    result = forms.ChoiceField(
        label=_("After considering the appeal"),
        choices=[
            (UPHOLD, _("The decision stands: the appeal goes to the appeal body")),
            (CHANGE, _("Change the decision")),
        ],
        widget=_radio(),
    )
    note = forms.CharField(
        label=_("The school's assessment of the appeal"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 20}),
    )
    field_order = ["result", "note", "outcome", "approved_start", "approved_end", "reasons"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["outcome"].required = False
        self.fields["reasons"].required = False
        self.fields["outcome"].label = _("New decision (when changed)")
        self.fields["reasons"].label = _("Reasons for the new decision")


class ConsentRecordForm(forms.Form):
    guardian = forms.TypedChoiceField(label=_("Guardian"), coerce=int, choices=[])
    note = forms.CharField(
        label=_("How the consent was given"),
        max_length=300,
        help_text=_("For example: signed letter received 20 November."),
    )

    def __init__(self, *args: Any, guardians: list[tuple[int, str]] | None, **kwargs: Any) -> None:
        """``guardians``: those waiting for consent, to choose from; None to parse a posted
        choice only (the service checks that the guardian is waiting)."""
        super().__init__(*args, **kwargs)
        field = self.fields["guardian"]
        assert isinstance(field, forms.ChoiceField)
        if guardians is None:
            self.fields["guardian"] = forms.IntegerField(label=field.label)
        else:
            field.choices = guardians


class AppealForm(forms.Form):
    text = forms.CharField(
        label=_("Your appeal"),
        max_length=4000,
        help_text=_("Say what you want changed, and why."),
        widget=forms.Textarea(attrs={"rows": 5, "cols": 20}),
    )


class LeaveRulesForm(forms.ModelForm):
    class Meta:
        model = LeaveRules
        fields = RULES_FIELDS
        widgets = {"rules_text": forms.Textarea(attrs={"rows": 6, "cols": 20})}
