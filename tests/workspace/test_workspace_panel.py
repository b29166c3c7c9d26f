"""The panel: adding experts (one, or by CSV), invitations and reminders by email, withdraw, erase."""

import re

import pytest
from django.core import mail as django_mail
from django.utils import translation

from surveys.errors import ServiceError
from surveys.models import Answer, AuditEvent, Expert
from surveys.services.panel import expert_for_token, expert_issue_token
from tests.workspace_helpers import (
    english,  # noqa: F401 - a fixture
    submit,
)
from workspace.models import Message
from workspace.services import mail
from workspace.services.panel import (
    expert_add,
    expert_erase,
    expert_revoke_token,
    expert_withdraw,
    panel_csv_import,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _link_token(body: str) -> str:
    return re.search(r"/e/([^/\s]+)/", body)[1]


def test_expert_is_added_with_group_and_language_and_a_duplicate_email_is_refused(study, organizer):
    expert = expert_add(study=study, name="Carol", email="Carol@Example.org", group="WE",
                        language="ru", actor=organizer)
    assert (expert.email, expert.group.code, expert.language) == ("carol@example.org", "WE", "ru")
    with pytest.raises(ServiceError, match="already on this panel"):
        expert_add(study=study, name="C2", email="carol@example.ORG", group="RU", language="en",
                   actor=organizer)
    with pytest.raises(ServiceError) as error:
        expert_add(study=study, name="", email="nope", group="XX", language="de", actor=organizer)
    assert all(word in error.value.message for word in ("name", "email", "group", "language"))


CSV_GOOD = (b"name,email,group,language\n"
            b"Dmitri,dmitri@example.org,RU,ru\n"
            b"Erin,ERIN@example.org,US,\n"
            b"Alice again,alice@example.org,RU,en\n")


def test_csv_upload_adds_new_experts_and_skips_those_already_on_the_panel(study, organizer, alice):
    result = panel_csv_import(study=study, content=CSV_GOOD, actor=organizer)
    assert result.problems == []
    assert [e.email for e in result.added] == ["dmitri@example.org", "erin@example.org"]
    assert [(d.line, d.email) for d in result.duplicates] == [(4, "alice@example.org")]
    assert Expert.objects.get(email="erin@example.org").language == "en"  # the study's default
    assert AuditEvent.objects.filter(study=study, action="panel_imported").count() == 1


def test_csv_upload_with_any_problem_adds_nobody_and_lists_every_problem_by_line(study, organizer):
    bad = (b"name,email,group,language\n"
           b"Fine,fine@example.org,RU,en\n"
           b",broken,ZZ,de\n"
           b"Twice,fine@example.org,US,en\n")
    result = panel_csv_import(study=study, content=bad, actor=organizer)
    assert result.added == [] and not study.experts.exists()
    text = "\n".join(result.problems)
    assert "line 3, name: missing" in text
    assert "line 3, email: 'broken' is not an email address" in text
    assert "line 3, group: 'ZZ' is not one of RU, US, WE" in text
    assert "line 3, language: 'de' is not en or ru" in text
    assert "line 4, email: fine@example.org repeats line 2" in text
    missing = panel_csv_import(study=study, content=b"who,mail\nx,y\n", actor=organizer)
    assert missing.problems[0].startswith("line 1: missing column(s) name, email, group")


def test_invitations_go_once_in_each_experts_language_with_a_working_link(
        study, organizer, alice, bob, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queued = mail.invitations_send(study=study, actor=organizer)
    assert len(queued) == 2
    by_address = {m.to[0]: m for m in django_mail.outbox}
    assert "Invitation to the expert panel: Small study" == by_address["alice@example.org"].subject
    assert by_address["bob@example.org"].subject == \
        "Приглашение в экспертную группу: Малое исследование"
    assert "Уважаемый(ая) Bob" in by_address["bob@example.org"].body
    token = _link_token(by_address["alice@example.org"].body)
    assert expert_for_token(token) == alice
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}

    with django_capture_on_commit_callbacks(execute=True):
        again = mail.invitations_send(study=study, actor=organizer)  # everyone is invited
        replay = mail.invitations_send(study=study, experts=[alice], actor=organizer, nonce="n1")
        double = mail.invitations_send(study=study, experts=[alice], actor=organizer, nonce="n1")
    assert (again, len(replay), double) == ([], 1, [])
    assert len(django_mail.outbox) == 3


def test_a_message_is_sent_at_most_once_even_if_its_task_runs_twice(study, organizer, alice):
    message = mail.invitations_send(study=study, actor=organizer)[0]
    assert mail.message_send(message_id=message.pk) == "sent"
    assert mail.message_send(message_id=message.pk) == "sent"
    assert len(django_mail.outbox) == 1


def test_a_failed_send_is_recorded_and_can_be_sent_again(study, organizer, alice, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    message = mail.invitations_send(study=study, actor=organizer)[0]
    assert mail.message_send(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert message.status == "failed" and "ConnectionRefusedError" in message.error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    retry = mail.message_retry(message=message, actor=organizer)
    assert retry.key == f"{message.key}#1"
    assert mail.message_send(message_id=retry.pk) == "sent"
    assert len(django_mail.outbox) == 1


def test_reminders_by_hand_go_only_to_those_who_have_not_submitted_and_never_twice(
        round1, organizer, alice, bob, django_capture_on_commit_callbacks):
    submit(alice, round1, agree=4)
    expert_issue_token(expert=bob)  # invited: Bob holds a personal link
    carol = expert_add(study=round1.study, name="Carol", email="carol@example.org", group="WE",
                       language="en", actor=organizer)
    expert_issue_token(expert=carol)
    expert_withdraw(expert=carol, actor=organizer)
    with django_capture_on_commit_callbacks(execute=True):
        sent = mail.reminder_send_now(round_=round1, actor=organizer, nonce="form-1")
        replay = mail.reminder_send_now(round_=round1, actor=organizer, nonce="form-1")
    assert [m.expert for m in sent] == [bob] and replay == []
    assert [m.to for m in django_mail.outbox] == [["bob@example.org"]]
    assert django_mail.outbox[0].subject == "Напоминание: тур 1 исследования «Малое исследование»"


def test_reminders_skip_experts_never_invited_or_whose_link_was_revoked(
        round1, organizer, alice, bob, django_capture_on_commit_callbacks):
    # Alice was never invited (the organizer holds her back); Bob was, then his link revoked.
    expert_issue_token(expert=bob)
    expert_revoke_token(expert=bob, actor=organizer)
    assert mail.reminder_send_now(round_=round1, actor=organizer, nonce="form-1") == []
    assert django_mail.outbox == []

    # Invited now, Bob is reminded; his link revoked before the worker sends, nothing goes.
    expert_issue_token(expert=bob)
    [queued] = mail.reminder_send_now(round_=round1, actor=organizer, nonce="form-2")
    expert_revoke_token(expert=bob, actor=organizer)
    assert mail.message_send(message_id=queued.pk) == "failed"
    assert django_mail.outbox == [] and not bob.links.filter(revoked_at__isnull=True).exists()
    queued.refresh_from_db()
    assert queued.error == "link revoked before sending"
    with translation.override("ru"):
        assert queued.error_text() == "ссылка отозвана до отправки"


def test_withdrawn_expert_loses_the_link_and_gets_no_queued_mail(study, organizer, alice):
    message = mail.invitations_send(study=study, actor=organizer)[0]
    expert_withdraw(expert=alice, actor=organizer, reason="asked to leave")
    message.refresh_from_db()
    assert message.status == "failed" and not alice.links.filter(revoked_at__isnull=True).exists()
    assert mail.message_send(message_id=message.pk) == "failed"
    assert django_mail.outbox == []
    with pytest.raises(ServiceError):
        expert_withdraw(expert=alice, actor=organizer)


def test_erasing_an_expert_keeps_the_answers_under_a_pseudonym(round1, organizer, alice):
    submit(alice, round1, agree=5)
    message = mail.invitations_send(study=round1.study, actor=organizer)[0]
    mail.message_send(message_id=message.pk)
    erased = expert_erase(expert=alice, actor=organizer)
    assert re.fullmatch(r"P-[0-9a-f]{10}", erased.name)
    assert erased.email == f"{erased.name.lower()}@erased.invalid"
    assert erased.withdrawn_at is not None and not erased.links.filter(revoked_at__isnull=True).exists()
    assert Answer.objects.get(response__expert=alice, item__code="agree").value == 5
    message.refresh_from_db()
    assert message.to_email == "" and message.status == "sent"
    dump = str(list(AuditEvent.objects.filter(study=round1.study).values_list("detail", flat=True)))
    assert "alice" not in dump.lower()
    with pytest.raises(ServiceError, match="already been erased"):
        expert_erase(expert=erased, actor=organizer)


def test_panel_errors_read_in_the_organizers_language(study, organizer):
    from django.utils import translation

    expert_add(study=study, name="Carol", email="carol@example.org", group="WE", language="en",
               actor=organizer)
    with translation.override("ru"), pytest.raises(
            ServiceError, match="Эксперт с адресом carol@example.org уже есть в этой панели"):
        expert_add(study=study, name="Carol", email="carol@example.org", group="WE",
                   language="en", actor=organizer)
