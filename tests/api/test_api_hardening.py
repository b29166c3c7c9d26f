"""Hardening: argon2 passwords, the staff-login lockout, headers, and the production settings."""

import json
import os
import secrets
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.django_db


def test_passwords_are_hashed_with_argon2(settings):
    from django.contrib.auth import get_user_model

    from config.settings import base

    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS
    user = get_user_model().objects.create_user(username="hugo", password="a-long-passphrase-1")
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password("a-long-passphrase-1")


def test_an_older_hash_is_upgraded_to_argon2_at_login(client, settings):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from config.settings import base

    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS
    user = get_user_model().objects.create(
        username="old", password=make_password("old-passphrase-1", hasher="pbkdf2_sha256"))
    assert client.post("/accounts/login/", {"username": "old", "password": "old-passphrase-1"}
                       ).status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2")


def test_repeated_failed_staff_logins_lock_the_account_out(client, organizer, analyst, settings):
    wrong = {"username": "olga", "password": "not-her-password"}
    codes = [client.post("/accounts/login/", wrong).status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert codes[: settings.AXES_FAILURE_LIMIT - 1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    locked = client.post("/accounts/login/", {"username": "olga", "password": "olga-pw-123"})
    assert locked.status_code == 429  # even the right password, until the cool-off ends
    assert "_auth_user_id" not in client.session
    elsewhere = client.post("/accounts/login/", {"username": "olga", "password": "olga-pw-123"},
                            REMOTE_ADDR="198.51.100.20")
    assert elsewhere.status_code == 429  # the account is locked from every address
    other = client.post("/accounts/login/", {"username": "anna", "password": "anna-pw-123"},
                        REMOTE_ADDR="198.51.100.20")
    assert other.status_code == 302  # other accounts, from other addresses, are not


def test_guesses_for_one_account_spread_over_ten_addresses_are_locked_out(client, organizer,
                                                                          analyst, settings):
    """The attacker of the outside test: 40 guesses from 10 addresses, 4 each (below the limit
    per address), were never blocked."""
    codes = [client.post("/accounts/login/", {"username": "olga", "password": f"guess-{n}"},
                         REMOTE_ADDR=f"203.0.113.{n % 10 + 1}").status_code for n in range(40)]
    assert codes[:settings.AXES_FAILURE_LIMIT - 1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert set(codes[settings.AXES_FAILURE_LIMIT:]) == {429}
    right = client.post("/accounts/login/", {"username": "olga", "password": "olga-pw-123"},
                        REMOTE_ADDR="203.0.113.99")
    assert right.status_code == 429 and "_auth_user_id" not in client.session


def test_one_address_guessing_many_accounts_is_locked_out(client, organizer, analyst, settings):
    """Password spraying: one wrong password for many usernames from one address and browser."""
    codes = [client.post("/accounts/login/", {"username": f"user{n}", "password": "Spring2026"},
                         REMOTE_ADDR="203.0.113.50").status_code for n in range(20)]
    assert set(codes[settings.AXES_FAILURE_LIMIT:]) == {429}
    other = client.post("/accounts/login/", {"username": "anna", "password": "anna-pw-123"},
                        REMOTE_ADDR="198.51.100.20")
    assert other.status_code == 302


def test_every_answer_carries_the_security_headers(client, study):
    for url in ("/", "/accounts/login/", "/api/v1/studies/", "/e/not-a-token/"):
        response = client.get(url)
        assert response["Referrer-Policy"] == "no-referrer"
        assert response["X-Content-Type-Options"] == "nosniff"
        policy = response["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and "script-src 'self'" in policy, url


def _production(code: str, **env: str) -> dict:
    """Settings values from config.settings.production with the example environment."""
    values = {}
    for line in (ROOT / "platform" / "env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _sep, value = line.partition("=")
            values[key] = value
    values |= {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
               "AGORA_PSEUDONYM_KEY": secrets.token_hex(32), **env}
    script = ("import django, json; django.setup(); from django.conf import settings as s; "
              f"print(json.dumps({code}))")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, **values}, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_harden_cookies_transport_and_logins():
    got = _production('{"hsts": s.SECURE_HSTS_SECONDS, "session": s.SESSION_COOKIE_SECURE, '
                      '"csrf": s.CSRF_COOKIE_SECURE, "redirect": s.SECURE_SSL_REDIRECT, '
                      '"csp": s.CONTENT_SECURITY_POLICY, "referrer": s.SECURE_REFERRER_POLICY, '
                      '"hasher": s.PASSWORD_HASHERS[0], "backend": s.AUTHENTICATION_BACKENDS[0], '
                      '"last": s.MIDDLEWARE[-1], "cache": s.CACHES["default"]["BACKEND"], '
                      '"proxies": s.TRUSTED_PROXIES}')
    assert got["hsts"] >= 365 * 24 * 3600 and got["session"] and got["csrf"] and got["redirect"]
    assert "unsafe-inline" not in json.dumps(got["csp"]) and got["referrer"] == "no-referrer"
    assert got["hasher"].endswith("Argon2PasswordHasher")
    assert got["backend"] == "api.backends.LockoutBackend" and got["last"].startswith("axes.")
    assert got["cache"].endswith("RedisCache") and got["proxies"] == 1


@pytest.mark.parametrize("url", ["mysql://x", "memcached://127.0.0.1"])
def test_a_bad_cache_url_stops_the_start_naming_the_variable(monkeypatch, url):
    from django.core.exceptions import ImproperlyConfigured

    from config.env import env_cache

    monkeypatch.setenv("CACHE_URL", url)
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL"):
        env_cache("CACHE_URL")


def test_the_cache_follows_the_redis_broker_or_stays_in_memory(monkeypatch):
    from config.env import env_cache

    monkeypatch.delenv("CACHE_URL", raising=False)
    assert env_cache("CACHE_URL", "redis://127.0.0.1:6379/0")["LOCATION"] == "redis://127.0.0.1:6379/0"
    assert env_cache("CACHE_URL", "amqp://guest@127.0.0.1//")["BACKEND"].endswith("LocMemCache")
    monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:6379/3")
    assert env_cache("CACHE_URL", "")["LOCATION"] == "redis://127.0.0.1:6379/3"


def test_invitation_tokens_are_stored_hashed_and_revocable(api, round1, alice):
    from surveys.services.panel import expert_issue_token
    from workspace.services.panel import expert_revoke_token

    token = expert_issue_token(expert=alice)
    [stored] = alice.links.values_list("token_hash", flat=True)
    assert token not in stored and len(stored) == 64
    assert api.get("/api/v1/me/", HTTP_X_INVITATION_TOKEN=token).status_code == 200
    expert_revoke_token(expert=alice, actor=None)
    assert api.get("/api/v1/me/", HTTP_X_INVITATION_TOKEN=token).status_code == 401
