"""How an item's values read to people: scale labels, figures and ranges, as every page, chart,
report and export shows them (the questionnaire, the panel's feedback, the reports)."""

import functools
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from surveys.models import Item

SCALES = {
    "": [_("Strongly disagree"), _("Disagree"), _("Neither agree nor disagree"), _("Agree"),
         _("Strongly agree")],
    "desirability": [_("Very undesirable"), _("Undesirable"), _("Neither"), _("Desirable"),
                     _("Very desirable")],
    "feasibility": [_("Definitely infeasible"), _("Probably infeasible"), _("Uncertain"),
                    _("Probably feasible"), _("Definitely feasible")],
    "importance": [_("Very unimportant"), _("Unimportant"), _("Moderately important"),
                   _("Important"), _("Very important")],
}
def local_text(texts: dict | str | None) -> str:
    """A text given in several languages ({"en": ..., "ru": ...}) in the active language, else
    English, else whichever there is; a plain string as it is."""
    if not isinstance(texts, dict):
        return str(texts or "")
    lang = (get_language() or "en")[:2]
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")


DIMENSION_LABELS = {"desirability": _("Desirability"), "feasibility": _("Feasibility"),
                    "importance": _("Importance")}


def never_value(item: Item) -> float | None:
    """The value a year item's "never" answer stores (its maximum); None if it has none."""
    return item.max_value if item.kind == Item.Kind.YEAR and item.never else None


def _never(item: Item, value: float | None) -> str:
    """The "never" label when the value is the item's "never" answer, else ""."""
    return item.never if value is not None and value == never_value(item) else ""


def value_label(item: Item, key: str, value: float | None) -> str:
    """How a value reads to people: a scale label, a place in a ranking, "never", or the number."""
    if value is None:
        return str(_("no opinion"))
    if item.kind in Item.RATED:
        return f"{scale_choices(key)[int(value) - 1][1]} ({value:g})"
    return figure_text(item, value)


def figure_text(item: Item, value: float | None, *, unit: bool = True) -> str:
    """A figure of an item's answers (a median, a quartile, an answer, a scale's tick) as every
    page, chart and report shows it, per kind: a year item's "never" label for its "never"
    value; years as whole years; probabilities as whole percentages; 1-5 ratings and ranking
    places to the nearest half (a median between two answers); other numbers to three
    significant figures at most, with the item's unit. `unit=False` leaves out "%" and the unit
    (the first figure of a range, a scale's ticks)."""
    if value is None:
        return ""
    never = _never(item, value)
    if never:
        return never
    if item.kind in Item.RATED or item.kind == Item.Kind.RANKING:
        return number_text(whole(Decimal(repr(value)) * 2) / 2, 1)
    if item.kind == Item.Kind.YEAR:
        return number_text(whole(value), 0)
    if item.kind == Item.Kind.PROBABILITY:
        text = number_text(whole(value), 0)
        return f"{text}\u00a0%" if unit else text
    exact = Decimal(repr(value))
    text = number_text(exact, max(0, 2 - exact.copy_abs().adjusted()) if exact else 0)
    return f"{text}\u00a0{item.unit}" if unit and item.unit else text


def whole(value: float | Decimal) -> Decimal:
    """The value rounded to a whole number, halves up (2034.5 is 2035, as on paper)."""
    return Decimal(repr(value) if isinstance(value, float) else value).quantize(
        Decimal(1), ROUND_HALF_UP)


def figure_range(item: Item, low: float | None, high: float | None) -> str:
    """Two figures of an item (the middle half's ends) as one range: "20–45 %", "2030–2041"."""
    first, last = figure_text(item, low, unit=False), figure_text(item, high)
    if first == figure_text(item, high, unit=False):
        return last
    return f"{first}–{last}"


def scale_choices(key: str) -> list[tuple[int, str]]:
    """A rating scale's values and labels in the active language."""
    return _scale_choices(key, get_language())


@functools.lru_cache(maxsize=32)
def _scale_choices(key: str, language: str) -> list[tuple[int, str]]:
    """A rating scale's choices in the active language (translated once, not per item)."""
    return [(k + 1, str(label)) for k, label in enumerate(SCALES.get(key, SCALES[""]))]


def number_text(value: float | Decimal | None, places: int = 2) -> str:
    """A figure rounded to at most `places` decimals, without trailing zeros ("3.5", not
    "3.50"), with the active language's decimal separator."""
    if value is None:
        return ""
    exact = value if isinstance(value, Decimal) else Decimal(repr(value))
    rounded = exact.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP).normalize()
    shown = max(0, -rounded.as_tuple().exponent)  # type: ignore[operator]
    return number_format(rounded.quantize(Decimal(1).scaleb(-shown)), shown)
