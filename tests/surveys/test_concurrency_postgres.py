"""On PostgreSQL, concurrent saves of one expert's response never make a second row or a 5xx."""

import threading

import pytest
from django.db import connection

from surveys.errors import StaleVersion
from surveys.models import Answer, Response
from surveys.services.responses import ItemAnswer, response_submit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(expert, round_, n: int, version: int | None, *, read: bool = False) -> list[str]:
    """n submits at once; with `read`, each passes the response it read before, as the
    questionnaire's views do."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def submit(value: int) -> None:
        try:
            response = Response.objects.get(expert=expert, round=round_) if read else None
            barrier.wait()
            response_submit(expert=expert, round_=round_, expected_version=version,
                            response=response,
                            answers={"agree": ItemAnswer(values={"": float(value)})})
            outcomes.append("ok")
        except StaleVersion:
            outcomes.append("stale")
        except Exception as exc:  # noqa: BLE001 - any other error is the failure we look for
            outcomes.append(f"error: {exc!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(1 + k % 5,)) for k in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_twenty_simultaneous_submits_leave_one_response_with_one_answer(round1, alice):
    for attempt in range(10):
        outcomes = _race(alice, round1, 20, None)
        assert [o for o in outcomes if o.startswith("error")] == [], (attempt, outcomes)
        assert Response.objects.filter(expert=alice, round=round1).count() == 1
        assert Answer.objects.filter(response__expert=alice, item__code="agree").count() == 1


def test_simultaneous_saves_on_the_same_version_let_exactly_one_through(round1, alice):
    outcomes = _race(alice, round1, 20, 0)
    assert sorted(set(outcomes)) == ["ok", "stale"]
    assert outcomes.count("ok") == 1
    assert Response.objects.get(expert=alice, round=round1).version == 1


def test_simultaneous_saves_of_a_response_read_before_let_exactly_one_through(round1, alice):
    response_submit(expert=alice, round_=round1, answers={"agree": ItemAnswer(values={"": 3})})

    outcomes = _race(alice, round1, 20, 1, read=True)

    assert sorted(set(outcomes)) == ["ok", "stale"]
    assert outcomes.count("ok") == 1
    response = Response.objects.get(expert=alice, round=round1)
    assert response.version == 2 and response.revisions.count() == 2
