"""An expert's response to a round: validated draft saves and the submit.

An answer payload maps item codes to {"values": {dimension: number|None}, "no_opinion": bool,
"rationale": str, "text": str}; items left out of a payload keep what was saved before.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from surveys.errors import RoundNotOpen, ServiceError, StaleVersion
from surveys.models import (
    Answer,
    Expert,
    Item,
    PreFeedbackAnswer,
    Rationale,
    Response,
    ResponseRevision,
    Round,
)
from surveys.services.aggregation.live import live_touch
from surveys.services.bulk import rows_insert

MAX_TEXT = 5000
KEEP_ALL = "*"  # response_keep_previous: every item answered before and not yet in this round


@dataclass
class ItemAnswer:
    values: dict[str, float | None] = field(default_factory=dict)
    no_opinion: bool = False
    rationale: str = ""
    text: str = ""


def _check_value(item: Item, key: str, value: float | None) -> str | None:
    if value is None:
        return None
    if not math.isfinite(value):
        return _("Enter a number.")
    bounds = item.bounds()
    if bounds is None:  # open text: it has no answer keys, so no value reaches here
        return None
    low, high = bounds
    if not low <= value <= high:
        return _("Enter a value from %(low)s to %(high)s.") % {"low": f"{low:g}", "high": f"{high:g}"}
    if item.kind == Item.Kind.PROBABILITY:
        return None
    places = item.decimals if item.kind == Item.Kind.NUMERIC else 0
    scaled = value * 10 ** places
    if abs(scaled - round(scaled)) > 1e-9 * max(1.0, abs(scaled)):
        if not places:
            return _("Enter a whole number.")
        return ngettext("Enter a number with at most %(n)s decimal place.",
                        "Enter a number with at most %(n)s decimal places.", places) % {"n": places}
    return None


def _check_item(item: Item, answer: ItemAnswer, *, final: bool = False) -> dict[str, str]:
    """Return field errors for one item's answer, keyed item code or code.dimension."""
    errors: dict[str, str] = {}
    keys = item.answer_keys()
    unknown = set(answer.values) - set(keys)
    if unknown:
        parts = ", ".join(sorted(unknown))
        errors[item.code] = _("Unknown part(s) of this item: %(parts)s.") % {"parts": parts}
    for key, value in answer.values.items():
        message = _check_value(item, key, value) if key in keys else None
        if message:
            errors[f"{item.code}.{key}" if key else item.code] = message
    if item.kind == Item.Kind.RANKING and not answer.no_opinion:
        ranks = [v for v in answer.values.values() if v is not None]
        # A draft may hold a ranking in progress; a submitted one is all or nothing.
        if len(set(ranks)) != len(ranks) or (final and ranks and len(ranks) != len(keys)):
            errors[item.code] = _("Give each option a different place from 1 to %(n)s.") % {
                "n": len(keys)}
    if len(answer.rationale) > MAX_TEXT or len(answer.text) > MAX_TEXT:
        errors[item.code] = _("Texts are limited to %(n)s characters.") % {"n": MAX_TEXT}
    if answer.no_opinion and item.kind == Item.Kind.OPEN:
        errors[item.code] = _("Open questions have no 'no opinion' choice.")
    return errors


def _open_round_for(expert: Expert, round_: Round) -> None:
    if round_.study_id != expert.study_id or expert.withdrawn_at is not None:
        raise ServiceError(_("This round is not part of your study."))
    if round_.status != Round.Status.OPEN or (
        round_.closes_at is not None and round_.closes_at <= timezone.now()
    ):
        raise RoundNotOpen(_("This round is closed; answers can no longer be changed."))


def _locked_response(expert: Expert, round_: Round) -> Response:
    response = Response.objects.select_for_update().filter(round=round_, expert=expert).first()
    if response is not None:
        return response
    try:
        with transaction.atomic():
            Response.objects.create(round=round_, expert=expert)
    except IntegrityError:
        pass  # created by a concurrent request; the unique constraint keeps it to one row
    return Response.objects.select_for_update().get(round=round_, expert=expert)


def _rows(response: Response, item: Item, answer: ItemAnswer) -> list[Answer]:
    if answer.no_opinion:
        # One row per dimension or ranking option: a ranking row keyed "" would count as an
        # extra option and leave no complete ranking for Kendall's W.
        return [Answer(response=response, item=item, dimension=key, no_opinion=True)
                for key in item.answer_keys()]
    if item.kind == Item.Kind.OPEN:
        text = answer.text.strip()
        return [Answer(response=response, item=item, text=text)] if text else []
    return [Answer(response=response, item=item, dimension=key, value=value)
            for key, value in answer.values.items() if value is not None]


def _revision_add(response: Response) -> None:
    """Keep a copy of the response as it now stands (after a submit or a later change)."""
    answers = [
        {"item": item, "dimension": dimension, "value": value, "text": text, "no_opinion": no_opinion}
        for item, dimension, value, text, no_opinion in response.answers.order_by(
            "item__code", "dimension").values_list("item__code", "dimension", "value", "text",
                                                   "no_opinion")
    ]
    rationales = [{"item": item, "text": text} for item, text in response.rationales.order_by(
        "item__code").values_list("item__code", "text")]
    # The next number is found by the INSERT itself (the response's row is locked).
    last = response.revisions.order_by("-number").values("number")[:1]
    ResponseRevision.objects.create(
        response=response, number=Coalesce(Subquery(last), 0) + 1, version=response.version,
        answers=answers, rationales=rationales, created_at=timezone.now())


def _claimed_response(*, expert: Expert, round_: Round, expected_version: int | None,
                      read: Response | None, submit: bool) -> Response:
    """The expert's response to the round, locked, its version checked and raised by one (and
    marked submitted with `submit`); a stale version raises StaleVersion.

    With the response the caller read before the transaction and the version the page had,
    one UPDATE locks the row, checks the version and raises it: when the version still matches,
    nothing changed the row since it was read (every change raises it).
    """
    now = timezone.now()
    marks = {"status": Response.Status.SUBMITTED, "submitted_at": now} if submit else {}
    if read is not None and expected_version is not None:
        claimed = Response.objects.filter(
            pk=read.pk, version=expected_version, status=read.status).update(
            version=F("version") + 1, started_at=Coalesce(F("started_at"), Value(now)),
            updated_at=now, **marks)
        if claimed:
            read.version, read.started_at = expected_version + 1, read.started_at or now
            read.updated_at = now
            for name, value in marks.items():
                setattr(read, name, value)
            return read
    response = _locked_response(expert, round_)
    if expected_version is not None and expected_version != response.version:
        raise StaleVersion(_(
            "These answers were changed elsewhere (another tab or device) since this page "
            "was loaded. Reload to see the latest version."
        ))
    response.version += 1
    # started_at: the first save of this response, for the organizer's dashboard (#4).
    response.started_at = response.started_at or now
    for name, value in marks.items():
        setattr(response, name, value)
    response.save(update_fields=["version", "updated_at", "started_at", *marks])
    return response


def _answers_store(
    *, expert: Expert, round_: Round, answers: dict[str, ItemAnswer],
    expected_version: int | None, final: bool, items: Iterable[Item] | None = None,
    response: Response | None = None,
) -> Response:
    """Validate and store the given items' answers (and with `final`, mark the response
    submitted); a stale version changes nothing. `items` are round items the caller has read
    (at least those answered), `response` the response it has read."""
    _open_round_for(expert, round_)
    if items is None:
        items = round_.items.filter(code__in=answers)
    by_code = {item.code: item for item in items if item.code in answers}
    errors: dict[str, str] = {}
    for code, answer in answers.items():
        if code not in by_code:
            errors[code] = _("Item %(code)s is not part of this round.") % {"code": code}
        else:
            errors.update(_check_item(by_code[code], answer, final=final))
    if errors:
        raise ServiceError(_("Some answers need correcting."), field_errors=errors)
    # Always inside the callers' own atomic block: no savepoint of its own.
    with transaction.atomic(savepoint=False):
        response = _claimed_response(expert=expert, round_=round_, read=response,
                                     expected_version=expected_version, submit=final)
        touched = [by_code[code] for code in answers]
        if touched:
            Answer.objects.filter(response=response, item__in=touched).delete()
            Rationale.objects.filter(response=response, item__in=touched).delete()
        rows, rationales = [], []
        for code, answer in answers.items():
            rows += _rows(response, by_code[code], answer)
            if answer.rationale.strip():
                rationales.append(Rationale(response=response, item=by_code[code],
                                            text=answer.rationale.strip()))
        rows_insert(Answer, rows)
        rows_insert(Rationale, rationales)
        if expert.study.answer_before_feedback:
            _pre_feedback_keep(response, rows)
    return response


def _pre_feedback_keep(response: Response, rows: list[Answer]) -> None:
    """Keep the first rated answer of each item as the answer given before its feedback
    opened ("no opinion" opens nothing and is not kept); later saves never change it. The
    response's row is locked, so two saves cannot both find an item without one."""
    rated = {(row.item_id, row.dimension): row.value for row in rows
             if row.value is not None and not row.no_opinion}
    if not rated:
        return
    kept = set(PreFeedbackAnswer.objects.filter(
        response=response, item_id__in={item for item, _key in rated}).values_list(
        "item_id", flat=True))
    now = timezone.now()
    rows_insert(PreFeedbackAnswer, [
        PreFeedbackAnswer(response=response, item_id=item, dimension=key, value=value,
                          created_at=now)
        for (item, key), value in rated.items() if item not in kept and value is not None])


def response_save_draft(
    *, expert: Expert, round_: Round, answers: dict[str, ItemAnswer],
    expected_version: int | None = None, items: Iterable[Item] | None = None,
    response: Response | None = None,
) -> Response:
    """Validate and store the given items' answers; a stale version changes nothing.

    A submitted response changes only by a new revision (its history is kept), and only while
    the round is open. `items` (the round's, some or all) and `response` (the expert's, as read
    before) save reading them again.
    """
    with transaction.atomic():
        return _draft_store(expert=expert, round_=round_, answers=answers, items=items,
                            expected_version=expected_version, response=response)


def _draft_store(*, round_: Round, answers: dict[str, ItemAnswer], **kwargs) -> Response:
    response = _answers_store(round_=round_, answers=answers, final=False, **kwargs)
    if response.status == Response.Status.SUBMITTED and answers:
        _revision_add(response)
        live_touch(round_=round_)  # a revised answer changes Real-Time statistics
    return response


def response_submit(
    *, expert: Expert, round_: Round, answers: dict[str, ItemAnswer] | None = None,
    expected_version: int | None = None, items: Iterable[Item] | None = None,
    response: Response | None = None,
) -> Response:
    """Save the last answers and mark the response submitted; resubmitting revises it. Every
    submit is kept as a revision."""
    with transaction.atomic():
        return _submit_store(expert=expert, round_=round_, answers=answers or {}, items=items,
                             expected_version=expected_version, response=response)


def _submit_store(*, round_: Round, **kwargs) -> Response:
    response = _answers_store(round_=round_, final=True, **kwargs)
    _revision_add(response)
    live_touch(round_=round_)
    return response


def questionnaire_save(
    *, expert: Expert, round_: Round, answers: dict[str, ItemAnswer],
    expertise: dict[int, int] | None = None, submit: bool = False,
    expected_version: int | None = None, items: Iterable[Item] | None = None,
    response: Response | None = None, joined: bool = False,
) -> Response:
    """Store a posted questionnaire page (answers and expertise) at once; all or nothing.
    `items` (the round's, some or all) and `response` (the expert's, as read before the
    transaction) save reading them again."""
    from surveys.services.panel import expertise_save

    # One transaction, no savepoints inside: an error anywhere rolls all of it back. `joined`
    # (a service's own transaction holds this one): no savepoint either, so an error rolls
    # back the caller's whole transaction, which must not catch it and go on.
    with transaction.atomic(savepoint=not joined):
        store = _submit_store if submit else _draft_store
        response = store(expert=expert, round_=round_, answers=answers, items=items,
                         expected_version=expected_version, response=response)
        if expertise:
            expertise_save(expert=expert, levels=expertise)
    return response


def _has_content(answer: ItemAnswer) -> bool:
    return answer.no_opinion or bool(answer.text.strip()) or any(
        v is not None for v in answer.values.values())


def _kept_answers(*, expert: Expert, round_: Round, keep: str, posted: dict[str, ItemAnswer],
                  items: list[Item]) -> dict[str, ItemAnswer]:
    """The previous round's answers to put in for `keep` (an item code or KEEP_ALL), each
    with the reasoning already given in this round; answers the item no longer accepts (its
    bounds or options changed) are left out."""
    from surveys.selectors import answered_item_codes
    from surveys.selectors_expert import previous_answers

    wanted = items if keep == KEEP_ALL else [i for i in items if i.code == keep]
    before = previous_answers(expert, round_, wanted)
    if keep == KEEP_ALL:
        saved = answered_item_codes(expert, round_)
        wanted = [i for i in wanted if i.pk in before and not (
            _has_content(posted[i.code]) if i.code in posted else i.code in saved)]
    whys = dict(Rationale.objects.filter(
        response__expert=expert, response__round=round_, item__in=wanted).values_list(
        "item__code", "text"))
    kept = {}
    for item in wanted:
        if item.pk not in before:
            continue
        old = before[item.pk]
        why = posted[item.code].rationale if item.code in posted else whys.get(item.code, "")
        answer = ItemAnswer(values=dict(old["values"]), no_opinion=old["no_opinion"],
                            text=old["text"], rationale=why)
        if not _check_item(item, answer):
            kept[item.code] = answer
    return kept


def response_keep_previous(
    *, expert: Expert, round_: Round, keep: str, answers: dict[str, ItemAnswer] | None = None,
    expected_version: int | None = None, items: Iterable[Item] | None = None,
    response: Response | None = None,
) -> tuple[Response, list[str]]:
    """Save the expert's previous-round answer to the item `keep` (with KEEP_ALL: to every item
    they answered then and have not answered in this round) as their answer in this round,
    together with the other posted `answers`, as one draft save (version checked; a stale one
    changes nothing). Returns the response and the codes of the items kept."""
    with transaction.atomic():
        items = list(items) if items is not None else list(round_.items.all())
        posted = dict(answers or {})
        kept = _kept_answers(expert=expert, round_=round_, keep=keep, posted=posted,
                             items=items)
        response = _draft_store(expert=expert, round_=round_, answers=posted | kept,
                                items=items, expected_version=expected_version,
                                response=response)
    return response, list(kept)
