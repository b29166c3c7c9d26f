"""On PostgreSQL: 20 simultaneous submits through the API with one Idempotency-Key, repeated 50
times: one submit happens each time (one revision), every caller gets the same 200, no 5xx."""

import json
import threading
import time

import pytest
from django.db import connection
from rest_framework.test import APIClient

from surveys.models import Response, ResponseRevision
from tests.api.conftest import invitation

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(headers: dict, key: str, version: int, n: int = 20) -> list[tuple[int, str, bytes]]:
    barrier = threading.Barrier(n)
    outcomes: list[tuple[int, str, bytes]] = []

    def submit() -> None:
        try:
            barrier.wait()
            answer = APIClient().post("/api/v1/me/response/submit/",
                                      {"answers": {"agree": {"values": {"": 4}}}, "version": version},
                                      format="json",
                                      HTTP_IDEMPOTENCY_KEY=key, **headers)
            outcomes.append((answer.status_code, answer.get("Idempotent-Replayed", ""),
                             answer.content))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


REPEATS = 50


def test_simultaneous_retries_of_one_submit_happen_once(round1, alice):
    headers = invitation(alice)
    started = time.monotonic()
    for attempt in range(REPEATS):
        outcomes = _race(headers, f"submit-{attempt}", attempt)  # each submit raises the version
        assert len(outcomes) == 20 and {status for status, _r, _b in outcomes} == {200}, outcomes
        assert sorted(replayed for _s, replayed, _b in outcomes) == ["false"] + ["true"] * 19
        assert len({json.dumps(json.loads(body), sort_keys=True) for _s, _r, body in outcomes}) == 1
        assert ResponseRevision.objects.filter(response__expert=alice).count() == attempt + 1
        assert Response.objects.filter(expert=alice, round=round1).count() == 1
    seconds = time.monotonic() - started
    print(f"{REPEATS} races of 20 submits in {seconds:.1f} s")
    assert ResponseRevision.objects.filter(response__expert=alice).count() == REPEATS
