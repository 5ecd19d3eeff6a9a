"""The forms of the relay log pages."""

from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from kontaktbok.relaylog.models import Evaluation, RelayLog
from kontaktbok.schools.models import Pupil

LEVELS = [
    (0, _("0: find out whether there is reason for concern")),
    (1, _("1: measures within one service")),
    (2, _("2: cooperation between two services")),
    (3, _("3: broader cooperation between several services")),
]


class LogCreateForm(forms.Form):
    pupil = forms.ModelChoiceField(label=_("Pupil"), queryset=Pupil.objects.none())
    concern = forms.CharField(
        label=_("Concern"), widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000
    )
    level = forms.TypedChoiceField(label=_("Level"), choices=LEVELS, coerce=int)
    holder = forms.ModelChoiceField(
        label=_("First holder of the baton"),
        queryset=get_user_model().objects.none(),
        help_text=_("The holder (stafetthaldar) coordinates the cooperation."),
    )

    def __init__(self, *args: Any, pupils: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["pupil"]).queryset = pupils
        cast(forms.ModelChoiceField, self.fields["holder"]).queryset = staff


class InviteForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Who"),
        choices=[
            ("staff", _("staff of the school")),
            ("service", _("a person from another service")),
            ("pupil", _("the pupil")),
        ],
        widget=forms.RadioSelect,
    )
    user = forms.ModelChoiceField(
        label=_("Staff member"), queryset=get_user_model().objects.none(), required=False
    )
    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    email = forms.EmailField(label=_("E-mail address"), required=False)
    phone = forms.CharField(label=_("Mobile number"), max_length=20, required=False)
    service = forms.CharField(
        label=_("Service"),
        max_length=100,
        required=False,
        help_text=_("For example the school health service, PPT or child welfare."),
    )
    role = forms.CharField(label=_("Role"), max_length=100, required=False)

    def __init__(self, *args: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["user"]).queryset = staff


class EntryForm(forms.Form):
    body = forms.CharField(
        label=_("New entry"), widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000
    )
    corrects = forms.TypedChoiceField(
        label=_("Corrects the entry"), coerce=int, required=False, empty_value=None
    )
    attachment = forms.FileField(label=_("Attachment"), required=False)

    def __init__(self, *args: Any, entries: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["corrects"]).choices = [("", _("none"))] + [
            (e.pk, f"{e.created_at:%d.%m.%Y %H:%M} {e.author_name}") for e in entries
        ]


class PaperConsentForm(forms.Form):
    given_by_kind = forms.ChoiceField(
        label=_("Given by"), choices=[("guardian", _("guardian")), ("pupil", _("the pupil"))]
    )
    guardian = forms.TypedChoiceField(
        label=_("Guardian"), coerce=int, required=False, empty_value=None
    )
    service = forms.ChoiceField(label=_("Consent to"), required=False)
    scanned_form = forms.FileField(label=_("Scanned consent form"))

    def __init__(
        self, *args: Any, guardians: list[Any], services: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["guardian"]).choices = [("", "–")] + [
            (g.pk, g.get_full_name()) for g in guardians
        ]
        cast(forms.ChoiceField, self.fields["service"]).choices = [("", _("the relay log"))] + [
            (s, s) for s in services
        ]


class GoalForm(forms.Form):
    text = forms.CharField(
        label=_("Goal"), widget=forms.Textarea(attrs={"rows": 2}), max_length=20_000
    )


class MeasureForm(forms.Form):
    goal = forms.TypedChoiceField(label=_("Goal"), coerce=int)
    text = forms.CharField(
        label=_("Measure"), widget=forms.Textarea(attrs={"rows": 2}), max_length=20_000
    )
    responsible = forms.CharField(label=_("Responsible"), max_length=200)
    deadline = forms.DateField(label=_("Deadline"), widget=forms.DateInput(attrs={"type": "date"}))
    evaluate_on = forms.DateField(
        label=_("Evaluation date"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, goals: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["goal"]).choices = [(g.pk, g.text[:80]) for g in goals]


class EvaluationForm(forms.Form):
    measure = forms.TypedChoiceField(label=_("Measure"), coerce=int)
    text = forms.CharField(
        label=_("Evaluation"), widget=forms.Textarea(attrs={"rows": 2}), max_length=20_000
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Evaluation.Outcome.choices)
    next_evaluation_on = forms.DateField(
        label=_("Next evaluation"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, measures: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["measure"]).choices = [
            (m.pk, m.text[:80]) for m in measures
        ]


class CloseForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why is the log closed?"), choices=RelayLog.CloseReason.choices
    )


class CreatorForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Staff member"), queryset=get_user_model().objects.none())

    def __init__(self, *args: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["user"]).queryset = staff
