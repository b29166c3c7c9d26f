"""Round controls: each action says what it did (or why nothing), opening a round tells the
panel with the link they hold (no new link), and irreversible actions ask first."""

from datetime import timedelta

import pytest
from django.core import mail as django_mail
from django.utils import timezone

from surveys.models import AuditEvent, ExpertLink, Round
from surveys.services.panel import expert_issue_token
from surveys.services.rounds import round_close, round_create
from tests.workspace_helpers import (
    close_and_aggregate,
    english,  # noqa: F401 - a fixture
    make_experts,
    register_rules,
    submit,
)
from workspace.models import Message
from workspace.services import mail
from workspace.services import round_outcomes as outcomes
from workspace.services.rounds import round_extend, round_open_if_due, round_reopen, round_start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def draft(study, organizer):
    register_rules(study, organizer)
    return round_create(study=study, actor=organizer)


@pytest.fixture
def linked(study):
    """Three experts: two holding a link (English, Russian), one never invited."""
    experts = make_experts(study, [("Ann", "RU", "en"), ("Boris", "US", "ru"),
                                   ("Carl", "WE", "en")])
    for expert in experts[:2]:
        expert_issue_token(expert=expert)
    return experts


def _send_all(django_capture_on_commit_callbacks, action):
    with django_capture_on_commit_callbacks(execute=True):
        return action()


def test_opening_a_round_tells_each_linked_expert_in_their_language_without_a_new_link(
        draft, organizer, linked, django_capture_on_commit_callbacks):
    links_before = ExpertLink.objects.count()

    opened = _send_all(django_capture_on_commit_callbacks,
                       lambda: round_start(round_=draft, actor=organizer))

    notices = Message.objects.filter(kind=Message.Kind.ROUND_OPENED, round=opened)
    assert sorted(notices.values_list("to_email", "language", "status")) == [
        ("ann@example.org", "en", "sent"), ("boris@example.org", "ru", "sent")]
    assert ExpertLink.objects.count() == links_before  # no link issued
    assert not AuditEvent.objects.filter(action="token_issued", created_at__gt=opened.opens_at
                                         ).exists()
    by_to = {m.to[0]: m for m in django_mail.outbox}
    assert set(by_to) == {"ann@example.org", "boris@example.org"}
    assert by_to["ann@example.org"].subject == "Round 1 of Small study is open"
    assert "personal link we sent you before" in by_to["ann@example.org"].body
    assert "/e/" not in by_to["ann@example.org"].body + by_to["boris@example.org"].body
    assert "Малое исследование" in by_to["boris@example.org"].subject
    assert AuditEvent.objects.get(action="round_open_notified").detail == {
        "round": 1, "recipients": 2}


def test_subjects_are_plain_text_not_html(study, draft, organizer, linked,
                                          django_capture_on_commit_callbacks):
    study.title_en = "Trenin's \"plan\" & more"
    study.save(update_fields=["title_en"])
    _send_all(django_capture_on_commit_callbacks,
              lambda: round_start(round_=draft, actor=organizer))
    subjects = {m.to[0]: m.subject for m in django_mail.outbox}
    assert subjects["ann@example.org"] == "Round 1 of Trenin's \"plan\" & more is open"


def test_the_open_message_says_when_and_whom_it_told(draft, organizer, linked):
    closes = timezone.now() + timedelta(days=3)
    opened = round_start(round_=draft, actor=organizer, closes_at=closes)

    said = outcomes.opened(opened)
    assert said.startswith(f"Round 1 opened at {opened.opens_at:%H:%M} UTC; it closes at ")
    assert "2 experts are told by email" in said and "no new link" in said


def test_opening_with_nobody_holding_a_link_says_so(draft, organizer):
    said = outcomes.opened(round_start(round_=draft, actor=organizer))
    assert "Nobody was emailed: no expert holds a personal link yet" in said


def test_a_scheduled_round_tells_the_panel_when_it_opens(draft, organizer, linked):
    opens = timezone.now() + timedelta(hours=2)
    scheduled = round_start(round_=draft, actor=organizer, opens_at=opens)

    assert outcomes.opened(scheduled).startswith("Round 1 opens at ")
    assert not Message.objects.filter(kind=Message.Kind.ROUND_OPENED).exists()
    assert round_open_if_due(round_id=draft.pk, now=opens + timedelta(minutes=1))
    assert Message.objects.filter(kind=Message.Kind.ROUND_OPENED).count() == 2
    assert round_open_if_due(round_id=draft.pk, now=opens + timedelta(minutes=2)) is False
    assert Message.objects.filter(kind=Message.Kind.ROUND_OPENED).count() == 2


def test_a_notice_to_an_expert_whose_links_were_revoked_is_not_sent(draft, organizer, linked):
    from workspace.services.panel import expert_revoke_token

    round_start(round_=draft, actor=organizer)
    expert_revoke_token(expert=linked[0], actor=organizer)
    notice = Message.objects.get(kind=Message.Kind.ROUND_OPENED, expert=linked[0])

    assert mail.message_send(message_id=notice.pk) == Message.Status.FAILED
    assert Message.objects.get(pk=notice.pk).error == Message.REVOKED


def test_closing_says_when_and_that_the_aggregation_started(round1, organizer, alice):
    closed = round_close(round_=round1, actor=organizer)
    assert outcomes.closed(closed) == (
        f"Round 1 closed at {closed.closed_at:%H:%M} UTC; aggregation started.")


def test_closing_once_aggregated_says_when_it_was_aggregated(round1, alice):
    submit(alice, round1, agree=4)
    aggregated = close_and_aggregate(round1)
    said = outcomes.closed(aggregated)
    assert said.startswith(f"Round 1 closed at {aggregated.closed_at:%H:%M} UTC and was "
                           f"aggregated at {aggregated.aggregated_at:%H:%M} UTC")


def test_extending_names_the_old_and_new_closing_times(round1, organizer):
    first = timezone.now() + timedelta(days=1)
    round_extend(round_=round1, closes_at=first, actor=organizer)
    later = first + timedelta(days=2)
    extended = round_extend(round_=round1, closes_at=later, actor=organizer)

    assert outcomes.extended(extended, first) == (
        f"Round 1 now closes at {later:%Y-%m-%d %H:%M} UTC instead of "
        f"{first:%Y-%m-%d %H:%M} UTC; scheduled reminders move with it.")


def test_reopening_says_the_round_is_open_again(round1, organizer):
    round_close(round_=round1, actor=organizer)
    reopened = round_reopen(round_=round1, closes_at=None, actor=organizer)
    assert outcomes.reopened(reopened).startswith(
        "Round 1 is open again; it has no closing time: close it by hand.")


def test_scheduling_reminders_says_when_and_to_how_many(round1, organizer, alice, bob):
    for expert in (alice, bob):
        expert_issue_token(expert=expert)
    closes = timezone.now() + timedelta(days=5)
    round_extend(round_=round1, closes_at=closes, actor=organizer)
    round1.refresh_from_db()
    made = mail.reminder_schedule(round_=round1, hours_before=[24, 72], actor=organizer)

    said = outcomes.reminders_scheduled(round1, made, [24, 72])
    first, second = closes - timedelta(hours=72), closes - timedelta(hours=24)
    assert said == (f"Reminders scheduled for {first:%Y-%m-%d %H:%M} UTC, "
                    f"{second:%Y-%m-%d %H:%M} UTC (72, 24 hours before closing), "
                    "to the 2 experts who have not submitted yet.")


def test_scheduling_reminders_that_exist_says_nothing_was_scheduled(round1, organizer):
    mail.reminder_schedule(round_=round1, hours_before=[24], actor=organizer)
    again = mail.reminder_schedule(round_=round1, hours_before=[24], actor=organizer)
    assert outcomes.reminders_scheduled(round1, again, [24]) == (
        "Nothing scheduled: reminders 24 hours before closing exist already.")


def test_reminders_without_a_closing_time_say_when_they_would_go(round1, organizer, alice):
    expert_issue_token(expert=alice)
    made = mail.reminder_schedule(round_=round1, hours_before=[24], actor=organizer)
    assert outcomes.reminders_scheduled(round1, made, [24]) == (
        "Reminders scheduled for 24 hours before closing, to the 1 expert who has not "
        "submitted yet; they go out once the round has a closing time.")


# The workspace's doors: ask first, then act, then say what was done.

def _login(client, user):
    client.force_login(user)
    return client


def test_closing_from_the_workspace_asks_first_and_says_what_will_happen(
        client, round1, organizer, alice, bob):
    submit(alice, round1, agree=4)
    page = _login(client, organizer).post(f"/studio/{round1.study.slug}/rounds/1/close/")

    text = page.content.decode()
    assert page.status_code == 200 and "Close round 1 now?" in text
    assert "Submitted so far: 1 of 2 experts" in text and "cannot be undone" in text
    assert Round.objects.get(pk=round1.pk).status == Round.Status.OPEN

    done = client.post(f"/studio/{round1.study.slug}/rounds/1/close/", {"confirm": "1"},
                       follow=True)
    assert Round.objects.get(pk=round1.pk).status != Round.Status.OPEN
    assert "Round 1 closed at " in done.content.decode()
    assert ": done." not in done.content.decode()


def test_opening_from_the_workspace_asks_first_and_keeps_the_times(
        client, draft, organizer, linked):
    closes = (timezone.now() + timedelta(days=4)).strftime("%Y-%m-%dT%H:%M")
    page = _login(client, organizer).post(f"/studio/{draft.study.slug}/rounds/1/start/",
                                          {"opens_at": "", "closes_at": closes})
    text = page.content.decode()
    assert "Open round 1?" in text and "2 experts holding a personal link are emailed" in text
    assert f'name="closes_at" value="{closes}"' in text
    assert Round.objects.get(pk=draft.pk).status == Round.Status.DRAFT

    client.post(f"/studio/{draft.study.slug}/rounds/1/start/",
                {"opens_at": "", "closes_at": closes, "confirm": "1"})
    opened = Round.objects.get(pk=draft.pk)
    assert opened.status == Round.Status.OPEN and opened.closes_at is not None
    log = client.get(f"/studio/{draft.study.slug}/panel/").content.decode()
    assert log.count("Round opened (round 1)") == 2  # the send log lists both notices


def test_withdrawing_from_the_workspace_asks_first(client, study, organizer, alice):
    page = _login(client, organizer).post(f"/studio/{study.slug}/panel/{alice.pk}/withdraw/",
                                          {"reason": "moved"})
    assert "Withdraw Alice?" in page.content.decode()
    alice.refresh_from_db()
    assert alice.withdrawn_at is None

    client.post(f"/studio/{study.slug}/panel/{alice.pk}/withdraw/",
                {"reason": "moved", "confirm": "1"})
    alice.refresh_from_db()
    assert alice.withdrawn_at is not None
    assert AuditEvent.objects.get(action="expert_withdrawn").detail["reason"] == "moved"


def test_the_rounds_page_shows_an_early_close_not_the_planned_time(client, round1, organizer):
    planned = timezone.now() + timedelta(days=3)
    round_extend(round_=round1, closes_at=planned, actor=organizer)
    round_close(round_=round1, actor=organizer)

    text = _login(client, organizer).get(f"/studio/{round1.study.slug}/rounds/").content.decode()
    assert "Closed early at" in text and f"planned: {planned:%Y-%m-%d %H:%M} UTC" in text
    assert "Aggregated at" in text


def test_the_commands_say_what_they_did_as_the_workspace_does(draft, organizer, linked):
    from io import StringIO

    from django.core.management import call_command

    opened, closed = StringIO(), StringIO()
    call_command("open_round", "--study", "small", "--actor", organizer.username, stdout=opened)
    call_command("close_round", "--study", "small", "--actor", organizer.username, stdout=closed)

    assert opened.getvalue().startswith("small: Round 1 opened at ")
    assert "2 experts are told by email" in opened.getvalue()
    assert closed.getvalue().startswith("small: Round 1 closed at ")
