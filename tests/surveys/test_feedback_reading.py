"""The feedback an expert reads between rounds: each kind's figures formatted in one place
(surveys.values.figure_text), in the kind's own words, and on every chart a legend, a scale
and the figures as text."""

import re

import pytest
from django.test import Client
from django.utils import translation

from surveys.models import Item, Round
from surveys.services.panel import expert_create, expert_issue_token
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from surveys.values import figure_range, figure_text
from tests.conftest import small_study_data, wait_for
from tests.edition_helpers import NEVER

pytestmark = pytest.mark.django_db
NB = "\u00a0"  # between a number and its unit or "%"


def reading_study_data(slug: str = "reading") -> dict:
    """The small study with a numeric item (in GW) and a year item with "never"."""
    data = small_study_data(slug)
    two = data["themes"][1]["items"]
    two[0] |= {"never": NEVER}
    two.insert(1, {"code": "num", "kind": "numeric", "min": 0, "max": 200,
                   "unit": {"en": "GW", "ru": "ГВт"}, "text": {"en": "Capacity", "ru": "Мощность"}})
    data["min_cell"] = 3
    return data


# Four experts; per item their answers, and by hand: median, Q1, Q3 (linear interpolation at
# positions 0.75, 1.5 and 2.25 of the sorted answers), and what the feedback line shows.
ANSWERS = {
    "agree": [2, 4, 4, 5],             # median 4, Q1 3.5, Q3 4.25 -> 4.5; 3 of 4 agree: 75 %
    "dims.desirability": [1, 2, 2, 4],  # median 2, Q1 1.75 -> 2, Q3 2.5; 1 of 4: 25 %
    "dims.feasibility": [3, 3, 4, 5],   # median 3.5, Q1 3, Q3 4.25 -> 4.5; 2 of 4: 50 %
    "prob": [10, 33, 34, 80],          # median 33.5 -> 34 %, Q1 27.25 -> 27, Q3 45.5 -> 46
    "year": [2030, 2034, 2035, 2100],  # median 2034.5 -> 2035, Q1 2033, Q3 2051.25 -> 2051
    "num": [12, 16, 17, 40],           # median 16.5, Q1 15, Q3 22.75 -> 22.8 GW
}


@pytest.fixture
def reading(db):
    return study_load(data=reading_study_data())


def _item(study, code: str) -> Item:
    return study.items.get(code=code)


def test_figures_are_formatted_per_kind_by_hand(reading):
    agree, prob, year = (_item(reading, c) for c in ("agree", "prob", "year"))
    num, rank = _item(reading, "num"), _item(reading, "rank")
    # 1-5 scales and places: the nearest half (a median between two answers), no "3.50".
    assert [figure_text(agree, v) for v in (3.5, 4.25, 4.0, 1.75, 3.125)] == [
        "3.5", "4.5", "4", "2", "3"]
    assert [figure_text(rank, v) for v in (2.5, 1.0, 2.25)] == ["2.5", "1", "2.5"]
    # Probabilities: whole per cent; years: whole years (2034.5 is 2035), "never" by its label.
    assert figure_text(prob, 33.5) == f"34{NB}%" and figure_text(prob, 0.0) == f"0{NB}%"
    assert figure_text(prob, 27.25, unit=False) == "27"
    assert [figure_text(year, v) for v in (2034.5, 2033.25, 2100.0)] == [
        "2035", "2033", NEVER["en"]]
    # Numbers: three significant figures at most, never a trailing zero, with their unit.
    assert [figure_text(num, v) for v in (16.5, 16.50, 15.125, 34.0, 1234.5, 0.125)] == [
        f"16.5{NB}GW", f"16.5{NB}GW", f"15.1{NB}GW", f"34{NB}GW", f"1235{NB}GW", f"0.125{NB}GW"]
    assert figure_text(num, None) == ""
    # A range names its unit once; a range of one figure is that figure.
    assert figure_range(num, 16.5, 34.0) == f"16.5–34{NB}GW"
    assert figure_range(prob, 20.0, 45.0) == f"20–45{NB}%"
    assert figure_range(year, 2075.0, 2100.0) == f"2075–{NEVER['en']}"
    assert figure_range(agree, 4.0, 4.0) == "4"
    with translation.override("ru"):
        assert figure_text(num, 16.5) == f"16,5{NB}ГВт" and figure_text(agree, 3.5) == "3,5"
        assert figure_text(year, 2034.5) == "2035"  # no thousands separator in a year


def _round_two(study, capture) -> list:
    """Four experts answered round 1 (ANSWERS); round 2 is open. Returns the experts."""
    round1 = round_open(round_=round_create(study=study))
    panel = [expert_create(study=study, name=f"E{k}", email=f"e{k}@example.org",
                           group_code=g, language="en")
             for k, g in enumerate(["RU", "US", "WE", "US"])]
    for k, expert in enumerate(panel):
        response_submit(expert=expert, round_=round1, answers={
            "agree": ItemAnswer(values={"": ANSWERS["agree"][k]}),
            "dims": ItemAnswer(values={"desirability": ANSWERS["dims.desirability"][k],
                                       "feasibility": ANSWERS["dims.feasibility"][k]}),
            "prob": ItemAnswer(values={"": ANSWERS["prob"][k]}),
            "year": ItemAnswer(values={"": ANSWERS["year"][k]}),
            "num": ItemAnswer(values={"": ANSWERS["num"][k]}),
            "rank": ItemAnswer(values={"a": 1 + k % 3, "b": 1 + (k + 1) % 3, "c": 1 + (k + 2) % 3}),
        })
    with capture(execute=True):
        round_close(round_=round1)
    # In-process the aggregation is done; with the real worker (committed tests) it follows.
    wait_for(lambda: Round.objects.get(pk=round1.pk).status == Round.Status.AGGREGATED,
             what="round 1 to be aggregated")
    round_open(round_=round_create(study=study))
    return panel


def _page(expert, language: str = "en") -> str:
    client = Client()
    client.get(f"/e/{expert_issue_token(expert=expert)}/")
    if language != "en":
        client.post("/q/language/", {"language": language, "next": "/q/"})
    return client.get("/q/").content.decode()


def _item_html(html: str, code: str) -> str:
    start = html.index(f'id="item-{code}"')
    return html[start:html.index("</fieldset>\n", html.index('class="save-line"', start))]


def test_each_kind_reads_in_its_own_words_with_its_figures(reading, django_capture_on_commit_callbacks):
    panel = _round_two(reading, django_capture_on_commit_callbacks)
    html = _page(panel[0])  # answered 2, 1/3, 10, 2030, 12

    assert "n = 4 · median 4 · middle half 3.5–4.5 · 75\u00a0% agree (4-5)" in html
    dims = _item_html(html, "dims")
    assert "median 2 · middle half 2–2.5 · 25\u00a0% find it desirable (4-5)" in dims
    assert "median 3.5 · middle half 3–4.5 · 50\u00a0% find it feasible (4-5)" in dims
    assert "agree" not in dims.lower().replace("disagree", "")
    assert "median 34\u00a0% likely · middle half 27–46\u00a0%" in html
    assert "median year 2035 · middle half 2033–2051" in html
    assert "median 16.5\u00a0GW · middle half 15–22.8\u00a0GW" in html
    # Option A's places 1, 2, 3, 1: median 1.5, Q1 1, Q3 2.25 -> 2.5.
    assert "Option A · Previous round: n = 4 · median place 1.5 · middle half 1–2.5" in html
    assert "Your previous answer: <strong>12\u00a0GW</strong>" in html
    assert "Your previous answer: <strong>10\u00a0%</strong>" in html
    assert not re.search(r"\d\.\d0\b", html)  # no "2034.50", no "16.50"


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_kinds_feedback_has_a_legend_a_scale_and_its_figures_as_text(
        reading, django_capture_on_commit_callbacks, language):
    panel = _round_two(reading, django_capture_on_commit_callbacks)
    html = _page(panel[0], language)
    words = {"en": ("your answer", "panel median", "middle half (IQR)", "Scale: 1 = ",
                    "How to read the panel's feedback", "Year (2100 = Not by 2100, or never)",
                    "Probability, %", "Place in the ranking"),
             "ru": ("ваш ответ", "медиана панели", "средняя половина (МКР)", "Шкала: 1 = ",
                    "Как читать ответы панели", "Год (2100 = Не ранее 2101 года или никогда)",
                    "Вероятность, %", "Место в ранжировании")}[language]
    own, median, iqr, scale, explain, year_axis, prob_axis, rank_axis = words

    assert html.count(explain) == 1  # the explanation, once per page
    body = {"en": "holds the middle 50 % of the answers", "ru": "охватывает средние 50 % ответов"}
    assert body[language] in html  # the whole explanation in the page's language
    for code, parts in [("agree", 1), ("dims", 2), ("prob", 1), ("year", 1), ("num", 1),
                        ("rank", 3)]:
        item = _item_html(html, code)
        assert item.count('class="feedback"') == parts, code
        assert item.count('class="fb-legend"') == parts, code
        own_entry = f'<span class="key key-own" aria-hidden="true"></span>{own}</span>'
        assert item.count(own_entry) == parts and item.count(median) == parts, code
        assert item.count(iqr) == parts, code
        assert item.count('class="fb-ticks" aria-hidden="true"') == parts, code
        assert item.count('class="fb-axis"') == parts, code
        assert item.count('aria-hidden="true" focusable="false"') == parts, code  # the SVGs
        assert 'role="img"' not in item, code  # the figures are text, not an SVG's label
    ticks = {code: re.findall(r"<span>([^<]*)</span>",
                              _item_html(html, code).split('class="fb-ticks"')[1].split("</div>")[0])
             for code in ("agree", "prob", "year", "num", "rank")}
    assert ticks == {"agree": ["1", "2", "3", "4", "5"], "prob": ["0", "25", "50", "75", "100"],
                     "year": ["2011", "2033", "2056", "2078", "2100"],
                     "num": ["0", "50", "100", "150", "200"], "rank": ["1", "2", "3"]}
    assert scale + ("Strongly disagree" if language == "en" else "Полное несогласие") \
        in _item_html(html, "agree")
    assert year_axis in html and prob_axis in html and rank_axis in html
    assert ("GW" if language == "en" else "ГВт") in _item_html(html, "num").split("fb-axis")[1]
    # Screen readers read the distribution the bars draw: 2, 4, 4, 5 on the agreement scale.
    sr = re.search(r'<p class="sr-only">([^<]*)</p>', _item_html(html, "agree")).group(1)
    if language == "en":
        assert sr == ("Answers per point of the scale: 1 (Strongly disagree): 0; 2 (Disagree): 1; "
                      "3 (Neither agree nor disagree): 0; 4 (Agree): 2; 5 (Strongly agree): 1.")
    translation.activate("en")


def test_no_legend_entry_for_an_own_answer_there_is_not(reading, django_capture_on_commit_callbacks):
    panel = _round_two(reading, django_capture_on_commit_callbacks)
    newcomer = expert_create(study=reading, name="New", email="new@example.org",
                             group_code="RU", language="en")
    html = _page(newcomer)
    assert html.count("panel median") == 9 and "key-own" not in html
    assert 'class="own"' not in html and "bar own" not in html
    assert panel  # the panel's four answered; the newcomer sees their figures only
