from django import forms
from django.utils.translation import gettext_lazy as _


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File from the school's administrative system"),
        help_text=_("kontaktbok's CSV (comma or semicolon) or a OneRoster 1.2 ZIP file."),
    )
