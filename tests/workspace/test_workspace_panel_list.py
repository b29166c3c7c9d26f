"""The panel page's list: search by name or email, filters by group, status and language with
the count behind each value, and pages of 25, all as GET parameters."""

import pytest
from django.conf import settings
from django.http import QueryDict
from django.test import Client

from surveys.services.responses import ItemAnswer, response_save_draft
from tests.workspace_helpers import (
    english,  # noqa: F401 - fixture
    make_experts,
    submit,
)
from workspace.selectors_panel import panel_filter, panel_list
from workspace.services.mail import invitations_send
from workspace.services.panel import expert_withdraw

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def big_panel(round1, organizer):
    """44 experts: 20 in RU (12 reading Russian), 14 in US, 10 in WE; of them 6 invited only,
    3 started, 4 submitted and 1 withdrawn."""
    study = round1.study
    specs = ([(f"Ru{n:02}", "RU", "ru" if n < 12 else "en") for n in range(20)]
             + [(f"Us{n:02}", "US", "en") for n in range(14)]
             + [(f"We{n:02}", "WE", "en") for n in range(10)])
    experts = make_experts(study, specs)
    invitations_send(study=study, experts=experts[:14], actor=organizer)
    for expert in experts[6:9]:
        response_save_draft(expert=expert, round_=round1, answers={"agree": ItemAnswer(values={"": 4})})
    for expert in experts[9:13]:
        submit(expert, round1, agree=4, dims=None, prob=None, year=None, rank=None)
    expert_withdraw(expert=experts[13], actor=organizer)
    return experts


def _list(study, round_, **params):
    query = QueryDict(mutable=True)
    query.update(params)
    return panel_list(study, round_, panel_filter(study, query))


def _counts(listing, facet):
    return {c["value"]: c["n"] for c in listing.counts[facet]}


def test_search_finds_experts_by_part_of_the_name_or_the_email(round1, big_panel):
    study = round1.study
    assert [e.name for e in _list(study, round1, q="us03").page] == ["Us03"]
    assert [e.name for e in _list(study, round1, q="WE07@EXAMPLE").page] == ["We07"]
    assert _list(study, round1, q="nobody-like-this").page.paginator.count == 0


def test_filters_combine_and_each_value_counts_what_it_would_show(round1, big_panel):
    study = round1.study
    everyone = _list(study, round1)
    assert everyone.total == 44 and everyone.page.paginator.count == 44
    assert _counts(everyone, "group") == {"RU": 20, "US": 14, "WE": 10}
    assert _counts(everyone, "status") == {"not_invited": 30, "invited": 6, "started": 3,
                                           "submitted": 4, "withdrawn": 1}
    assert _counts(everyone, "language") == {"en": 32, "ru": 12}
    russians = _list(study, round1, in_group="RU", in_language="ru")
    assert russians.page.paginator.count == 12
    # a filter's own counts ignore its current choice, the other filters narrow them
    assert _counts(russians, "group") == {"RU": 12, "US": 0, "WE": 0}
    assert _counts(russians, "language") == {"en": 8, "ru": 12}
    assert _counts(russians, "status")["submitted"] == 3  # Ru09-Ru11 (Ru12 reads English)
    submitted = _list(study, round1, status="submitted", q="ru")
    assert [e.name for e in submitted.page] == ["Ru09", "Ru10", "Ru11", "Ru12"]
    assert [e.name for e in _list(study, round1, status="withdrawn").page] == ["Ru13"]


def test_the_list_comes_in_pages_of_25_and_bad_parameters_are_ignored(round1, big_panel):
    study = round1.study
    first, second = _list(study, round1), _list(study, round1, page="2")
    assert len(first.page) == 25 and len(second.page) == 19
    assert {e.pk for e in first.page}.isdisjoint({e.pk for e in second.page})
    odd = _list(study, round1, page="99", in_group="XX", status="lost", in_language="de")
    assert odd.page.number == 2 and odd.page.paginator.count == 44


def test_the_panel_page_searches_filters_and_pages_without_javascript(round1, big_panel, organizer):
    client = Client()
    client.post("/accounts/login/", {"username": "olga", "password": "olga-pw-123"})
    url = f"/studio/{round1.study.slug}/panel/"
    html = client.get(url, {"status": "submitted"}).content.decode()
    assert html.count('<tr><th scope="row">') == 4
    assert "4 experts of 44 match." in html and "submitted (4)" in html
    page2 = client.get(url, {"page": "2", "in_language": "en"}).content.decode()
    assert "Page 2 of 2 (experts 26–32)" in page2 and 'href="?page=1&amp;in_language=en"' in page2
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    russian = client.get(url, {"q": "ru0"}).content.decode()
    assert "Имя или адрес" in russian and "Подходят 10 экспертов из 44." in russian
