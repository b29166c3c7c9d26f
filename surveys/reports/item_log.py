"""The report's item log (a selector): what happened to every item from round to round, with
the organizer's reasons, read from the rounds' questionnaires (Round.items) and the items'
recorded origins (workspace.models.ItemOrigin).

An event's `kind` is one of: "asked" (in round 1's questionnaire), "added", "reworded",
"split", "merged" (the item replaces `others` of the round before), "carried" (asked again),
"kept" (asked again despite consensus), "reworded_as", "split_into", "merged_into" (replaced
by `others` in this round) or "dropped" (asked in the round before, not in this one).
"""

from __future__ import annotations

from collections import defaultdict

from surveys.models import Item, Round, Study
from surveys.reports.item_results import report_rounds

# What a replacement is called in the log of the item it replaced.
_SUCCESSOR = {"reworded": "reworded_as", "split": "split_into", "merged": "merged_into"}


def item_log(study: Study, round_: Round, items: dict[str, Item]) -> list[dict]:
    """Per item asked in rounds 1..N, in questionnaire order: its events, one per round in
    which something happened to it (see the module doc), each with the round, the other items
    involved (codes) and the organizer's note."""
    from workspace.models import ItemOrigin  # the workspace builds on surveys

    rounds = report_rounds(study, round_)
    asked = {r.number: set(r.items.values_list("pk", flat=True)) for r in rounds}
    origins: dict[tuple[int, int], list] = defaultdict(list)  # (item, round number) -> origins
    successors: dict[tuple[int, int], list] = defaultdict(list)  # (source item, round number)
    for o in ItemOrigin.objects.filter(round__in=rounds).select_related(
            "round", "item", "source_item").order_by("pk"):
        origins[(o.item_id, o.round.number)].append(o)
        if o.source_item_id and o.source_item_id != o.item_id and o.relation in _SUCCESSOR:
            successors[(o.source_item_id, o.round.number)].append(o)
    log = []
    for item in items.values():
        events = [event for r in rounds
                  if (event := _event(item, r, asked, origins, successors)) is not None]
        if any(item.pk in ids for ids in asked.values()):
            log.append({"item": item, "events": events})
    return log


def _event(item: Item, round_: Round, asked: dict, origins: dict, successors: dict) -> dict | None:
    """What happened to the item in this round, or None (not asked, nor just dropped)."""
    n = round_.number
    now, before = item.pk in asked[n], item.pk in asked.get(n - 1, set())
    if now:
        found = origins.get((item.pk, n), [])
        if found:
            relation = found[0].relation
            others = sorted({o.source_item.code for o in found
                             if o.source_item_id and o.source_item_id != item.pk})
            note = "; ".join(o.note for o in found if o.note)
            return _make(round_, relation, others, note)
        if n == 1:
            return _make(round_, "asked")
        return _make(round_, "carried" if before else "added")
    if not before:
        return None
    replaced = successors.get((item.pk, n), [])
    if replaced:
        notes = "; ".join(o.note for o in replaced if o.note)
        return _make(round_, _SUCCESSOR[replaced[0].relation],
                     sorted({o.item.code for o in replaced}), notes)
    return _make(round_, "dropped")


def _make(round_: Round, kind: str, others: list[str] | None = None, note: str = "") -> dict:
    return {"round": round_, "kind": kind, "others": others or [], "note": note}


def item_log_view(log: list[dict], round_: Round) -> dict:
    """The item log as the report prints it: in full (`listed`) only the items something
    happened to beyond being asked in round 1 and carried over without a reason; the codes of
    the others (`unchanged`: asked in round 1, carried over to every round up to `round_`)."""
    plain = [entry for entry in log if entry["events"] and not any(
        e["kind"] not in ("asked", "carried") or e["note"] for e in entry["events"])]
    return {"listed": [entry for entry in log if entry not in plain],
            "unchanged": [entry["item"].code for entry in plain], "rounds": round_.number}
