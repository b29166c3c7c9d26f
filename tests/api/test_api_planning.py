"""Rounds through the API as in the workspace: rules registered and locked, the next round
planned from the last with provenance, draft edits, deadlines, reopening, the dashboard."""

import pytest

from tests.api.conftest import bearer
from tests.workspace_helpers import make_experts

pytestmark = pytest.mark.django_db
S = "/api/v1/studies/small/"


@pytest.fixture
def aggregated(api, study, organizer, django_capture_on_commit_callbacks):
    """Round 1 of every item, run through the API: rules, open, four answers, close."""
    from surveys.services.responses import ItemAnswer, response_submit

    headers = bearer(organizer)
    experts = make_experts(study, [("Ann", "RU", "en"), ("Ben", "RU", "en"), ("Cid", "US", "ru"),
                                   ("Dee", "WE", "en")])
    assert api.put(S + "rules/", {"definition": "combined", "agree_pct": 75, "iqr_max": 1},
                   format="json", **headers).status_code == 200
    assert api.post(S + "rounds/", {}, format="json", **headers).status_code == 201
    assert api.post(S + "rounds/1/open/", {}, format="json", **headers).status_code == 200
    round_1 = study.rounds.get(number=1)
    # agree: 4 4 5 5 -> 100 % agree, IQR 1: consensus. dims: 1 5 1 5 on desirability -> 50 %.
    for expert, agree, desire in zip(experts[:4], (4, 4, 5, 5), (1, 5, 1, 5), strict=True):
        response_submit(expert=expert, round_=round_1, answers={
            "agree": ItemAnswer(values={"": agree}, rationale=f"{expert.name} argues"),
            "dims": ItemAnswer(values={"desirability": desire, "feasibility": 3}),
            "open": ItemAnswer(text="Ask about costs")})
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(S + "rounds/1/close/", **headers).status_code == 200
    return {"headers": headers, "experts": experts}


def test_the_next_round_is_planned_from_the_last_with_provenance(api, aggregated, analyst):
    headers = aggregated["headers"]
    plan = api.get(S + "rounds/plan/", **headers).json()
    assert plan["from_round"] == 1 and plan["ready"] is True
    rows = {row["code"]: row for row in plan["items"]}
    assert (rows["agree"]["verdict"], rows["agree"]["carry"]) == ("agree", False)
    assert (rows["dims"]["verdict"], rows["dims"]["carry"]) == ("none", True)
    assert rows["open"]["carry"] is False
    assert api.get(S + "rounds/plan/", **bearer(analyst)).status_code == 200
    assert api.post(S + "rounds/plan/", {"carry": ["dims"]}, format="json",
                    **bearer(analyst)).status_code == 403
    unknown = api.post(S + "rounds/plan/", {"carry": ["nope"]}, format="json", **headers)
    assert unknown.status_code == 400 and "carry" in unknown.json()["errors"]
    planned = api.post(S + "rounds/plan/", {"carry": ["dims", "agree", "year"]}, format="json",
                       **headers)
    assert planned.status_code == 201 and planned.json()["number"] == 2
    assert planned.json()["status"] == "draft"
    items = {row["code"]: row["origins"] for row in
             api.get(S + "rounds/2/items/", **headers).json()}
    assert items["dims"] == [{"relation": "carried", "source_item": "dims", "source_round": 1,
                              "note": ""}]
    assert items["agree"][0]["relation"] == "kept"  # kept despite consensus


def test_a_round_created_directly_records_where_its_items_come_from(api, aggregated):
    headers = aggregated["headers"]
    made = api.post(S + "items/", {"theme": "two", "code": "new-q", "kind": "agreement", "text": {
        "en": "A new question", "ru": "Новый вопрос"}}, format="json", **headers)
    assert made.status_code == 201
    created = api.post(S + "rounds/", {"items": ["dims", "agree", "new-q", "dims"]}, format="json",
                       **headers)
    assert created.status_code == 201 and created.json()["number"] == 2

    items = {row["code"]: row["origins"] for row in
             api.get(S + "rounds/2/items/", **headers).json()}
    assert set(items) == {"dims", "agree", "new-q"}
    assert items["dims"] == [{"relation": "carried", "source_item": "dims", "source_round": 1,
                              "note": ""}]
    assert items["agree"][0]["relation"] == "kept"  # asked again despite consensus
    assert items["new-q"] == [{"relation": "added", "source_item": None, "source_round": None,
                               "note": ""}]


def test_a_draft_is_reworded_split_merged_added_to_and_trimmed(api, aggregated):
    headers = aggregated["headers"]
    api.post(S + "rounds/plan/", {"carry": ["agree", "dims", "year", "prob"]}, format="json",
             **headers)
    reworded = api.post(S + "rounds/2/items/agree/reword/",
                        {"code": "agree-2", "text_en": "Clearer", "text_ru": "Яснее"},
                        format="json", **headers)
    assert reworded.status_code == 201 and reworded.json()["text_en"] == "Clearer"
    split = api.post(S + "rounds/2/items/dims/split/", {"parts": [
        {"code": "dims-a", "text_en": "A", "text_ru": "А"},
        {"code": "dims-b", "text_en": "B", "text_ru": "Б"}]}, format="json", **headers)
    assert [i["code"] for i in split.json()] == ["dims-a", "dims-b"]
    one_part = api.post(S + "rounds/2/items/year/split/", {"parts": [
        {"code": "y-a", "text_en": "A", "text_ru": "А"}]}, format="json", **headers)
    assert one_part.status_code == 400 and any(k.startswith("parts") for k in one_part.json()["errors"])
    other_kinds = api.post(S + "rounds/2/merge/", {"items": ["year", "prob"], "code": "m",
                                                   "text_en": "M", "text_ru": "М"},
                           format="json", **headers)
    assert other_kinds.status_code == 400 and "same kind" in other_kinds.json()["detail"]
    ideas = api.get(S + "rounds/2/open-answers/", **headers).json()
    assert ideas == [{"item": "open", "text": "Ask about costs"}] * 4
    added = api.post(S + "rounds/2/items/", {"item": "rank", "source": "open",
                                             "note": "from the open answers"},
                     format="json", **headers)
    assert added.status_code == 201
    assert api.delete(S + "rounds/2/items/prob/", **headers).status_code == 204
    items = {row["code"]: row["origins"] for row in
             api.get(S + "rounds/2/items/", **headers).json()}
    assert set(items) == {"agree-2", "dims-a", "dims-b", "year", "rank"}
    assert items["agree-2"][0] == {"relation": "reworded", "source_item": "agree",
                                   "source_round": 1, "note": ""}
    assert items["rank"][0]["relation"] == "added" and items["rank"][0]["note"]
    history = api.get(S + "items/agree-2/history/", **headers).json()
    assert [(h["round"], h["item"], h["relation"], h["source_item"]) for h in history] == [
        (2, "agree-2", "reworded", "agree")]


def test_deadlines_are_extended_and_a_closed_round_reopened(api, study, organizer):
    from workspace.services.rules import rule_register

    headers = bearer(organizer)
    rule_register(study=study, actor=organizer)
    api.post(S + "rounds/", {}, format="json", **headers)
    opened = api.post(S + "rounds/1/open/", {"closes_at": "2090-01-01T00:00:00Z"}, format="json",
                      **headers)
    assert opened.json()["closes_at"].startswith("2090-01-01")
    earlier = api.post(S + "rounds/1/extend/", {"closes_at": "2089-01-01T00:00:00Z"},
                       format="json", **headers)
    assert earlier.status_code == 400 and "later" in earlier.json()["detail"]
    later = api.post(S + "rounds/1/extend/", {"closes_at": "2091-01-01T00:00:00Z"},
                     format="json", **headers)
    assert later.json()["closes_at"].startswith("2091-01-01")
    assert api.post(S + "rounds/1/reopen/", {}, format="json", **headers).status_code == 400
    api.post(S + "rounds/1/close/", **headers)  # on `db` the aggregation never runs: not aggregated
    reopened = api.post(S + "rounds/1/reopen/", {"closes_at": None}, format="json", **headers)
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"


def test_a_round_opens_later_when_scheduled(api, study, organizer):
    from workspace.services.rules import rule_register

    headers = bearer(organizer)
    rule_register(study=study, actor=organizer)
    api.post(S + "rounds/", {}, format="json", **headers)
    past = api.post(S + "rounds/1/open/", {"opens_at": "2001-01-01T00:00:00Z"}, format="json",
                    **headers)
    assert past.status_code == 400 and "future" in past.json()["detail"]
    later = api.post(S + "rounds/1/open/", {"opens_at": "2090-01-01T00:00:00Z"}, format="json",
                     **headers)
    assert later.json()["status"] == "draft" and later.json()["opens_at"].startswith("2090")


def test_rules_change_after_the_lock_only_with_a_reason(api, aggregated, analyst):
    headers = aggregated["headers"]
    bare = api.put(S + "rules/", {"agree_pct": 80}, format="json", **headers)
    assert bare.status_code == 400 and "reason" in bare.json()["errors"]
    changed = api.put(S + "rules/", {"agree_pct": 80, "reason": "The panel asked for stricter"},
                      format="json", **headers)
    body = changed.json()
    assert changed.status_code == 200 and body["rule"]["revision"] == 2 and body["locked"]
    assert [(c["revision"], c["after_lock"]) for c in body["changes"]] == [(1, False), (2, True)]
    assert body["changes"][1]["reason"] == "The panel asked for stricter"
    assert api.get(S + "rules/", **bearer(analyst)).json() == body  # analysts read them
    out_of_range = api.put(S + "rules/", {"agree_pct": 150, "reason": "x" * 12}, format="json",
                           **headers)
    assert out_of_range.status_code == 400 and "agree_pct" in out_of_range.json()["errors"]


def test_a_draft_round_is_previewed_as_an_expert_sees_it(api, aggregated):
    headers = aggregated["headers"]
    api.post(S + "rounds/plan/", {"carry": ["agree", "dims"]}, format="json", **headers)
    preview = api.get(S + "rounds/2/preview/", {"language": "ru"}, **headers)
    assert preview.status_code == 200
    agree = next(item for item in preview.json() if item["code"] == "agree")
    assert agree["text"] == "Русский текст" and agree["feedback"][0]["n"] == 4
    assert agree["feedback"][0]["own_previous"] is None  # nobody's own answer
    assert sorted(r["text"] for r in agree["rationales"]) == [
        "Ann argues", "Ben argues", "Cid argues", "Dee argues"]
    assert {r["position"] for r in agree["rationales"]} == {"Согласие (4)", "Полное согласие (5)"}
    assert api.get(S + "rounds/2/preview/", {"language": "de"}, **headers).status_code == 400
