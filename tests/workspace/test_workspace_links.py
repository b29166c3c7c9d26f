"""An expert's links: every link mailed keeps working until a revocation, a withdrawal or the
study's link lifetime ends it; a revocation ends the sessions already opened; a second click
on "Remind" sends nothing more."""

import re
from datetime import timedelta

import pytest
from django.core import mail as django_mail
from django.test import Client
from django.utils import timezone

from surveys.models import Round
from surveys.services.panel import expert_issue_token
from surveys.services.rounds import round_close
from tests.workspace_helpers import english  # noqa: F401 - a fixture
from workspace.models import Reminder
from workspace.services import mail
from workspace.services.panel import expert_erase, expert_revoke_token, expert_withdraw

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def mailed_link(message) -> str:
    return re.search(r"(/e/[^/\s]+/)", message.body)[1]


def opened(link: str) -> Client:
    """A browser that opened the link; it must reach the questionnaire."""
    browser = Client()
    assert browser.get(link).status_code == 302
    assert browser.get("/q/").status_code == 200
    return browser


def test_an_older_invitation_link_still_opens_after_two_reminders(
        round1, organizer, bob, settings, django_capture_on_commit_callbacks):
    settings.MANUAL_REMINDER_WINDOW = 1
    with django_capture_on_commit_callbacks(execute=True):
        mail.invitations_send(study=round1.study, actor=organizer)
    invitation = mailed_link(django_mail.outbox[0])
    for nonce in ("form-1", "form-2"):
        with django_capture_on_commit_callbacks(execute=True):
            [queued] = mail.reminder_send_now(round_=round1, actor=organizer, nonce=nonce)
        Reminder.objects.filter(pk=queued.reminder_id).update(
            fired_at=timezone.now() - timedelta(seconds=5))  # the next window has begun
    links = [mailed_link(message) for message in django_mail.outbox]
    assert len(set(links)) == 3 and links[0] == invitation
    for link in links:
        opened(link)


def test_revoking_ends_an_already_open_session_at_its_next_request(round1, organizer, alice):
    first, second = expert_issue_token(expert=alice), expert_issue_token(expert=alice)
    laptop, phone = opened(f"/e/{first}/"), opened(f"/e/{second}/")
    api = Client()
    assert api.get("/api/v1/me/", HTTP_X_INVITATION_TOKEN=first).status_code == 200

    expert_revoke_token(expert=alice, actor=organizer)

    page = laptop.get("/q/")
    assert page.status_code == 403 and "Your link is no longer valid" in page.content.decode()
    autosave = phone.post("/q/autosave/", {"a-agree": "4", "version": "0"}, HTTP_HX_REQUEST="true")
    assert autosave.status_code == 403 and "revoked the personal link" in autosave.content.decode()
    # The reload after that autosave still says why, not "open your personal link".
    again = phone.get("/q/")
    assert again.status_code == 403 and "Your link is no longer valid" in again.content.decode()
    assert not alice.responses.exists()
    assert "expert_id" not in laptop.session and "expert_id" not in phone.session
    for token in (first, second):
        assert api.get("/api/v1/me/", HTTP_X_INVITATION_TOKEN=token).status_code == 401
        assert Client().get(f"/e/{token}/").status_code == 404
    opened(f"/e/{expert_issue_token(expert=alice, actor=organizer)}/")  # a new invitation works


def test_the_revoke_button_of_the_workspace_ends_the_session_too(round1, organizer, bob):
    phone = opened(f"/e/{expert_issue_token(expert=bob)}/")
    staff = Client()
    staff.force_login(organizer)
    url = f"/studio/{round1.study.slug}/panel/{bob.pk}/revoke/"
    asked = staff.post(url)  # first the page says what revoking does, and nothing happens
    assert asked.status_code == 200 and "stops working" in asked.content.decode()
    assert phone.get("/q/").status_code == 200
    assert staff.post(url, {"confirm": "1"}).status_code == 302
    page = phone.get("/q/")
    # Bob reads Russian: the page says so in his language.
    assert page.status_code == 403 and "Ваша ссылка больше не действует" in page.content.decode()


@pytest.mark.parametrize("end", [expert_withdraw, expert_erase])
def test_a_withdrawn_or_erased_experts_session_ends(round1, organizer, alice, end):
    laptop = opened(f"/e/{expert_issue_token(expert=alice)}/")
    end(expert=alice, actor=organizer)
    assert laptop.get("/q/").status_code == 403
    assert laptop.get("/q/arguments/agree/").status_code == 403
    assert "expert_id" not in laptop.session


def test_a_link_past_the_studys_lifetime_is_refused_with_a_clear_page(
        round1, organizer, alice, bob, settings):
    token, russian = expert_issue_token(expert=alice), expert_issue_token(expert=bob)
    closed = round_close(round_=round1)
    browser = opened(f"/e/{token}/")  # 30 days after the close by default
    # With sessions longer than the links' lifetime, a session still ends with the links.
    settings.SESSION_COOKIE_AGE = 60 * 24 * 3600
    assert opened(f"/e/{token}/").session.get_expiry_date() == closed.closed_at + timedelta(days=30)
    assert browser.get("/q/").status_code == 200
    Round.objects.filter(pk=round1.pk).update(closed_at=timezone.now() - timedelta(days=31))

    refused = Client().get(f"/e/{token}/")
    assert refused.status_code == 410 and "This link has expired" in refused.content.decode()
    # Bob reads Russian: the page is in his language.
    assert "Срок действия ссылки истёк" in Client().get(f"/e/{russian}/").content.decode()
    assert Client().get("/api/v1/me/", HTTP_X_INVITATION_TOKEN=token).status_code == 401

    staff = Client()
    staff.force_login(organizer)
    assert staff.post(f"/studio/{round1.study.slug}/panel/links/", {"days": "60"}).status_code == 302
    opened(f"/e/{token}/")


def test_links_live_while_a_round_is_open_whatever_the_lifetime(study, organizer, alice):
    from surveys.services.rounds import round_create, round_open

    first = round_open(round_=round_create(study=study))
    token = expert_issue_token(expert=alice)
    round_close(round_=first)
    Round.objects.filter(pk=first.pk).update(closed_at=timezone.now() - timedelta(days=400),
                                             status=Round.Status.AGGREGATED)
    assert Client().get(f"/e/{token}/").status_code == 410
    round_open(round_=round_create(study=study))
    opened(f"/e/{token}/")


def test_a_double_click_on_remind_sends_each_expert_one_mail(
        round1, organizer, alice, bob, django_capture_on_commit_callbacks):
    for expert in (alice, bob):
        expert_issue_token(expert=expert)
    staff = Client()
    staff.force_login(organizer)
    url = f"/studio/{round1.study.slug}/panel/remind/"
    with django_capture_on_commit_callbacks(execute=True):
        first = staff.post(url, {"nonce": "page-1"}, follow=True)
        again = staff.post(url, {"nonce": "page-1"}, follow=True)  # the same form twice
        other = staff.post(url, {"nonce": "page-2"}, follow=True)  # a second tab
    assert sorted(m.to[0] for m in django_mail.outbox) == ["alice@example.org", "bob@example.org"]
    assert "2 reminders queued" in first.content.decode()
    assert again.status_code == other.status_code == 200
    assert "went out 0 minute(s) ago" in other.content.decode()
