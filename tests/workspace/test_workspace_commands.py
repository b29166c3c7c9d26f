"""The demo and the management commands walk the workspace's own path: the same services,
the same refusals with the same messages, the acting user audited."""

import re
from io import StringIO
from urllib.parse import urlparse

import pytest
import yaml
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command

from surveys.models import AuditEvent, Response, Round, Study, StudyMember
from surveys.reports.data import report_data
from surveys.services.rounds import round_create
from surveys.services.simulation import SIM_DOMAIN
from tests.conftest import small_study_data, wait_for
from tests.workspace_helpers import (
    english,  # noqa: F401 - a fixture
    register_rules,
)
from workspace.models import ConsensusRule, Message, ProtocolVersion

DEMO_SLUG = "euromd-2026"
FINAL_SLUG = "euromd-2026-final"
LINK = re.compile(r"^  (?P<group>\S.*?), opens in (?P<language>English|Russian) +(?P<url>https?://\S+/e/\S+/)$",
                  re.MULTILINE)


def workspace_refusal(client, user, path: str) -> str:
    """The error message the workspace shows after posting to one of its round actions."""
    client.force_login(user)
    errors = [str(m) for m in get_messages(client.post(path, {"confirm": "1"}).wsgi_request)
              if m.level_tag == "error"]
    assert errors, path
    return errors[-1]


@pytest.mark.django_db(transaction=True)
def test_demo_runs_the_study_as_an_organizer_would(client, celery_worker):
    out = StringIO()

    call_command("demo", experts=12, respondents=100, stdout=out)

    study = Study.objects.get(slug=DEMO_SLUG)
    wait_for(lambda: study.rounds.get(number=1).status == Round.Status.AGGREGATED,
             what="round 1 of the demo to be aggregated")
    roles = dict(StudyMember.objects.filter(study=study).values_list("user__username", "role"))
    assert roles == {"organizer": StudyMember.Role.OWNER, "analyst": StudyMember.Role.ANALYST}
    first, second = study.rounds.get(number=1), study.rounds.get(number=2)
    assert (first.status, second.status) == (Round.Status.AGGREGATED, Round.Status.OPEN)
    rule = ConsensusRule.objects.get(study=study)
    assert rule.registered_at < first.opens_at and rule.locked_at is not None
    assert (rule.agree_pct, rule.iqr_max, rule.registered_by.username) == (75, 1, "organizer")
    experts = list(study.experts.filter(email__endswith="@" + SIM_DOMAIN))
    assert len(experts) == 12
    invited = Message.objects.filter(study=study, kind=Message.Kind.INVITATION)
    assert {m.expert_id for m in invited} == {e.pk for e in experts}
    assert {m.created_by.username for m in invited} == {"organizer"}
    responses = Response.objects.filter(round=first, status=Response.Status.SUBMITTED)
    assert responses.count() == 12
    for response in responses:
        assert response.started_at is not None and response.submitted_at is not None
        assert first.opens_at <= response.started_at <= response.submitted_at <= first.closed_at
    assert AuditEvent.objects.filter(study=study, action="round_opened",
                                     actor__username="organizer").count() == 2
    # Round 2's opening told the panel (round 1 opened before anyone held a link).
    notices = Message.objects.filter(study=study, kind=Message.Kind.ROUND_OPENED)
    wait_for(lambda: notices.filter(status=Message.Status.SENT).count() == 12,
             what="the round 2 notices to be sent")
    assert set(notices.values_list("round_id", flat=True)) == {second.pk}
    assert f"/studio/{study.slug}/outbox/" in out.getvalue()
    # The dashboard and the report show the same figures of round 1.
    client.force_login(study.members.get(role=StudyMember.Role.OWNER).user)
    dashboard = client.get(f"/studio/{study.slug}/?round=1").context
    report = report_data(first)
    assert dashboard["figures"]["counts"] == report["figures"]["counts"]
    assert {k: v for k, v in dashboard["table"][-1].items() if k != "bar"} == report["rates"][-1]
    assert (report["rates"][-1]["panel"], report["rates"][-1]["submitted"]) == (12, 12)
    assert dashboard["figures"]["counts"]["rule_revision"] == 1
    client.logout()

    # The finished run: every planned round aggregated, its protocol frozen before round 1,
    # its final report printed.
    final = Study.objects.get(slug=FINAL_SLUG)
    assert list(final.rounds.order_by("number").values_list("number", "status")) == [
        (n, Round.Status.AGGREGATED) for n in (1, 2, 3)]
    [protocol] = ProtocolVersion.objects.filter(study=final)
    assert protocol.frozen_at < final.rounds.get(number=1).opens_at
    assert f"/studies/{FINAL_SLUG}/reports/3/" in out.getvalue()
    final_submitted = Response.objects.filter(round__study=final,
                                              status=Response.Status.SUBMITTED).count()

    again = StringIO()
    call_command("demo", experts=12, respondents=100, stdout=again)
    assert final.rounds.count() == 3 and Response.objects.filter(
        round__study=final, status=Response.Status.SUBMITTED).count() == final_submitted

    assert invited.count() == 12 and responses.count() == 12  # reused, nothing twice
    assert ConsensusRule.objects.get(study=study).revision == 1
    links = LINK.findall(again.getvalue())
    assert [group for group, _, _ in links] == ["Russia", "United States",
                                                "Central and Eastern Europe"]
    assert {url for *_, url in links}.isdisjoint(u for *_, u in LINK.findall(out.getvalue()))
    codes = {"English": "en", "Russian": "ru"}
    for _group, language, url in links:
        client.cookies.clear()
        entry = client.get(urlparse(url).path)
        assert entry.status_code == 302, url
        assert entry.cookies[settings.LANGUAGE_COOKIE_NAME].value == codes[language]


@pytest.mark.usefixtures("english")
@pytest.mark.django_db
def test_open_round_1_without_rules_is_refused_with_the_workspace_message(study, organizer,
                                                                          client):
    with pytest.raises(CommandError) as refused:
        call_command("open_round", "--study", study.slug, stdout=StringIO())

    assert not study.rounds.exists()  # the draft it planned is rolled back with the refusal
    round_create(study=study)
    shown = workspace_refusal(client, organizer, f"/studio/{study.slug}/rounds/1/start/")
    assert str(refused.value) == shown
    assert shown.startswith("Register the consensus, stability and stopping rules")
    assert study.rounds.get(number=1).status == Round.Status.DRAFT


@pytest.mark.usefixtures("english")
@pytest.mark.django_db
def test_close_round_of_a_round_that_is_not_open_gives_the_workspace_message(study, organizer,
                                                                             client):
    round_create(study=study)
    shown = workspace_refusal(client, organizer, f"/studio/{study.slug}/rounds/1/close/")

    for args in (["--round", "1"], []):
        with pytest.raises(CommandError) as refused:
            call_command("close_round", "--study", study.slug, *args, stdout=StringIO())
        assert str(refused.value) == shown == "Round 1 is draft, not open."


@pytest.mark.usefixtures("english")
@pytest.mark.django_db
def test_commands_act_as_the_given_user_and_only_as_one_of_the_study_staff(study, organizer,
                                                                          outsider):
    register_rules(study, organizer)
    with pytest.raises(CommandError, match="is not an owner or organizer"):
        call_command("open_round", "--study", study.slug, "--actor", outsider.username)

    call_command("open_round", "--study", study.slug, "--actor", organizer.username,
                 stdout=StringIO())
    call_command("close_round", "--study", study.slug, stdout=StringIO())

    opened = AuditEvent.objects.get(study=study, action="round_opened")
    closed = AuditEvent.objects.get(study=study, action="round_closed")
    assert (opened.actor, closed.actor) == (organizer, None)
    assert AuditEvent.objects.get(study=study, action="rules_locked").actor == organizer


@pytest.mark.usefixtures("english")
@pytest.mark.django_db
def test_invite_adds_the_expert_and_logs_the_invitation_as_the_panel_page_does(study, organizer):
    out = StringIO()

    call_command("invite", "--study", study.slug, "--email", "Vera@Example.org", "--name", "Vera",
                 "--group", "RU", "--actor", organizer.username, stdout=out)
    call_command("invite", "--study", study.slug, "--email", "vera@example.org", stdout=out)

    vera = study.experts.get(email="vera@example.org")
    messages = Message.objects.filter(expert=vera, kind=Message.Kind.INVITATION).order_by("pk")
    assert [m.created_by for m in messages] == [organizer, None]
    assert "Invitation to vera@example.org (English)" in out.getvalue()
    link = StringIO()
    call_command("invite", "--study", study.slug, "--email", "vera@example.org", "--link-only",
                 stdout=link)
    assert re.fullmatch(r"https?://\S+/e/\S+/\n", link.getvalue())
    assert messages.count() == 2  # a link, no mail
    with pytest.raises(CommandError, match="is not one of"):
        call_command("invite", "--study", study.slug, "--email", "x@example.org", "--group", "XX")


@pytest.mark.django_db
def test_load_study_makes_the_acting_user_owner_of_a_new_study(tmp_path, organizer):
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(small_study_data("loaded")), encoding="utf-8")

    call_command("load_study", str(path), "--actor", organizer.username, stdout=StringIO())
    call_command("load_study", str(path), stdout=StringIO())  # an update, as no user

    loaded = Study.objects.get(slug="loaded")
    assert StudyMember.objects.get(study=loaded).user == organizer
    assert AuditEvent.objects.get(study=loaded, action="member_added").actor == organizer
