"""The reporting-guideline checklist: every ACCORD, DELPHISTAR and CREDES item, each pointing to
a section the report really has (or saying that only the authors can answer it), honest about
what this study did not register, and downloadable by the study's members only."""

import csv
import io
import re
from collections import Counter

import pytest
from django.utils import translation
from openpyxl import load_workbook

from surveys.reports.checklist import AUTHORS, MISSING, REPORTED
from surveys.reports.data import report_data
from surveys.reports.guidelines import ACCORD, CREDES, DELPHISTAR
from surveys.reports.jobs import report_body
from surveys.services.rounds import round_close, round_create, round_open
from tests.surveys.test_reports import answer_round

AUTHORS_ONLY = {"1", "2", "3", "24", "31", "33", "34", "35"}  # title, background, ethics, ...


def _items(data: dict, key: str) -> dict[str, dict]:
    [guideline] = [g for g in data["checklist"] if g["key"] == key]
    return {e["number"]: e for e in guideline["items"]}


@pytest.fixture
def reported(study, round1, django_capture_on_commit_callbacks):
    """Round 1 of a study without registered rules, answered and aggregated."""
    answer_round(study, round1)
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round1)
    round1.refresh_from_db()
    return round1


@pytest.fixture
def registered(study, organizer, django_capture_on_commit_callbacks):
    """The same study with its rules registered before round 1 opened."""
    from workspace.services.rules import rule_register

    rule_register(study=study, actor=organizer)
    round_ = round_open(round_=round_create(study=study))
    answer_round(study, round_)
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round_)
    round_.refresh_from_db()
    return round_


def test_the_guidelines_have_their_published_item_counts():
    assert [i.number for i in ACCORD.items] == [str(n) for n in range(1, 36)]
    sections = Counter(i.section for i in ACCORD.items)
    assert [sections[s] for s in ("title", "introduction", "methods", "results", "discussion",
                                  "other")] == [1, 3, 21, 5, 2, 3]
    assert [i.number for i in DELPHISTAR.items] == [str(n) for n in range(1, 39)]
    sections = Counter(i.section for i in DELPHISTAR.items)
    assert [sections[s] for s in ("title_abstract", "context", "methods", "results",
                                  "discussion")] == [3, 7, 20, 4, 4]
    assert [i.number for i in CREDES.items] == [str(n) for n in range(1, 17)]
    for guideline in (ACCORD, DELPHISTAR, CREDES):
        for item in guideline.items:
            assert item.topic_en and re.search("[а-яё]", item.topic_ru)


@pytest.mark.parametrize("fixture", ["reported", "registered"])
def test_every_location_is_a_section_of_the_rendered_report(fixture, request):
    round_ = request.getfixturevalue(fixture)
    with translation.override("en"):
        data = report_data(round_)
        body = str(report_body(round_, "en"))
    ids = set(re.findall(r'\sid="([^"]+)"', body))
    assert "checklist" in ids
    entries = [e for g in data["checklist"] for e in g["items"]]
    assert len(entries) == 35 + 38 + 16
    for e in entries:
        assert e["status"] in {"reported", "partial", "authors", "missing", "not_applicable"}
        if e["location"]:
            assert e["location"] in ids, e
            assert f'href="#{e["location"]}"' in body
        else:
            assert e["status"] != REPORTED  # nothing is "reported" without a place


def test_items_only_the_authors_can_complete_say_so(reported):
    accord = _items(report_data(reported), "accord")
    for number in AUTHORS_ONLY:
        assert (accord[number]["status"], accord[number]["location"]) == (AUTHORS, "")
        assert accord[number]["status_label"] == "to be completed by the authors"
    assert _items(report_data(reported), "delphistar")["10"]["status"] == AUTHORS  # funding


def test_without_registered_rules_the_a_priori_definition_is_not_reported(reported):
    data = report_data(reported)
    accord, credes = _items(data, "accord"), _items(data, "credes")
    assert accord["14"]["status"] == MISSING
    assert "not registered before round 1" in accord["14"]["note"]
    assert credes["3"]["status"] == MISSING
    assert accord["30"]["status"] == MISSING  # no plan to deviate from
    assert accord["29"]["status"] == MISSING  # no stopping rule


def test_registered_rules_answer_the_a_priori_items(registered):
    data = report_data(registered)
    accord = _items(data, "accord")
    assert accord["14"]["status"] == REPORTED and accord["14"]["location"] == "rules"
    assert "before round 1" in accord["14"]["note"]
    assert data["rules"]["registered_at"].date().isoformat() in accord["14"]["note"]
    if data["protocol"]:  # a frozen protocol: its first version's hash, and no amendments
        assert "SHA-256" in accord["14"]["note"]
        assert accord["30"]["note"] == "No amendments: the study ran as registered."
    else:
        assert accord["30"]["note"] == "None: the rules are as registered."
    assert accord["29"]["status"] == REPORTED  # the stopping rule's outcome after round 1
    body = str(report_body(registered, "en"))
    assert 'id="checklist"' in body and "Consensus defined a priori" in body


def test_scales_point_to_the_protocol_and_panel_characteristics_are_partly_reported(registered):
    data = report_data(registered)
    accord, delphistar = _items(data, "accord"), _items(data, "delphistar")
    for entry in (accord["16"], delphistar["17"]):  # the methods hold no scales
        if data["protocol"]:
            assert (entry["status"], entry["location"]) == (REPORTED, "protocol")
            assert "Items and scales" in entry["note"]
        else:
            assert (entry["status"], entry["location"]) == ("partial", "methods")
    for entry in (accord["27"], delphistar["32"]):  # only counts per group
        assert entry["status"] == "partial" and "number of experts" in entry["note"]
    assert accord["10"]["status"] == REPORTED  # size and composition by group
    if data["protocol"]:  # no public address for the protocol: only partly
        assert accord["5"]["status"] == "partial"
        assert "JSON" in accord["5"]["note"] and "SHA-256" in accord["5"]["note"]
    assert "online" in accord["13"]["note"]
    assert any("conducted online" in line for line in data["methods_text"]["design"])


def test_rules_registered_after_round_1_opened_are_only_partly_a_priori(reported, organizer):
    from workspace.services.rules import rule_register

    rule_register(study=reported.study, actor=organizer,
                  reason="Registered late: the organizers forgot before round 1.")
    accord = _items(report_data(reported), "accord")
    assert (accord["14"]["status"], accord["14"]["location"]) == ("partial", "rules")
    assert "after round 1 had opened" in accord["14"]["note"]


def test_the_checklist_speaks_russian(reported):
    with translation.override("ru"):
        data = report_data(reported)
    accord = _items(data, "accord")
    assert accord["1"]["topic"].startswith("Заголовок")
    assert accord["1"]["status_label"] == "заполняют авторы"
    assert accord["5"]["section"] == "Методы"
    assert "не были зарегистрированы" in accord["14"]["note"]


def test_the_csv_download_is_for_members_only(client, reported, analyst, outsider, settings):
    url = f"/studies/{reported.study.slug}/reports/1/checklist/csv/"
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(analyst)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="{reported.study.slug}-round-1-checklist.csv"')
    assert response.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["guideline", "number", "section", "topic", "location", "status", "note"]
    assert len(rows) == 1 + 35 + 38 + 16
    assert Counter(r[0] for r in rows[1:]) == {"ACCORD": 35, "DELPHISTAR": 38, "CREDES": 16}
    assert any(r[4] == "Methods (#methods)" for r in rows[1:])
    assert client.get(url.replace("/csv/", "/docx/")).status_code == 404
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    with translation.override("en"):  # the middleware activates Russian: leave no trace behind
        russian = client.get(url).content.decode("utf-8-sig")
    assert "заполняют авторы" in russian
    assert russian.splitlines()[0] == "руководство,номер,раздел,тема,где в отчёте,статус,примечание"


def test_the_xlsx_download_holds_every_item(client, reported, analyst):
    client.force_login(analyst)
    response = client.get(f"/studies/{reported.study.slug}/reports/1/checklist/xlsx/")
    book = load_workbook(io.BytesIO(response.content))
    rows = list(book["Checklist"].iter_rows(values_only=True))
    assert rows[0][:3] == ("guideline", "number", "section") and len(rows) == 1 + 35 + 38 + 16


def test_the_report_page_links_the_checklist_downloads(client, reported, analyst):
    client.force_login(analyst)
    html = client.get(f"/studies/{reported.study.slug}/reports/1/").content.decode()
    assert f"/studies/{reported.study.slug}/reports/1/checklist/csv/" in html
    assert 'id="checklist"' in html and "ACCORD" in html
    assert not re.search(r"<script|<style|\sstyle=", html)
