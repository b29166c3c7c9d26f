"""Rounds: planning the next from the last (with provenance), deadlines, extend, reopen, schedules."""

from datetime import timedelta

import pytest
from django.core import mail as django_mail
from django.utils import timezone

from surveys.errors import ServiceError
from surveys.figures import item_verdicts
from surveys.models import AggregationRun, AuditEvent, Item, Round
from surveys.services.panel import expert_issue_token
from surveys.services.rounds import round_create
from tests.workspace_helpers import (
    close_and_aggregate,
    english,  # noqa: F401 - a fixture
    make_experts,
    register_rules,
    submit,
)
from workspace.models import ItemOrigin, Message
from workspace.selectors import item_history
from workspace.services import mail, planning
from workspace.services.rounds import (
    round_close_if_due,
    round_extend,
    round_open_if_due,
    round_reopen,
    round_start,
    rounds_due,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def panel5(study):
    return make_experts(study, [("P1", "RU", "en"), ("P2", "RU", "ru"), ("P3", "US", "en"),
                                ("P4", "US", "en"), ("P5", "WE", "en")])


@pytest.fixture
def aggregated1(study, organizer, panel5):
    """Round 1 answered by five experts: 'agree' splits, 'dims' agrees, then aggregated."""
    register_rules(study, organizer, definition="combined", agree_pct=75, iqr_max=1)
    Item.objects.create(study=study, theme=study.themes.get(code="one"), code="agree2",
                        kind="agreement", text_en="Second", text_ru="Второе", position=9)
    round_ = round_create(study=study, items=list(study.items.filter(
        code__in=["agree", "agree2", "dims", "open"])))
    round_ = round_start(round_=round_, actor=organizer)
    agree = [1, 2, 4, 4, 5]            # 3 of 5 = 60 % agree, IQR 4 - 2 = 2: no consensus
    dims = [(4, 5), (5, 4), (4, 4), (5, 5), (4, 2)]  # desirability 100 %, IQR 1; feasibility 80 %, IQR 1
    from surveys.services.responses import ItemAnswer, response_submit

    for expert, a, (d, f) in zip(panel5, agree, dims, strict=True):
        response_submit(expert=expert, round_=round_, answers={
            "agree": ItemAnswer(values={"": a}),
            "dims": ItemAnswer(values={"desirability": d, "feasibility": f}),
            "open": ItemAnswer(text=f"idea of {expert.name}")})
    return close_and_aggregate(round_)


def test_verdicts_follow_the_registered_rule_with_hand_worked_figures(aggregated1, study):
    verdicts = item_verdicts(aggregated1)
    codes = {i.pk: i.code for i in study.items.all()}
    by_code = {codes[pk]: v for pk, v in verdicts.items()}
    # agree: 60 % < 75 and IQR 2 > 1. dims: desirability 5/5 = 100 %, IQR 5 - 4 = 1; feasibility
    # sorted 2 4 4 5 5: 4/5 = 80 %, Q1 4, Q3 5, IQR 1 -> both dimensions meet the rule.
    assert by_code["agree"] == {"verdict": "none", "stable": None, "dimensions": {"": "none"}}
    assert by_code["dims"] == {"verdict": "agree", "stable": None, "dimensions": {
        "desirability": "agree", "feasibility": "agree"}}
    assert "open" not in by_code  # open text has no statistics


def test_planning_carries_items_without_consensus_and_records_the_provenance(
        aggregated1, study, organizer):
    agree, dims = study.items.get(code="agree"), study.items.get(code="dims")
    round2 = planning.round_plan_next(study=study, include=[agree.pk, dims.pk], actor=organizer)
    assert round2.number == 2 and round2.status == Round.Status.DRAFT
    origins = {o.item.code: o.relation for o in ItemOrigin.objects.filter(round=round2)}
    assert origins == {"agree": "carried", "dims": "kept"}  # dims had consensus: kept by choice
    event = AuditEvent.objects.get(study=study, action="round_planned")
    assert event.detail["dropped"] == ["agree2", "open"] and event.detail["carried"] == ["agree", "dims"]
    with pytest.raises(ServiceError):
        planning.round_plan_next(study=study, include=[study.items.get(code="prob").pk],
                                 actor=organizer)


def test_rewording_makes_a_new_item_that_remembers_its_source(aggregated1, study, organizer):
    agree = study.items.get(code="agree")
    round2 = planning.round_plan_next(study=study, include=[agree.pk], actor=organizer)
    reworded = planning.draft_item_reword(round_=round2, item=agree, code="agree-r2",
                                          text_en="Clearer text", text_ru="Яснее", actor=organizer)
    assert (reworded.kind, reworded.theme, reworded.text_en) == ("agreement", agree.theme,
                                                                 "Clearer text")
    assert Item.objects.get(pk=agree.pk).text_en == "English text"  # the asked item is untouched
    assert list(round2.items.values_list("code", flat=True)) == ["agree-r2"]
    story = [(o.item.code, o.round.number, o.relation, o.source_item.code, o.source_round.number)
             for o in item_history(reworded)]
    assert story == [("agree-r2", 2, "reworded", "agree", 1)]


def test_split_merge_and_add_keep_their_history(aggregated1, study, organizer):
    agree, agree2, dims, open_ = (study.items.get(code=c) for c in ("agree", "agree2", "dims", "open"))
    round2 = planning.round_plan_next(study=study, include=[agree.pk, agree2.pk, dims.pk],
                                      actor=organizer)
    a, b = planning.draft_item_split(round_=round2, item=dims, actor=organizer, parts=[
        {"code": "dims-a", "text_en": "Part A", "text_ru": "Часть А"},
        {"code": "dims-b", "text_en": "Part B", "text_ru": "Часть Б"}])
    assert (a.kind, a.dimensions) == ("dimensions", ["desirability", "feasibility"])
    merged = planning.draft_items_merge(round_=round2, items=[agree, agree2], code="agree-m",
                                        text_en="Both", text_ru="Оба", actor=organizer)
    new = Item.objects.create(study=study, theme=agree.theme, code="new-1", kind="agreement",
                              text_en="From open answers", text_ru="Из открытых ответов")
    planning.draft_item_add(round_=round2, item=new, source_item=open_, note="from P1's idea",
                            actor=organizer)
    assert sorted(round2.items.values_list("code", flat=True)) == [
        "agree-m", "dims-a", "dims-b", "new-1"]
    assert sorted((o.relation, o.source_item.code) for o in item_history(merged)) == [
        ("merged", "agree"), ("merged", "agree2")]
    assert [(o.relation, o.source_item.code, o.source_round.number) for o in item_history(b)] == [
        ("split", "dims", 1)]
    added = ItemOrigin.objects.get(item=new, round=round2)
    assert (added.relation, added.source_item, added.source_round.number, added.note) == (
        "added", open_, 1, "from P1's idea")
    with pytest.raises(ServiceError, match="earlier round asked"):
        planning.draft_items_merge(round_=round2, items=[a, b], code="dims-ab", text_en="x",
                                   text_ru="x", actor=organizer)


def test_merge_and_split_need_items_asked_before_and_of_one_kind(aggregated1, study, organizer):
    agree, dims = study.items.get(code="agree"), study.items.get(code="dims")
    round2 = planning.round_plan_next(study=study, include=[agree.pk, dims.pk], actor=organizer)
    with pytest.raises(ServiceError, match="same kind"):
        planning.draft_items_merge(round_=round2, items=[agree, dims], code="x", text_en="x",
                                   text_ru="x", actor=organizer)
    with pytest.raises(ServiceError, match="at least two"):
        planning.draft_item_split(round_=round2, item=agree, actor=organizer,
                                  parts=[{"code": "only", "text_en": "x", "text_ru": "y"}])
    round_start(round_=round2, actor=organizer)
    with pytest.raises(ServiceError, match="draft"):
        planning.draft_item_remove(round_=round2, item=agree, actor=organizer)


def test_the_round_closes_by_itself_at_the_deadline(round1, organizer):
    soon = timezone.now() + timedelta(hours=2)
    Round.objects.filter(pk=round1.pk).update(closes_at=soon)
    assert rounds_due(now=soon - timedelta(minutes=1)) == ([], [])
    assert not round_close_if_due(round_id=round1.pk, now=soon - timedelta(minutes=1))
    assert rounds_due(now=soon) == ([round1.pk], [])
    assert round_close_if_due(round_id=round1.pk, now=soon)
    assert not round_close_if_due(round_id=round1.pk, now=soon)  # a second tick does nothing
    assert Round.objects.get(pk=round1.pk).status == Round.Status.CLOSED
    assert AuditEvent.objects.filter(action="round_closed_at_deadline").count() == 1


def test_a_scheduled_round_opens_by_itself_and_locks_the_rules(study, organizer):
    register_rules(study, organizer)
    draft = round_create(study=study)
    opens, closes = timezone.now() + timedelta(days=1), timezone.now() + timedelta(days=8)
    round_start(round_=draft, actor=organizer, opens_at=opens, closes_at=closes)
    assert Round.objects.get(pk=draft.pk).status == Round.Status.DRAFT
    assert not round_open_if_due(round_id=draft.pk, now=opens - timedelta(seconds=1))
    assert round_open_if_due(round_id=draft.pk, now=opens)
    draft.refresh_from_db()
    assert draft.status == Round.Status.OPEN and draft.closes_at == closes
    assert study.consensus_rule.__class__.objects.get(study=study).locked_at is not None


def test_extend_moves_the_deadline_only_later(round1, organizer):
    first = timezone.now() + timedelta(days=1)
    Round.objects.filter(pk=round1.pk).update(closes_at=first)
    with pytest.raises(ServiceError, match="later"):
        round_extend(round_=round1, closes_at=first - timedelta(hours=1), actor=organizer)
    later = first + timedelta(days=2)
    assert round_extend(round_=round1, closes_at=later, actor=organizer).closes_at == later
    event = AuditEvent.objects.get(action="round_extended")
    assert event.detail["after"]["closes_at"] == later.isoformat()


def test_a_closed_round_not_yet_aggregated_can_be_reopened(round1, organizer):
    from surveys.services.rounds import round_close

    round_close(round_=round1, actor=organizer)  # on `db` the aggregation task never runs
    run = AggregationRun.objects.get(round=round1)
    reopened = round_reopen(round_=round1, closes_at=None, actor=organizer)
    assert reopened.status == Round.Status.OPEN and reopened.closed_at is None
    assert AggregationRun.objects.get(pk=run.pk).status == AggregationRun.Status.SUPERSEDED
    close_and_aggregate(reopened)
    with pytest.raises(ServiceError, match="not aggregated"):
        round_reopen(round_=Round.objects.get(pk=round1.pk), closes_at=None, actor=organizer)


def test_scheduled_reminders_fire_once_at_72_and_24_hours_before_closing(
        round1, organizer, alice, bob, django_capture_on_commit_callbacks):
    closes = timezone.now() + timedelta(days=5)
    Round.objects.filter(pk=round1.pk).update(closes_at=closes)
    mail.reminder_schedule(round_=round1, hours_before=[72, 24], actor=organizer)
    submit(alice, round1, agree=3)
    expert_issue_token(expert=bob)  # invited: Bob holds a personal link
    with django_capture_on_commit_callbacks(execute=True):
        assert mail.reminders_due(now=closes - timedelta(hours=73)) == 0
        assert mail.reminders_due(now=closes - timedelta(hours=72)) == 1
        assert mail.reminders_due(now=closes - timedelta(hours=71)) == 0  # claimed already
        assert mail.reminders_due(now=closes - timedelta(hours=24)) == 1
        assert mail.reminders_due(now=closes - timedelta(hours=1)) == 0
    assert [m.to for m in django_mail.outbox] == [["bob@example.org"]] * 2
    keys = sorted(Message.objects.values_list("key", flat=True))
    assert keys == [f"reminder:r{round1.pk}-24h:{bob.pk}", f"reminder:r{round1.pk}-72h:{bob.pk}"]
