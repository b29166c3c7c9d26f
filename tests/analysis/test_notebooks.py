"""Every analysis notebook runs (papermill + nbclient) on the shipped example, on a simulated
study's export (CSV and JSON archive) and on a file with other group names, and the figures it
prints agree with figures computed here straight from the answers."""

import json

import numpy as np
import pandas as pd
import papermill
import pytest
from django.db import transaction

from analysis.exported import DEFAULT_RULES
from surveys.exports import export_bytes
from surveys.models import Answer, Response
from surveys.services.aggregation import round_aggregate
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.simulation import panel_simulate
from surveys.services.studies import study_load
from tests.conftest import ROOT, small_study_data

pytestmark = pytest.mark.django_db  # also makes pytest-django set up the test database

NOTEBOOKS = ROOT / "analysis" / "notebooks"
NAMES = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
EXAMPLE = ROOT / "analysis" / "examples" / "example_long.csv"
PANEL = {1: 30, 2: 30, 3: 24}  # the last six experts leave before round 3
# The study registers its own rules: consensus on agreement only, at 60 % and IQR <= 1.5;
# stable when the distribution moves less than 20 %.
RULES = {"definition": "combined", "direction": "agree", "agree_pct": 60.0, "iqr_max": 1.5,
         "stability": "distribution", "stability_p": 0.05, "stability_pct": 20.0}
RATED = [("agree", ""), ("dims", "desirability"), ("dims", "feasibility")]


@pytest.fixture(scope="module")
def simulated(django_db_setup, django_db_blocker, tmp_path_factory):
    """The small study answered by a simulated panel over three rounds, exported as CSV (no
    rules) and as a JSON archive (with the registered rules).

    Built once for the module inside a transaction that is rolled back, so nothing stays behind.
    """
    folder = tmp_path_factory.mktemp("notebooks")
    csv, archive = folder / "study.csv", folder / "study.json"
    with django_db_blocker.unblock(), transaction.atomic():
        study = study_load(data={**small_study_data("notebooks"), "consensus": RULES})
        for n in PANEL.values():
            round_ = round_open(round_=round_create(study=study))
            # no random dropout: the panel sizes above say who leaves, as the tests expect
            panel_simulate(round_=round_, n=n, seed=6, dropout=0)
            round_close(round_=round_)
            round_aggregate(round_id=round_.pk)  # the on-commit task never fires in here
        csv.write_bytes(export_bytes(study, "csv"))
        archive.write_bytes(export_bytes(study, "json"))
        answers = list(Answer.objects.filter(
            response__round__study=study, response__status=Response.Status.SUBMITTED,
            item__code__in=["agree", "dims"], no_opinion=False).values_list(
            "response__round__number", "item__code", "dimension", "value",
            "response__expert__group__code", "response__expert_id"))
        transaction.set_rollback(True)
    return csv, archive, answers


@pytest.fixture(scope="module")
def other_groups(tmp_path_factory):
    """A hand-made file whose groups are none of the study's: five ACADEMIA experts, four
    INDUSTRY, two without a group; two items; the last INDUSTRY expert leaves after round 1."""
    rng = np.random.default_rng(19)
    experts = [(f"A{k}", "ACADEMIA") for k in range(5)] + [(f"I{k}", "INDUSTRY") for k in range(4)]
    experts += [("N0", ""), ("N1", "")]
    rows = [(e, g, r, item, int(rng.integers(1, 6)))
            for r in (1, 2) for e, g in experts for item in ("x", "y") if not (r == 2 and e == "I3")]
    frame = pd.DataFrame(rows, columns=["expert", "group", "round", "item", "value"])
    path = tmp_path_factory.mktemp("other") / "other.csv"
    frame.to_csv(path, index=False)
    return path, frame


def execute(name: str, data, folder, **parameters):
    out = folder / f"{name}-{len(list(folder.iterdir()))}.out.ipynb"
    return papermill.execute_notebook(
        str(NOTEBOOKS / f"{name}.ipynb"), str(out), parameters={"data": str(data), **parameters},
        cwd=str(ROOT), kernel_name="python3", progress_bar=False)


def results_of(nb) -> dict:
    [cell] = [c for c in nb.cells if "results" in c.metadata.get("tags", [])]
    return json.loads(cell.outputs[0]["text"])


def printed(nb) -> str:
    """Everything the notebook printed or displayed as text."""
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def run(name: str, data, tmp_path, **parameters) -> dict:
    return results_of(execute(name, data, tmp_path, **parameters))


def values(answers, round_, item, dimension="", group=None) -> np.ndarray:
    return np.array([v for r, i, d, v, g, _ in answers
                     if (r, i, d) == (round_, item, dimension) and group in (None, g)])


def test_the_notebooks_are_stored_without_outputs():
    assert {"attrition", "consensus", "convergence", "polarization", "stability",
            "trajectories"} <= set(NAMES)
    for path in NOTEBOOKS.glob("*.ipynb"):
        cells = json.loads(path.read_text())["cells"]
        assert all(not c.get("outputs") and not c.get("execution_count") for c in cells), path.name
        assert any("parameters" in c["metadata"].get("tags", []) for c in cells), path.name


@pytest.mark.parametrize("name", NAMES)
def test_every_notebook_runs_on_the_example_and_on_other_groups_printing_plain_numbers(
        name, other_groups, tmp_path):
    for data in (EXAMPLE, other_groups[0]):
        nb = execute(name, data, tmp_path)
        text = printed(nb)
        assert "np.int64" not in text and "np.float64" not in text, (name, data.name)
        assert results_of(nb), (name, data.name)


def test_convergence_notebook(simulated, tmp_path):
    data, _, answers = simulated
    results = run("convergence", data, tmp_path)
    for round_ in PANEL:
        agree = values(answers, round_, "agree")
        q1, q3 = np.percentile(agree, [25, 75])  # numpy's default is linear interpolation
        assert results["iqr"]["agree"][str(round_)] == pytest.approx(q3 - q1)
        assert results["pct_agree"]["agree"][str(round_)] == pytest.approx(100 * np.mean(agree >= 4))
    feasibility = values(answers, 3, "dims", "feasibility")
    q1, q3 = np.percentile(feasibility, [25, 75])
    assert results["iqr"]["dims/feasibility"]["3"] == pytest.approx(q3 - q1)
    # Two panels, one quantity each (no second y axis), and the title above both.
    assert results["axes"] == ["IQR", "% agreement (>= 4)"]
    assert results["title_clear"] is True


def expected_verdict(v: np.ndarray, *, agree_pct: float, iqr_max: float, direction: str) -> str:
    q1, q3 = np.percentile(v, [25, 75])
    median = np.median(v)
    if direction in ("agree", "either") and (
            100 * np.mean(v >= 4) >= agree_pct and q3 - q1 <= iqr_max and median >= 4):
        return "agree"
    if direction in ("disagree", "either") and (
            100 * np.mean(v <= 2) >= agree_pct and q3 - q1 <= iqr_max and median <= 2):
        return "disagree"
    return "none"


def test_consensus_notebook_judges_by_the_rule_the_study_registered(simulated, tmp_path):
    _, archive, answers = simulated
    nb = execute("consensus", archive, tmp_path)
    results = results_of(nb)
    assert "registered rule read from study.json" in printed(nb)
    assert results["rules"] == RULES
    for round_ in PANEL:
        expected = {f"{i}/{d}" if d else i: expected_verdict(
            values(answers, round_, i, d), agree_pct=60, iqr_max=1.5, direction="agree")
            for i, d in RATED}
        assert {label: v[str(round_)] for label, v in results["verdicts"].items()} == expected
        assert results["counts"]["rule"][str(round_)] == sum(v != "none" for v in expected.values())
    assert set(results["counts"]) == {"rule", "agreement", "iqr", "sd", "tastle_wierman", "apmo"}


def test_consensus_notebook_states_the_default_when_the_export_has_no_rule(simulated, tmp_path):
    data, _, answers = simulated
    nb = execute("consensus", data, tmp_path)
    results = results_of(nb)
    assert "no registered rule in the export: the stated default is used" in printed(nb)
    assert results["rules"] == DEFAULT_RULES
    for round_ in PANEL:
        met = sum(expected_verdict(values(answers, round_, i, d), agree_pct=75, iqr_max=1,
                                   direction="either") != "none" for i, d in RATED)
        assert results["counts"]["rule"][str(round_)] == met


def test_polarization_notebook(simulated, tmp_path):
    data, _, answers = simulated
    results = run("polarization", data, tmp_path, group_a="RU", group_b="US")
    for round_ in PANEL:
        gaps = [abs(values(answers, round_, i, d, "RU").mean() - values(answers, round_, i, d, "US").mean())
                for i, d in RATED]
        assert results["mean_gap"][str(round_)] == pytest.approx(np.mean(gaps))
        spreads = [np.ptp([values(answers, round_, i, d, g).mean() for g in ("RU", "US", "WE")])
                   for i, d in RATED]
        assert results["mean_spread"][str(round_)] == pytest.approx(np.mean(spreads))
    assert results["closer"] == (results["mean_gap"]["3"] < results["mean_gap"]["1"])


def test_polarization_notebook_takes_whatever_groups_the_file_has(other_groups, tmp_path):
    data, frame = other_groups
    results = run("polarization", data, tmp_path)
    assert results["groups"] == {"ACADEMIA": 5, "INDUSTRY": 4}  # those without a group left out
    assert results["pair"] == ["ACADEMIA", "INDUSTRY"]  # the two largest
    means = frame.pivot_table(index=["round", "item"], columns="group", values="value", aggfunc="mean")
    gap = (means["ACADEMIA"] - means["INDUSTRY"]).abs().groupby("round").mean()
    assert results["mean_gap"] == {str(r): pytest.approx(v) for r, v in gap.items()}
    # A group the file does not have: said so, no gap, no traceback.
    missing = run("polarization", data, tmp_path, group_a="RU", group_b="CEE")
    assert (missing["pair"], missing["mean_gap"], missing["closer"]) == ([], {}, None)


def test_attrition_notebook(simulated, tmp_path):
    data, _, answers = simulated
    results = run("attrition", data, tmp_path)
    assert (results["started"], results["dropouts"]) == (30, 6)
    # Simulated experts are created in order, so the dropouts are the last six of round 1.
    experts = sorted({e for r, *_, e in answers if r == 1})
    left, stayed = experts[24:], experts[:24]
    first = {(e, i, d): v for r, i, d, v, _, e in answers if r == 1}
    for expert_set in (left, stayed):
        assert all(any(k[0] == e for k in first) for e in expert_set)
    diff = (np.mean([first[(e, "agree", "")] for e in left if (e, "agree", "") in first])
            - np.mean([first[(e, "agree", "")] for e in stayed if (e, "agree", "") in first]))
    assert results["difference"]["agree"] == pytest.approx(diff)


def test_trajectories_notebook(simulated, tmp_path):
    data, _, answers = simulated
    results = run("trajectories", data, tmp_path, item="agree")
    by = {(r, e): v for r, i, d, v, _, e in answers if i == "agree"}
    moves = toward = 0
    for round_ in (2, 3):
        median = np.median(values(answers, round_ - 1, "agree"))
        grid = np.zeros((5, 5), dtype=int)
        for (r, expert), value in by.items():
            if r == round_ and (round_ - 1, expert) in by:
                moves += 1
                toward += abs(value - median) < abs(by[(round_ - 1, expert)] - median)
                grid[int(by[(round_ - 1, expert)]) - 1, int(value) - 1] += 1
        # Row: the answer before, column: the answer after.
        assert results["transitions"][f"{round_ - 1}->{round_}"] == grid.tolist()
    experts = {e for _, i, *_, e in answers if i == "agree"}  # those with a value in any round
    assert (results["item"], results["experts"]) == ("agree", len(experts))
    assert (results["moves"], results["toward"]) == (moves, toward)
    assert set(results["ticks"]) == {1.0, 2.0, 3.0, 4.0, 5.0}  # whole points of the scale


def test_stability_notebook_judges_by_the_registered_stability_rule(simulated, tmp_path):
    _, archive, answers = simulated
    results = run("stability", archive, tmp_path)
    assert results["rules"] == {"stability": "distribution", "stability_p": 0.05,
                                "stability_pct": 20.0}
    assert set(results["items"]) == {"1->2", "2->3"}
    by = {(r, i, d, e): v for r, i, d, v, _, e in answers}
    for before, after in ((1, 2), (2, 3)):
        key = f"{before}->{after}"
        for item, dimension in RATED:
            label = f"{item}/{dimension}" if dimension else item
            pairs = [(v, by[(after, i, d, e)]) for (r, i, d, e), v in by.items()
                     if (r, i, d) == (before, item, dimension) and (after, i, d, e) in by]
            a, b = values(answers, before, item, dimension), values(answers, after, item, dimension)
            moved = 50 * sum(abs(np.mean(b == p) - np.mean(a == p)) for p in range(1, 6))
            row = results["items"][key][label]
            assert row["n_pairs"] == len(pairs)
            assert row["pct_changed"] == pytest.approx(100 * np.mean([x != y for x, y in pairs]))
            assert row["distribution_change"] == pytest.approx(moved)
            assert row["stable"] is bool(moved < 20)
        judged = results["items"][key].values()
        assert results["stable"][key] == {"stable": sum(r["stable"] is True for r in judged),
                                          "judged": len(judged)}
