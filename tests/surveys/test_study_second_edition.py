"""The essay study's second edition: framed for a panel answering today, one claim per item,
forecasts that resolve, no copied runs, and the simulated panel's data complete."""

import pytest
import yaml

from surveys.models import Item
from surveys.services.studies import study_file_read, study_load
from tests.conftest import ROOT, essay_paragraphs
from tests.surveys import study_checks as checks

STUDY_FILE = ROOT / "surveys" / "studies" / "euromd_2026.yaml"
FIRST_EDITION = ROOT / "surveys" / "studies" / "trenin_2011.yaml"
# Set phrases a proposition may share with the essay, each with its reason (none needed so far:
# names such as "European Phased Adaptive Approach" are shorter than a copied run).
ALLOWED_PHRASES: tuple[str, ...] = ()


def _data() -> dict:
    return yaml.safe_load(STUDY_FILE.read_text(encoding="utf-8"))


def _items() -> list[dict]:
    return checks.items_of(_data())


def _body() -> list[str]:
    return checks.body_paragraphs(essay_paragraphs(), _data()["source_first_paragraph"])


@pytest.mark.django_db
def test_the_second_edition_loads_beside_the_first():
    first = study_load(data=study_file_read(FIRST_EDITION))
    second = study_load(data=study_file_read(STUDY_FILE))

    assert first.slug != second.slug and first.items.count() and second.items.count()
    assert str(second.as_of) == "2026-12-01"
    assert len(second.timeline) >= 10
    assert all(event["text"]["en"] and event["text"]["ru"] for event in second.timeline)
    kinds = list(second.items.values_list("kind", flat=True))
    assert kinds.count(Item.Kind.AGREEMENT) >= 30
    assert kinds.count(Item.Kind.DIMENSIONS) >= 3
    assert kinds.count(Item.Kind.PROBABILITY) >= 2
    assert kinds.count(Item.Kind.RANKING) == 1 and kinds.count(Item.Kind.OPEN) == 1
    assert second.items.filter(hindsight=True).count() >= 4
    for item in second.items.all():
        assert item.text_en.strip() and item.text_ru.strip(), item.code
        assert item.source_paragraph and item.source_anchor.strip(), item.code


def test_the_frame_is_stated_in_both_languages():
    data = _data()
    assert "December 2026" in data["description"]["en"] and "In hindsight" in (
        data["description"]["en"])
    assert "декабрь 2026" in data["description"]["ru"] and "В ретроспективе" in (
        data["description"]["ru"])


def test_every_anchor_is_verbatim_in_its_body_paragraph():
    body = _body()
    assert body[0].startswith("At their meeting in Deauville") and len(body) == 39
    assert checks.anchor_problems(_items(), body) == []


def test_no_proposition_shares_eight_words_in_a_row_with_the_essay():
    assert checks.copy_problems(_items(), _body(), ALLOWED_PHRASES) == []


def test_the_copy_check_catches_a_lifted_run_of_eight_words():
    body = _body()
    lifted = " ".join(body[2].split()[3:11]).upper()  # eight words of paragraph 3
    item = {"code": "x", "text": {"en": f"Experts hold that {lifted} today."}}
    assert checks.copy_problems([item], body)
    item["text"]["en"] = "Moscow regards interceptors in Europe as a danger to its deterrent."
    assert checks.copy_problems([item], body) == []


def test_every_forecast_resolves_on_a_date_after_the_study_starts_with_criteria():
    items = _items()
    assert checks.forecast_problems(items, _data()["as_of"]) == []
    assert checks.help_problems(items) == []
    assert sum(item["kind"] in {"probability", "year"} for item in items) >= 3


def test_the_ranking_options_are_distinct():
    items = _items()
    assert checks.ranking_problems(items) == []
    (ranking,) = [item for item in items if item["kind"] == "ranking"]
    assert len(ranking["options"]) >= 5
    assert {"managed-rivalry", "hedging"} <= {option["code"] for option in ranking["options"]}


def test_every_item_has_an_argument_bank_and_every_group_a_position():
    items = _items()
    groups = {g["code"] for g in _data()["stakeholder_groups"]}
    assert checks.argument_problems(items) == []
    for item in items:
        if item["kind"] != "open":
            assert set(item["leaning"]) == groups, item["code"]
        if item["kind"] not in {"open", "ranking"}:
            assert set(item["spread"]) == groups, item["code"]


def test_the_checks_catch_what_they_are_for():
    # Guards the checks above against passing vacuously.
    bad = {"code": "f", "kind": "probability", "text": {"en": "x"},
           "resolution": {"date": "2026-01-01", "criteria": {"en": "x", "ru": ""}},
           "arguments": {"low": [{"en": "a", "ru": "б"}] * 3, "high": []}}
    assert len(checks.forecast_problems([bad], "2026-12-01")) == 2
    assert len(checks.help_problems([bad])) == 1
    assert any("repeated" in p for p in checks.argument_problems([bad]))
    assert any("'high'" in p for p in checks.argument_problems([bad]))
    ranking = {"code": "r", "kind": "ranking", "options": [
        {"code": "a", "text": {"en": "Same", "ru": "А"}}, {"code": "b", "text": {"en": "same", "ru": "Б"}}]}
    assert checks.ranking_problems([ranking]) == ["r: option texts repeat in en"]


# Body paragraphs no item cites, each with the reason it needs none.
UNCITED = {1: "sets the scene: Deauville's failure is in the timeline, and the choice it states "
              "(old adversity or a security community) is what opt-rank and comm-2 ask about",
           17: "only announces the two problems that paragraphs 18 and 19 state (rec-3, rec-2)"}


def test_every_body_paragraph_with_a_claim_is_cited_by_an_item():
    cited = {item["source"]["paragraph"] for item in _items()}
    assert set(range(1, 40)) - cited == set(UNCITED)
