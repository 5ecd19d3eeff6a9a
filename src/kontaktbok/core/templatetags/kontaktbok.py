from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def ds_widget(field: BoundField) -> SafeString:
    """Render a form field's widget with Designsystemet's input class."""
    classes = field.field.widget.attrs.get("class", "")
    return field.as_widget(attrs={"class": f"{classes} ds-input".strip()})
