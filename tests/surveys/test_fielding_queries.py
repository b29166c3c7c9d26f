"""A survey page is cheap: the queries of a respondent's page view, counted (as the issue asks
for pages built for volume). The round's keys come with the open round, the response is read
once (its version too), and no reasons are read (a survey asks none)."""

import pytest
from django.test import Client

from tests.surveys.fielding_helpers import PAGES, collector, survey_load, walk

pytestmark = pytest.mark.django_db


def test_a_survey_page_takes_five_queries(django_assert_num_queries):
    client, c = Client(), collector(survey_load())
    walk(client, c.token, "q1", pages={1: PAGES[1]}, finish=False)
    client.get(f"/s/{c.token}/page/2/")  # the process's item cache filled
    # collector, open round with its keys, entry; the response, its answers
    with django_assert_num_queries(5):
        page = client.get(f"/s/{c.token}/page/1/")
    assert page.status_code == 200 and b'value="4" checked' in page.content
    assert page.context["version"] == 1  # from the response read for the answers
