"""Personal API tokens: made on the account page or through the API with a signed-in session
(never with a token), shown once, stored hashed, listed without their secret, scoped (read only
or read and write), expiring, and revoked."""

import hashlib
import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


def test_a_token_is_shown_once_and_stored_only_as_a_hash(api, organizer):
    headers = bearer(organizer)
    api.force_login(organizer)
    made = api.post("/api/v1/tokens/", {"name": "my script"}, format="json")
    assert made.status_code == 201
    secret = made.json()["token"]
    token = organizer.api_tokens.get(name="my script")
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    api.logout()
    listed = api.get("/api/v1/tokens/", **headers).json()["results"]
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
    assert "Только чтение" in page and "не могут создавать другие токены" in page


def test_the_account_page_needs_a_login(client):
    assert client.get("/account/tokens/").status_code == 302


# Scopes

WRITES = [("post", "/api/v1/studies/small/groups/", {"code": "NEW", "name_en": "New"}),
          ("patch", "/api/v1/studies/small/", {"title_en": "Renamed"}),
          ("put", "/api/v1/studies/small/rules/", {}),
          ("delete", "/api/v1/studies/small/items/agree/", None)]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_read_only_token_reads_but_cannot_write(api, organizer, method, path, body):
    headers = bearer(organizer, scope="read")

    def everything():
        return [api.get(f"/api/v1/studies/small/{part}", **headers).json()
                for part in ("", "groups/", "items/", "rules/")]

    before = everything()
    refused = getattr(api, method)(path, body, format="json", **headers)
    assert refused.status_code == 403
    assert "read-only" in refused.json()["detail"]
    assert everything() == before


def test_a_read_only_token_cannot_even_revoke_itself(api, organizer):
    headers = bearer(organizer, scope="read")
    token = organizer.api_tokens.get()
    assert api.delete(f"/api/v1/tokens/{token.pk}/", **headers).status_code == 403


def test_a_token_made_through_the_api_is_read_only_unless_asked(api, organizer):
    api.force_login(organizer)
    made = api.post("/api/v1/tokens/", {"name": "reader"}, format="json").json()
    assert made["scope"] == "read"
    writer = api.post("/api/v1/tokens/", {"name": "writer", "scope": "write"}, format="json")
    assert writer.json()["scope"] == "write"


# Expiry

def test_a_token_lives_90_days_by_default_and_at_most_a_year(api, organizer):
    api.force_login(organizer)
    made = api.post("/api/v1/tokens/", {"name": "default"}, format="json")
    token = organizer.api_tokens.get(pk=made.json()["id"])
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
    too_long = api.post("/api/v1/tokens/", {"name": "forever", "expires_in_days": 366},
                        format="json")
    assert too_long.status_code == 400 and "expires_in_days" in too_long.json()["errors"]
    week = api.post("/api/v1/tokens/", {"name": "week", "expires_in_days": 7}, format="json")
    assert week.json()["expires_at"][:10] == (timezone.now() + timedelta(days=7)).date().isoformat()


def test_an_expired_token_gets_401_with_a_clear_message(api, organizer):
    headers = bearer(organizer)
    organizer.api_tokens.update(expires_at=timezone.now() - timedelta(seconds=1))
    refused = api.get("/api/v1/studies/", **headers)
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    assert "expired" in refused.json()["detail"]


def test_the_account_page_sets_scope_and_lifetime(client, organizer):
    client.force_login(organizer)
    client.post("/account/tokens/", {"action": "create", "name": "Reader", "scope": "read",
                                     "days": "30"})
    token = organizer.api_tokens.get()
    assert token.scope == "read"
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    for days in ("400", "0", "abc", "9" * 5000):
        refused = client.post("/account/tokens/", {"action": "create", "name": "Bad", "days": days},
                              follow=True)
        assert refused.status_code == 200 and "365" in refused.content.decode()
    assert organizer.api_tokens.count() == 1


# No minting by tokens

def test_a_bearer_token_cannot_create_a_token(api, organizer):
    headers = bearer(organizer)
    refused = api.post("/api/v1/tokens/", {"name": "child", "scope": "write"}, format="json",
                       **headers)
    assert refused.status_code == 403 and "/account/tokens/" in refused.json()["detail"]
    assert list(organizer.api_tokens.values_list("name", flat=True)) == ["test"]


# Tokens minted by tokens before this change

def test_the_upgrade_revokes_every_token_another_token_could_have_minted(organizer, analyst):
    """Nothing recorded which token made which, so the upgrade revokes every token made while
    another live token of the same user existed; a first token, or one made after the earlier
    ones were revoked, stays."""
    from api.models import ApiToken

    migration = importlib.import_module("api.migrations.0003_tokens_scope_expiry")
    start = timezone.now() - timedelta(days=10)

    def made(user, name, days_ago, revoked_days_ago=None):
        token = ApiToken.objects.create(user=user, name=name, prefix=name, token_hash=name,
                                        expires_at=start)
        revoked = timezone.now() - timedelta(days=revoked_days_ago) if revoked_days_ago else None
        ApiToken.objects.filter(pk=token.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago), revoked_at=revoked)
        return token

    first = made(organizer, "first", 9)
    minted = made(organizer, "minted", 8)
    minted_by_minted = made(organizer, "minted2", 7)
    old = made(analyst, "old", 9, revoked_days_ago=8)
    after_revocation = made(analyst, "after", 5)
    before = timezone.now()
    migration.revoke_possibly_minted(apps, None)

    revoked = set(ApiToken.objects.filter(revoked_at__gte=before)
                  .values_list("name", flat=True))
    assert revoked == {minted.name, minted_by_minted.name}
    assert first.name not in revoked and after_revocation.name not in revoked
    assert ApiToken.objects.get(pk=old.pk).revoked_at < timezone.now() - timedelta(days=7)
