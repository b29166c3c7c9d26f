"""Brute force on tokens: wrong invitation links and API tokens from one client get 429 after a
few tries; other clients, valid tokens elsewhere and the staff-login counters are unaffected."""

import pytest
from django.conf import settings

from tests.api.conftest import bearer, invitation

pytestmark = pytest.mark.django_db
ATTACKER, OTHER = "203.0.113.7", "198.51.100.20"


def test_100_wrong_links_in_a_minute_get_429_after_a_few(client, alice):
    from surveys.services.panel import expert_issue_token

    token = expert_issue_token(expert=alice)
    codes = [client.get(f"/e/wrong-{n:03d}/", REMOTE_ADDR=ATTACKER).status_code for n in range(100)]
    limit = settings.TOKEN_RATE_LIMIT
    assert codes[:limit] == [404] * limit
    assert set(codes[limit:]) == {429}
    blocked = client.get("/e/wrong-again/", REMOTE_ADDR=ATTACKER)
    assert blocked.status_code == 429 and blocked["Retry-After"] == str(settings.TOKEN_RATE_WINDOW)
    assert "Too many" in blocked.content.decode()
    assert client.get(f"/e/{token}/", REMOTE_ADDR=OTHER).status_code == 302  # another client


def test_a_valid_link_opens_from_an_address_blocked_for_wrong_links(client, alice):
    """Only failures count: an expert behind the scanner's address (an office, a VPN) gets in."""
    from surveys.services.panel import expert_issue_token

    token = expert_issue_token(expert=alice)
    for n in range(settings.TOKEN_RATE_LIMIT + 5):
        client.get(f"/e/wrong-{n:03d}/", REMOTE_ADDR=ATTACKER)
    assert client.get("/e/wrong-once-more/", REMOTE_ADDR=ATTACKER).status_code == 429
    entry = client.get(f"/e/{token}/", REMOTE_ADDR=ATTACKER)
    assert entry.status_code == 302 and entry["Location"] == "/q/"
    assert client.get("/q/", REMOTE_ADDR=ATTACKER).status_code == 200
    assert client.get("/e/wrong-after/", REMOTE_ADDR=ATTACKER).status_code == 429  # still blocked


def test_wrong_invitation_tokens_on_the_api_get_429(api, round1, alice):
    headers = invitation(alice)
    codes = [api.get("/api/v1/me/", HTTP_X_INVITATION_TOKEN=f"wrong-{n}", REMOTE_ADDR=ATTACKER)
             .status_code for n in range(30)]
    assert codes[0] == 401 and codes[-1] == 429 and codes.count(401) == settings.TOKEN_RATE_LIMIT
    assert api.get("/api/v1/me/", REMOTE_ADDR=OTHER, **headers).status_code == 200
    # Only failures count: the expert's valid token works even from the blocked address.
    assert api.get("/api/v1/me/", REMOTE_ADDR=ATTACKER, **headers).status_code == 200


def test_wrong_api_tokens_get_429(api, organizer):
    headers = bearer(organizer)
    codes = [api.get("/api/v1/studies/", HTTP_AUTHORIZATION=f"Bearer agd_wrong{n}",
                     REMOTE_ADDR=ATTACKER).status_code for n in range(30)]
    assert codes.count(401) == settings.TOKEN_RATE_LIMIT and codes[-1] == 429
    assert api.get("/api/v1/studies/", REMOTE_ADDR=OTHER, **headers).status_code == 200
    assert api.get("/api/v1/studies/", REMOTE_ADDR=ATTACKER, **headers).status_code == 200


def test_the_window_ends(client, monkeypatch, settings):
    from throttle.tokens import token_blocked

    settings.TOKEN_RATE_WINDOW = 1
    for n in range(settings.TOKEN_RATE_LIMIT):
        client.get(f"/e/wrong-{n}/", REMOTE_ADDR=ATTACKER)
    assert token_blocked(_request(ATTACKER))
    import time

    time.sleep(1.5)
    assert not token_blocked(_request(ATTACKER))


def _request(address: str):
    from django.test import RequestFactory

    return RequestFactory().get("/", REMOTE_ADDR=address)


def test_token_failures_do_not_lock_staff_out_and_staff_failures_do_not_block_tokens(client, alice,
                                                                                    organizer):
    from surveys.services.panel import expert_issue_token

    for n in range(30):
        client.get(f"/e/wrong-{n}/", REMOTE_ADDR=ATTACKER)
    login = client.post("/accounts/login/", {"username": "olga", "password": "olga-pw-123"},
                        REMOTE_ADDR=ATTACKER)
    assert login.status_code == 302  # the staff login does not count token failures
    client.logout()
    for _n in range(settings.AXES_FAILURE_LIMIT + 2):
        client.post("/accounts/login/", {"username": "olga", "password": "wrong"}, REMOTE_ADDR=OTHER)
    token = expert_issue_token(expert=alice)
    assert client.get(f"/e/{token}/", REMOTE_ADDR=OTHER).status_code == 302  # tokens: own counter


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(settings):
    from throttle.tokens import client_ip

    request = _request("127.0.0.1")
    request.META["HTTP_X_FORWARDED_FOR"] = "10.9.9.9, 203.0.113.7"  # forged entry, then nginx's
    assert client_ip(request) == "127.0.0.1"
    settings.TRUSTED_PROXIES = 1
    assert client_ip(request) == "203.0.113.7"


def test_a_request_made_in_code_has_no_address(organizer, client):
    from throttle.tokens import client_ip

    request = _request("127.0.0.1")
    del request.META["REMOTE_ADDR"]
    assert client_ip(request) is None
    request.META["REMOTE_ADDR"] = "not an address"
    assert client_ip(request) is None
    client.force_login(organizer)  # axes records the login with no address, on every database
