"""Reads of the workspace's rounds pages (list, draft, lineage); the API's planning views share them."""

from django.db.models import QuerySet

from surveys.figures import CONSENSUS, item_verdicts, verdict_counts
from surveys.models import Answer, Item, Response, Round, Study
from surveys.selectors import round_items, round_previous
from workspace.models import ItemOrigin, Reminder

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
