"""Reads of the workspace's rounds pages (list, draft, lineage); the API's planning views share them."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from surveys.figures import CONSENSUS, item_verdicts, verdict_counts
from surveys.models import Answer, Item, Response, Round, Study
from surveys.selectors import round_items, round_previous
from workspace.models import ItemOrigin, OutboxMessage, Reminder
from workspace.services.mail import linked_experts
from workspace.services.round_outcomes import at

OPEN_ANSWERS_SHOWN = 300


def rounds_with_items(study: Study) -> list[Round]:
    """The study's rounds in order, with their items and reminders loaded."""
    return list(study.rounds.prefetch_related("items", "reminders").order_by("number"))


def study_has_rounds(study: Study) -> bool:
    return study.rounds.exists()


def round_reminder(round_: Round, pk: int) -> Reminder | None:
    """The round's reminder with this id, or None (another round's id finds nothing)."""
    return Reminder.objects.filter(round=round_, pk=pk).first()


def previous_open_answers(round_: Round, *, limit: int = OPEN_ANSWERS_SHOWN) -> list[Answer]:
    """The previous round's submitted answers to open questions, with their items, to plan new
    items from (text only: nothing of who wrote them is read)."""
    previous = round_previous(round_)
    if previous is None:
        return []
    return list(Answer.objects.filter(response__round=previous, item__kind=Item.Kind.OPEN,
                                      response__status=Response.Status.SUBMITTED)
                .exclude(text="").select_related("item").order_by("item__position", "pk")[:limit])


def items_outside_round(study: Study, round_: Round) -> QuerySet[Item]:
    """The study's items the round does not ask, with their themes (to add to a draft)."""
    return study.items.exclude(pk__in=round_.items.values("pk")).select_related("theme")


def item_derivations(item: Item) -> QuerySet[ItemOrigin]:
    """The items later rounds derived from this one (rewordings, splits, merges)."""
    return item.derived.select_related("item", "round").exclude(item=item)


def plan_proposal(study: Study) -> dict:
    """What the rounds page proposes for the next round: the last round's items with their
    verdicts; `carry` marks those the next round would ask again (no consensus yet, and not an
    open question). The organizer may keep an item despite consensus."""
    last = study.rounds.order_by("-number").first()
    if last is None or last.status != Round.Status.AGGREGATED:
        return {"from_round": last.number if last else None, "ready": False, "items": []}
    verdicts = item_verdicts(last)
    items = []
    for item in round_items(last):
        verdict = verdicts.get(item.pk, {})
        items.append({"item": item, "verdict": verdict.get("verdict"),
                      "stable": verdict.get("stable"),
                      "carry": verdict.get("verdict") not in CONSENSUS
                      and item.kind != Item.Kind.OPEN})
    return {"from_round": last.number, "ready": True, "items": items,
            "counts": verdict_counts(last)}


def _panel_counts(round_: Round) -> tuple[int, int, int]:
    """Active experts, those who submitted the round and those holding a live link."""
    active = round_.study.experts.filter(withdrawn_at__isnull=True)
    submitted = Response.objects.filter(round=round_, status=Response.Status.SUBMITTED,
                                        expert__in=active).count()
    with_link = linked_experts(round_.study).count()
    return active.count(), submitted, with_link


def close_consequences(round_: Round) -> list[str]:
    """What closing the open round now does, for the confirmation the organizer answers."""
    active, submitted, _with_link = _panel_counts(round_)
    lines = [_("Round %(n)s closes now for every expert: nobody can save or submit answers in "
               "it any more.") % {"n": round_.number}]
    if round_.closes_at is not None:
        lines.append(_("It was planned to close at %(when)s.") % {"when": at(round_.closes_at)})
    lines.append(ngettext("Submitted so far: %(submitted)s of %(count)s expert; drafts of the "
                          "others are not counted.",
                          "Submitted so far: %(submitted)s of %(count)s experts; drafts of the "
                          "others are not counted.", active) % {"submitted": submitted,
                                                                "count": active})
    lines.append(_("The aggregation starts at once; once it has started the round cannot be "
                   "reopened."))
    return lines


def open_consequences(round_: Round) -> list[str]:
    """What opening the draft round does, for the confirmation the organizer answers."""
    _active, _submitted, with_link = _panel_counts(round_)
    lines = [_("Round %(n)s opens with %(items)s items (now, or at the opening time you set); "
               "it cannot go back to a draft, so its items can no longer change.") % {
        "n": round_.number, "items": round_.items.count()}]
    lines.append(ngettext(
        "%(count)s expert holding a personal link is emailed, in their language, that the round "
        "is open; the message points to the link they hold and carries no new one.",
        "%(count)s experts holding a personal link are emailed, in their language, that the "
        "round is open; the message points to the link they hold and carries no new one.",
        with_link) % {"count": with_link})
    if round_.number == 1:
        lines.append(_("The registered consensus, stability and stopping rules lock: later "
                       "changes need a written reason."))
    return lines


OUTBOX_SHOWN = 200


def outbox_queryset(study: Study) -> QuerySet[OutboxMessage]:
    """The study's outbox, newest first, with each message's expert and round."""
    return OutboxMessage.objects.filter(study=study).select_related(
        "message__expert", "message__round")


def outbox_messages(study: Study, *, limit: int = OUTBOX_SHOWN) -> list[OutboxMessage]:
    return list(outbox_queryset(study)[:limit])
