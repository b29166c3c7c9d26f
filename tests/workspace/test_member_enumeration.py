"""Adding a member by username tells nothing about accounts that cannot be added: an unknown
username, an inactive account and the operator's superuser get the same answer, on the team page
and through the API, after the same queries."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from surveys.models import StudyMember
from surveys.services.panel import member_add

pytestmark = pytest.mark.django_db
UNKNOWN, INACTIVE, OPERATOR = "ghost", "gone", "root"


@pytest.fixture
def accounts(study):
    users = get_user_model().objects
    users.create_user(username=INACTIVE, password="gone-pw-123", is_active=False)
    users.create_superuser(username=OPERATOR, password="root-pw-123456")
    owner = users.create_user(username="wendy", password="wendy-pw-123")
    member_add(study=study, user=owner, role="owner")
    return owner


def _page_answer(client, url: str, username: str) -> tuple[int, str, int]:
    with CaptureQueriesContext(connection) as queries:
        answer = client.post(url, {"username": username, "role": "analyst"})
    body = answer.content.decode().replace(username, "USERNAME")
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    return answer.status_code, body, len(queries)


def test_the_team_page_answers_alike_for_unknown_inactive_and_superuser_accounts(
        client, study, accounts):
    client.force_login(accounts)
    url = f"/studio/{study.slug}/team/"
    answers = {name: _page_answer(client, url, name) for name in (UNKNOWN, INACTIVE, OPERATOR)}
    assert answers[UNKNOWN][0] == 400
    assert answers[INACTIVE] == answers[UNKNOWN] and answers[OPERATOR] == answers[UNKNOWN]
    assert not StudyMember.objects.filter(study=study, user__username__in=[INACTIVE, OPERATOR])


def test_the_api_answers_alike_for_unknown_inactive_and_superuser_accounts(study, accounts):
    api = APIClient()
    api.force_authenticate(accounts)
    url = f"/api/v1/studies/{study.slug}/members/"
    answers = {}
    for name in (UNKNOWN, INACTIVE, OPERATOR):
        answer = api.post(url, {"username": name, "role": "analyst"}, format="json")
        answers[name] = (answer.status_code, answer.json())
    assert answers[UNKNOWN][0] == 400
    assert answers[INACTIVE] == answers[UNKNOWN] and answers[OPERATOR] == answers[UNKNOWN]
