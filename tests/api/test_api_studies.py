"""What organizers and analysts do in the pages, done through the API."""

from urllib.parse import urlsplit

import pytest

from tests.api.conftest import bearer
from tests.conftest import small_study_data

pytestmark = pytest.mark.django_db
S = "/api/v1/studies/small/"


def test_a_study_is_created_from_its_study_file_and_reloaded_in_place(api, organizer):
    headers = bearer(organizer)
    data = small_study_data(slug="fresh")
    made = api.post("/api/v1/studies/", data, format="json", **headers)
    assert made.status_code == 201 and made.json()["role"] == "owner"
    data["title"]["en"] = "Renamed"
    assert api.put("/api/v1/studies/fresh/", data, format="json", **headers).json()["title_en"] == "Renamed"
    assert api.post("/api/v1/studies/", data, format="json", **headers).status_code == 400  # slug taken


def test_a_bad_study_file_lists_every_problem(api, organizer, study):
    data = small_study_data()
    data["themes"][0]["items"][0]["kind"] = "likert"
    data["themes"][0]["items"][1]["text"] = {"en": "only English"}
    bad = api.put(S, data, format="json", **bearer(organizer))
    assert bad.status_code == 400
    problems = bad.json()["errors"]["study_file"]
    assert any("kind" in p for p in problems) and any("text.ru" in p for p in problems)


def test_any_staff_user_may_create_a_study_and_owns_it_as_in_the_workspace(api, outsider):
    made = api.post("/api/v1/studies/", small_study_data(slug="x"), format="json", **bearer(outsider))
    anonymous = api.post("/api/v1/studies/", small_study_data(slug="y"), format="json")

    assert made.status_code == 201 and made.json()["role"] == "owner"
    assert anonymous.status_code == 401


def test_an_organizer_runs_a_round_through_the_api(api, study, organizer, alice,
                                                   django_capture_on_commit_callbacks):
    from surveys.services.responses import ItemAnswer, response_submit

    headers = bearer(organizer)
    made = api.post(S + "rounds/", {"items": ["agree", "prob"]}, format="json", **headers)
    assert made.status_code == 201 and made.json()["items"] == ["agree", "prob"]
    assert api.post(S + "rounds/", {"items": ["nope"]}, format="json", **headers).status_code == 400
    unruled = api.post(S + "rounds/1/open/", {}, format="json", **headers)
    assert unruled.status_code == 400 and "rules" in unruled.json()["detail"]  # registered first
    assert api.put(S + "rules/", {"definition": "agreement", "agree_pct": 70}, format="json",
                   **headers).json()["rule"]["agree_pct"] == 70
    opened = api.post(S + "rounds/1/open/", {"closes_at": "2099-01-01T00:00:00Z"}, format="json", **headers)
    assert opened.json()["status"] == "open"
    assert api.get(S + "rules/", **headers).json()["locked"] is True
    response_submit(expert=alice, round_=study.rounds.get(), answers={"agree": ItemAnswer(values={"": 5})})
    with django_capture_on_commit_callbacks(execute=True):
        closed = api.post(S + "rounds/1/close/", **headers)
    assert closed.status_code == 200
    aggregates = api.get(S + "rounds/1/aggregates/", {"item": "agree"}, **headers).json()["results"]
    assert {(a["group"], a["median"]) for a in aggregates} == {("", 5), ("RU", 5)}  # panel, group
    assert api.get(S + "rounds/1/aggregates/", {"group": "RU"}, **headers).json()["count"] == 1
    assert api.post(S + "rounds/1/close/", **headers).status_code == 400  # not open any more
    rates = api.get(S + "rounds/1/rates/", **headers).json()
    assert {r["group"]: r["submitted"] for r in rates} == {"RU": 1, "US": 0, "WE": 0, "": 1}
    report = api.get(S + "report/", **headers).json()
    assert report["latest_aggregated_round"] == 1 and report["results"][0]["item"] == "agree"


def test_an_organizer_builds_the_panel_and_invites(api, study, round1, organizer, client):
    headers = bearer(organizer)
    made = api.post(S + "experts/", {"name": "Dana", "email": "dana@example.org", "group": "US"},
                    format="json", **headers)
    assert made.status_code == 201
    pk = made.json()["id"]
    duplicate = api.post(S + "experts/", {"name": "D", "email": "DANA@example.org", "group": "US"},
                         format="json", **headers)
    assert duplicate.status_code == 400
    link = api.post(f"{S}experts/{pk}/invitation/", **headers).json()["link"]
    assert client.get(urlsplit(link).path).status_code == 302  # the link lets Dana in
    assert api.get(f"{S}experts/{pk}/", **headers).json()["invited"] is True
    assert api.delete(f"{S}experts/{pk}/invitation/", **headers).status_code == 204
    assert api.get(f"{S}experts/{pk}/", **headers).json()["invited"] is False
    listed = api.get(S + "experts/", {"group": "US", "withdrawn": "false"}, **headers).json()
    assert [e["name"] for e in listed["results"]] == ["Dana"]


def test_owners_add_members(api, owner, outsider):
    added = api.post(S + "members/", {"username": "oscar", "role": "analyst"}, format="json",
                     **bearer(owner))
    assert added.status_code == 201
    assert api.get(S, **bearer(outsider)).json()["role"] == "analyst"
    unknown = api.post(S + "members/", {"username": "nobody", "role": "analyst"}, format="json",
                       **bearer(owner))
    assert unknown.status_code == 400 and "username" in unknown.json()["errors"]


def test_lists_are_paginated_and_filtered(api, study, analyst):
    headers = bearer(analyst)
    page = api.get(S + "items/", {"page_size": 2, "page": 2}, **headers).json()
    assert page["count"] == 6 and len(page["results"]) == 2 and page["next"] and page["previous"]
    kinds = api.get(S + "items/", {"theme": "two", "kind": "ranking"}, **headers).json()
    assert [i["code"] for i in kinds["results"]] == ["rank"]
    assert api.get(S + "items/", {"kind": "likert"}, **headers).status_code == 400
    assert api.get(S + "items/", {"page": 99}, **headers).status_code == 404


def test_an_analyst_downloads_exports(api, study, round1, analyst):
    headers = bearer(analyst)
    csv = api.get(S + "exports/csv/", HTTP_ACCEPT="text/csv", **headers)
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert csv["Content-Disposition"].startswith("attachment;")
    missing = api.get(S + "exports/docx/", **headers)
    assert missing.status_code == 404 and missing.json()["detail"]


def test_a_malformed_path_under_the_api_is_a_json_404(api, organizer):
    missing = api.delete(S + "experts/not-a-number/", **bearer(organizer))
    assert missing.status_code == 404 and missing.json() == {"detail": "Not found.", "errors": {}}


def test_options_are_not_offered(api, organizer):
    assert api.options(S, **bearer(organizer)).status_code == 405


def test_owners_change_a_members_role(api, owner, analyst, organizer):
    member = analyst.studymember_set.get()
    url = f"{S}members/{member.pk}/"
    promoted = api.patch(url, {"role": "organizer"}, format="json", **bearer(owner))
    assert promoted.status_code == 200 and promoted.json()["role"] == "organizer"
    assert api.patch(url, {"role": "owner"}, format="json", **bearer(organizer)).status_code == 403
    mine = owner.studymember_set.get()
    last = api.patch(f"{S}members/{mine.pk}/", {"role": "analyst"}, format="json", **bearer(owner))
    assert last.status_code == 400 and "at least one owner" in last.json()["detail"]
