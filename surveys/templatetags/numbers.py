"""Numbers as a reader reads them: django's localized formatting (a decimal comma in Russian)
with a true minus sign."""

from django import template
from django.template.defaultfilters import floatformat

register = template.Library()
MINUS = "\u2212"


@register.filter
def signed(value, digits: str | int = 1) -> str:
    """floatformat's text with U+2212 for a leading minus ("−14,0" in Russian); "" for None."""
    if value is None:
        return ""
    return str(floatformat(value, digits)).replace("-", MINUS, 1)
