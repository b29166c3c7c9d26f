"""The study file's second-edition keys survive the workspace's export and import: the YAML
study file, the item list (CSV) and the builder's item data."""

import pytest
import yaml

from surveys.services.studies import study_load
from tests.edition_helpers import NEVER, edition_study_data
from workspace.services import transfer
from workspace.services.builder import item_data, item_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def edition(db):
    return study_load(data=edition_study_data("edition"))


def _without_slug(data: dict) -> dict:
    return {k: v for k, v in data.items() if k != "slug"}


def test_an_exported_study_file_imported_as_a_new_study_loses_nothing(edition, organizer):
    exported = transfer.study_export_yaml(edition)
    data = yaml.safe_load(exported)
    assert data["as_of"].isoformat() == "2026-12-01"
    assert [e["date"] for e in data["timeline"]] == ["2014-03", "2019-08-02"]
    items = {i["code"]: i for t in data["themes"] for i in t["items"]}
    assert items["agree"]["hindsight"] is True and len(items["agree"]["arguments"]["high"]) == 3
    assert items["prob"]["resolution"]["criteria"]["en"].startswith("Resolves YES")
    assert items["year"]["never"] == NEVER and items["year"]["spread"] == {"RU": 5, "US": 4}
    assert "hindsight" not in items["prob"] and "never" not in items["agree"]
    assert transfer.study_yaml_check(content=exported.encode(), study=edition).items_changed == []

    data["slug"] = "copy"
    copy = transfer.study_yaml_import(content=yaml.safe_dump(data, allow_unicode=True).encode(),
                                      actor=organizer)
    assert _without_slug(transfer.study_data(copy)) == _without_slug(transfer.study_data(edition))
    year = copy.items.get(code="year")
    assert (year.never_ru, year.resolves_on.isoformat()) == (NEVER["ru"], "2100-12-31")


def test_the_simulated_panel_data_is_not_a_change_of_an_asked_item(edition):
    data = transfer.study_data(edition)
    data["themes"][0]["items"][0]["spread"] = {"RU": 1.0}
    data["themes"][0]["items"][0]["arguments"]["low"][0]["en"] = "Another low argument"
    content = yaml.safe_dump(data, allow_unicode=True).encode()
    assert transfer.study_yaml_check(content=content, study=edition).items_changed == []
    data["themes"][0]["items"][0]["hindsight"] = False
    content = yaml.safe_dump(data, allow_unicode=True).encode()
    assert transfer.study_yaml_check(content=content, study=edition).items_changed == ["agree"]


def test_the_item_list_carries_help_hindsight_resolution_and_never(edition, organizer):
    content = transfer.items_export_csv(edition)
    header = content.splitlines()[0].split(",")
    assert header[-9:] == ["help_en", "help_ru", "hindsight", "resolves_on", "resolution_en",
                           "resolution_ru", "never_en", "never_ru", "decimals"]
    before = transfer.study_data(edition)
    edition.items.update(help_en="", hindsight=False, resolves_on=None, never_en="")
    report = transfer.items_csv_import(study=edition, content=content.encode(), actor=organizer)
    assert report.problems == [] and "agree" in report.items_changed
    # The list has no columns for the simulated panel's data: an import keeps it.
    assert transfer.study_data(edition) == before


def test_an_item_saved_from_its_own_data_keeps_every_key(edition, organizer):
    year = edition.items.get(code="year")
    data = item_data(year)
    assert data["resolution"]["date"].isoformat() == "2100-12-31" and data["never"] == NEVER
    saved = item_save(study=edition, theme=year.theme, data=data, actor=organizer, item=year)
    assert item_data(saved) == data


def test_editing_an_item_in_the_builder_keeps_the_keys_its_form_does_not_show(edition, organizer):
    from django.test import Client

    from surveys.services.panel import member_add

    member_add(study=edition, user=organizer, role="organizer")
    client = Client()
    client.force_login(organizer)
    year = edition.items.get(code="year")
    before = item_data(year)
    response = client.post(f"/studio/{edition.slug}/build/item/year/", {
        "theme": "two", "code": "year", "kind": "year", "text_en": "Reworded",
        "text_ru": "Иначе", "min": "2011", "max": "2100"})
    assert response.status_code == 302
    after = item_data(edition.items.get(code="year"))
    assert after == before | {"text": {"en": "Reworded", "ru": "Иначе"}}
