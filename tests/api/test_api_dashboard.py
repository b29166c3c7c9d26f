"""The dashboard's figures and Real-Time snapshots through the API (hand-worked figures)."""

import pytest

from tests.api.conftest import bearer
from tests.workspace_helpers import make_experts, submit

pytestmark = pytest.mark.django_db
S = "/api/v1/studies/small/"


def test_response_per_group_as_the_dashboard_counts_it(api, study, round1, organizer, analyst):
    from surveys.services.panel import expert_issue_token
    from surveys.services.responses import ItemAnswer, response_save_draft

    ann, ben, cid, _dee = make_experts(study, [("Ann", "RU", "en"), ("Ben", "RU", "en"),
                                               ("Cid", "US", "en"), ("Dee", "WE", "en")])
    for expert in (ann, ben, cid):  # Dee is on the panel but never invited
        expert_issue_token(expert=expert)
    submit(ann, round1, agree=4)
    response_save_draft(expert=ben, round_=round1, answers={"agree": ItemAnswer(values={"": 2})})
    body = api.get(S + "dashboard/", **bearer(analyst)).json()
    assert (body["round"], body["status"], body["verdicts"]) == (1, "open", [])
    rows = {row["group"]: row for row in body["rates"]}
    figures = {g: (r["panel"], r["invited"], r["started"], r["submitted"], r["rate"])
               for g, r in rows.items()}
    # RU: 2 invited, both started, 1 of 2 submitted = 50 %; Dee is on the panel though never
    # invited: the panel, 1 of 4 = 25 %.
    assert figures == {"RU": (2, 2, 2, 1, 50.0), "US": (1, 1, 0, 0, 0.0),
                       "WE": (1, 0, 0, 0, 0.0), "": (4, 3, 2, 1, 25.0)}
    assert rows[""]["previous"] is None and rows[""]["attrition"] is None  # round 1
    assert api.get(S + "dashboard/", {"round": 1}, **bearer(organizer)).json() == body
    assert api.get(S + "dashboard/", {"round": 7}, **bearer(organizer)).status_code == 404
    assert api.get(S + "dashboard/", {"round": "x"}, **bearer(organizer)).status_code == 400


def test_verdicts_and_attrition_after_round_1(api, study, organizer,
                                              django_capture_on_commit_callbacks):
    from surveys.services.panel import expert_issue_token
    from surveys.services.rounds import round_close, round_create
    from workspace.services.rounds import round_start
    from workspace.services.rules import rule_register

    rule_register(study=study, actor=organizer)  # 75 % agreement and IQR <= 1
    experts = make_experts(study, [("Ann", "RU", "en"), ("Ben", "US", "en"), ("Cid", "WE", "en")])
    for expert in experts:
        expert_issue_token(expert=expert)
    round_1 = round_start(round_=round_create(study=study, actor=organizer), actor=organizer)
    for expert, value in zip(experts, (4, 5, 4), strict=True):
        submit(expert, round_1, agree=value, prob=None)
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round_1)
    round_2 = round_start(round_=round_create(study=study, actor=organizer), actor=organizer)
    submit(experts[0], round_2, agree=4)
    shown = api.get(S + "dashboard/", {"round": 1}, **bearer(organizer)).json()
    verdicts = {v["item"]: v["verdict"] for v in shown["verdicts"]}
    assert verdicts["agree"] == "agree"  # 4 5 4: 100 % agree, IQR 0.5
    assert shown["counts"]["agree"] == 1 and shown["rule_revision"] == 1
    assert shown["aggregation"]["status"] == "done"
    now = api.get(S + "dashboard/", **bearer(organizer)).json()
    panel = next(r for r in now["rates"] if r["group"] == "")
    # 3 submitted round 1; round 2 is open: who is lost is not known yet.
    assert (now["round"], panel["previous"], panel["lost"], panel["attrition"]) == (2, 3, None, None)
    assert panel["final"] is False
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round_2)
    closed = api.get(S + "dashboard/", {"round": 2}, **bearer(organizer)).json()
    panel = next(r for r in closed["rates"] if r["group"] == "")
    # 2 of the 3 did not submit round 2: attrition 66.7 %.
    assert (panel["previous"], panel["lost"], panel["attrition"], panel["final"]) == (3, 2, 66.7, True)


def test_a_real_time_study_takes_snapshots_through_the_api(api, organizer):
    from surveys.services.panel import member_add
    from surveys.services.rounds import round_create, round_open
    from surveys.services.studies import study_load
    from tests.conftest import small_study_data

    study = study_load(data={**small_study_data(slug="live"), "mode": "realtime", "min_cell": 1})
    member_add(study=study, user=organizer, role="organizer")
    round_open(round_=round_create(study=study))
    headers = bearer(organizer)
    taken = api.post("/api/v1/studies/live/snapshots/", {"live": 1}, format="json", **headers)
    assert taken.status_code == 201 and (taken.json()["number"], taken.json()["status"]) == (
        2, "open")
    again = api.post("/api/v1/studies/live/snapshots/", {"live": 1}, format="json", **headers)
    assert again.status_code == 400  # the same request twice takes one snapshot
    listed = api.get("/api/v1/studies/live/snapshots/", **headers).json()
    assert [s["round"] for s in listed] == [1]
    classic = api.post(S + "snapshots/", {"live": 1}, format="json", **headers)
    assert classic.status_code == 400 and "Real-Time" in classic.json()["detail"]
