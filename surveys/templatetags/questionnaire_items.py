"""The questionnaire's items, built by surveys.item_html: {% items_html views %} (the page's
is_open decides whether the items autosave) and {% todo_html unanswered %} (the progress box's
list of unanswered items)."""

from django import template

from surveys import item_html as html

register = template.Library()


@register.simple_tag(takes_context=True)
def items_html(context, views):
    # A staff preview shows item codes as well; experts see only each item's number.
    return html.items_html(views, is_open=bool(context.get("is_open")),
                           codes=bool(context.get("preview")))


@register.simple_tag
def todo_html(items):
    return html.todo_html(items)
