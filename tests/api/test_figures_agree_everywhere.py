"""Every published figure of every round is the same on the dashboard, in the report, in the
API's JSON and in the XLSX export: a three-round study with non-responders, an expert withdrawn
mid-study, experts added after round 1 and a rule change after the lock, and a Real-Time study.
Round 1 and 2's participation and round 1's verdicts are worked out by hand."""

import io
import re
from datetime import timedelta

import pytest
from django.test import Client
from openpyxl import load_workbook

from surveys.exports import export_bytes
from surveys.models import Aggregate, Response, Round
from surveys.reports.data import report_data
from surveys.reports.render import report_html
from surveys.services.aggregation import round_aggregate
from surveys.services.panel import expert_issue_token
from surveys.services.responses import ItemAnswer, response_save_draft, response_submit
from surveys.services.rounds import round_close
from surveys.services.studies import study_load
from tests.api.conftest import bearer
from tests.conftest import small_study_data
from tests.workspace_helpers import aggregate_pending, make_experts, register_rules
from workspace.services.panel import expert_withdraw
from workspace.services.planning import round_next
from workspace.services.rounds import round_start, snapshot_take

pytestmark = pytest.mark.django_db

FIELDS = ("panel", "invited", "started", "submitted", "rate", "previous", "lost", "attrition",
          "final", "median_minutes")
COUNTS = ("items", "agree", "disagree", "none", "no_verdict", "stable", "stability_items",
          "rule_revision")


def answer(expert, round_, agree, desirability, feasibility, *, draft=False):
    answers = {"agree": ItemAnswer(values={"": agree}),
               "dims": ItemAnswer(values={"desirability": desirability,
                                          "feasibility": feasibility})}
    save = response_save_draft if draft else response_submit
    return save(expert=expert, round_=round_, answers=answers)


def took(expert, round_, minutes: int) -> None:
    """The expert's submitted response took `minutes` from the first saved answer."""
    response = Response.objects.get(expert=expert, round=round_)
    start = round_.opens_at.replace(microsecond=0)
    Response.objects.filter(pk=response.pk).update(
        started_at=start, submitted_at=start + timedelta(minutes=minutes))
    response.revisions.update(created_at=start + timedelta(minutes=minutes))


def close(round_) -> Round:
    round_close(round_=round_)
    round_aggregate(round_id=round_.pk)
    return Round.objects.get(pk=round_.pk)


@pytest.fixture
def three_rounds(study, organizer):
    register_rules(study, organizer)  # 75 % and IQR <= 1, agreement or rejection
    p1, p2, p3, p4, p5 = make_experts(study, [("P1", "RU", "en"), ("P2", "RU", "ru"),
                                              ("P3", "US", "en"), ("P4", "US", "en"),
                                              ("P5", "WE", "en")])
    for expert in (p1, p2, p3, p4):  # P5 is on the panel but never invited
        expert_issue_token(expert=expert)
    items = list(study.items.filter(code__in=["agree", "dims"]))
    first = round_start(round_=round_next(study=study, items=items, actor=organizer),
                        actor=organizer)
    for expert, values, minutes in ((p1, (4, 1, 1), 10), (p2, (4, 2, 5), 20),
                                    (p3, (5, 2, 3), 30), (p4, (5, 1, 3), 40)):
        answer(expert, first, *values)
        took(expert, first, minutes)
    first = close(first)
    # Added after round 1 closed: they belong to round 2 on.
    p6, p7 = make_experts(study, [("P6", "WE", "en"), ("P7", "US", "en")])
    for expert in (p6, p7):
        expert_issue_token(expert=expert)
    second = round_start(round_=round_next(study=study, actor=organizer), actor=organizer)
    answer(p1, second, 4, 1, 2)
    answer(p2, second, 5, 2, 2)
    answer(p4, second, 2, 2, 2)
    expert_withdraw(expert=p4, actor=organizer, reason="Took up a government post.")
    answer(p6, second, 4, 1, 1)
    second = close(second)  # P3, P5 and P7 did not answer; P4 withdrew
    register_rules(study, organizer, definition="agreement", agree_pct=70,
                   reason="The steering group lowered the threshold before round 3.")
    aggregate_pending(study)
    third = round_start(round_=round_next(study=study, actor=organizer), actor=organizer)
    answer(p1, third, 4, 1, 2)
    answer(p2, third, 4, 2, 2)
    answer(p6, third, 5, 1, 2, draft=True)
    third = close(third)
    return study, [first, second, third]


@pytest.fixture
def realtime(db, organizer):
    data = small_study_data("live") | {"mode": "realtime", "min_cell": 1}
    study = study_load(data=data)
    from surveys.services.panel import member_add

    member_add(study=study, user=organizer, role="organizer")
    register_rules(study, organizer)
    q1, q2, q3 = make_experts(study, [("Q1", "RU", "en"), ("Q2", "US", "en"), ("Q3", "WE", "en")])
    for expert in (q1, q2, q3):
        expert_issue_token(expert=expert)
    live = round_start(round_=round_next(study=study, items=list(
        study.items.filter(code__in=["agree", "dims"])), actor=organizer), actor=organizer)
    answer(q1, live, 4, 2, 2)
    answer(q2, live, 5, 1, 2)
    snapshot_take(study=study, live_number=live.number, actor=organizer)
    round_aggregate(round_id=live.pk)
    second = study.rounds.get(number=2)
    answer(q3, second, 4, 1, 4)
    return study, [Round.objects.get(pk=live.pk), second]


def _rows(rows, group_key) -> dict:
    return {group_key(r): tuple(r[f] for f in FIELDS) for r in rows}


def dashboard_figures(client, study, number) -> dict:
    page = client.get(f"/studio/{study.slug}/?round={number}")
    assert page.status_code == 200
    context = page.context
    counts = context["figures"]["counts"]
    html = page.content.decode()
    verdicts = {r["item"].code: (r["verdict"], r["stable"]) for r in context["rows"]}
    return {"participation": _rows(context["table"], lambda r: r["group"].code if r["group"]
                                   else ""),
            "counts": tuple(counts[c] for c in COUNTS), "verdicts": verdicts,
            "shown": _shown_counts(html) if verdicts else None}


def report_figures(round_) -> dict:
    data = report_data(round_)
    [row] = [r for r in data["methods"]["rounds"] if r["round"].number == round_.number]
    counts = data["figures"]["counts"]
    verdicts = {v["item"].code: (v["verdict"], v["stable"]) for v in data["figures"]["verdicts"]}
    html = report_html(round_, standalone=True)
    rates = _rows(data["rates"], lambda r: r["group"].code if r["group"] else "")
    assert rates[""] == tuple(row[f] for f in FIELDS)  # the methods table's line of this round
    assert tuple(row["counts"][c] for c in COUNTS) == tuple(counts[c] for c in COUNTS)
    return {"participation": rates, "counts": tuple(counts[c] for c in COUNTS),
            "verdicts": verdicts, "shown": _shown_counts(html) if verdicts else None}


def api_figures(api, headers, study, number) -> dict:
    body = api.get(f"/api/v1/studies/{study.slug}/dashboard/", {"round": number},
                   **headers).json()
    rates = api.get(f"/api/v1/studies/{study.slug}/rounds/{number}/rates/", **headers).json()
    participation = _rows(body["rates"], lambda r: r["group"])
    assert _rows(rates, lambda r: r["group"]) == participation
    counts = body["counts"]
    return {"participation": participation, "counts": tuple(counts[c] for c in COUNTS),
            "verdicts": {v["item"]: (v["verdict"], v["stable"]) for v in body["verdicts"]},
            "shown": (counts["agree"], counts["disagree"], counts["none"], counts["stable"])
            if body["verdicts"] else None}


def xlsx_figures(book, number) -> dict:
    header, *rows = book["Participation"].iter_rows(values_only=True)
    mine = [dict(zip(header, r, strict=True)) for r in rows if r[0] == number]
    participation = {("" if r["group"] == "(panel)" else r["group"]):
                     tuple(r[f] for f in FIELDS) for r in mine}
    header, *rows = book["Verdicts"].iter_rows(values_only=True)
    items = [dict(zip(header, r, strict=True)) for r in rows if r[0] == number and not r[2]]
    return {"participation": participation,
            "verdicts": {r["item"]: (r["verdict"], r["stable"]) for r in items},
            "revision": {r["rule_revision"] for r in items}}


def _shown_counts(html: str) -> tuple:
    found = re.search(r'data-agree="(\d+)" data-disagree="(\d+)" data-none="(\d+)" '
                      r'data-stable="(\d+)"', html)
    return tuple(int(x) for x in found.groups())


def assert_everywhere_equal(study, rounds, organizer, api) -> list[dict]:
    client = Client()
    client.force_login(organizer)
    headers = bearer(organizer)
    book = load_workbook(io.BytesIO(export_bytes(study, "xlsx")))
    seen = []
    for round_ in rounds:
        dashboard = dashboard_figures(client, study, round_.number)
        report = report_figures(round_)
        from_api = api_figures(api, headers, study, round_.number)
        xlsx = xlsx_figures(book, round_.number)
        assert dashboard == report == from_api, f"round {round_.number}"
        assert xlsx["participation"] == dashboard["participation"], f"round {round_.number}"
        assert xlsx["verdicts"] == dashboard["verdicts"], f"round {round_.number}"
        if xlsx["verdicts"]:
            assert xlsx["revision"] == {dashboard["counts"][-1]}
        seen.append(dashboard)
    return seen


def test_a_three_round_study_publishes_one_set_of_figures(three_rounds, organizer, api):
    study, rounds = three_rounds
    first, second, third = assert_everywhere_equal(study, rounds, organizer, api)
    # Round 1, by hand. Panel P1-P5 (P5 never invited, never answered): 4 of 5 = 80 %. Time to
    # complete: RU 10 and 20 -> 15; US 30 and 40 -> 35; the panel 10 20 30 40 -> 25.
    assert first["participation"] == {
        "RU": (2, 2, 2, 2, 100.0, None, None, None, True, 15.0),
        "US": (2, 2, 2, 2, 100.0, None, None, None, True, 35.0),
        "WE": (1, 0, 0, 0, 0.0, None, None, None, True, None),
        "": (5, 4, 4, 4, 80.0, None, None, None, True, 25.0)}
    # agree 4 4 5 5: 100 % in the top boxes, Q1 4, Q3 5 (IQR 1), median 4.5: agree.
    # dims: desirability 1 2 2 1 -> 100 % in the bottom boxes, IQR 1, median 1.5: disagree;
    # feasibility 1 5 3 3 -> none. The item's dimensions differ: none. Under revision 2 (the
    # change after the lock recomputed round 1: agreement >= 70 %, no IQR) the same.
    assert first["verdicts"] == {"agree": ("agree", None), "dims": ("none", None)}
    assert first["counts"] == (2, 1, 0, 1, 0, 0, 0, 2)
    # Round 2, by hand. Panel: P1 P2 P3 P5 (P4 withdrew before it closed) and P6 P7 (added
    # after round 1): 6; submitted P1 P2 P6: 50 %. Of the 4 who submitted round 1, P3 and P4
    # did not submit round 2: attrition 50 %. P7 and P5 are the non-responders they seem.
    panel = second["participation"][""]
    assert panel[:9] == (6, 5, 3, 3, 50.0, 4, 2, 50.0, True)
    assert second["participation"]["US"][:9] == (2, 2, 0, 0, 0.0, 2, 2, 100.0, True)
    assert second["participation"]["WE"][:5] == (2, 1, 1, 1, 50.0)
    # P4 submitted round 2, then withdrew before it closed: in neither the panel nor the
    # statistics (n is the 3 submitted answers of P1, P2 and P6).
    agree = Aggregate.objects.get(round=rounds[1], item__code="agree", group="")
    assert agree.n == 3 == panel[3]
    # P4 stays in round 1's panel and figures: the withdrawal came after round 1 closed.
    assert Aggregate.objects.get(round=rounds[0], item__code="agree", group="").n == 4
    # Round 3 after the rule change: its verdicts are under revision 2. Panel as in round 2;
    # P6 only saved a draft: started, not submitted.
    assert third["counts"][-1] == 2 and third["participation"][""][:5] == (6, 5, 3, 2, 33.3)


def test_a_real_time_study_publishes_one_set_of_figures(realtime, organizer, api):
    study, rounds = realtime
    snapshot, live = assert_everywhere_equal(study, rounds, organizer, api)
    assert snapshot["participation"][""][:5] == (3, 3, 2, 2, 66.7)
    assert snapshot["verdicts"]["agree"] == ("agree", None)
    # The live round carries the snapshot's responses forward; Q3 joined it.
    assert live["participation"][""][3] == 3 and live["verdicts"] == {}
