"""The study's min_cell (how many answers experts' feedback waits for): set in the builder or
through the API, by the same service, checked and audited; analysts cannot change it."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from surveys.models import AuditEvent
from tests.api.conftest import bearer
from tests.workspace_helpers import english  # noqa: F401 - a fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
S = "/api/v1/studies/small/"


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def _client(user) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": user.username,
                                            "password": f"{user.username}-pw-123"}
                       ).status_code == 302
    return client


def test_an_organizer_sets_it_in_the_builder_and_it_is_audited(study, organizer):
    client = _client(organizer)
    builder = client.get(f"/studio/{study.slug}/build/").content.decode()
    assert 'name="cell-min_cell"' in builder and 'value="3"' in builder

    client.post(f"/studio/{study.slug}/build/min-cell/", {"cell-min_cell": "5"})

    study.refresh_from_db()
    assert study.min_cell == 5
    event = AuditEvent.objects.filter(study=study, action="study_min_cell_set").get()
    assert event.detail == {"before": 3, "after": 5} and event.actor == organizer
    client.post(f"/studio/{study.slug}/build/min-cell/", {"cell-min_cell": "0"})
    study.refresh_from_db()
    assert study.min_cell == 5


def test_the_api_reads_and_changes_it_within_bounds(api, study, organizer, analyst):
    assert api.get(S, **bearer(organizer)).json()["min_cell"] == 3

    changed = api.patch(S, {"min_cell": 4}, format="json", **bearer(organizer))
    refused = api.patch(S, {"min_cell": 51}, format="json", **bearer(organizer))
    by_analyst = api.patch(S, {"min_cell": 1}, format="json", **bearer(analyst))

    assert changed.status_code == 200 and changed.json()["min_cell"] == 4
    assert refused.status_code == 400 and "min_cell" in refused.json()["errors"]
    assert by_analyst.status_code in (403, 404)
    study.refresh_from_db()
    assert study.min_cell == 4
    both = api.patch(S, {"min_cell": 3, "description_en": "About it"}, format="json",
                     **bearer(organizer))
    assert both.status_code == 200 and both.json()["min_cell"] == 3
