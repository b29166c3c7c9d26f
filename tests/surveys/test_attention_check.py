"""A survey's instructed-response item (attention check): declared in the study file, shown on
its page like any item, flagged when answered otherwise, and never a proposition (not
aggregated, exported, compared or reported)."""

import pytest
from django.test import Client

from surveys.errors import StudyFileError
from surveys.exports import export_long, items_codebook, study_definition
from surveys.models import Aggregate, Entry, Item
from surveys.reports.items import study_items
from surveys.reports.office import answer_columns
from surveys.selectors_gap import survey_frame
from surveys.services.rounds import round_close
from surveys.services.studies import study_file_check, study_load
from tests.conftest import small_study_data
from tests.surveys.fielding_helpers import PAGES, collector, survey_data, survey_load, walk

pytestmark = pytest.mark.django_db
CHECK = {"code": "check", "kind": "agreement", "instructed": 2,
         "text": {"en": "To show you are reading, choose 'Disagree'.",
                  "ru": "Чтобы показать, что вы читаете, выберите «Несогласие»."}}


def with_check(data: dict, check: dict | None = None) -> dict:
    data["themes"][0]["items"].append(check or CHECK)
    return data


@pytest.fixture
def poll():
    return survey_load("poll", quota=None, themes=with_check(survey_data("poll"))["themes"])


def test_the_study_file_declares_the_check_and_gives_it_back(poll):
    item = Item.objects.get(study=poll, code="check")
    assert item.instructed == 2 and not item.is_proposition
    assert Item.objects.get(study=poll, code="agree").is_proposition
    assert list(poll.items.propositions().values_list("code", flat=True)) == [
        "agree", "dims", "prob", "year", "rank", "open"]
    definition = study_definition(poll)
    entry = next(i for t in definition["themes"] for i in t["items"] if i["code"] == "check")
    assert entry["instructed"] == 2 and study_file_check(definition) == []


@pytest.mark.parametrize(("data", "problem"), [
    (with_check(small_study_data("classic")), "only a survey's items can be attention checks"),
    (with_check(survey_data("p1"), {**CHECK, "instructed": 7}), "on the item's scale"),
    (with_check(survey_data("p2"), {**CHECK, "instructed": True}), "on the item's scale"),
    (with_check(survey_data("p3"), {**CHECK, "instructed": "2"}), "on the item's scale"),
    (with_check(survey_data("p4"), {**CHECK, "kind": "open"}), "agreement, probability"),
    (with_check(survey_data("p5"), {**CHECK, "kind": "year", "min": 2000, "max": 2050,
                                    "instructed": 1999}), "on the item's scale"),
])
def test_a_check_that_cannot_be_answered_as_asked_is_refused(data, problem):
    problems = study_file_check(data)
    assert any("themes[0].items[3].instructed" in p and problem in p for p in problems), problems
    with pytest.raises(StudyFileError):
        study_load(data=data)


def test_the_check_is_on_its_section_page_like_any_item(poll):
    client = Client()
    token = collector(poll).token
    walk(client, token, pages={})
    for language, text in (("en", "choose 'Disagree'"), ("ru", "выберите «Несогласие»")):
        page = client.get(f"/s/{token}/page/1/", HTTP_ACCEPT_LANGUAGE=language)
        html = page.content.decode()
        assert page.status_code == 200 and text in html.replace("&#x27;", "'")
        assert 'name="a-check"' in html


@pytest.mark.parametrize(("answer", "flagged"), [("2", False), ("4", True), (None, True)])
def test_a_respondent_answering_otherwise_is_flagged(poll, answer, flagged):
    pages = {1: {**PAGES[1], **({"a-check": answer} if answer else {})}, 2: PAGES[2]}
    walk(Client(), collector(poll).token, "r1", pages=pages)
    entry = Entry.objects.get(external_id="r1")
    assert entry.status == Entry.Status.COMPLETED
    assert entry.flags.get("instructed_response") == (["check"] if flagged else None)


def test_answering_the_page_again_as_instructed_clears_the_flag(poll):
    client = Client()
    token = collector(poll).token
    walk(client, token, "r2", pages={1: {**PAGES[1], "a-check": "5"}}, finish=False)
    assert Entry.objects.get(external_id="r2").flags == {"instructed_response": ["check"]}
    version = client.get(f"/s/{token}/page/1/").context["version"]
    client.post(f"/s/{token}/page/1/", {**PAGES[1], "a-check": "2", "version": version,
                                         "action": "next"})
    assert Entry.objects.get(external_id="r2").flags == {}


def test_the_check_is_not_aggregated_exported_compared_or_reported(
        poll, django_capture_on_commit_callbacks):
    pages = {1: {**PAGES[1], "a-check": "2"}, 2: PAGES[2]}
    for k in range(3):
        walk(Client(), collector(poll).token, f"r{k}", pages=pages)
    round_ = poll.rounds.get()
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round_)
    assert Aggregate.objects.filter(round=round_, item__code="agree").exists()
    assert not Aggregate.objects.filter(round=round_, item__code="check").exists()
    long = export_long(poll)
    assert set(long["item"]) == {"agree", "dims", "prob", "year", "rank"}
    assert "check" not in {row["item"] for row in items_codebook(poll)}
    assert "check" not in {item.code for item, _key in answer_columns(poll, long)}
    assert "check" not in study_items(poll)
    assert "check" not in set(survey_frame(poll)["item"])
