"""A survey's pages are cheap: the queries of a respondent's page view and of a "Next",
counted (as the issue asks for pages built for volume), as ceilings that one more query per
item would break. The entry comes with its collector and its response in one query, the open
round with its keys in another; a Next is one transaction without savepoints of its own."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from surveys.models import Answer, Entry, Response
from tests.surveys.fielding_helpers import PAGES, collector, survey_load, walk

pytestmark = pytest.mark.django_db

# open round with its keys; the entry with its collector, study, expert and response;
# the response's answers and comments (its reasons) on the page, in one query
PAGE_QUERIES = 3
# the two reads above less the answers; the transaction (a savepoint in a test): the entry's
# row locked, the response claimed by its version, the page's answers and reasons deleted,
# its answers inserted (by COPY on PostgreSQL, which is not counted), the entry updated
NEXT_QUERIES = 10


def test_a_survey_page_takes_three_queries(django_assert_num_queries):
    client, c = Client(), collector(survey_load())
    walk(client, c.token, "q1", pages={1: PAGES[1]}, finish=False)
    client.get(f"/s/{c.token}/page/2/")  # the process's item cache filled
    with django_assert_num_queries(PAGE_QUERIES):
        page = client.get(f"/s/{c.token}/page/1/")
    assert page.status_code == 200 and b'value="4" checked' in page.content
    assert page.context["version"] == 1  # from the response read with the entry


def test_a_next_is_one_transaction_of_at_most_ten_queries():
    client, c = Client(), collector(survey_load())
    walk(client, c.token, "q1", pages={1: PAGES[1]}, finish=False)  # the response exists
    version = client.get(f"/s/{c.token}/page/1/").context["version"]
    changed = {**PAGES[1], "a-agree": "2"}
    with CaptureQueriesContext(connection) as queries:
        answer = client.post(f"/s/{c.token}/page/1/",
                             {**changed, "version": version, "action": "next"})
    assert answer.status_code == 302 and answer["Location"].endswith("/page/2/")
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) <= NEXT_QUERIES, "\n".join(statements)
    # One transaction (the test's own wraps it, so it is a savepoint here), none inside it.
    assert sum(s.startswith("SAVEPOINT") for s in statements) == 1
    entry = Entry.objects.get(collector=c, external_id="q1")
    response = Response.objects.get(expert=entry.expert)
    assert response.version == version + 1 and entry.pages_done == 1
    assert Answer.objects.get(response=response, item__code="agree").value == 2
    assert Answer.objects.filter(response=response).count() == 4  # none lost, none twice


def test_a_stale_next_saves_nothing():
    client, c = Client(), collector(survey_load())
    walk(client, c.token, "q1", pages={1: PAGES[1]}, finish=False)
    version = client.get(f"/s/{c.token}/page/1/").context["version"]
    client.post(f"/s/{c.token}/page/1/", {**PAGES[1], "version": version, "action": "next"})
    stale = client.post(f"/s/{c.token}/page/1/",  # the same page's version again (another tab)
                        {**PAGES[1], "a-agree": "1", "version": version, "action": "next"})
    assert stale.status_code == 409
    response = Response.objects.get(expert__entry__collector=c)
    assert response.version == version + 1
    assert Answer.objects.get(response=response, item__code="agree").value == 4
