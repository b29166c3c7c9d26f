"""Planning the next round from the last: carry, drop or keep, reword, split, merge, add.

Every item of a planned round records where it comes from (ItemOrigin): "carried over from
item 7 of round 1", "reworded", "split", "merged", "added". An item asked before is never
edited in place (its answers keep their meaning); rewording makes a new item.
"""

from collections.abc import Sequence

from django.db import transaction
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.figures import CONSENSUS, item_verdicts
from surveys.models import AuditEvent, Item, Round, Study
from surveys.services.rounds import round_create
from workspace.models import ItemOrigin
from workspace.services.builder import item_data, item_save

Relation = ItemOrigin.Relation


@transaction.atomic
def round_plan_next(*, study: Study, include: list[int], actor, add: Sequence[Item] = ()) -> Round:
    """Create the next round as a draft from the last round's items the organizer kept, and
    `add`, items of the study the last round did not ask (recorded as added)."""
    last = study.rounds.order_by("-number").first()
    if last is None:
        raise ServiceError(_("Round 1 asks the study's items; there is nothing to plan from yet."))
    asked = {item.pk: item for item in last.items.all()}
    unknown = set(include) - set(asked)
    if unknown:
        raise ServiceError(_("Only items of round %(n)s can be carried over.") % {"n": last.number})
    if any(item.study_id != study.pk or item.pk in asked for item in add):
        raise ServiceError(_("Unknown item."))
    chosen = [asked[pk] for pk in include]
    round_ = round_create(study=study, items=[*chosen, *add], actor=actor)
    verdicts = item_verdicts(last)
    for item in chosen:
        reached = verdicts.get(item.pk, {}).get("verdict") in CONSENSUS
        relation = Relation.KEPT if reached else Relation.CARRIED
        ItemOrigin.objects.create(item=item, round=round_, relation=relation, source_item=item,
                                  source_round=last, created_by=actor)
    for item in add:
        ItemOrigin.objects.create(item=item, round=round_, relation=Relation.ADDED, created_by=actor)
    dropped = sorted(asked[pk].code for pk in set(asked) - set(include))
    AuditEvent.objects.create(study=study, actor=actor, action="round_planned", detail={
        "round": round_.number, "from_round": last.number,
        "carried": sorted(i.code for i in chosen), "dropped": dropped,
        **({"added": sorted(i.code for i in add)} if add else {})})
    return round_


def round_next(*, study: Study, items: list[Item] | None = None, actor) -> Round:
    """The next round as a draft asking `items` (default: the last round's, or the study's
    for round 1). A later round records where each item comes from, as planning does: the last
    round's items carried over (or kept despite consensus), the others added."""
    last = study.rounds.order_by("-number").first()
    if last is None:
        return round_create(study=study, items=items, actor=actor)
    asked = set(last.items.values_list("pk", flat=True))
    if items is None:
        return round_plan_next(study=study, include=sorted(asked), actor=actor)
    return round_plan_next(study=study, include=[i.pk for i in items if i.pk in asked],
                           add=[i for i in items if i.pk not in asked], actor=actor)


def _draft(round_: Round) -> Round:
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    if round_.status != Round.Status.DRAFT:
        raise ServiceError(_("Only a draft round can be changed."))
    return round_


def _asked_before(round_: Round, item: Item) -> Round:
    """The latest earlier round that asked the item (rewording needs one)."""
    before = item.rounds.filter(number__lt=round_.number).order_by("-number").first()
    if before is None or not round_.items.filter(pk=item.pk).exists():
        raise ServiceError(_("Only an item of this draft that an earlier round asked can be "
                             "reworded, split or merged; edit a new item in the builder."))
    return before


def _new_item(study: Study, source: Item, *, code: str, text_en: str, text_ru: str, actor) -> Item:
    data = item_data(source) | {"code": code, "text": {"en": text_en, "ru": text_ru}}
    return item_save(study=study, theme=source.theme, data=data, actor=actor)


def _replace(round_: Round, old: list[Item], new: list[Item]) -> None:
    round_.items.remove(*old)
    round_.items.add(*new)
    ItemOrigin.objects.filter(round=round_, item__in=old).delete()


@transaction.atomic
def draft_item_reword(*, round_: Round, item: Item, code: str, text_en: str, text_ru: str,
                      actor) -> Item:
    """Ask a reworded copy of an item instead of the item itself."""
    round_ = _draft(round_)
    source_round = _asked_before(round_, item)
    new = _new_item(round_.study, item, code=code, text_en=text_en, text_ru=text_ru, actor=actor)
    _replace(round_, [item], [new])
    ItemOrigin.objects.create(item=new, round=round_, relation=Relation.REWORDED, source_item=item,
                              source_round=source_round, created_by=actor)
    _audit(round_, actor, "item_reworded", [item], [new])
    return new


@transaction.atomic
def draft_item_split(*, round_: Round, item: Item, parts: list[dict], actor) -> list[Item]:
    """Ask two or more items instead of one; `parts` are {code, text_en, text_ru}."""
    round_ = _draft(round_)
    if len(parts) < 2:
        raise ServiceError(_("A split makes at least two items."))
    source_round = _asked_before(round_, item)
    new = [_new_item(round_.study, item, actor=actor, **part) for part in parts]
    _replace(round_, [item], new)
    for part in new:
        ItemOrigin.objects.create(item=part, round=round_, relation=Relation.SPLIT, source_item=item,
                                  source_round=source_round, created_by=actor)
    _audit(round_, actor, "item_split", [item], new)
    return new


@transaction.atomic
def draft_items_merge(*, round_: Round, items: list[Item], code: str, text_en: str, text_ru: str,
                      actor) -> Item:
    """Ask one item instead of several of the same kind."""
    round_ = _draft(round_)
    if len({i.pk for i in items}) < 2:
        raise ServiceError(_("Choose at least two items to merge."))
    if len({(i.kind, tuple(i.dimensions)) for i in items}) > 1:
        raise ServiceError(_("Only items of the same kind can be merged."))
    sources = [(item, _asked_before(round_, item)) for item in items]
    new = _new_item(round_.study, items[0], code=code, text_en=text_en, text_ru=text_ru, actor=actor)
    _replace(round_, items, [new])
    for item, source_round in sources:
        ItemOrigin.objects.create(item=new, round=round_, relation=Relation.MERGED,
                                  source_item=item, source_round=source_round, created_by=actor)
    _audit(round_, actor, "items_merged", items, [new])
    return new


@transaction.atomic
def draft_item_add(*, round_: Round, item: Item, actor, source_item: Item | None = None,
                   note: str = "") -> Item:
    """Ask an item of the study (new from the builder, or not asked lately) in this draft.

    `source_item` records what inspired it, e.g. an open question of the previous round.
    """
    round_ = _draft(round_)
    if item.study_id != round_.study_id:
        raise ServiceError(_("Unknown item."))
    if round_.items.filter(pk=item.pk).exists():
        raise ServiceError(_("This item is in the round already."))
    source_round = None
    if source_item is not None:
        if source_item.study_id != round_.study_id:
            raise ServiceError(_("Unknown item."))
        source_round = source_item.rounds.filter(number__lt=round_.number).order_by("-number").first()
    round_.items.add(item)
    if round_.number > 1:
        ItemOrigin.objects.create(item=item, round=round_, relation=Relation.ADDED,
                                  source_item=source_item, source_round=source_round,
                                  note=note.strip()[:300], created_by=actor)
    _audit(round_, actor, "item_added", [source_item] if source_item else [], [item])
    return item


@transaction.atomic
def draft_item_remove(*, round_: Round, item: Item, actor) -> None:
    """Take an item out of a draft round (it stays in the study)."""
    round_ = _draft(round_)
    if not round_.items.filter(pk=item.pk).exists():
        raise ServiceError(_("This item is not in the round."))
    if round_.items.count() == 1:
        raise ServiceError(_("A round needs at least one item."))
    round_.items.remove(item)
    ItemOrigin.objects.filter(round=round_, item=item).delete()
    _audit(round_, actor, "item_removed", [item], [])


def _audit(round_: Round, actor, action: str, before: list[Item], after: list[Item]) -> None:
    AuditEvent.objects.create(study=round_.study, actor=actor, action=action, detail={
        "round": round_.number, "before": [i.code for i in before],
        "after": [i.code for i in after]})
