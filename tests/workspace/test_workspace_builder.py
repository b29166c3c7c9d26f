"""The study builder and the import/export of study files (YAML) and item lists (CSV)."""

import csv
import io

import pytest
import yaml

from surveys.errors import ServiceError, StudyFileError
from surveys.models import AuditEvent, Item, StudyMember
from surveys.services.rounds import round_create
from tests.conftest import small_study_data
from tests.workspace_helpers import english  # noqa: F401 - fixture
from workspace.services import builder, transfer
from workspace.services.rounds import round_start
from workspace.services.rules import rule_register

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_a_new_study_is_built_from_scratch_and_its_creator_owns_it(organizer):
    study = builder.study_create(slug="energy-2030", title_en="Energy", title_ru="Энергия",
                                 actor=organizer)
    assert StudyMember.objects.get(study=study, user=organizer).role == "owner"
    builder.group_save(study=study, code="EU", name_en="Europe", name_ru="Европа", actor=organizer)
    theme = builder.theme_save(study=study, code="grid", title_en="Grid", title_ru="Сеть",
                               actor=organizer)
    item = builder.item_save(study=study, theme=theme, actor=organizer, data={
        "code": "grid-1", "kind": "year", "text": {"en": "When?", "ru": "Когда?"},
        "min": 2025, "max": 2100, "source": {"paragraph": 4, "anchor": "the grid"}})
    assert (item.min_value, item.max_value, item.source_paragraph) == (2025, 2100, 4)
    with pytest.raises(ServiceError) as error:
        builder.study_create(slug="energy-2030", title_en="", title_ru="x", actor=organizer)
    assert set(error.value.field_errors) == {"slug", "title_en"}


def test_item_problems_are_reported_by_field_and_nothing_is_saved(study, organizer):
    theme = study.themes.get(code="one")
    with pytest.raises(StudyFileError) as error:
        builder.item_save(study=study, theme=theme, actor=organizer, data={
            "code": "agree", "kind": "numeric", "text": {"en": "x", "ru": ""}, "min": 5, "max": 1})
    assert error.value.problems == [
        "item.code: duplicate item code 'agree'", "item.text.ru: missing or empty text",
        "item.max: must be greater than min"]
    assert study.items.count() == 6


def test_an_asked_item_cannot_be_edited_in_place(round1, organizer):
    study = round1.study
    item = study.items.get(code="agree")
    with pytest.raises(ServiceError, match="asked already"):
        builder.item_save(study=study, theme=item.theme, item=item, actor=organizer,
                          data={**builder.item_data(item), "text": {"en": "new", "ru": "новый"}})


def test_a_new_item_joins_the_draft_round_1(study, organizer):
    draft = round_create(study=study)
    item = builder.item_save(study=study, theme=study.themes.get(code="two"), actor=organizer,
                             data={"code": "late", "kind": "agreement",
                                   "text": {"en": "Late", "ru": "Поздно"}})
    assert draft.items.filter(pk=item.pk).exists()
    builder.item_delete(item=item, actor=organizer)
    assert not Item.objects.filter(code="late").exists()
    assert AuditEvent.objects.filter(study=study, action="item_deleted").count() == 1


def test_the_exported_study_file_loads_back_without_any_change(study):
    exported = transfer.study_export_yaml(study)
    data = yaml.safe_load(exported)
    original = small_study_data()
    for theme, mine in zip(original["themes"], data["themes"], strict=True):
        assert [i["code"] for i in theme["items"]] == [i["code"] for i in mine["items"]]
    report = transfer.study_yaml_check(content=exported.encode(), study=study)
    assert (report.problems, report.items_new, report.items_changed) == ([], [], [])


def test_a_study_file_with_problems_is_reported_in_full_and_changes_nothing(study, organizer):
    data = transfer.study_data(study)
    data["themes"][0]["items"][0]["kind"] = "likert"
    data["themes"][0]["items"][1]["text"]["ru"] = ""
    data["themes"][1]["items"][0]["max"] = 1900
    content = yaml.safe_dump(data, allow_unicode=True).encode()
    report = transfer.study_yaml_check(content=content, study=study)
    assert report.problems == [
        "themes[0].items[0].kind: 'likert' is not one of agreement, dimensions, numeric, open, "
        "probability, ranking, year",
        "themes[0].items[1].text.ru: missing or empty text",
        "themes[1].items[0].max: must be greater than min"]
    with pytest.raises(StudyFileError):
        transfer.study_yaml_import(content=content, study=study, actor=organizer)
    assert study.items.get(code="year").max_value == 2100
    broken = transfer.study_yaml_check(content=b"title: [unclosed", study=study)
    assert broken.problems == [
        "line 2, column 1: not valid YAML (did not find expected ',' or ']')"]  # libyaml's words


def test_importing_a_new_study_file_makes_the_importer_its_owner(organizer):
    content = yaml.safe_dump(small_study_data("imported"), allow_unicode=True).encode()
    report = transfer.study_yaml_check(content=content)
    assert report.problems == [] and report.created and len(report.items_new) == 6
    study = transfer.study_yaml_import(content=content, actor=organizer)
    assert StudyMember.objects.get(study=study, user=organizer).role == "owner"
    again = transfer.study_yaml_check(content=content)
    assert again.problems == ["slug: a study with this address exists already"]


def test_after_round_1_the_file_cannot_reword_asked_items_or_move_the_rules(study, organizer):
    rule_register(study=study, actor=organizer)
    round_start(round_=round_create(study=study), actor=organizer)
    data = transfer.study_data(study)
    data["themes"][0]["items"][0]["text"]["en"] = "Sneaky new wording"
    data["consensus"]["agree_pct"] = 60
    report = transfer.study_yaml_check(content=yaml.safe_dump(data).encode(), study=study)
    assert report.problems == [
        "themes[0].items[0]: item 'agree' has been asked already; reword it when planning the "
        "next round",
        "consensus: the rules are locked since round 1 opened; change them on the rules page with "
        "a reason"]


def _csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(transfer.CSV_COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode()


def test_item_list_csv_round_trips_and_neutralizes_formulas(study, organizer):
    item = study.items.get(code="open")
    Item.objects.filter(pk=item.pk).update(text_en="=HYPERLINK(\"http://x\")")
    exported = transfer.items_export_csv(study)
    assert "'=HYPERLINK" in exported
    row = next(r for r in csv.DictReader(io.StringIO(exported)) if r["code"] == "rank")
    assert row["options"].splitlines()[0] == "a | Option A | Вариант А"
    report = transfer.items_csv_check(study=study, content=exported.encode())
    assert (report.problems, report.items_new, report.items_changed) == ([], [], [])


def test_item_list_csv_adds_and_updates_items_after_a_clean_check(study, organizer):
    content = _csv([
        ["two", "rank2", "ranking", "Order these", "Упорядочьте", "", "", "", "", "", "", "",
         "x | X | Икс\ny | Y | Игрек"],
        ["one", "agree", "agreement", "Reworded before round 1", "Новая формулировка", "3", "",
         "", "", "", "", "", ""]])
    report = transfer.items_csv_check(study=study, content=content)
    assert (report.problems, report.items_new, report.items_changed) == ([], ["rank2"], ["agree"])
    transfer.items_csv_import(study=study, content=content, actor=organizer)
    assert study.items.get(code="rank2").options[1] == {"code": "y", "text": {"en": "Y", "ru": "Игрек"}}
    assert study.items.get(code="agree").text_en == "Reworded before round 1"


def test_item_list_csv_problems_name_the_line_and_column(study):
    content = _csv([
        ["nope", "x1", "agreement", "a", "б", "", "", "", "", "", "", "", ""],
        ["one", "y1", "numeric", "a", "", "abc", "", "", "1", "zero", "", "", ""],
        ["one", "y2", "ranking", "a", "б", "", "", "", "", "", "", "", "only a line"]])
    problems = transfer.items_csv_check(study=study, content=content).problems
    assert "line 2, theme: 'nope' is not a theme of this study" in problems
    assert "line 3, source_paragraph: expected a whole number" in problems
    assert "line 3, max: expected a number" in problems
    assert "line 3.text.ru: missing or empty text" in problems
    assert "line 4, options, line 1: expected 'code | English | Russian'" in problems
