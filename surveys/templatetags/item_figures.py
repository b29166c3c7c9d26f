"""{{ value|figure:item }}: a figure of an item's answers as every page shows it (a year item's
"never" label for its "never" value), through surveys.values.figure_text."""

from django import template

from surveys.values import figure_text

register = template.Library()


@register.filter
def figure(value, item) -> str:
    return figure_text(item, value)
