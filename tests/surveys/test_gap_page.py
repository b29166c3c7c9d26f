"""The expert–public gap on the platform (page and API) on a hand-made pair of studies: it
equals analysis.gap's table for the same frames, and only members of both studies see it."""

import re

import pytest

from analysis.gap import expert_public_gap
from surveys.figures import rule_in_force
from surveys.models import Collector, Entry, Expert
from surveys.selectors_gap import gap_records, panel_frame, survey_frame
from surveys.services.panel import expert_create
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from tests.api.conftest import bearer
from tests.conftest import _staff, small_study_data
from tests.surveys.fielding_helpers import survey_load

pytestmark = pytest.mark.django_db
PANEL = [4, 4, 4, 5, 2]  # % agree (4 or 5): 4/5 = 80 %, median 4
RUSSIA = [5, 4, 2, 1]  # 2/4 = 50 %
USA = [4, 4, 5, 3]  # 3/4 = 75 %; all eight: 5/8 = 62.5 %; gap 62.5 - 80 = -17.5 points
SPEEDER = 1  # a flagged US respondent, left out (with it the US would be 3/5 = 60 %)


def _answer(expert, round_, value):
    response_submit(expert=expert, round_=round_,
                    answers={"agree": ItemAnswer(values={"": float(value)})})


@pytest.fixture
def pair(django_capture_on_commit_callbacks):
    panel = study_load(data=small_study_data("panel"))
    first = round_open(round_=round_create(study=panel))
    for k, value in enumerate(PANEL):
        expert = expert_create(study=panel, name=f"E{k}", email=f"e{k}@example.org",
                               group_code="RU")
        _answer(expert, first, value)
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=first)
    survey = survey_load("poll", quota=None, compare_with="panel")
    round_ = survey.rounds.get()
    for code, values, flags in (("ru-panel", RUSSIA, {}), ("us-open", USA, {}),
                                ("us-open", [SPEEDER], {"speeder": 30.0})):
        collector = Collector.objects.get(study=survey, code=code)
        for value in values:
            expert = Expert.objects.create(study=survey, name="", email="",
                                           group=collector.group)
            Entry.objects.create(collector=collector, expert=expert, flags=flags,
                                 status=Entry.Status.COMPLETED)
            _answer(expert, round_, value)
    owner = _staff(panel, "owen", "owner")
    from surveys.services.panel import member_add
    member_add(study=survey, user=owner, role="analyst")
    return panel, survey, owner


def test_the_api_equals_analysis_gap_on_the_same_frames(pair, client):
    panel, survey, owner = pair
    from rest_framework.test import APIClient

    answer = APIClient().get("/api/v1/studies/poll/gap/?panel=panel", **bearer(owner))
    assert answer.status_code == 200
    body = answer.json()
    table = expert_public_gap(panel_frame(panel), survey_frame(survey),
                              rule=rule_in_force(panel).as_dict(), by="country")
    assert body["panel"] == "panel" and body["rows"] == gap_records(table)
    assert body["weighted"] is False and body["weighting_problem"] == ""
    rows = {row["category"]: row for row in body["rows"]}
    assert rows[None]["panel_pct_agree"] == pytest.approx(80)
    assert rows[None]["panel_median"] == 4
    assert rows[None]["survey_n"] == 8
    assert rows[None]["survey_pct_agree"] == pytest.approx(62.5)
    assert rows["Russia"]["survey_pct_agree"] == pytest.approx(50)
    assert rows["United States"]["survey_pct_agree"] == pytest.approx(75)
    assert rows[None]["gap_pct_agree"] == pytest.approx(-17.5)
    # compare_with is the default panel
    assert APIClient().get("/api/v1/studies/poll/gap/", **bearer(owner)).json() == body


def test_the_page_shows_the_figures_in_both_languages(pair, client):
    _panel, _survey, owner = pair
    client.force_login(owner)
    page = client.get("/studies/poll/gap/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "62.5" in text and "\u221217.5" in text and "no clear difference" in text
    assert 'href="/studies/poll/gap/"' in client.get("/studies/poll/").content.decode()
    russian = client.get("/studies/poll/gap/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Разрыв между экспертами и опрошенными" in russian
    assert "нет явного различия" in russian and "Россия" in russian  # the country as its group


def test_outsiders_get_404(pair, client):
    panel, survey, _owner = pair
    from rest_framework.test import APIClient

    only_survey = _staff(survey, "sam", "analyst")
    nobody = _staff(panel, "nick", None)
    for user in (only_survey, nobody):
        client.force_login(user)
        assert client.get("/studies/poll/gap/").status_code == 404
        api = APIClient().get("/api/v1/studies/poll/gap/?panel=panel", **bearer(user))
        assert api.status_code == 404


def test_declared_margins_weight_the_survey_as_analysis_weights_does(pair):
    from analysis.weights import margin_columns, respondents, validate_margins, weigh
    from surveys.selectors_gap import gap_frame

    panel, survey, _owner = pair
    survey.margins = [{"variable": "country", "category": "Russia", "share": 0.75, "source": "t"},
                      {"variable": "country", "category": "United States", "share": 0.25,
                       "source": "t"}]
    survey.save()
    frame = survey_frame(survey)
    margins = validate_margins(__import__("pandas").DataFrame(survey.margins))
    weights = weigh(respondents(frame, margin_columns(margins)), margins).weights
    expected = expert_public_gap(panel_frame(panel), frame.assign(
        w=frame["expert"].astype(str).map(weights)), rule=rule_in_force(panel).as_dict(),
        by="country", weight="w")
    rows = gap_records(gap_frame(panel, survey))
    assert rows == gap_records(expected)
    # Post-stratified to 75/25: 0.75 x 50 % + 0.25 x 75 % = 56.25 % agree overall.
    assert rows[0]["category"] is None
    assert rows[0]["survey_pct_agree"] == pytest.approx(56.25)


def test_margins_that_cannot_weight_yet_leave_the_estimates_unweighted_and_say_why(pair, client):
    from rest_framework.test import APIClient

    panel, survey, owner = pair
    survey.margins = [{"variable": "country", "category": "Russia", "share": 0.5, "source": ""},
                      {"variable": "country", "category": "Canada", "share": 0.5, "source": ""}]
    survey.save()
    body = APIClient().get("/api/v1/studies/poll/gap/", **bearer(owner)).json()
    assert body["weighted"] is False and "Canada" in body["weighting_problem"]
    assert body["rows"][0]["survey_pct_agree"] == pytest.approx(62.5)  # as unweighted
    client.force_login(owner)
    assert "cannot weight its answers yet" in client.get("/studies/poll/gap/").content.decode()


def test_the_page_and_the_api_count_the_flagged_respondents_left_out(pair, client):
    from rest_framework.test import APIClient

    _panel, survey, owner = pair
    us = Collector.objects.get(study=survey, code="us-open")
    for flags in ({"straight_lining": [1], "instructed_response": ["check"]}, {"honeypot": True}):
        expert = Expert.objects.create(study=survey, name="", email="", group=us.group)
        Entry.objects.create(collector=us, expert=expert, flags=flags,
                             status=Entry.Status.COMPLETED)
        _answer(expert, survey.rounds.get(), 1)
    body = APIClient().get("/api/v1/studies/poll/gap/", **bearer(owner)).json()
    flags = {"speeder": 1, "straight_lining": 1, "instructed_response": 1, "honeypot": 1}
    assert body["flagged"] == {"respondents": 3, "flags": flags}
    assert list(body["flagged"]["flags"]) == list(flags)  # the flags' own order
    assert body["rows"][0]["survey_n"] == 8  # the three are left out
    client.force_login(owner)
    english = client.get("/studies/poll/gap/").content.decode()
    assert ("3 flagged respondents left out: 1 speeder, 1 straight-lining, 1 failing the "
            "attention check, 1 filling the hidden field.") in english
    russian = client.get("/studies/poll/gap/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert ("Исключены 3 помеченных респондента: 1 слишком быстрый, 1 с одинаковыми ответами "
            "подряд, 1 не прошедший проверку внимания, 1 заполнивший скрытое поле.") in russian


def test_the_margins_are_named_in_the_pages_language(pair, client):
    _panel, survey, owner = pair
    source = {"en": "Census", "ru": "Перепись"}  # a study file may give the source in both
    survey.margins = [{"variable": "country", "category": "Russia", "share": 0.75,
                       "source": source},
                      {"variable": "country", "category": "United States", "share": 0.25,
                       "source": source}]
    survey.save()
    client.force_login(owner)
    english = client.get("/studies/poll/gap/").content.decode()
    assert "country Russia 0.750; country United States 0.250 (Census)" in english
    russian = client.get("/studies/poll/gap/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "страна Россия 0,750; страна США 0,250 (Перепись)" in russian
    report = client.get("/studies/poll/reports/1/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "<td>Перепись</td>" in report and "Census" not in report


def test_an_interval_with_a_negative_bound_reads_with_to_not_a_dash():
    from django.utils import translation

    from surveys.templatetags.numbers import interval

    assert interval(48.14, 62.26) == "48.1–62.3"
    assert interval(-42.2, -12.2) == "\u221242.2 to \u221212.2"
    assert interval(-3, 4.5) == "\u22123.0 to 4.5"
    assert interval(None, 4) == ""
    with translation.override("ru"):
        assert interval(-42.2, -12.2) == "от \u221242,2 до \u221212,2"


def test_negative_figures_carry_a_true_minus_and_the_api_keeps_numbers(pair, client):
    _panel, _survey, owner = pair
    client.force_login(owner)
    text = client.get("/studies/poll/gap/").content.decode()
    assert "<td>\u221217.5</td>" in text  # the gap, 62.5 - 80
    assert "-17.5" not in text and "–-" not in text  # no hyphen as a minus, in a bound either
    assert "–\u2212" not in text and re.search(r"<td>\u2212[\d.]+ to \u2212?[\d.]+</td>", text)
    russian = client.get("/studies/poll/gap/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "<td>\u221217,5</td>" in russian  # and a decimal comma
    from rest_framework.test import APIClient

    body = APIClient().get("/api/v1/studies/poll/gap/", **bearer(owner)).json()
    assert body["rows"][0]["gap_pct_agree"] == pytest.approx(-17.5)  # a number, as before


def test_items_are_headed_by_the_number_respondents_saw_with_the_code_beside(pair, client):
    _panel, _survey, owner = pair
    client.force_login(owner)
    page = client.get("/studies/poll/gap/")
    [item] = page.context["items"]
    assert item["number"] == "1.1"  # the first item of the first theme, as its page showed it
    html = page.content.decode()
    assert ('<h2><span class="sr-only">Item </span>1.1 <span class="code">agree</span></h2>'
            in html)


def test_the_panel_line_abbreviates_the_iqr_in_the_pages_language(pair, client):
    _panel, _survey, owner = pair
    client.force_login(owner)
    russian = client.get("/studies/poll/gap/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "· МКР 0 ·" in russian and "IQR" not in russian
    assert "· IQR 0 ·" in client.get("/studies/poll/gap/").content.decode()
