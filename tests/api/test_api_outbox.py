"""The outbox through the API: the same messages and the same doors as the workspace page."""

import pytest

from tests.api.conftest import bearer, invitation
from workspace.services import mail

pytestmark = pytest.mark.django_db
S = "/api/v1/studies/small/outbox/"


@pytest.fixture
def sent(study, organizer, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        mail.invitations_send(study=study, actor=organizer)
    return study


def test_an_organizer_reads_the_invitation_as_sent(api, sent, organizer, alice):
    page = api.get(S, **bearer(organizer, scope="read"))
    assert page.status_code == 200
    [entry] = page.json()["results"]
    assert (entry["kind"], entry["to_email"], entry["language"]) == (
        "invitation", "alice@example.org", "en")
    assert "/e/" in entry["body"] and entry["subject"].startswith("Invitation to the expert panel")


def test_an_analyst_and_an_expert_do_not(api, sent, analyst, alice):
    assert api.get(S, **bearer(analyst, scope="read")).status_code in {403, 404}
    assert api.get(S, **invitation(alice)).status_code in {401, 403, 404}


def test_with_the_outbox_off_it_is_not_found(api, sent, organizer, settings):
    settings.AGORA_OUTBOX = False
    assert api.get(S, **bearer(organizer, scope="read")).status_code == 404
