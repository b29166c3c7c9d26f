"""The report's participant flow, per-item results across rounds and item log, worked out by
hand on a small three-round study: an expert who only saved a draft, one withdrawn during
round 2, one who skipped round 2, one added after round 1; a rule changed after the lock; an
item dropped, one reworded, one kept despite consensus, one asked again with a reason."""

import re

import pytest

from surveys.models import Aggregate, Round
from surveys.reports.data import report_data
from surveys.reports.item_results import verdicts_under
from surveys.reports.render import report_html
from surveys.services.aggregation import round_aggregate
from surveys.services.panel import expert_issue_token
from surveys.services.responses import ItemAnswer, response_save_draft, response_submit
from surveys.services.rounds import round_close
from tests.workspace_helpers import aggregate_pending, make_experts, register_rules
from workspace.selectors import rules_for_report
from workspace.services.panel import expert_withdraw
from workspace.services.planning import draft_item_add, draft_item_reword, round_next
from workspace.services.rounds import round_start

pytestmark = pytest.mark.django_db

AMENDMENT = "The steering group lowered the threshold before round 3."
ASKED_AGAIN = "The panel asked to date the claim again."


def submit(expert, round_, agree, dims=None, **estimates):
    """agree: a rating or None (no opinion); dims: (desirability, feasibility); estimates:
    code=value."""
    answers = {"agree": ItemAnswer(no_opinion=True) if agree is None
               else ItemAnswer(values={"": agree})}
    if dims:
        answers["dims"] = ItemAnswer(values={"desirability": dims[0], "feasibility": dims[1]})
    answers |= {code: ItemAnswer(values={"": value}) for code, value in estimates.items()}
    return response_submit(expert=expert, round_=round_, answers=answers)


def close(round_) -> Round:
    round_close(round_=round_)
    round_aggregate(round_id=round_.pk)
    return Round.objects.get(pk=round_.pk)


@pytest.fixture
def three_rounds(study, organizer):
    # Registered before round 1: 75 % in the boxes and IQR <= 1, either side; stable when the
    # distribution moves less than 15 %; stop after 3 rounds.
    register_rules(study, organizer, stability="distribution", stability_pct=15)
    e1, e2, e3, e4, e5 = make_experts(study, [("E1", "RU", "en"), ("E2", "RU", "en"),
                                              ("E3", "US", "en"), ("E4", "US", "en"),
                                              ("E5", "WE", "en")])
    for expert in (e1, e2, e3, e4, e5):
        expert_issue_token(expert=expert)
    items = list(study.items.filter(code__in=["agree", "dims", "prob", "year"]))
    first = round_start(round_=round_next(study=study, items=items, actor=organizer),
                        actor=organizer)
    submit(e1, first, 1, (4, 1), prob=30, year=2030)
    submit(e2, first, 2, (5, 2), prob=40, year=2035)
    submit(e3, first, 4, (5, 2), prob=50, year=2040)
    submit(e4, first, 5, (4, 1), prob=60, year=2045)
    response_save_draft(expert=e5, round_=first, answers={"agree": ItemAnswer(values={"": 3})})
    first = close(first)
    [e6] = make_experts(study, [("E6", "WE", "en")])  # added after round 1 closed
    expert_issue_token(expert=e6)
    second = round_start(round_=round_next(study=study, items=items[:3], actor=organizer),
                         actor=organizer)  # year dropped
    expert_withdraw(expert=e4, actor=organizer, reason="Took up a government post.")
    submit(e1, second, 2, (4, 1), prob=35)
    submit(e2, second, 2, (5, 2), prob=40)
    submit(e5, second, None, (4, 2), prob=50)
    submit(e6, second, 4, (5, 1), prob=45)
    second = close(second)  # E3 did not answer
    register_rules(study, organizer, definition="agreement", agree_pct=60, reason=AMENDMENT)
    aggregate_pending(study)  # rounds 1 and 2 again, under revision 2
    draft = round_next(study=study, actor=organizer)  # agree kept (consensus), dims, prob carried
    draft_item_reword(round_=draft, item=study.items.get(code="prob"), code="prob-r3",
                      text_en="Reworded", text_ru="Переформулировано", actor=organizer)
    draft_item_add(round_=draft, item=study.items.get(code="year"), actor=organizer,
                   note=ASKED_AGAIN)
    third = round_start(round_=draft, actor=organizer)
    submit(e1, third, 2, (2, 1), year=2030, **{"prob-r3": 40})
    submit(e2, third, 1, (3, 2), year=2035, **{"prob-r3": 45})
    submit(e3, third, 2, (4, 1), year=2040, **{"prob-r3": 50})
    submit(e5, third, 2, (4, 2), year=2045, **{"prob-r3": 55})
    submit(e6, third, 4, (5, 3), year=2050, **{"prob-r3": 60})
    third = close(third)
    return study, [first, second, third]


FLOW = ("joined", "withdrawn", "panel", "invited", "started", "submitted", "rate", "previous",
        "lost", "lost_withdrawn", "lost_absent", "attrition")


def flow_of(entry) -> dict:
    """Group code ('' = the whole panel) -> the flow's figures in FLOW order."""
    rows = [*entry["groups"], entry["panel"]]
    return {(r["group"].code if r["group"] else ""): tuple(r[k] for k in FLOW) for r in rows}


def test_the_flow_counts_every_expert_once_per_round_and_group(three_rounds):
    study, rounds = three_rounds
    flow = report_data(rounds[2])["flow"]
    first, second, third = (flow_of(entry) for entry in flow["rounds"])
    # Round 1: E1-E5 added before it closed (RU 2, US 2, WE 1), all invited; E5 saved a draft
    # (started) and did not submit: 4 of 5 = 80.0 %, WE 0 of 1. No round before: no attrition.
    assert first == {
        "RU": (2, 0, 2, 2, 2, 2, 100.0, None, None, None, None, None),
        "US": (2, 0, 2, 2, 2, 2, 100.0, None, None, None, None, None),
        "WE": (1, 0, 1, 1, 1, 0, 0.0, None, None, None, None, None),
        "": (5, 0, 5, 5, 5, 4, 80.0, None, None, None, None, None)}
    # Round 2: 5 on round 1's panel + E6 joined (WE) - E4 withdrew (US) = 5: RU 2, US 1 (E3),
    # WE 2 (E5, E6). Started and submitted: E1 E2 E5 E6 = 4 of 5 = 80.0 %. Submitted round 1:
    # E1-E4 (RU 2, US 2). Lost: E4 (withdrew) and E3 (on the panel, no answer) = 2 of 4 = 50.0 %;
    # US 2 of 2 = 100.0 %, RU 0 of 2 = 0.0 %, WE nobody to lose (no attrition).
    assert second == {
        "RU": (0, 0, 2, 2, 2, 2, 100.0, 2, 0, 0, 0, 0.0),
        "US": (0, 1, 1, 1, 0, 0, 0.0, 2, 2, 1, 1, 100.0),
        "WE": (1, 0, 2, 2, 2, 2, 100.0, 0, 0, 0, 0, None),
        "": (1, 1, 5, 5, 4, 4, 80.0, 4, 2, 1, 1, 50.0)}
    # Round 3: the same 5, all submit (E3 comes back): 100.0 %. Submitted round 2: E1 E2 E5 E6
    # (RU 2, WE 2), none lost: 0.0 %; US submitted nothing in round 2 (no attrition).
    assert third == {
        "RU": (0, 0, 2, 2, 2, 2, 100.0, 2, 0, 0, 0, 0.0),
        "US": (0, 0, 1, 1, 1, 1, 100.0, 0, 0, 0, 0, None),
        "WE": (0, 0, 2, 2, 2, 2, 100.0, 2, 0, 0, 0, 0.0),
        "": (0, 0, 5, 5, 5, 5, 100.0, 4, 0, 0, 0, 0.0)}
    # Each round's panel is the round before's + joined - withdrawn (5 + 1 - 1 = 5).
    for before, now in zip(flow["rounds"], flow["rounds"][1:], strict=False):
        assert now["boxes"]["before"]["panel"] == before["panel"]["panel"]
        assert (now["panel"]["panel"] == before["panel"]["panel"] + now["panel"]["joined"]
                - now["panel"]["withdrawn"])
    # The round x group table holds the same rows, per group then the panel.
    [ru, us, we, panel] = flow["table"]
    assert [c["attrition"] for c in us["cells"]] == [None, 100.0, None]
    assert [c["rate"] for c in panel["cells"]] == [80.0, 80.0, 100.0]


def test_the_flow_agrees_with_the_response_table_and_participation(three_rounds):
    study, rounds = three_rounds
    for round_ in rounds:
        data = report_data(round_)
        entry = data["flow"]["rounds"][-1]
        keys = ("panel", "invited", "started", "submitted", "rate", "previous", "lost",
                "attrition")
        flow = [tuple(r[k] for k in keys) for r in [*entry["groups"], entry["panel"]]]
        assert flow == [tuple(r[k] for k in keys) for r in data["rates"]]


def lines_of(data) -> dict:
    """(item, round, dimension) -> (n, no opinion, median, IQR, % agree, % disagree, verdict,
    verdict under the rule as registered, stable); 'not asked' where the round did not ask it."""
    out = {}
    for entry in data["item_results"]["items"]:
        for line in entry["lines"]:
            key = (entry["item"].code, line["round"].number, line.get("dimension", ""))
            if not line["asked"]:
                out[key] = "not asked"
                continue
            a = line["a"]
            out[key] = (a.n, a.no_opinion, a.median, a.iqr, a.pct_agree, a.pct_disagree,
                        a.verdict or None, line["original"], a.stable)
    return out


def test_every_item_in_every_round_with_both_verdicts_and_stability(three_rounds):
    study, rounds = three_rounds
    data = report_data(rounds[2])
    lines = lines_of(data)
    results = data["item_results"]
    assert results["original_rule"]["agree_pct"] == 75.0  # as registered before round 1
    assert [r["run"].rule_revision for r in results["rounds"]] == [2, 2, 2]
    # Verdicts in force: revision 2, at least 60 % in the boxes (no IQR), median on that side.
    # As registered: 75 % and IQR <= 1. Quantiles R type 7.
    # agree, round 1: 1 2 4 5: median 3, Q1 1.75, Q3 4.25 (IQR 2.5), 50 % on each side: none.
    assert lines[("agree", 1, "")] == (4, 0, 3, 2.5, 50.0, 50.0, "none", "none", None)
    # Round 2: 2 2 4 and one "no opinion": median 2, Q1 2, Q3 3 (IQR 1); disagree 2/3 = 66.7 %:
    # >= 60 -> disagree now; < 75 -> none as registered. Shares {1,2,4,5: 25 %} -> {2: 66.7,
    # 4: 33.3}: (25 + 41.7 + 8.3 + 25) / 2 = 50 % moved >= 15: not stable.
    n, no_opinion, median, iqr, agree, disagree, *verdicts = lines[("agree", 2, "")]
    assert (n, no_opinion, median, iqr) == (3, 1, 2, 1)
    assert (agree, disagree) == pytest.approx((33.3, 66.7), abs=0.05)
    assert verdicts == ["disagree", "none", False]
    # Round 3: 1 2 2 2 4: median 2, IQR 0, disagree 80 %: disagree under both. Shares -> {1: 20,
    # 2: 60, 4: 20}: (20 + 6.7 + 13.3) / 2 = 20 % moved: not stable.
    assert lines[("agree", 3, "")] == (5, 0, 2, 0, 20.0, 80.0, "disagree", "disagree", False)
    # desirability 4 4 5 5 (rounds 1 and 2): median 4.5, IQR 1, 100 % agree: agree; the same
    # shares in round 2: stable. Round 3: 2 3 4 4 5: median 4, IQR 1, 60 % agree: agree now,
    # none as registered (60 < 75); {4: 50, 5: 50} -> {2,3: 20, 4: 40, 5: 20}: 40 % moved.
    assert lines[("dims", 1, "desirability")] == (4, 0, 4.5, 1, 100.0, 0.0, "agree", "agree", None)
    assert lines[("dims", 2, "desirability")][6:] == ("agree", "agree", True)
    assert lines[("dims", 3, "desirability")] == (5, 0, 4, 1, 60.0, 20.0, "agree", "none", False)
    # feasibility 1 1 2 2: median 1.5, IQR 1, 100 % disagree: disagree (stable in round 2);
    # round 3: 1 1 2 2 3: median 2, IQR 1, 80 % disagree; {1,2: 50} -> {1,2: 40, 3: 20}: 20 %.
    assert lines[("dims", 1, "feasibility")] == (4, 0, 1.5, 1, 0.0, 100.0, "disagree", "disagree",
                                                 None)
    assert lines[("dims", 3, "feasibility")][6:] == ("disagree", "disagree", False)
    # Estimates have figures and no verdict; items a round did not ask say so.
    assert lines[("prob", 1, "")][:3] == (4, 0, 45) and lines[("prob", 1, "")][6:8] == (None, None)
    assert lines[("prob", 3, "")] == "not asked" and lines[("prob-r3", 1, "")] == "not asked"
    assert lines[("year", 2, "")] == "not asked" and lines[("year", 3, "")][2] == 2040
    assert "open" not in {code for code, _, _ in lines}  # open questions have no figures


def test_judging_the_stored_figures_again_under_the_rule_in_force_gives_the_stored_verdicts(
        three_rounds):
    study, rounds = three_rounds
    stored = list(Aggregate.objects.filter(round__in=rounds, group="").select_related("item"))
    again = verdicts_under(rules_for_report(study)["rule"]["consensus"], stored)
    assert len(again) == 9  # agree and the two dimensions of dims, in each of 3 rounds
    assert again == {a.pk: a.verdict or None for a in stored if a.pk in again}


def test_the_stopping_outcome_after_each_round(three_rounds):
    study, rounds = three_rounds
    # After round 2 (revision 2): agree has consensus (disagree), dims is stable: 2 of 2
    # settled, but the registered rule is "stop after 3 rounds": go on.
    status = report_data(rounds[1])["item_results"]["stopping"]
    assert (status["round"], status["settled"], status["rated"], status["converged"],
            status["reached_max"], status["stop"]) == (2, 2, 2, True, False, False)
    assert (status["rule"], status["max_rounds"]) == ("max_rounds", 3)
    # After round 3: agree (disagree) settled, dims neither (none, not stable): 1 of 2; the
    # third round is the registered maximum: stop.
    status = report_data(rounds[2])["item_results"]["stopping"]
    assert (status["settled"], status["rated"], status["reached_max"], status["stop"]) == (
        1, 2, True, True)


def test_the_item_log_tells_each_items_history_with_reasons(three_rounds):
    study, rounds = three_rounds
    log = {entry["item"].code: [(e["round"].number, e["kind"], e["others"], e["note"])
                                for e in entry["events"]]
           for entry in report_data(rounds[2])["item_log"]}
    assert log == {
        # Round 2's verdict on agree (revision 2) was consensus: round 3 kept it all the same.
        "agree": [(1, "asked", [], ""), (2, "carried", [], ""), (3, "kept", [], "")],
        "dims": [(1, "asked", [], ""), (2, "carried", [], ""), (3, "carried", [], "")],
        "prob": [(1, "asked", [], ""), (2, "carried", [], ""), (3, "reworded_as", ["prob-r3"], "")],
        "prob-r3": [(3, "reworded", ["prob"], "")],
        "year": [(1, "asked", [], ""), (2, "dropped", [], ""), (3, "added", [], ASKED_AGAIN)],
    }
    # A report of round 2 knows nothing of round 3.
    earlier = {e["item"].code: e["events"] for e in report_data(rounds[1])["item_log"]}
    assert set(earlier) == {"agree", "dims", "prob", "year"}
    assert [e["kind"] for e in earlier["year"]] == ["asked", "dropped"]


def test_the_sections_render_in_both_languages_csp_clean(three_rounds, client, organizer,
                                                         settings):
    study, rounds = three_rounds
    html = report_html(rounds[2], standalone=True)
    for anchor in ('id="flow"', 'id="response"', 'id="results"', 'id="consensus"',
                   'id="stopping"', 'id="item-log"'):
        assert anchor in html
    assert "Participant flow" in html and "not asked" in html and ASKED_AGAIN in html
    assert "Verdict under the rule as registered" in html and "reworded as prob-r3" in html
    assert "The rule is met: the study can stop." in html
    assert not re.search(r"<script|\sstyle=", html)
    client.force_login(organizer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    page = client.get(f"/studies/{study.slug}/reports/3/").content.decode()
    assert "Движение участников" in page and "Журнал пунктов" in page and "не задавался" in page
    assert not re.search(r"<script|<style|\sstyle=", page)


def test_every_expert_on_a_round_panel_is_in_one_box(three_rounds):
    study, rounds = three_rounds
    flow = report_data(rounds[2])["flow"]
    parts = ("submitted", "lost_absent", "absent_again", "absent_new")
    found = [{(r["group"].code if r["group"] else ""): (r["panel"], r["not_submitted"],
                                                       *(r[k] for k in parts))
              for r in [*entry["groups"], entry["panel"]]} for entry in flow["rounds"]]
    for rows in found:
        for panel, not_submitted, submitted, lost, again, new in rows.values():
            # panel = submitted + did not submit; did not submit = lost + again + new.
            assert panel == submitted + not_submitted == submitted + (lost or 0) + again + new
    # Round 1: E5 (WE) did not submit, on no panel before: new.
    assert found[0][""] == (5, 1, 4, None, 0, 1) and found[0]["WE"] == (1, 1, 0, None, 0, 1)
    # Round 2: E3 (US) submitted round 1, not round 2: lost, still on the panel (5 = 4 + 1).
    assert found[1][""] == (5, 1, 4, 1, 0, 0) and found[1]["US"] == (1, 1, 0, 1, 0, 0)
    # Round 3: all five submitted.
    assert found[2][""] == (5, 0, 5, 0, 0, 0)
    html = report_html(rounds[2], standalone=True)
    assert "did not submit round 3" in html and "of them had not submitted round 2 either" in html
    # The key to the group codes in the boxes.
    assert re.search(r"RU = [^;]+; US = [^;]+; WE = ", html)
    # No repository path in the report; the consensus table's "Change" is defined.
    assert "docs/" not in html and ".md" not in html
    assert "Change: the change in the median since the round before." in html


def test_the_stopping_reason_names_both_criteria_when_both_are_met(three_rounds, organizer):
    study, rounds = three_rounds
    # Stop when converged, at most 2 rounds: after round 2 every rated item is settled (2 of 2)
    # and round 2 is the maximum: the reason says both.
    register_rules(study, organizer, stopping="converged", max_rounds=2, reason=AMENDMENT)
    status = report_data(rounds[1])["item_results"]["stopping"]
    assert (status["converged"], status["reached_max"], status["stop"]) == (True, True, True)
    html = report_html(rounds[1], standalone=True)
    assert "every rated item has reached consensus or is stable, and the registered maximum" in html
    # The rule is worded as the protocol's rule line.
    line = rules_for_report(study)["lines"][2]
    assert status["line"] == line and line.startswith("Stopping: when every item")
    assert html.count(line) >= 2  # the protocol and the stopping outcome


def test_the_item_log_lists_in_full_only_items_something_happened_to(three_rounds):
    study, rounds = three_rounds
    data = report_data(rounds[2])
    view = data["item_log_view"]
    # dims: asked in round 1, carried over to rounds 2 and 3, no reason: one summary line.
    assert view["unchanged"] == ["dims"]
    assert "dims" not in [entry["item"].code for entry in view["listed"]]
    assert {"agree", "prob", "year"} <= {entry["item"].code for entry in view["listed"]}
    html = report_html(rounds[2], standalone=True)
    assert "1 item was asked in round 1 and carried over unchanged to every round: dims." in html


def test_the_new_report_lines_in_russian(three_rounds):
    from django.utils import translation

    study, rounds = three_rounds
    with translation.override("ru"):
        html = report_html(rounds[2], standalone=True)
    assert "1 пункт задан в туре 1 и без изменений перенесён во все следующие туры: dims." in html
    assert "Группы заинтересованных сторон в блоках:" in html
    assert "не отправили ответы в туре 3" in html
    assert "Изменение: изменение медианы по сравнению с предыдущим туром." in html
    assert "раунд" not in html.lower()
