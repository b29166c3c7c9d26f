"""A Delphi study may switch the survey's consent page on: its experts consent (the version
stored) before their first questionnaire; a decline is counted and asks nothing more."""

import pytest
from django.test import Client

from surveys.models import Entry
from surveys.services.panel import expert_issue_token
from surveys.services.studies import study_load
from tests.conftest import small_study_data
from tests.surveys.fielding_helpers import CONSENT_V1

pytestmark = pytest.mark.django_db


@pytest.fixture
def consenting(round1, alice):
    study_load(data=small_study_data() | {"consent_required": True, "consent": [CONSENT_V1]})
    client = Client()
    client.get(f"/e/{expert_issue_token(expert=alice)}/")
    return client


def test_an_expert_consents_before_the_first_questionnaire(consenting, alice):
    first = consenting.get("/q/")
    assert first.status_code == 302 and first["Location"] == "/q/consent/"
    page = consenting.get("/q/consent/")
    assert b"We keep your answers" in page.content
    assert consenting.post("/q/consent/", {"choice": "agree", "version": "v1"})["Location"] == "/q/"
    assert consenting.get("/q/").status_code == 200
    entry = Entry.objects.get(expert=alice)
    assert entry.collector is None and entry.consent_version == "v1"
    assert entry.status == Entry.Status.ANSWERING and entry.consented_at is not None


def test_a_declining_expert_is_thanked_and_counted(consenting, alice):
    answer = consenting.post("/q/consent/", {"choice": "decline", "version": "v1"})
    assert answer.status_code == 200 and b"chose not to take part" in answer.content
    assert Entry.objects.get(expert=alice).status == Entry.Status.DECLINED
    assert consenting.get("/q/")["Location"] == "/q/consent/"  # they may still change their mind
    consenting.post("/q/consent/", {"choice": "agree", "version": "v1"})
    assert consenting.get("/q/").status_code == 200


def test_without_the_switch_nothing_changes(round1, alice):
    study_load(data=small_study_data() | {"consent": [CONSENT_V1]})
    client = Client()
    client.get(f"/e/{expert_issue_token(expert=alice)}/")
    assert client.get("/q/").status_code == 200
    assert not Entry.objects.exists()
