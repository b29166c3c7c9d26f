"""Selectors for the expert's questionnaire page: items, saved answers and feedback.

The number of queries does not depend on the number of items: every table is read once. The
round's items are kept in this process while they do not change (selectors.round_items_shared),
and so is the panel's feedback (surveys.feedback).
"""

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from django.db.models import FloatField, Q, Value
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from surveys.feedback import Feedback, feedback_source, part_feedback
from surveys.feedback_html import feedback_html
from surveys.models import Answer, Expert, Item, Rationale, Response, Round, Study
from surveys.selectors import round_items_shared, round_with_keys
from surveys.unlinkable import argument_order
from surveys.values import DIMENSION_LABELS


@dataclass
class Part:
    """One answerable value of an item: the item itself, a dimension or a ranking option."""

    key: str
    label: str
    name: str
    value: float | None
    feedback: dict | None = None
    error: str = ""

    @property
    def feedback_html(self) -> str:
        """The feedback box's content (surveys.item_html builds it)."""
        return feedback_html(self.feedback) if self.feedback else ""


@dataclass
class ItemView:
    item: Item
    parts: list[Part]
    no_opinion: bool = False
    rationale: str = ""
    text: str = ""
    error: str = ""
    rationales: list[dict] = field(default_factory=list)  # with questionnaire() only
    arguments: int = 0  # how many of the panel's arguments the expert can read
    has_feedback: bool = False
    answered: bool = False
    withheld: int = 0  # the study's min_cell when too few answers stand behind the feedback
    number: str = ""  # "2.3": the item's place on the page (experts never see item codes)
    previous: dict | None = None  # the expert's answer in the previous round (Saved.before)
    previous_round: int = 0

    @property
    def rationales_html(self) -> str:
        """The panel's arguments as list items (each one escaped by format_html)."""
        return mark_safe("".join(a["html"] for a in self.rationales))  # noqa: S308


def _part_label(item: Item, key: str) -> str:
    if item.kind == Item.Kind.DIMENSIONS:
        return str(DIMENSION_LABELS.get(key, key))
    if item.kind == Item.Kind.RANKING:
        return item.option_text(key)
    return ""


@dataclass
class Saved:
    """An expert's saved answers to a round, keyed by item id, and (classic studies) their
    answers to the previous round, keyed by item id and dimension."""

    values: dict = field(default_factory=lambda: defaultdict(dict))
    no_opinion: set = field(default_factory=set)
    texts: dict = field(default_factory=dict)
    whys: dict = field(default_factory=dict)
    previous: dict = field(default_factory=dict)
    before: dict = field(default_factory=dict)  # item id: the previous round's whole answer

    @classmethod
    def read(cls, expert: Expert, round_: Round, response: Response | None, *,
             item_ids=None, whys: bool | Literal["joined"] = True) -> "Saved":
        """One query for the answers of both rounds (the previous one's only for `item_ids`,
        if given) and, with `whys`, one for the reasons; with whys="joined", the reasons (of
        `item_ids`, if given) come in the answers' query."""
        saved = cls()
        wanted = [Q(response=response)] if response is not None else []
        if round_.study.mode != Study.Mode.REALTIME and round_.previous_id and expert.pk:
            before = Q(response__round_id=round_.previous_id, response__expert=expert)
            wanted.append(before if item_ids is None else before & Q(item_id__in=item_ids))
        if not wanted:
            return saved
        columns = ("response__round_id", "item_id", "dimension", "value", "no_opinion", "text",
                   "why")
        rows = Answer.objects.filter(functools.reduce(Q.__or__, wanted)).annotate(
            why=Value(False)).values_list(*columns)
        if whys == "joined" and response is not None:
            reasons = Rationale.objects.filter(response=response)
            if item_ids is not None:
                reasons = reasons.filter(item_id__in=item_ids)
            rows = rows.union(reasons.annotate(
                dimension=Value(""), value=Value(None, output_field=FloatField()),
                no_opinion=Value(False), why=Value(True)).values_list(*columns), all=True)
        for round_id, item_id, dimension, value, no_opinion, text, why in rows:
            if why:
                saved.whys[item_id] = text
                continue
            if round_id != round_.pk:
                saved.previous[(item_id, dimension)] = value
                old = saved.before.setdefault(
                    item_id, {"values": {}, "no_opinion": False, "text": ""})
                old["no_opinion"] |= no_opinion
                old["text"] = old["text"] or text
                if not no_opinion and value is not None:
                    old["values"][dimension] = value
                continue
            saved.values[item_id][dimension] = value
            if no_opinion:
                saved.no_opinion.add(item_id)
            saved.texts[item_id] = text or saved.texts.get(item_id, "")
        if whys is True and response is not None:
            saved.whys = dict(response.rationales.values_list("item_id", "text"))
        return saved

    def answered(self, item: Item) -> bool:
        return item.pk in self.values or item.pk in self.no_opinion

    def rated(self, item: Item) -> bool:
        """A value (or an open answer's text) is saved, not "no opinion": with "answer before
        you see the group" only this opens the item's feedback."""
        if item.pk in self.no_opinion:
            return False
        return any(v is not None for v in self.values.get(item.pk, {}).values()) or bool(
            self.texts.get(item.pk))


def _item_view(item: Item, saved: Saved, feedback: Feedback, expert: Expert, round_: Round,
               gated: bool, shuffle: bool) -> ItemView:
    answered = saved.answered(item)
    figures = feedback.figures.get(item.pk, {})
    values = saved.values.get(item.pk, {})
    parts = []
    for key in item.answer_keys():
        name = f"a-{item.code}.{key}" if key else f"a-{item.code}"
        fb = part_feedback(item, key, figures.get(key), feedback.own.get((item.pk, key)),
                       feedback.live)
        parts.append(Part(key=key, label=_part_label(item, key), name=name,
                          value=values.get(key), feedback=fb))
    authors = feedback.authors.get(item.pk, ())
    count = len(authors) - (expert.pk in authors)
    shown = []
    if shuffle:  # the page shows how many; the arguments load when the expert opens them
        me = expert.pk
        shown = [a for a in feedback.arguments.get(item.pk, []) if a["author"] != me]
        # Each expert reads the arguments in an order of their own, the same on every visit,
        # that nothing they see lets them undo (surveys.unlinkable).
        shown = argument_order(shown, expert=expert, round_=round_, item_id=item.pk)
    view = ItemView(item=item, parts=parts, no_opinion=item.pk in saved.no_opinion,
                    rationale=saved.whys.get(item.pk, ""), text=saved.texts.get(item.pk, ""),
                    rationales=shown, arguments=count, answered=answered,
                    withheld=feedback.min_cell if item.pk in feedback.withheld else 0,
                    previous=saved.before.get(item.pk),
                    previous_round=round_.number - 1 if item.pk in saved.before else 0)
    view.has_feedback = any(p.feedback for p in parts) and (not gated or saved.rated(item))
    return view


def questionnaire(expert: Expert, round_: Round, *, gated: bool = False,
                  codes: set[str] | None = None) -> list[ItemView]:
    """The round's items (or those with the given codes) with the expert's saved answers and the
    panel's feedback, its arguments in the expert's own order."""
    round_ = round_with_keys(round_)
    response = Response.objects.filter(round=round_, expert=expert).first()
    items = round_items_shared(round_)
    wanted = _wanted(items, codes)
    saved = Saved.read(expert, round_, response, item_ids=None if codes is None else list(wanted))
    return _views(expert, round_, wanted, saved, gated, shuffle=True)


def item_view(expert: Expert, round_: Round, code: str) -> ItemView | None:
    """One item of the round as the expert sees it (None if the round has no such item)."""
    views = questionnaire(expert, round_, gated=expert.study.answer_before_feedback, codes={code})
    return views[0] if views else None


def _wanted(items: list[Item], codes: set[str] | None) -> dict[int, Item]:
    return {i.pk: i for i in items if codes is None or i.code in codes}


def _views(expert, round_, wanted: dict[int, Item], saved: Saved, gated: bool,
           shuffle: bool = False) -> list[ItemView]:
    feedback = feedback_source(expert, round_, list(wanted.values()), saved) if wanted \
        else Feedback()
    return [_item_view(item, saved, feedback, expert, round_, gated, shuffle)
            for item in wanted.values()]


def item_numbers(items: list[Item]) -> dict[int, str]:
    """Each item's place on the page, "theme.item" ("2.3"), by item id: what experts see
    instead of the item's code."""
    numbers, theme, n, k = {}, None, 0, 0
    for item in items:
        if item.theme_id != theme:
            theme, n, k = item.theme_id, n + 1, 0
        k += 1
        numbers[item.pk] = f"{n}.{k}"
    return numbers


@dataclass
class Todo:
    """An unanswered item as the progress box and the submit confirmation link to it."""

    item: Item
    number: str

    @property
    def code(self) -> str:
        return self.item.code


def _group_by_theme(views: list[ItemView], errors: dict, levels: dict) -> list[dict]:
    themes: list[dict] = []
    for view in views:
        if not themes or themes[-1]["theme"] != view.item.theme:
            themes.append({"theme": view.item.theme, "items": [],
                           "expertise": errors.get(f"x-{view.item.theme_id}", ""),
                           "level": levels.get(view.item.theme_id)})
        themes[-1]["items"].append(view)
    return themes


def _event_date(text: str) -> str:
    """A timeline date (2019-08-02, 2018-02 or 2018) as the active language writes it."""
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 3:
        return date_format(dt.date(*parts))
    if len(parts) == 2:
        return date_format(dt.date(parts[0], parts[1], 1), "YEAR_MONTH_FORMAT")
    return text


def study_frame(study: Study) -> dict:
    """The study's frame for its experts: the date its propositions refer to (None if not
    stated) and its dated events in the active language."""
    language = get_language() or study.default_language
    events = [{"date": e["date"], "when": _event_date(str(e["date"])),
               "text": e["text"].get(language) or e["text"].get(study.default_language, "")}
              for e in study.timeline]
    return {"as_of": study.as_of, "events": events}


def round_is_open(round_: Round | None) -> bool:
    """Whether answers to the round can still change."""
    return round_ is not None and round_.status == Round.Status.OPEN and (
        round_.closes_at is None or round_.closes_at > timezone.now())


UNREAD = object()  # questionnaire_context's response when the caller has not read it


def questionnaire_context(expert: Expert, round_: Round | None, *, errors: dict | None = None,
                          codes: set[str] | None = None, response=UNREAD) -> dict:
    """Everything the questionnaire page shows: the study's frame, sections, progress, what is
    left, errors.

    With codes (an autosave), only those items are built, with their feedback; the progress
    still counts every item. The expert's response (None if there is none yet), when the
    caller has read or just saved it, saves reading it again.
    """
    errors = errors or {}
    if response is UNREAD:
        response = (Response.objects.filter(round=round_, expert=expert).first()
                    if round_ is not None else None)
    items, views, saved = [], [], Saved()
    if round_ is not None:
        round_ = round_with_keys(round_)
        items = round_items_shared(round_)
        wanted = _wanted(items, codes)
        # An autosave shows no reasons and needs the previous round only for its items.
        saved = Saved.read(expert, round_, response, whys=codes is None,
                           item_ids=None if codes is None else list(wanted))
        views = _views(expert, round_, wanted, saved, expert.study.answer_before_feedback)
    for view in views:
        view.error = errors.get(view.item.code, "")
        for part in view.parts:
            part.error = errors.get(f"{view.item.code}.{part.key}", "")
    # Errors no item on the page can show (an unknown item field) go to the top of the form.
    known = {i.code for i in items}
    stray = [m for k, m in errors.items()
             if k != "__all__" and not k.startswith("x-") and k.partition(".")[0] not in known]
    numbers = item_numbers(items)
    for view in views:
        view.number = numbers.get(view.item.pk, "")
    unanswered = [Todo(i, numbers[i.pk]) for i in items if not saved.answered(i)]
    keepable = sum(1 for i in items if i.pk in saved.before and not saved.answered(i))
    context = {
        "round": round_, "response": response, "is_open": round_is_open(round_),
        "answered": len(items) - len(unanswered), "total": len(items), "unanswered": unanswered,
        "form_error": " ".join([str(errors.get("__all__", "")), *map(str, stray)]).strip(),
        "ask_expertise": round_ is not None and round_.number == 1, "views": views,
        "feedback_shown": any(part.feedback for view in views for part in view.parts),
        "keepable": keepable, "previous_number": round_.number - 1 if round_ is not None else 0,
    }
    if codes is None:
        levels = (dict(expert.expertise.values_list("theme_id", "level"))
                  if context["ask_expertise"] else {})
        context["themes"] = _group_by_theme(views, errors, levels)
        context["frame"] = study_frame(expert.study)
    return context
