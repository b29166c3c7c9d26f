"""On PostgreSQL: 50 respondents finish at the same moment for the last 10 places of a quota;
exactly 10 complete, the other 40 get the "quota full" screen-out, nobody gets a 5xx, and the
collector is never overfilled (its row is locked by each completion). And 20 browsers
arriving at once with one external id make one entry; the others are told they took part."""

import threading

import pytest
from django.db import connection
from django.test import Client

from surveys.models import Entry, Expert, Response
from tests.surveys.fielding_helpers import PAGES, collector, survey_load, walk

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RACERS = 50
PLACES = 10


def test_fifty_simultaneous_completions_fill_the_last_ten_places_exactly():
    study = survey_load("race", quota=2 + PLACES)
    c = collector(study)
    for n in range(2):  # two places already taken
        walk(Client(), c.token, f"early-{n}")
    racers = []
    for n in range(RACERS):  # every racer on the last page, ready to finish
        client = Client()
        walk(client, c.token, f"racer-{n}", pages={1: PAGES[1]}, finish=False)
        racers.append((client, client.get(f"/s/{c.token}/page/2/").context["version"]))
    barrier = threading.Barrier(RACERS)
    outcomes: list[tuple[int, str]] = []

    def finish(client: Client, version: int) -> None:
        try:
            barrier.wait()
            answer = client.post(f"/s/{c.token}/page/2/",
                                 {**PAGES[2], "version": version, "action": "finish"})
            outcomes.append((answer.status_code, answer.get("Location", "")))
        finally:
            connection.close()

    threads = [threading.Thread(target=finish, args=racer) for racer in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == RACERS and {status for status, _l in outcomes} == {302}, outcomes
    completed = [url for _s, url in outcomes if url.startswith("https://panel.example.org/done")]
    refused = [url for _s, url in outcomes if url.startswith("https://panel.example.org/out")]
    assert (len(completed), len(refused)) == (PLACES, RACERS - PLACES)
    assert Entry.objects.filter(collector=c, status=Entry.Status.COMPLETED).count() == 2 + PLACES
    assert Entry.objects.filter(collector=c, status=Entry.Status.QUOTA_FULL).count() == RACERS - PLACES
    assert Response.objects.filter(expert__study=study,
                                   status=Response.Status.SUBMITTED).count() == 2 + PLACES


def test_twenty_browsers_arriving_at_once_with_one_external_id_make_one_entry():
    study = survey_load("dedupe")
    c = collector(study)
    barrier = threading.Barrier(20)
    codes: list[int] = []

    def arrive() -> None:
        try:
            barrier.wait()
            codes.append(Client().get(f"/s/{c.token}/?pid=same-person").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=arrive) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(codes) == [200] + [409] * 19, codes
    assert Entry.objects.filter(collector=c).count() == 1
    assert Expert.objects.filter(study=study).count() == 1  # the others' rows rolled back
