"""The API's items and studies show the second edition's keys; a study file with them goes in
as JSON, an item with them through the builder; and the backup keeps every one of them."""

import json

import pytest
import yaml
from django.core.management import call_command

from api.services.archive import study_export_archive
from surveys.models import Item, Study
from surveys.services.studies import study_load
from tests.api.conftest import bearer
from tests.api.test_api_archive import purge
from tests.edition_helpers import NEVER, edition_study_data

pytestmark = pytest.mark.django_db
S = "/api/v1/studies/small/"


@pytest.fixture
def edition(study):
    return study_load(data=edition_study_data())


def test_items_show_hindsight_help_and_a_forecasts_resolution(api, edition, analyst):
    headers = bearer(analyst, scope="read")
    prob = api.get(S + "items/prob/", **headers).json()
    assert prob["resolves_on"] == "2030-12-31"
    assert prob["resolution_en"].startswith("Resolves YES") and prob["resolution_ru"]
    assert prob["help_en"] == "The event: a signed treaty." and prob["hindsight"] is False
    agree = api.get(S + "items/agree/", **headers).json()
    assert agree["hindsight"] is True and agree["resolves_on"] is None
    year = api.get(S + "items/year/", **headers).json()
    assert (year["never_en"], year["never_ru"]) == (NEVER["en"], NEVER["ru"])
    assert "spread" not in year and "arguments" not in year  # the simulated panel's data
    study = api.get(S, **headers).json()
    assert study["as_of"] == "2026-12-01" and study["timeline"][0]["date"] == "2014-03"


def test_a_study_file_with_the_new_keys_goes_in_as_json_and_out_as_yaml(api, organizer):
    headers = bearer(organizer)
    data = json.loads(json.dumps(edition_study_data("fresh"), default=str))
    made = api.post("/api/v1/studies/", data, format="json", **headers)
    assert made.status_code == 201, made.json()
    assert Study.objects.get(slug="fresh").as_of.isoformat() == "2026-12-01"
    exported = yaml.safe_load(api.get("/api/v1/studies/fresh/study-file/", **headers).content)
    items = {i["code"]: i for t in exported["themes"] for i in t["items"]}
    assert items["prob"]["resolution"]["criteria"] == data["themes"][0]["items"][2][
        "resolution"]["criteria"]
    assert items["agree"]["spread"] == {"RU": 0.6, "US": 0.7, "WE": 0.8}


def test_an_item_built_through_the_api_takes_the_new_keys(api, study, organizer):
    item = {"theme": "two", "code": "when", "kind": "year", "min": 2027, "max": 2045,
            "text": {"en": "When", "ru": "Когда"}, "hindsight": False,
            "help": {"en": "Operational: declared so.", "ru": "В строю: так объявлено."},
            "never": {"en": "Not by 2045, or never", "ru": "Не ранее 2046 года или никогда"},
            "resolution": {"date": "2045-12-31", "criteria": {"en": "The year", "ru": "Год"}},
            "spread": {"RU": 4, "US": 6},
            "arguments": {"low": [{"en": "Soon", "ru": "Скоро"}]}}
    made = api.post(S + "items/", item, format="json", **bearer(organizer))
    assert made.status_code == 201, made.json()
    assert made.json()["never_ru"] == "Не ранее 2046 года или никогда"
    stored = Item.objects.get(study=study, code="when")
    assert (stored.resolves_on.isoformat(), stored.resolution_ru, stored.help_en) == (
        "2045-12-31", "Год", "Operational: declared so.")
    assert stored.spread == {"RU": 4, "US": 6} and stored.arguments["low"][0]["ru"] == "Скоро"


def test_the_backup_round_trip_keeps_every_new_field(edition, tmp_path):
    path = tmp_path / "small.json"
    call_command("export_study", "--study", "small", "--format", "backup", "-o", str(path))
    before = json.loads(path.read_text(encoding="utf-8"))
    study_row = before["tables"]["surveys.study"][0]
    assert study_row["as_of"] == "2026-12-01" and len(study_row["timeline"]) == 2
    year_row = next(r for r in before["tables"]["surveys.item"] if r["code"] == "year")
    assert year_row["never_en"] == NEVER["en"] and year_row["resolves_on"] == "2100-12-31"
    purge(edition)
    call_command("import_study", str(path))
    restored = Study.objects.get(slug="small")
    assert study_export_archive(study=restored)["tables"] == before["tables"]
    agree = restored.items.get(code="agree")
    assert agree.hindsight and len(agree.arguments["high"]) == 3 and agree.spread["WE"] == 0.8
