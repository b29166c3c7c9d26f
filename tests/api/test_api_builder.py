"""The builder, study import/export and the audit log through the API: the same services, so
the same checks and audit rows as the workspace pages."""

import csv as csv_module
import io

import pytest
import yaml

from tests.api.conftest import bearer
from tests.conftest import small_study_data
from tests.workspace_helpers import submit

pytestmark = pytest.mark.django_db
S = "/api/v1/studies/small/"
RANKING = {"theme": "two", "code": "rank-2", "kind": "ranking",
           "text": {"en": "Rank these", "ru": "Упорядочьте"},
           "options": [{"code": "x", "text": {"en": "X", "ru": "Икс"}},
                       {"code": "y", "text": {"en": "Y", "ru": "Игрек"}}]}


def test_an_organizer_builds_groups_themes_and_items(api, study, organizer):
    headers = bearer(organizer)
    group = api.post(S + "groups/", {"code": "CN", "name_en": "China", "name_ru": "Китай"},
                     format="json", **headers)
    assert group.status_code == 201 and group.json()["position"] == 3
    lower = api.post(S + "groups/", {"code": "cn", "name_en": "c", "name_ru": "c"},
                     format="json", **headers)
    assert lower.status_code == 400 and "code" in lower.json()["errors"]
    renamed = api.patch(S + "groups/CN/", {"name_en": "PRC", "name_ru": "КНР"}, format="json",
                        **headers)
    assert renamed.json()["name_en"] == "PRC"
    assert api.delete(S + "groups/CN/", **headers).status_code == 204
    theme = api.post(S + "themes/", {"code": "three", "title_en": "Three", "title_ru": "Три"},
                     format="json", **headers)
    assert theme.status_code == 201
    made = api.post(S + "items/", {**RANKING, "theme": "three"}, format="json", **headers)
    assert made.status_code == 201 and made.json()["theme"] == "three"
    assert [o["code"] for o in made.json()["options"]] == ["x", "y"]
    kept = api.delete(S + "themes/three/", **headers)
    assert kept.status_code == 400 and "1 item" in kept.json()["detail"]
    changed = api.put(S + "items/rank-2/", {**RANKING, "theme": "three",
                                            "text": {"en": "Now rank", "ru": "Теперь"}},
                      format="json", **headers)
    assert changed.status_code == 200 and changed.json()["text_en"] == "Now rank"
    assert api.delete(S + "items/rank-2/", **headers).status_code == 204
    assert api.delete(S + "themes/three/", **headers).status_code == 204
    assert not study.themes.filter(code="three").exists()


def test_an_item_with_problems_lists_each_as_the_study_file_checker_does(api, study, organizer):
    bad = {**RANKING, "code": "Bad Code", "text": {"en": "x", "ru": ""}, "options": [
        {"code": "x", "text": {"en": "X", "ru": "Икс"}}]}
    refused = api.post(S + "items/", bad, format="json", **bearer(organizer))
    assert refused.status_code == 400
    problems = refused.json()["errors"]["study_file"]
    assert {p.split(":")[0] for p in problems} == {"item.code", "item.text.ru", "item.options"}
    unknown = api.post(S + "items/", {**RANKING, "theme": "nope"}, format="json",
                       **bearer(organizer))
    assert unknown.status_code == 400 and "theme" in unknown.json()["errors"]
    assert not study.items.filter(code="rank-2").exists()


def test_an_item_asked_in_an_open_round_is_not_changed_in_place(api, study, round1, organizer,
                                                                alice):
    submit(alice, round1, agree=4)
    headers = bearer(organizer)
    body = {"theme": "one", "code": "agree", "kind": "agreement",
            "text": {"en": "Changed", "ru": "Изменено"}}
    refused = api.put(S + "items/agree/", body, format="json", **headers)
    assert refused.status_code == 400 and "reword" in refused.json()["detail"]
    assert api.delete(S + "items/agree/", **headers).status_code == 400
    data = small_study_data()
    data["themes"][0]["items"][0]["text"]["en"] = "Changed by a study file"
    reloaded = api.put(S, data, format="json", **headers)  # the workspace import's checks too
    assert reloaded.status_code == 400
    assert any("asked already" in p for p in reloaded.json()["errors"]["study_file"])
    assert study.items.get(code="agree").text_en == "English text"


def test_the_study_file_and_item_list_go_out_and_come_back_checked(api, study, organizer):
    headers = bearer(organizer)
    yaml_file = api.get(S + "study-file/", **headers)
    assert yaml_file.status_code == 200 and yaml_file["Content-Type"].startswith("application/yaml")
    data = yaml.safe_load(yaml_file.content)
    assert data["slug"] == "small" and len(data["themes"]) == 2
    data["themes"][0]["items"][0]["text"]["en"] = "Reworded before round 1"
    data["themes"][1]["items"].append({"code": "new-one", "kind": "open",
                                       "text": {"en": "New", "ru": "Новый"}})
    content = yaml.safe_dump(data, allow_unicode=True)
    checked = api.post(S + "study-file/", {"content": content}, format="json", **headers)
    assert checked.json() == {"slug": "small", "created": False, "items_new": ["new-one"],
                              "items_changed": ["agree"], "applied": False}
    assert not study.items.filter(code="new-one").exists()
    applied = api.post(S + "study-file/", {"content": content, "apply": True}, format="json",
                       **headers)
    assert applied.json()["applied"] is True and study.items.filter(code="new-one").exists()
    broken = api.post(S + "study-file/", {"content": "themes: [\n", "apply": True},
                      format="json", **headers)
    assert broken.status_code == 400 and broken.json()["errors"]["study_file"][0].startswith("line")
    csv = api.get(S + "item-list/", **headers)
    assert csv["Content-Type"].startswith("text/csv")
    rows = list(csv_module.reader(io.StringIO(csv.content.decode())))
    assert rows[0][:3] == ["theme", "code", "kind"] and len(rows) == 8  # 7 items
    added = csv.content.decode() + "two,csv-item,open,From CSV,Из CSV,,,,,,,,\n"
    result = api.post(S + "item-list/", {"content": added, "apply": True}, format="json",
                      **headers)
    assert result.json()["items_new"] == ["csv-item"] and study.items.filter(code="csv-item").exists()


def test_new_studies_empty_or_from_a_study_file_belong_to_their_maker(api, organizer, study):
    headers = bearer(organizer)
    empty = api.post("/api/v1/new-studies/", {"slug": "blank", "title_en": "B", "title_ru": "Б"},
                     format="json", **headers)
    assert empty.status_code == 201 and empty.json()["role"] == "owner"
    taken = api.post("/api/v1/new-studies/", {"slug": "blank", "title_en": "B", "title_ru": "Б"},
                     format="json", **headers)
    assert taken.status_code == 400 and "slug" in taken.json()["errors"]
    content = yaml.safe_dump(small_study_data(slug="from-file"), allow_unicode=True)
    checked = api.post("/api/v1/study-imports/", {"content": content}, format="json", **headers)
    assert checked.status_code == 200 and checked.json()["created"] and len(
        checked.json()["items_new"]) == 6
    made = api.post("/api/v1/study-imports/", {"content": content, "apply": True}, format="json",
                    **headers)
    assert made.status_code == 201
    assert api.get("/api/v1/studies/from-file/", **headers).json()["role"] == "owner"


def test_owners_read_the_audit_log_of_what_the_api_did(api, study, owner, organizer, analyst):
    api.patch(S, {"description_en": "About missiles"}, format="json", **bearer(organizer))
    api.post(S + "themes/", {"code": "three", "title_en": "T", "title_ru": "Т"}, format="json",
             **bearer(organizer))
    log = api.get(S + "audit/", **bearer(owner)).json()
    actions = [(e["action"], e["actor"]) for e in log["results"]]
    assert actions[:2] == [("theme_saved", "olga"), ("study_updated", "olga")]
    assert log["results"][1]["detail"]["after"]["description_en"] == "About missiles"
    assert api.get(S + "audit/", **bearer(organizer)).status_code == 404
    assert api.get(S + "audit/", **bearer(analyst)).status_code == 404
