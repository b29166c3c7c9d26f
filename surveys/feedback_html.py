"""The panel's feedback on one item part as HTML (its figures' line, chart, legend, the
expert's own answer and a nudge), and the feedback's messages in a language; the
questionnaire's items (surveys.item_html) and its autosave answer put them in."""

import functools
import html

from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext


def escape(text) -> str:
    """django.utils.html.escape's text (without its lazy-string wrapper, a page calls it often)."""
    return html.escape(str(text))


def _legend_entry(key: str, text: str) -> str:
    """One entry of a chart's legend: its mark (the chart's colour) and what it stands for."""
    return f'<span class="entry"><span class="key {key}" aria-hidden="true"></span>{escape(text)}</span>'


@functools.lru_cache(maxsize=8)
def feedback_messages(language: str) -> dict[str, str]:
    """The feedback's messages in a language, translated once (a page shows about seventy)."""
    return {
        "live": gettext("Your answer"),
        "previous": gettext("Your previous answer"),
        "withheld": gettext("The panel's figures and arguments are shown once at least %(k)s "
                            "experts have answered."),
        "legend_own": _legend_entry("key-own", gettext("your answer")) + " ",
        "legend": (_legend_entry("key-median", gettext("panel median")) + " " +
                   _legend_entry("key-iqr", gettext("middle half (IQR)"))),
        "was": gettext("Your answer in round %(n)s:"),
        "keep": gettext("Keep my answer from round %(n)s"),
        "was_tag": gettext("round %(n)s"),
        "was_mark": gettext("▲ your answer in round %(n)s: %(value)s"),
        "empty": gettext("Not answered yet"),
        "no_opinion": gettext("No opinion"),
        "nudge": ('<p class="nudge">' + gettext(
            "Your previous answer lay outside the middle half of the panel (the IQR). You are "
            "welcome to keep it; if you do, please tell the panel why in your reasoning.") + "</p>"),
    }


def withheld_note(min_cell: int, language: str | None = None) -> str:
    """What an item says while too few experts have answered for the panel's feedback."""
    note = feedback_messages(language or get_language())["withheld"] % {"k": min_cell}
    return f'\n  <p class="muted withheld">{escape(note)}</p>\n  '


def feedback_html(fb: dict, language: str | None = None) -> SafeString:
    """The panel's feedback on one part: its figures as a line of text, the chart with its scale
    and a one-line legend, the distribution as text for screen readers, the expert's own
    answer and a nudge."""
    messages = feedback_messages(language or get_language())
    own = ""
    if fb["own_label"]:
        whose = messages["live" if fb["live"] else "previous"]
        own = f'<p class="own-answer">{whose}: <strong>{escape(fb["own_label"])}</strong></p>'
    nudge = messages["nudge"] if fb["outside"] else ""
    legend = (messages["legend_own"] if fb["own"] is not None else "") + messages["legend"]
    counts = f'<p class="sr-only">{escape(fb["counts"])}</p>' if fb["counts"] else ""
    # Every text is escaped above and in surveys.charts; the SVG has numbers only.
    return SafeString(
        f'\n<div class="feedback">\n  <p class="fb-title">{escape(fb["title"])}</p>\n  '
        f'<div class="fb-chart">{fb["svg"]}{fb["scale"]}</div>\n  '
        f'<p class="fb-legend">{legend}</p>{counts}\n  {own}\n  {nudge}\n</div>\n')
