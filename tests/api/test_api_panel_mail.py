"""The panel through the API as in the workspace: CSV import, invitations and reminders by email
(each sent once), the send log and retries, withdraw and erase."""

import pytest
from django.core import mail as django_mail

from surveys.models import Answer, Expert
from surveys.services.panel import expert_issue_token
from tests.api.conftest import bearer
from tests.workspace_helpers import submit
from workspace.models import Message

pytestmark = pytest.mark.django_db
S = "/api/v1/studies/small/"
CSV = ("name,email,group,language\n"
       "Dmitri,dmitri@example.org,RU,ru\n"
       "Erin,ERIN@example.org,US,\n"
       "Alice again,alice@example.org,RU,en\n")


def test_a_csv_is_checked_then_imported_and_duplicates_skipped(api, study, organizer, alice):
    headers = bearer(organizer)
    dry = api.post(S + "experts/import/", {"content": CSV, "dry_run": True}, format="json",
                   **headers)
    assert dry.status_code == 200 and dry.json()["added"] == []
    assert [r["email"] for r in dry.json()["rows"]] == ["dmitri@example.org", "erin@example.org"]
    assert [(d["line"], d["email"]) for d in dry.json()["duplicates"]] == [
        (4, "alice@example.org")]
    assert study.experts.count() == 1  # nothing added yet
    done = api.post(S + "experts/import/", {"content": CSV}, format="json", **headers)
    assert done.status_code == 201
    assert [(e["name"], e["language"]) for e in done.json()["added"]] == [("Dmitri", "ru"),
                                                                         ("Erin", "en")]
    assert study.experts.count() == 3


def test_a_csv_with_any_problem_adds_nobody_and_names_each_line(api, study, organizer):
    bad = "name,email,group,language\nFine,fine@example.org,RU,en\n,nope,XX,de\n"
    refused = api.post(S + "experts/import/", {"content": bad}, format="json", **bearer(organizer))
    assert refused.status_code == 400
    problems = refused.json()["errors"]["content"]
    assert len(problems) == 4 and all(p.startswith("line 3, ") for p in problems)
    assert not study.experts.exists()


def test_invitations_go_once_each_in_the_experts_language(api, study, organizer, alice, bob,
                                                          analyst,
                                                          django_capture_on_commit_callbacks):
    headers = bearer(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        sent = api.post(S + "invitations/", {}, format="json", **headers)
    assert sent.status_code == 201 and sent.json()["queued"] == 2
    assert sorted(m.to[0] for m in django_mail.outbox) == ["alice@example.org", "bob@example.org"]
    assert "/e/" in django_mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        again = api.post(S + "invitations/", {}, format="json", **headers)
    assert again.json()["queued"] == 0 and len(django_mail.outbox) == 2  # nobody twice
    with django_capture_on_commit_callbacks(execute=True):
        one = api.post(S + "invitations/", {"experts": [bob.pk], "key": "k1"}, format="json",
                       **headers)
        replay = api.post(S + "invitations/", {"experts": [bob.pk], "key": "k1"}, format="json",
                          **headers)
    assert (one.json()["queued"], replay.json()["queued"]) == (1, 0)
    assert len(django_mail.outbox) == 3
    log = api.get(S + "messages/", {"status": "sent"}, **headers).json()
    assert log["count"] == 3 and {m["kind"] for m in log["results"]} == {"invitation"}
    unknown = api.post(S + "invitations/", {"experts": [987654]}, format="json", **headers)
    assert unknown.status_code == 400 and "experts" in unknown.json()["errors"]
    assert api.get(S + "messages/", **bearer(analyst)).status_code == 404  # names recipients


def test_reminders_go_to_those_who_have_not_submitted(api, study, round1, organizer, alice, bob,
                                                      django_capture_on_commit_callbacks):
    headers = bearer(organizer)
    submit(alice, round1, agree=4)
    expert_issue_token(expert=bob)  # invited: Bob holds a personal link
    with django_capture_on_commit_callbacks(execute=True):
        sent = api.post(S + "rounds/1/remind/", {"key": "r-1"}, format="json", **headers)
        replay = api.post(S + "rounds/1/remind/", {"key": "r-1"}, format="json", **headers)
    assert (sent.status_code, sent.json()["queued"], replay.json()["queued"]) == (201, 1, 0)
    assert [m.to for m in django_mail.outbox] == [["bob@example.org"]]
    scheduled = api.post(S + "rounds/1/reminders/", {"hours_before": [24, 72]}, format="json",
                         **headers)
    assert [r["hours_before"] for r in scheduled.json()] == [72, 24]
    listed = api.get(S + "rounds/1/reminders/", **headers).json()
    assert [r["hours_before"] for r in listed] == [72, 24, None]  # and the one sent by hand
    pk = listed[0]["id"]
    assert api.delete(f"{S}rounds/1/reminders/{pk}/", **headers).status_code == 204
    manual = listed[2]["id"]
    assert api.delete(f"{S}rounds/1/reminders/{manual}/", **headers).status_code == 400  # sent
    too_many = api.post(S + "rounds/1/reminders/", {"hours_before": [0]}, format="json",
                        **headers)
    assert too_many.status_code == 400


def test_a_failed_email_is_sent_again_on_request(api, study, organizer, alice,
                                                 django_capture_on_commit_callbacks):
    from workspace.services.mail import invitations_send

    headers = bearer(organizer)
    [message] = invitations_send(study=study, actor=organizer)
    Message.objects.filter(pk=message.pk).update(status="failed", error="SMTP down")
    with django_capture_on_commit_callbacks(execute=True):
        retried = api.post(f"{S}messages/{message.pk}/retry/", **headers)
    assert retried.status_code == 201 and retried.json()["status"] == "pending"
    assert Message.objects.get(pk=retried.json()["id"]).status == "sent"
    assert [m.to for m in django_mail.outbox] == [["alice@example.org"]]
    again = api.post(f"{S}messages/{retried.json()['id']}/retry/", **headers)
    assert again.status_code == 400  # only a failed one


def test_an_expert_is_added_with_the_invitation_then_withdrawn(
        api, study, organizer, django_capture_on_commit_callbacks):
    headers = bearer(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        made = api.post(S + "experts/", {"name": "Eve", "email": "eve@example.org", "group": "WE",
                                         "language": "ru", "invite": True}, format="json",
                        **headers)
    assert made.status_code == 201 and made.json()["invited"] is False  # the link comes by mail
    assert [m.to for m in django_mail.outbox] == [["eve@example.org"]]
    pk = made.json()["id"]
    withdrawn = api.post(f"{S}experts/{pk}/withdraw/", {"reason": "asked to leave"},
                         format="json", **headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
    twice = api.post(f"{S}experts/{pk}/withdraw/", {}, format="json", **headers)
    assert twice.status_code == 400 and "already" in twice.json()["detail"]


def test_erasing_an_expert_keeps_the_answers_under_the_pseudonym(api, study, round1, organizer,
                                                                 alice):
    from surveys.pseudonyms import expert_pseudonym

    headers = bearer(organizer)
    submit(alice, round1, agree=4)
    unconfirmed = api.post(f"{S}experts/{alice.pk}/erase/", {}, format="json", **headers)
    assert unconfirmed.status_code == 400 and "confirm" in unconfirmed.json()["errors"]
    erased = api.post(f"{S}experts/{alice.pk}/erase/", {"confirm": "erase"}, format="json",
                      **headers)
    pseudonym = expert_pseudonym(study_id=study.pk, expert_id=alice.pk)
    assert erased.status_code == 200 and erased.json()["name"] == pseudonym
    assert "alice" not in Expert.objects.get(pk=alice.pk).email
    assert Answer.objects.filter(response__expert=alice).count() == 1


def test_the_api_keeps_older_links_revokes_them_all_and_sets_their_lifetime(
        api, round1, organizer, alice, analyst):
    headers = bearer(organizer)
    older = expert_issue_token(expert=alice)
    issued = api.post(S + f"experts/{alice.pk}/invitation/", **headers)
    assert issued.status_code == 201
    for token in (older, issued.json()["token"]):
        assert api.get("/api/v1/me/", HTTP_X_INVITATION_TOKEN=token).status_code == 200
    assert api.get(S + f"experts/{alice.pk}/", **headers).json()["invited"] is True

    assert api.delete(S + f"experts/{alice.pk}/invitation/", **headers).status_code == 204
    for token in (older, issued.json()["token"]):
        assert api.get("/api/v1/me/", HTTP_X_INVITATION_TOKEN=token).status_code == 401
    assert api.get(S + "experts/", **headers).json()["results"][0]["invited"] is False

    changed = api.patch(S, {"link_lifetime_days": 90}, format="json", **headers)
    assert changed.status_code == 200 and changed.json()["link_lifetime_days"] == 90
    assert api.patch(S, {"link_lifetime_days": -1}, format="json", **headers).status_code == 400
    assert api.patch(S, {"link_lifetime_days": 5}, format="json",
                     **bearer(analyst)).status_code in {403, 404}


def test_a_second_manual_reminder_within_the_window_is_refused(api, round1, organizer, bob):
    headers = bearer(organizer)
    expert_issue_token(expert=bob)
    first = api.post(S + "rounds/1/remind/", {"key": "k1"}, format="json", **headers)
    assert first.status_code == 201 and first.json()["queued"] == 1
    again = api.post(S + "rounds/1/remind/", {"key": "k2"}, format="json", **headers)
    assert again.status_code == 409 and "went out" in again.json()["detail"]
    assert Message.objects.filter(kind=Message.Kind.REMINDER).count() == 1
