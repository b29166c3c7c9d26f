"""Personal API tokens: made on the account page or through the API, shown once, stored hashed,
listed without their secret, and revoked."""

import hashlib

import pytest

from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


def test_a_token_is_shown_once_and_stored_only_as_a_hash(api, organizer):
    made = api.post("/api/v1/tokens/", {"name": "my script"}, format="json", **bearer(organizer))
    assert made.status_code == 201
    secret = made.json()["token"]
    token = organizer.api_tokens.get(name="my script")
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    listed = api.get("/api/v1/tokens/", HTTP_AUTHORIZATION=f"Bearer {secret}").json()["results"]
    assert {t["name"] for t in listed} == {"test", "my script"}
    assert secret not in str(listed) and all("token" not in t for t in listed)


def test_a_revoked_token_stops_working(api, organizer):
    headers = bearer(organizer)
    token = organizer.api_tokens.get()
    assert api.get("/api/v1/studies/", **headers).status_code == 200
    assert api.delete(f"/api/v1/tokens/{token.pk}/", **headers).status_code == 204
    refused = api.get("/api/v1/studies/", **headers)
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")


def test_nobody_revokes_another_users_token(api, organizer, analyst):
    bearer(analyst)
    theirs = analyst.api_tokens.get()
    assert api.delete(f"/api/v1/tokens/{theirs.pk}/", **bearer(organizer)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_a_token_of_an_inactive_user_does_not_work(api, organizer):
    headers = bearer(organizer)
    organizer.is_active = False
    organizer.save()
    assert api.get("/api/v1/studies/", **headers).status_code == 401


def test_the_account_page_creates_lists_and_revokes_tokens(client, organizer):
    client.force_login(organizer)
    page = client.post("/account/tokens/", {"action": "create", "name": "Nightly export"})
    assert page.status_code == 200
    secret = page.context["secret"]
    assert secret.startswith("agd_") and secret in page.content.decode()
    token = organizer.api_tokens.get()
    again = client.get("/account/tokens/").content.decode()
    assert "Nightly export" in again and secret not in again and token.prefix in again
    client.post("/account/tokens/", {"action": "revoke", "token": str(token.pk)})
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_the_account_page_speaks_russian(client, organizer):
    client.force_login(organizer)
    client.cookies["django_language"] = "ru"
    page = client.get("/account/tokens/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Токены API" in page


def test_the_account_page_needs_a_login(client):
    assert client.get("/account/tokens/").status_code == 302
