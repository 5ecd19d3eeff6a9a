"""Django's own strings that its Norwegian catalogs lack. Listed here so that
``makemessages`` puts them in our catalogs, which are read before Django's."""

from django.utils.translation import gettext_noop

DJANGO_STRINGS = (
    # The empty choice of a select (django.db.models.fields.BLANK_CHOICE_LABEL).
    gettext_noop("- Select an option -"),
)
