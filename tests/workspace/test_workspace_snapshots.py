"""Real-Time studies from the dashboard: dated snapshots on a button, their list, and stability
measured between consecutive snapshots (hand-worked)."""

import pytest
from django.test import Client

from surveys.figures import item_verdicts
from surveys.models import AuditEvent, Round
from surveys.services.rounds import round_create
from surveys.services.studies import study_load
from tests.conftest import small_study_data
from tests.workspace_helpers import english, make_experts, register_rules, submit  # noqa: F401
from workspace.selectors import snapshots
from workspace.services.rounds import round_start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _client(user) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username,
                                                "password": f"{user.username}-pw-123"})
    assert response.status_code == 302, "the login failed"
    return client


@pytest.fixture
def live(organizer, analyst):
    """A Real-Time study (the organizer and analyst of `study` get roles in it) whose live
    round 1 four experts answered 'agree' with 1 2 4 4."""
    from surveys.services.panel import member_add

    study = study_load(data=small_study_data("live") | {"mode": "realtime", "min_cell": 1})
    member_add(study=study, user=organizer, role="organizer")
    member_add(study=study, user=analyst, role="analyst")
    register_rules(study, organizer, stability="distribution", stability_pct=30)
    round_ = round_start(round_=round_create(study=study, items=[study.items.get(code="agree")]),
                         actor=organizer)
    experts = make_experts(study, [("L1", "RU", "en"), ("L2", "RU", "en"), ("L3", "US", "en"),
                                   ("L4", "WE", "en")])
    for expert, value in zip(experts, [1, 2, 4, 4], strict=True):
        submit(expert, round_, agree=value)
    return study, experts


def test_the_organizer_takes_dated_snapshots_and_sees_stability_between_them(
        live, organizer, django_capture_on_commit_callbacks):
    study, experts = live
    client = _client(organizer)
    dashboard = client.get(f"/studio/{study.slug}/").content.decode()
    assert "Take a snapshot now" in dashboard and "No snapshot yet." in dashboard
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/studio/{study.slug}/snapshot/", {"live": "1"})
    first = Round.objects.get(study=study, number=1)
    assert first.status == Round.Status.AGGREGATED and first.closed_at is not None
    second = Round.objects.get(study=study, number=2)
    assert second.status == Round.Status.OPEN  # the next live round, answers carried forward
    # Two experts move 1 -> 2 and 2 -> 3 in the live round, the others keep 4 and 4.
    for expert, value in zip(experts, [2, 3, 4, 4], strict=True):
        submit(expert, second, agree=value)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/studio/{study.slug}/snapshot/", {"live": "2"})
    second.refresh_from_db()
    assert second.status == Round.Status.AGGREGATED
    agree = study.items.get(code="agree").pk
    # Shares: snapshot 1 {1: 25, 2: 25, 4: 50}, snapshot 2 {2: 25, 3: 25, 4: 50}:
    # (25 + 0 + 25 + 0) / 2 = 25 % change, under the registered 30 %: stable.
    assert item_verdicts(second)[agree]["stable"] is True
    assert item_verdicts(first)[agree]["stable"] is None  # nothing before the first snapshot
    rows = snapshots(study)
    assert [r["round"].number for r in rows] == [2, 1]
    assert [(r["counts"]["items"], r["counts"]["consensus"], r["counts"]["stable"])
            for r in rows] == [(1, 0, 1), (1, 0, 0)]
    page = client.get(f"/studio/{study.slug}/").content.decode()
    assert 'data-round="2"' in page and 'data-round="1"' in page
    assert f'{second.closed_at:%Y-%m-%d %H:%M}' in page
    shown = client.get(f"/studio/{study.slug}/?round=2").content.decode()
    assert "Consensus and stability in round 2" in shown
    assert AuditEvent.objects.filter(study=study, action="live_snapshot", actor=organizer).count() == 2


def test_a_second_click_on_the_same_snapshot_changes_nothing(
        live, organizer, django_capture_on_commit_callbacks):
    study, _experts = live
    client = _client(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/studio/{study.slug}/snapshot/", {"live": "1"})
        again = client.post(f"/studio/{study.slug}/snapshot/", {"live": "1"}, follow=True)
    assert "This snapshot has been taken already" in again.content.decode()
    assert study.rounds.count() == 2
    assert client.post(f"/studio/{study.slug}/snapshot/", {"live": "x"}).status_code == 302
    assert study.rounds.count() == 2


def test_analysts_see_the_snapshots_but_cannot_take_one(live, analyst):
    study, _experts = live
    client = _client(analyst)
    page = client.get(f"/studio/{study.slug}/").content.decode()
    assert "Snapshots of the Real-Time study" in page and "Take a snapshot now" not in page
    assert client.post(f"/studio/{study.slug}/snapshot/", {"live": "1"}).status_code == 404
    assert study.rounds.count() == 1


def test_a_classic_study_shows_no_snapshots_and_refuses_one(study, organizer):
    register_rules(study, organizer)
    round_start(round_=round_create(study=study), actor=organizer)
    client = _client(organizer)
    assert "Take a snapshot now" not in client.get(f"/studio/{study.slug}/").content.decode()
    page = client.post(f"/studio/{study.slug}/snapshot/", {"live": "1"}, follow=True)
    assert "Only a Real-Time study takes snapshots" in page.content.decode()
    assert study.rounds.get(number=1).status == Round.Status.OPEN


def test_the_snapshots_speak_russian(live, organizer, settings):
    study, _experts = live
    client = _client(organizer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    page = client.get(f"/studio/{study.slug}/").content.decode()
    assert "Срезы исследования в реальном времени" in page and "Сделать срез сейчас" in page
    assert "Медианное время заполнения" in page
