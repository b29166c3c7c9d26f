"""On PostgreSQL, two "Remind" requests at the same moment (two tabs, a double click that beat
the page's reload) send each expert one reminder."""

import threading

import pytest
from django.db import connection
from django.test import Client

from surveys.services.panel import expert_issue_token
from tests.conftest import wait_for
from workspace.models import Message, Reminder

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _remind_at_once(organizer, url: str, nonces: list[str]) -> list[int]:
    """POST the remind form once per nonce, all behind one barrier, each on its own
    connection; returns the status codes."""
    barrier = threading.Barrier(len(nonces))
    codes: list[int] = []

    def click(nonce: str) -> None:
        try:
            staff = Client()
            staff.force_login(organizer)
            barrier.wait()
            codes.append(staff.post(url, {"nonce": nonce}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(nonce,)) for nonce in nonces]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return codes


@pytest.mark.parametrize("same_form", [True, False])
def test_two_concurrent_remind_requests_send_each_expert_one_mail(
        round1, organizer, alice, bob, same_form, celery_worker):
    for expert in (alice, bob):
        expert_issue_token(expert=expert)
    url = f"/studio/{round1.study.slug}/panel/remind/"
    for attempt in range(5):
        Message.objects.all().delete()
        Reminder.objects.all().delete()
        nonces = ["tab"] * 2 if same_form else ["tab-1", "tab-2"]
        codes = _remind_at_once(organizer, url, [f"{n}-{attempt}" for n in nonces])
        assert codes == [302, 302], (attempt, codes)
        sent = sorted(Message.objects.filter(kind=Message.Kind.REMINDER)
                      .values_list("to_email", flat=True))
        assert sent == ["alice@example.org", "bob@example.org"], (attempt, sent)
        assert Reminder.objects.count() == 1
        # The worker sends the mails: let it finish before the rows go (and before the test
        # database is emptied, which would wait on its locks).
        wait_for(lambda: not Message.objects.filter(
            status__in=[Message.Status.PENDING, Message.Status.SENDING]).exists(),
            what="the worker to send the reminders")
