"""Acceptance of the workspace (#4) through its pages: my studies, failed sends, erase,
reopen, the aggregation progress bar, and the audit log's before and after."""

import os
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail as django_mail
from django.test import Client
from django.utils import timezone

from surveys.models import AggregationRun, Answer, Expert, Round
from surveys.services.aggregation import round_aggregate
from surveys.services.panel import expert_issue_token, member_add
from surveys.services.studies import study_load
from tests.conftest import small_study_data
from tests.workspace_helpers import submit
from workspace.models import Message

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username,
                                                "password": f"{user.username}-pw-123"})
    assert response.status_code == 302, "the login failed"
    return client


def _text(response) -> str:
    return response.content.decode()


@pytest.fixture
def owner(study):
    user = get_user_model().objects.create_user(username="wendy", password="wendy-pw-123")
    member_add(study=study, user=user, role="owner")
    return user


def test_my_studies_lists_only_the_studies_i_belong_to_with_my_role(study, organizer, analyst):
    other = study_load(data=small_study_data("other") | {
        "title": {"en": "Someone else's study", "ru": "Чужое исследование"}})
    stranger = get_user_model().objects.create_user(username="sam", password="sam-pw-123")
    member_add(study=other, user=stranger, role="owner")
    mine = _text(_client(organizer).get("/studio/"))
    assert "Small study" in mine and "Organizer" in mine
    assert "Someone else" not in mine and "/studio/other/" not in mine
    theirs = _text(_client(stranger).get("/studio/"))
    assert "Someone else" in theirs and "/studio/small/" not in theirs
    assert "Analyst" in _text(_client(analyst).get("/studio/"))
    assert _client(organizer).get("/studio/other/").status_code == 404


def test_a_progress_bar_shows_while_the_round_is_aggregated(round1, organizer, alice, bob):
    submit(alice, round1, agree=4)
    client = _client(organizer)
    assert client.post(f"/studio/{round1.study.slug}/rounds/1/close/", {"confirm": "1"}).status_code == 302
    run = AggregationRun.objects.get(round=round1)  # on `db` the task never runs by itself
    AggregationRun.objects.filter(pk=run.pk).update(status=AggregationRun.Status.RUNNING,
                                                    phase="statistics", progress=40)
    live = _text(client.get(f"/studio/{round1.study.slug}/live/?round=1"))
    assert '<progress id="agg-progress" max="100" value="40">' in live
    assert "Aggregating: statistics" in live and 'hx-trigger="every 5s"' in live
    AggregationRun.objects.filter(pk=run.pk).update(status=AggregationRun.Status.PENDING,
                                                    phase="", progress=0)
    round_aggregate(round_id=round1.pk)
    done = _text(client.get(f"/studio/{round1.study.slug}/live/?round=1"))
    assert Round.objects.get(pk=round1.pk).status == Round.Status.AGGREGATED
    assert "agg-progress" not in done and "every 5s" not in done  # nothing left to watch


def test_a_failed_send_is_shown_to_the_organizer_and_sent_again_only_once(
        study, organizer, alice, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    client = _client(organizer)
    slug = study.slug
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/studio/{slug}/panel/invite/")
    failed = Message.objects.get(expert=alice)
    assert failed.status == "failed" and "ConnectionRefusedError" in failed.error
    page = _text(client.get(f"/studio/{slug}/panel/"))
    assert "1 email could not be sent: see the send log." in page
    assert "ConnectionRefusedError" in page and "Send again" in page
    dashboard = _text(client.get(f"/studio/{slug}/"))
    assert f'<a href="/studio/{slug}/panel/#log">1 email could not be sent' in dashboard

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/studio/{slug}/panel/message/{failed.pk}/retry/")
        again = client.post(f"/studio/{slug}/panel/message/{failed.pk}/retry/", follow=True)
    assert "This message has been sent again already." in _text(again)
    assert [m.to for m in django_mail.outbox] == [["alice@example.org"]]  # one email, not two
    page = _text(client.get(f"/studio/{slug}/panel/"))
    assert "could not be sent" not in page and "sent again" in page
    assert "could not be sent" not in _text(client.get(f"/studio/{slug}/"))
    assert list(Message.objects.order_by("pk").values_list("key", "status")) == [
        (f"invitation:{alice.pk}", "failed"), (f"invitation:{alice.pk}#1", "sent")]


def test_withdraw_and_erase_through_the_panel_page_keep_the_answers(round1, organizer, alice):
    submit(alice, round1, agree=5)
    client = _client(organizer)
    slug = round1.study.slug
    client.post(f"/studio/{slug}/panel/{alice.pk}/withdraw/", {"reason": "moved abroad",
                                                              "confirm": "1"})
    assert Expert.objects.get(pk=alice.pk).withdrawn_at is not None
    refused = _text(client.post(f"/studio/{slug}/panel/{alice.pk}/erase/", follow=True))
    assert "Type &#x27;erase&#x27; to confirm." in refused
    assert Expert.objects.get(pk=alice.pk).name == "Alice"
    done = _text(client.post(f"/studio/{slug}/panel/{alice.pk}/erase/", {"confirm": "erase"},
                             follow=True))
    pseudonym = Expert.objects.get(pk=alice.pk).name
    assert re.fullmatch(r"P-[0-9a-f]{10}", pseudonym)
    assert f"Personal data erased; the answers stay under {pseudonym}." in done
    page = _text(client.get(f"/studio/{slug}/panel/"))
    assert "Alice" not in page and "alice@example.org" not in page and pseudonym in page
    assert Answer.objects.get(response__expert_id=alice.pk, item__code="agree").value == 5


def test_a_closed_round_is_reopened_from_the_rounds_page_until_it_is_aggregated(
        round1, organizer):
    client = _client(organizer)
    slug = round1.study.slug
    client.post(f"/studio/{slug}/rounds/1/close/", {"confirm": "1"})
    assert Round.objects.get(pk=round1.pk).status == Round.Status.CLOSED
    later = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    client.post(f"/studio/{slug}/rounds/1/reopen/", {"closes_at": later.strftime("%Y-%m-%dT%H:%M")})
    reopened = Round.objects.get(pk=round1.pk)
    assert reopened.status == Round.Status.OPEN and reopened.closes_at == later
    client.post(f"/studio/{slug}/rounds/1/close/", {"confirm": "1"})
    round_aggregate(round_id=round1.pk)
    refused = _text(client.post(f"/studio/{slug}/rounds/1/reopen/", {"closes_at": ""},
                                follow=True))
    assert "Only a closed round that is not aggregated yet can be reopened." in refused
    assert Round.objects.get(pk=round1.pk).status == Round.Status.AGGREGATED


def test_owners_read_who_did_what_when_with_the_before_and_after(round1, organizer, owner):
    slug = round1.study.slug
    first = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    later = first + timedelta(days=2)
    Round.objects.filter(pk=round1.pk).update(closes_at=first)
    _client(organizer).post(f"/studio/{slug}/rounds/1/extend/",
                            {"closes_at": later.strftime("%Y-%m-%dT%H:%M")})
    assert Round.objects.get(pk=round1.pk).closes_at == later
    page = _text(_client(owner).get(f"/studio/{slug}/audit/"))
    row = next(r for r in page.split("<tr>") if "round_extended" in r)
    assert ">olga<" in row  # who
    before = re.search(r'class="ws-before">(.*?)</td>', row).group(1)
    after = re.search(r'class="ws-after">(.*?)</td>', row).group(1)
    assert f"closes_at: {first.isoformat()}" in before
    assert f"closes_at: {later.isoformat()}" in after
    assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</td>", row)  # when
    assert _client(organizer).get(f"/studio/{slug}/audit/").status_code == 404


def test_beat_runs_the_due_work_and_under_a_controlled_clock_it_reminds_once_then_closes(
        round1, alice, bob, monkeypatch, django_capture_on_commit_callbacks):
    from config.celery_app import app
    from workspace.services import mail
    from workspace.tasks import due_work

    entry = app.conf.beat_schedule["workspace-due-work"]
    tick = int(os.environ.get("WORKSPACE_TICK_SECONDS", "120"))
    assert entry["task"] == "workspace.tasks.due_work" and entry["schedule"] == tick
    closes = (timezone.now() + timedelta(days=5)).replace(microsecond=0)
    Round.objects.filter(pk=round1.pk).update(closes_at=closes)
    mail.reminder_schedule(round_=round1, hours_before=[24], actor=None)
    submit(alice, round1, agree=3)
    expert_issue_token(expert=bob)  # invited: Bob holds a personal link
    clock = {"now": closes - timedelta(hours=25)}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    with django_capture_on_commit_callbacks(execute=True):
        assert due_work() == {"closing": [], "opening": [], "reminders": 0}  # not yet
        clock["now"] = closes - timedelta(hours=24)
        assert due_work()["reminders"] == 1
        clock["now"] = closes - timedelta(hours=1)
        assert due_work()["reminders"] == 0  # the same reminder never goes twice
    assert [m.to for m in django_mail.outbox] == [["bob@example.org"]]  # Alice has submitted
    assert Round.objects.get(pk=round1.pk).status == Round.Status.OPEN
    clock["now"] = closes
    assert due_work()["closing"] == [round1.pk]  # the tick closes it (in-process here)
    closed = Round.objects.get(pk=round1.pk)
    assert closed.status == Round.Status.CLOSED and closed.closed_at == closes
