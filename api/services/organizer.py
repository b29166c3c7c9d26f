"""Reads the workspace pages compute in their views, for the API to give the same answers.

`plan_proposal` is what the rounds page proposes for the next round, `open_answers` what the
draft page lists to plan from, `dashboard` what the dashboard shows of a round. They only read.
"""

from surveys.models import Answer, Item, Response, Round, Study
from workspace.selectors import (
    aggregation_progress,
    item_verdicts,
    median_minutes_to_complete,
    response_table,
    stopping_status,
)


def plan_proposal(study: Study) -> dict:
    """The last round's items with their verdicts and whether the next round would carry them:
    items without consensus are carried, items with consensus (and open questions) dropped."""
    last = study.rounds.order_by("-number").first()
    if last is None or last.status != Round.Status.AGGREGATED:
        return {"from_round": last.number if last else None, "ready": False, "items": []}
    verdicts = item_verdicts(last)
    items = []
    for item in last.items.order_by("theme__position", "position"):
        verdict = verdicts.get(item.pk, {})
        items.append({"code": item.code, "consensus": verdict.get("consensus"),
                      "stable": verdict.get("stable"),
                      "carry": not verdict.get("consensus") and item.kind != Item.Kind.OPEN})
    return {"from_round": last.number, "ready": True, "items": items}


def shown_round(study: Study, number: int | None) -> Round | None:
    """The round the dashboard shows: the given one, else the open one, else the latest."""
    rounds = study.rounds.order_by("-number")
    if number is not None:
        return rounds.filter(number=number).first()
    return rounds.filter(status=Round.Status.OPEN).first() or rounds.first()


def dashboard(study: Study, round_: Round | None) -> dict:
    """Response per stakeholder group (and the panel), time to submit, aggregation progress,
    per-item verdicts under the registered rules, and what the stopping rule says."""
    if round_ is None:
        return {"round": None, "status": None, "rates": [], "median_minutes": None,
                "aggregation": None, "verdicts": [], "stopping": stopping_status(study)}
    rates = [{**row, "group": row["group"].code if row["group"] else ""}
             for row in response_table(round_)]
    verdicts = []
    if round_.status == Round.Status.AGGREGATED:
        found = item_verdicts(round_)
        verdicts = [{"item": item.code, **found.get(item.pk, {"consensus": None, "stable": None})}
                    for item in round_.items.order_by("theme__position", "position")]
    return {"round": round_.number, "status": round_.status, "rates": rates,
            "median_minutes": median_minutes_to_complete(round_),
            "aggregation": aggregation_progress(round_), "verdicts": verdicts,
            "stopping": stopping_status(study)}


def open_answers(round_: Round, *, limit: int = 300) -> list[dict]:
    """The previous round's submitted answers to open questions, as the draft page lists them
    to plan new items from (the text and the item only: nothing of who wrote it)."""
    previous = round_.study.rounds.filter(number=round_.number - 1).first()
    if previous is None:
        return []
    rows = (Answer.objects.filter(response__round=previous, item__kind=Item.Kind.OPEN,
                                  response__status=Response.Status.SUBMITTED)
            .exclude(text="").order_by("item__position", "pk")
            .values_list("item__code", "text")[:limit])
    return [{"item": code, "text": text} for code, text in rows]
