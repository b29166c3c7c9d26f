"""A survey's report (Study.Mode.SURVEY): fielding and quality, weighting, estimates and the
expert–public gap on a hand-made survey, checked against hand-worked values and against the gap
page's selector; in Russian, and as a PDF."""

import io
import math
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from pypdf import PdfReader
from rest_framework.test import APIClient

from surveys.models import Collector, Entry, Expert
from surveys.reports.data import report_data
from surveys.selectors_gap import gap_records, gap_result
from surveys.services.panel import expert_create, member_add
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from tests.api.conftest import bearer
from tests.browser.test_browser_layout import ARTIFACTS
from tests.conftest import _staff, small_study_data
from tests.surveys.fielding_helpers import survey_data, survey_load

pytestmark = pytest.mark.django_db
PANEL = [4, 4, 4, 5, 2]  # the Delphi panel: 80 % agree
# (collector, answer to "agree", seconds to complete, flags)
RESPONDENTS = [
    ("ru-panel", 5, 100, {}), ("ru-panel", 4, 200, {}), ("ru-panel", 2, 300, {}),
    ("ru-panel", 1, 400, {}),  # Russia: 2 of 4 agree = 50 %
    ("us-open", 4, 60, {}), ("us-open", 4, 120, {}), ("us-open", 5, 180, {}),
    ("us-open", 3, 240, {}),  # the United States: 3 of 4 = 75 %
    ("us-open", 1, 30, {"speeder": 30.0}),  # flagged: left out of the weights and estimates
]
# Population: Russia 75 %, the United States 25 %. Post-stratified, each of the four Russians
# weighs 0.75 * 8 / 4 = 1.5, each American 0.25 * 8 / 4 = 0.5 (sum 8). Weighted % agree:
# (2 * 1.5 + 3 * 0.5) / 8 = 56.25 %. Kish: n_eff = 8² / (4 * 1.5² + 4 * 0.5²) = 64 / 10 = 6.4,
# deff = 8 * 10 / 64 = 1.25. Weighted median: cumulative weight 1.5 (1), 3 (2), 3.5 (3), 6 (4)
# passes half of 8 at 4.
MARGINS = [{"variable": "country", "category": "Russia", "share": 0.75, "source": "Census 2026"},
           {"variable": "country", "category": "United States", "share": 0.25,
            "source": "Census 2026"}]


def wilson(p: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * (centre - half), 100 * (centre + half)


def _answer(expert, round_, value):
    response_submit(expert=expert, round_=round_,
                    answers={"agree": ItemAnswer(values={"": float(value)})})


def _entry(collector, status, **fields):
    expert = Expert.objects.create(study=collector.study, name="", email="", group=collector.group)
    return Entry.objects.create(collector=collector, expert=expert, status=status, **fields)


@pytest.fixture
def survey_pair(django_capture_on_commit_callbacks):
    """The panel (one aggregated round), the survey weighted to MARGINS with RESPONDENTS, one
    declined and one screened-out arrival, and Owen: the panel's owner, the survey's analyst."""
    panel = study_load(data=small_study_data("panel"))
    first = round_open(round_=round_create(study=panel))
    for k, value in enumerate(PANEL):
        _answer(expert_create(study=panel, name=f"E{k}", email=f"e{k}@example.org",
                              group_code="RU"), first, value)
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=first)
    survey = survey_load("poll", quota=None, compare_with="panel", margins=MARGINS)
    round_ = survey.rounds.get()
    start = timezone.now() - timedelta(hours=1)
    for code, value, seconds, flags in RESPONDENTS:
        entry = _entry(Collector.objects.get(study=survey, code=code), Entry.Status.COMPLETED,
                       flags=flags, consented_at=start, started_at=start,
                       completed_at=start + timedelta(seconds=seconds))
        _answer(entry.expert, round_, value)
    _entry(Collector.objects.get(study=survey, code="ru-panel"), Entry.Status.DECLINED,
           declined_at=start)
    _entry(Collector.objects.get(study=survey, code="us-open"), Entry.Status.SCREENED_OUT,
           consented_at=start)
    owner = _staff(panel, "owen", "owner")
    member_add(study=survey, user=owner, role="analyst")
    return panel, survey, owner


def test_the_fielding_table_counts_every_arrival_and_flag(survey_pair):
    _panel, survey, _owner = survey_pair
    fielding = report_data(survey.rounds.get())["fielding"]
    rows = {r["code"]: r for r in fielding["rows"]}
    assert (rows["ru-panel"]["entries"], rows["ru-panel"]["consented"],
            rows["ru-panel"]["declined"], rows["ru-panel"]["completed"]) == (5, 4, 1, 4)
    assert (rows["us-open"]["entries"], rows["us-open"]["screened_out"],
            rows["us-open"]["completed"], rows["us-open"]["flagged"]) == (6, 1, 5, 1)
    assert rows["ru-panel"]["median_seconds"] == 250 and rows["us-open"]["median_seconds"] == 120
    totals = fielding["totals"]
    assert (totals["entries"], totals["consented"], totals["completed"], totals["flagged"],
            totals["declined"], totals["screened_out"]) == (11, 10, 9, 1, 1, 1)
    assert totals["median_seconds"] == 180  # of 30, 60, 100, 120, 180, 200, 240, 300, 400
    [flagged] = fielding["flagged"]
    assert flagged["collector"] == "us-open" and flagged["flags"] == ["too fast"]
    assert flagged["expert"].startswith("P")  # the exports' pseudonym, never a name


def test_the_weighting_and_the_estimates_match_hand_worked_values(survey_pair):
    _panel, survey, _owner = survey_pair
    data = report_data(survey.rounds.get())
    w = data["weighting"]
    assert w["weighted"] and w["method"] == "poststratification"
    assert (w["n"], w["flagged_excluded"]) == (8, 1)
    assert w["n_eff"] == pytest.approx(6.4) and w["deff"] == pytest.approx(1.25)
    assert (w["weight_min"], w["weight_max"]) == (pytest.approx(0.5), pytest.approx(1.5))
    assert w["sources"] == ["Census 2026"]
    russia = next(m for m in w["margins"] if m["category"] == "Russia")
    assert (russia["share"], russia["sample_share"], russia["weighted_share"]) == (
        pytest.approx(75), pytest.approx(50), pytest.approx(75))
    [agree] = [e for e in data["estimates"] if e["code"] == "agree"]
    overall = agree["overall"]
    assert overall["n"] == 8 and overall["flagged_excluded"] == 1
    assert overall["pct_agree"] == pytest.approx(56.25) and overall["median"] == 4
    low, high = wilson(0.5625, 6.4)
    assert overall["pct_agree_ci_low"] == pytest.approx(low)
    assert overall["pct_agree_ci_high"] == pytest.approx(high)
    countries = {r["label"]: r for r in agree["countries"]}
    assert countries.keys() == {"Russia", "United States"}  # the collectors' groups' names
    assert countries["Russia"]["pct_agree"] == pytest.approx(50)
    assert countries["United States"]["pct_agree"] == pytest.approx(75)
    assert countries["United States"]["n"] == 4


def test_the_reports_gap_equals_the_gap_page_and_the_api(survey_pair, client):
    panel, survey, owner = survey_pair
    gap = report_data(survey.rounds.get())["gap"]
    [item] = [i for i in gap["items"] if i["code"] == "agree"]
    table = gap_result(panel, survey).table
    api = APIClient().get("/api/v1/studies/poll/gap/", **bearer(owner)).json()
    assert api["rows"] == gap_records(table)
    api_overall = next(r for r in api["rows"] if r["category"] is None and r["item"] == "agree")
    assert item["overall"]["survey_pct_agree"] == api_overall["survey_pct_agree"]
    assert item["overall"]["gap_pct_agree"] == api_overall["gap_pct_agree"]
    assert api_overall["survey_pct_agree"] == pytest.approx(56.25)  # weighted, as the estimates
    assert api_overall["gap_pct_agree"] == pytest.approx(56.25 - 80)
    client.force_login(owner)
    page = client.get("/studies/poll/gap/").context["items"]
    assert [i["overall"] for i in page] == [i["overall"] for i in gap["items"]]
    html = client.get("/studies/poll/reports/1/").content.decode()
    assert 'id="gap"' in html and "\u221223.8" in html  # 56.25 - 80 = -23.75 points
    assert gap["flagged"] == api["flagged"] and gap["flagged"]["respondents"] == 1
    assert "1 flagged respondent left out: 1 speeder." in html


def test_the_gap_stays_out_unless_the_panels_owner_joined_the_survey(survey_pair):
    _panel, survey, owner = survey_pair
    survey.members.filter(user=owner).delete()
    assert report_data(survey.rounds.get())["gap"] is None


def test_without_margins_the_report_says_the_estimates_are_unweighted(survey_pair, client):
    _panel, survey, owner = survey_pair
    survey.margins = []
    survey.save(update_fields=["margins"])
    data = report_data(survey.rounds.get())
    assert not data["weighting"]["weighted"]
    [agree] = [e for e in data["estimates"] if e["code"] == "agree"]
    assert agree["overall"]["pct_agree"] == pytest.approx(62.5)  # 5 of 8, each weighing 1
    client.force_login(owner)
    html = client.get("/studies/poll/reports/1/").content.decode()
    assert "the estimates are unweighted, every respondent weighing 1" in html


def test_the_survey_report_page_has_its_own_sections_not_the_delphi_ones(survey_pair, client):
    _panel, _survey, owner = survey_pair
    client.force_login(owner)
    html = client.get("/studies/poll/reports/1/").content.decode()
    for section in ("fielding", "weighting", "estimates", "limitations", "flagged"):
        assert f'id="{section}"' in html
    assert '<details class="appendix"><summary>Appendix: flagged respondents' in html
    assert "An attitude survey" in html and "not a probability sample" in html
    assert "Respondents read a consent text first" in html and "Consent text version: v1" in html
    assert "Dissent register" not in html and "Convergence across rounds" not in html
    assert client.get("/studies/poll/reports/1/checklist/csv/").status_code == 404


def test_the_survey_report_speaks_russian(survey_pair, client, settings):
    _panel, _survey, owner = survey_pair
    client.force_login(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    with translation.override("en"):
        html = client.get("/studies/poll/reports/1/").content.decode()
    assert "Взвешивание" in html and "Оценки по пунктам" in html
    assert "слишком быстро" in html and "не вероятностная выборка" in html
    assert "Медианное время заполнения (с)" in html and "Эффективный объём выборки" in html


def test_the_survey_report_downloads_as_pdf(survey_pair, client,
                                            django_capture_on_commit_callbacks):
    _panel, _survey, owner = survey_pair
    client.force_login(owner)
    base = "/studies/poll/reports/1/download"
    page = client.get(f"{base}/html/")
    assert b"<details class=\"appendix\" open>" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        client.get(f"{base}/pdf/")
    pdf = client.get(f"{base}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(b"".join(
        pdf.streaming_content))).pages)
    assert "Estimates per item" in text and "Census 2026" in text and "56.3" in text  # 56.25, rounded half up


def test_a_new_arrival_renews_the_stored_report(survey_pair):
    _panel, survey, _owner = survey_pair
    from surveys.reports.jobs import job_key

    round_ = survey.rounds.get()
    before = job_key(round_, "en")
    _entry(Collector.objects.get(study=survey, code="ru-panel"), Entry.Status.DECLINED)
    assert job_key(round_, "en") != before  # no response changed: the entries count


def _pdf(client, owner, capture, language: str = "en") -> bytes:
    client.force_login(owner)
    client.cookies["django_language"] = language
    base = "/studies/poll/reports/1/download"
    with capture(execute=True):
        client.get(f"{base}/pdf/")
    return b"".join(client.get(f"{base}/pdf/").streaming_content)


def test_the_printed_fielding_table_stays_inside_the_a4_margins(
        survey_pair, client, django_capture_on_commit_callbacks):
    import pypdfium2

    _panel, _survey, owner = survey_pair
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # a fresh clone has no test-artifacts/layout
    for language in ("en", "ru"):
        document = pypdfium2.PdfDocument(_pdf(client, owner, django_capture_on_commit_callbacks,
                                               language))
        margin = 14 / 25.4 * 72  # the page's right margin, 14 mm in points
        for k in range(len(document)):
            page = document[k]
            width = page.get_width()
            text = page.get_textpage()
            rights = [text.get_charbox(i)[2] for i in range(text.count_chars())
                      if text.get_text_range(i, 1).strip()]  # not the spaces pdfium adds
            assert max(rights, default=0) <= width - margin + 1, (language, k + 1)
            # Kept as test artifacts, for a look at the pages.
            page.render(scale=1.5).to_pil().save(ARTIFACTS / f"survey-pdf-{language}-{k + 1}.png")


def test_the_quality_checks_state_the_attention_check_and_its_rule(db, client):
    from surveys.selectors_fielding import survey_item_numbers

    data = survey_data("checked", quota=None)
    first = data["themes"][0]["items"]
    text = {"en": "Choose 2 here.", "ru": "Выберите здесь 2."}
    first.insert(0, {"code": "attention-1", "kind": "agreement", "instructed": 2, "text": text})
    survey = study_load(data=data)
    round_ = round_open(round_=round_create(study=survey))
    numbers = survey_item_numbers(survey)
    assert numbers["attention-1"] == "1.1" and numbers["agree"] == "1.2"  # as respondents saw
    report = report_data(round_)
    assert report["attention_checks"] == 1
    owner = _staff(survey, "olga", "owner")
    client.force_login(owner)
    html = client.get("/studies/checked/reports/1/").content.decode()
    assert "The questionnaire had 1 attention check" in html
    assert "answered otherwise than instructed, with another answer" in html
    russian = client.get("/studies/checked/reports/1/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "В анкете была 1 проверка внимания" in russian


def test_a_survey_without_attention_check_does_not_mention_one(survey_pair, client):
    _panel, _survey, owner = survey_pair
    client.force_login(owner)
    html = client.get("/studies/poll/reports/1/").content.decode()
    assert "attention check (" not in html and "attention checks (" not in html
    assert "or when a hidden field was filled (a bot). Flagged answers are kept" in html


def test_the_report_says_exactly_what_quota_full_counts(survey_pair, client):
    _panel, _survey, owner = survey_pair
    client.force_login(owner)
    html = client.get("/studies/poll/reports/1/").content.decode()
    assert "turned away by a full quota, who completed" not in html  # the old, wrong wording
    assert "leave no record and are not counted" not in html  # nor the one before it
    assert ("who was turned away because the link's quota had filled (quota full: on opening "
            "the link, counted once per browser with nothing else kept, or on reaching the "
            "end, their answers kept as a draft)") in html.replace("&#x27;", "'")
    assert "Both are counted as “quota full” and among the arrivals." in html
    russian = client.get("/studies/poll/reports/1/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "кому отказали, потому что квота ссылки уже заполнена" in russian
    assert "учтены в столбце «Квота заполнена» и среди переходов" in russian


def test_the_russian_weighting_table_names_variables_and_categories(survey_pair, client):
    _panel, survey, owner = survey_pair
    with translation.override("ru"):
        margins = report_data(survey.rounds.get())["weighting"]["margins"]
    assert {(m["variable"], m["category"]) for m in margins} == {
        ("страна", "Россия"), ("страна", "США")}
    assert {m["source"] for m in margins} == {"Census 2026"}  # the organizer's text, as given
    client.force_login(owner)
    russian = client.get("/studies/poll/reports/1/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "<td>страна</td><td>США</td>" in russian
    assert "· МКР 0 ·" in russian and "IQR" not in russian
    assert "\u221223,8" in russian  # the gap with a true minus and a decimal comma


def test_report_items_are_headed_by_their_number_with_the_code_beside(survey_pair, client):
    _panel, survey, owner = survey_pair
    data = report_data(survey.rounds.get())
    [agree] = [e for e in data["estimates"] if e["code"] == "agree"]
    assert agree["number"] == "1.1"
    assert [i["number"] for i in data["gap"]["items"]] == ["1.1"]
    client.force_login(owner)
    html = client.get("/studies/poll/reports/1/").content.decode()
    heading = '<span class="sr-only">Item </span>1.1 <span class="code">agree</span>'
    assert f"<h3>{heading}</h3>" in html  # the estimates
    assert html.count(heading) == 2  # and the gap, headed alike
    assert "<h3>agree</h3>" not in html
