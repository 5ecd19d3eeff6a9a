from typing import Any

from cryptography import x509
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kontaktbok.archive.models import ArchiveUnit


class UnitForm(forms.ModelForm):
    class Meta:
        model = ArchiveUnit
        fields = [
            "name",
            "fiks_account_id",
            "archive_certificate",
            "administrative_unit",
            "confidential",
            "access_code",
            "screening_authority",
            "office_documents",
            "responsible_staff",
        ]
        widgets = {"responsible_staff": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["responsible_staff"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = staff

    def clean_archive_certificate(self) -> str:
        value = self.cleaned_data["archive_certificate"].strip()
        try:
            x509.load_pem_x509_certificate(value.encode())
        except ValueError:
            raise ValidationError(
                _("This is not a certificate in PEM form (-----BEGIN CERTIFICATE-----)."),
                code="certificate",
            ) from None
        return value
