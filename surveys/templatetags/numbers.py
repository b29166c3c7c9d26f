"""Numbers as a reader reads them: django's localized formatting (a decimal comma in Russian)
with a true minus sign."""

from django import template
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _

register = template.Library()
MINUS = "\u2212"


@register.filter
def signed(value, digits: str | int = 1) -> str:
    """floatformat's text with U+2212 for a leading minus ("−14,0" in Russian); "" for None."""
    if value is None:
        return ""
    return str(floatformat(value, digits)).replace("-", MINUS, 1)


@register.simple_tag
def interval(low, high, digits: str | int = 1) -> str:
    """An interval's bounds as `signed` writes them, joined by an en dash ("48.1–62.3"), or
    by "to" when a bound is negative, where a dash would read as a minus ("−42.2 to −12.2";
    "от −42,2 до −12,2" in Russian); "" when a bound is missing."""
    if low is None or high is None:
        return ""
    a, b = signed(low, digits), signed(high, digits)
    if MINUS in a + b:
        return _("%(low)s to %(high)s") % {"low": a, "high": b}
    return f"{a}–{b}"
