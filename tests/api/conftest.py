"""Actors and a foreign study for the API tests.

Study "small" (the shared `study` fixture) has an owner (Oliver), an organizer (Olga), an
analyst (Anna) and experts Alice and Bob. Study "foreign" has its own owner (Bert), expert Carol,
a closed and aggregated round 1, an open round 2 with a scheduled reminder, an invitation in its
send log, and item, theme and group codes of its own, so every id in it is one that study "small"
does not have.
"""

import pytest
from rest_framework.test import APIClient

from tests.conftest import _staff, small_study_data


@pytest.fixture(autouse=True)
def _quick_password_hashing(settings):
    """Argon2 costs ~0.4 s a user; these tests make many users and test roles, not hashing
    (test_api_hardening checks the real PASSWORD_HASHERS)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api():
    return APIClient()


def bearer(user, *, scope: str = "write", days: int = 90) -> dict:
    """Request headers carrying a fresh personal API token of the user (read and write unless
    told otherwise)."""
    from api.services.tokens import api_token_create

    _token, secret = api_token_create(user=user, name="test", scope=scope, days=days)
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def invitation(expert) -> dict:
    from surveys.services.panel import expert_issue_token

    return {"HTTP_X_INVITATION_TOKEN": expert_issue_token(expert=expert)}


@pytest.fixture
def owner(study):
    return _staff(study, "oliver", "owner")


def foreign_study_data() -> dict:
    data = small_study_data(slug="foreign")
    data["min_cell"] = 1  # its one expert's feedback is what the access tests look for
    data["title"] = {"en": "Foreign study", "ru": "Чужое исследование"}
    for group in data["stakeholder_groups"]:
        group["code"] = "F" + group["code"]
    for theme in data["themes"]:
        theme["code"] = "f-" + theme["code"]
        for item in theme["items"]:
            item["code"] = "f-" + item["code"]
            if "leaning" in item:
                item["leaning"] = {"F" + code: v for code, v in item["leaning"].items()}
    return data


@pytest.fixture
def foreign(db, django_capture_on_commit_callbacks):
    """Study "foreign" with its owner, an expert who answered round 1, and an open round 2."""
    from surveys.services.panel import expert_create
    from surveys.services.responses import ItemAnswer, response_submit
    from surveys.services.rounds import round_close, round_create, round_open
    from surveys.services.studies import study_load
    from workspace.services.mail import invitations_send, reminder_schedule

    study_b = study_load(data=foreign_study_data())
    bert = _staff(study_b, "bert", "owner")
    carol = expert_create(study=study_b, name="Carol Foreign", email="carol@example.org",
                          group_code="FWE")
    round_1 = round_open(round_=round_create(study=study_b))
    response_submit(expert=carol, round_=round_1,
                    answers={"f-agree": ItemAnswer(values={"": 4}, rationale="Carol's reason")})
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round_1)  # aggregated in-process once the close "commits"
    round_2 = round_open(round_=round_create(study=study_b))
    member = study_b.members.get(user=bert)
    [message] = invitations_send(study=study_b, actor=bert)  # queued; sent only after a commit
    [reminder] = reminder_schedule(round_=round_2, hours_before=[24], actor=bert)
    return {"study": study_b, "owner": bert, "expert": carol, "round": round_2, "member": member,
            "item": "f-agree", "theme": "f-one", "group": "FWE", "message": message,
            "reminder": reminder}
