"""Parsing the questionnaire's posted fields into the answer payload the services take.

Field names: a-CODE (one value), a-CODE.KEY (a dimension, or a ranking option's place),
a-CODE.none (no opinion), a-CODE.why (rationale), a-CODE.text (open text), a-CODE.never (a year
item's "never" answer: its maximum, whatever year is posted with it), x-THEME (expertise).
"""

import math

from django.utils.translation import gettext as _

from surveys.models import Item, Theme
from surveys.services.responses import ItemAnswer
from surveys.values import never_value


def _number(raw: str) -> float | None:
    raw = raw.strip().replace(",", ".")
    if not raw:
        return None
    value = float(raw)  # ValueError is reported by the caller with the field's name
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


def parse_answers(post, items: list[Item]) -> tuple[dict[str, ItemAnswer], dict[str, str]]:
    """Return the answers to the posted items and a message per field that is not a number."""
    by_code = {item.code: item for item in items}
    answers: dict[str, ItemAnswer] = {}
    errors: dict[str, str] = {}
    nevers: list[str] = []
    for name in post:
        if not name.startswith("a-"):
            continue
        code, _dot, key = name[2:].partition(".")
        if code not in by_code:
            errors[code] = _("Item %(code)s is not part of this round.") % {"code": code}
            continue
        answer = answers.setdefault(code, ItemAnswer())
        raw = post.get(name, "")
        if key == "none":
            answer.no_opinion = raw in {"1", "on", "true"}
        elif key == "never" and never_value(by_code[code]) is not None:
            if raw in {"1", "on", "true"}:
                nevers.append(code)
        elif key == "why":
            answer.rationale = raw
        elif key == "text":
            answer.text = raw
        else:
            try:
                answer.values[key] = _number(raw)
            except ValueError:
                errors[f"{code}.{key}" if key else code] = _("Enter a number.")
    for code in nevers:
        answers[code].values[""] = never_value(by_code[code])
        errors.pop(code, None)
    return answers, errors


def parse_expertise(post, themes: list[Theme]) -> tuple[dict[int, int], dict[str, str]]:
    """Return the self-rated expertise per theme id (1-5) that the form carries."""
    levels, errors = {}, {}
    for theme in themes:
        raw = post.get(f"x-{theme.pk}", "").strip()
        if not raw:
            continue
        if raw not in {"1", "2", "3", "4", "5"}:
            errors[f"x-{theme.pk}"] = _("Rate your expertise from 1 to 5.")
        else:
            levels[theme.pk] = int(raw)
    return levels, errors


def unanswered_after(answers: dict[str, ItemAnswer], saved: set[str], items: list[Item]) -> list[str]:
    """Codes of the items that would still be unanswered once these answers are saved."""
    def has_content(answer: ItemAnswer) -> bool:
        return answer.no_opinion or bool(answer.text.strip()) or any(
            v is not None for v in answer.values.values())

    return [item.code for item in items
            if not (has_content(answers[item.code]) if item.code in answers else item.code in saved)]
