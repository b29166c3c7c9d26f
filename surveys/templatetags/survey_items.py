"""A survey page's items: the questionnaire's own markup (surveys.item_html) without autosave,
where the reasoning box is the respondent's comment, shared with nobody: {% survey_items_html
views %}."""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from surveys import item_html as html

register = template.Library()


@register.simple_tag
def survey_items_html(views):
    out = str(html.items_html(views, is_open=False))
    shared = escape(gettext("Your reasoning (optional, shared anonymously with the panel)"))
    label = gettext("Your reasoning (optional, shared anonymously with the panel)")
    comment = escape(gettext("Your comment (optional; not shown to other respondents)"))
    out = out.replace(f">{label}</label>", f">{comment}</label>").replace(
        f">{shared}</label>", f">{comment}</label>")
    return SafeString(out)  # noqa: S704 - items_html escaped every text; the label is escaped
