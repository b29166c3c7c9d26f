"""The demo's essay survey: loaded in bulk with the expected counts, speeders and missed
attention checks flagged, its round left open so the printed collector link takes answers (a
small N keeps the suite quick)."""

import pytest
import yaml
from django.test import Client

from surveys.models import Answer, Collector, Entry, Response, Round, Study
from surveys.selectors_fielding import fielding_table
from surveys.services.fielding_file import study_fielding_data
from workspace.services import demo, demo_final, demo_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey():
    staff = demo.demo_staff()
    return demo.demo_study(staff=staff, path=demo_survey.SURVEY_FILE), staff


def test_the_survey_file_reuses_the_delphi_studys_codes_and_names_it():
    panel = yaml.safe_load((demo.STUDY_FILE).read_text())
    data = yaml.safe_load(demo_survey.SURVEY_FILE.read_text())
    codes = {i["code"] for t in data["themes"] for i in t["items"] if "instructed" not in i}
    checks = [i for t in data["themes"] for i in t["items"] if "instructed" in i]
    assert [(i["code"], i["instructed"]) for i in checks] == [("attention-1", 2)]
    panel_codes = {i["code"] for t in panel["themes"] for i in t["items"]
                   if i["kind"] == "agreement"}
    assert len(codes) == 20 and codes <= panel_codes
    assert data["compare_with"] == demo_final.SLUG and data["mode"] == "survey"
    assert {c["country"] for c in data["collectors"]} == {
        "Russia", "United States", "Western Europe", "Central/Eastern Europe"}
    assert all(c["text"]["ru"] for c in data["consent"]) and len(data["screening"]) == 1


def test_the_demo_survey_loads_flags_speeders_and_stays_open(survey):
    study, staff = survey
    assert study.compare_with == demo_final.SLUG
    assert study_fielding_data(study)["compare_with"] == demo_final.SLUG
    Collector.objects.filter(study=study, code="ru").update(quota=10)  # a quota effect
    round_, completed = demo_survey.demo_survey_round(
        study=study, organizer=staff["organizer"], n=200)
    entries = Entry.objects.filter(collector__study=study)
    # round(200 x share) per collector: 56 + 52 + 48 + 44 arrivals; once ru's 10 places are
    # taken, the next 5 end "quota full" and the rest are turned away at the link (no entry).
    ru = Collector.objects.get(study=study, code="ru")
    ru_entries = entries.filter(collector=ru)
    assert ru_entries.filter(status=Entry.Status.COMPLETED).count() == 10
    assert ru_entries.filter(status=Entry.Status.QUOTA_FULL).count() == 5
    assert ru.turned_away == 56 - ru_entries.count() > 30
    assert entries.count() == 200 - ru.turned_away
    row = next(r for r in fielding_table(study) if r["code"] == "ru")
    assert (row["entries"], row["quota_full"]) == (56, 5 + ru.turned_away)
    done = entries.filter(status=Entry.Status.COMPLETED)
    assert done.count() == completed
    assert Response.objects.filter(round=round_, status=Response.Status.SUBMITTED).count() == completed
    # Twenty propositions and the attention check.
    assert Answer.objects.filter(response__round=round_).count() == 21 * completed
    speeders = [e for e in done if "speeder" in e.flags]
    assert 0 < len(speeders) < 0.15 * completed
    assert all(e.flags["speeder"] < 240 for e in speeders)  # faster than the collector's limit
    # The platform's own rule, no exception either way: flagged exactly when under 240 s.
    assert {e.pk for e in speeders} == {
        e.pk for e in done if (e.completed_at - e.started_at).total_seconds() < 240}
    inattentive = [e for e in done if "instructed_response" in e.flags]
    assert all(e.flags["instructed_response"] == ["attention-1"] for e in inattentive)
    assert 0 < len([e for e in inattentive if "speeder" not in e.flags]) < 0.1 * completed
    assert not entries.exclude(status=Entry.Status.COMPLETED).exclude(flags={}).exists()
    round_.refresh_from_db()
    assert round_.status == Round.Status.OPEN  # the printed collector link takes answers
    link = demo_survey.demo_survey_link(study)
    assert link is not None and link.code == "us"
    again, more = demo_survey.demo_survey_round(study=Study.objects.get(pk=study.pk),
                                                organizer=staff["organizer"], n=200)
    assert more == 0 and entries.count() == 200 - ru.turned_away  # running it again adds nobody
    assert Client().get(f"/s/{link.token}/").status_code == 200  # the consent page


def test_a_respondent_sees_the_survey_s_title_and_description_and_no_internal_code(survey):
    """The first page's intro is the organizer's description, written for respondents: no
    study code, no mention of the Delphi study the items come from."""
    study, staff = survey
    demo_survey.demo_survey_round(study=study, organizer=staff["organizer"], n=4)
    link = demo_survey.demo_survey_link(study)
    for language, title in (("en", "an attitude survey (2026)"), ("ru", "опрос мнений (2026)")):
        client = Client()
        client.cookies["django_language"] = language
        client.get(f"/s/{link.token}/")
        client.post(f"/s/{link.token}/consent/", {"choice": "agree", "version": "2026-1"})
        client.post(f"/s/{link.token}/screening/", {"s-role": "expert"})
        page = client.get(f"/s/{link.token}/page/1/")
        html = page.content.decode()
        description = study.description_en if language == "en" else study.description_ru
        assert page.status_code == 200 and title in html
        assert f'<p class="intro">{description}'.replace("'", "&#x27;") in html
        main = html[html.index("<main"):html.index("</main>")]  # the page, not the brand
        for internal in ("euromd", "Delphi", "дельфийск", "Дельфи"):
            assert internal not in main, internal
