"""Every analysis notebook runs (papermill + nbclient) on a simulated study's export, and the
figures it prints agree with figures computed here straight from the database's answers."""

import json

import numpy as np
import papermill
import pytest
from django.db import transaction

from surveys.exports import export_bytes
from surveys.models import Answer, Response
from surveys.services.aggregation import round_aggregate
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.simulation import panel_simulate
from surveys.services.studies import study_load
from tests.conftest import ROOT, small_study_data

pytestmark = pytest.mark.django_db  # also makes pytest-django set up the test database

NOTEBOOKS = ROOT / "analysis" / "notebooks"
PANEL = {1: 30, 2: 30, 3: 24}  # the last six experts leave before round 3


@pytest.fixture(scope="module")
def simulated(django_db_setup, django_db_blocker, tmp_path_factory):
    """The small study answered by a simulated panel over three rounds, exported as CSV.

    Built once for the module inside a transaction that is rolled back, so nothing stays behind.
    """
    path = tmp_path_factory.mktemp("notebooks") / "study.csv"
    with django_db_blocker.unblock(), transaction.atomic():
        study = study_load(data=small_study_data("notebooks"))
        for n in PANEL.values():
            round_ = round_open(round_=round_create(study=study))
            # no random dropout: the panel sizes above say who leaves, as the tests expect
            panel_simulate(round_=round_, n=n, seed=6, dropout=0)
            round_close(round_=round_)
            round_aggregate(round_id=round_.pk)  # the on-commit task never fires in here
        path.write_bytes(export_bytes(study, "csv"))
        answers = list(Answer.objects.filter(
            response__round__study=study, response__status=Response.Status.SUBMITTED,
            item__code__in=["agree", "dims"], no_opinion=False).values_list(
            "response__round__number", "item__code", "dimension", "value",
            "response__expert__group__code", "response__expert_id"))
        transaction.set_rollback(True)
    return path, answers


def run(name: str, data, tmp_path, **parameters) -> dict:
    out = tmp_path / f"{name}.out.ipynb"
    nb = papermill.execute_notebook(
        str(NOTEBOOKS / f"{name}.ipynb"), str(out), parameters={"data": str(data), **parameters},
        cwd=str(ROOT), kernel_name="python3", progress_bar=False)
    [cell] = [c for c in nb.cells if "results" in c.metadata.get("tags", [])]
    return json.loads(cell.outputs[0]["text"])


def values(answers, round_, item, dimension="", group=None) -> np.ndarray:
    return np.array([v for r, i, d, v, g, _ in answers
                     if (r, i, d) == (round_, item, dimension) and group in (None, g)])


def test_the_notebooks_are_stored_without_outputs():
    for path in NOTEBOOKS.glob("*.ipynb"):
        cells = json.loads(path.read_text())["cells"]
        assert all(not c.get("outputs") and not c.get("execution_count") for c in cells), path.name
        assert any("parameters" in c["metadata"].get("tags", []) for c in cells), path.name


def test_convergence_notebook(simulated, tmp_path):
    data, answers = simulated
    results = run("convergence", data, tmp_path)
    for round_ in PANEL:
        agree = values(answers, round_, "agree")
        q1, q3 = np.percentile(agree, [25, 75])  # numpy's default is linear interpolation
        assert results["iqr"]["agree"][str(round_)] == pytest.approx(q3 - q1)
        assert results["pct_agree"]["agree"][str(round_)] == pytest.approx(100 * np.mean(agree >= 4))
    feasibility = values(answers, 3, "dims", "feasibility")
    q1, q3 = np.percentile(feasibility, [25, 75])
    assert results["iqr"]["dims/feasibility"]["3"] == pytest.approx(q3 - q1)


def test_consensus_notebook(simulated, tmp_path):
    data, answers = simulated
    results = run("consensus", data, tmp_path, agree_pct=75.0, iqr_max=1.0)
    for round_ in PANEL:
        met = 0
        for item, dimension in [("agree", ""), ("dims", "desirability"), ("dims", "feasibility")]:
            v = values(answers, round_, item, dimension)
            q1, q3 = np.percentile(v, [25, 75])
            met += int(100 * np.mean(v >= 4) >= 75 and q3 - q1 <= 1)
        assert results["counts"]["rule"][str(round_)] == met
    assert set(results["counts"]) == {"rule", "agreement", "iqr", "sd", "tastle_wierman", "apmo"}


def test_polarization_notebook(simulated, tmp_path):
    data, answers = simulated
    results = run("polarization", data, tmp_path, group_a="RU", group_b="US")
    for round_ in PANEL:
        gaps = [abs(values(answers, round_, i, d, "RU").mean() - values(answers, round_, i, d, "US").mean())
                for i, d in [("agree", ""), ("dims", "desirability"), ("dims", "feasibility")]]
        assert results["mean_gap"][str(round_)] == pytest.approx(np.mean(gaps))
    assert results["closer"] == (results["mean_gap"]["3"] < results["mean_gap"]["1"])


def test_attrition_notebook(simulated, tmp_path):
    data, answers = simulated
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
    data, answers = simulated
    results = run("trajectories", data, tmp_path, item="agree")
    by = {(r, e): v for r, i, d, v, _, e in answers if i == "agree"}
    moves = toward = 0
    for round_ in (2, 3):
        median = np.median(values(answers, round_ - 1, "agree"))
        for (r, expert), value in by.items():
            if r == round_ and (round_ - 1, expert) in by:
                moves += 1
                toward += abs(value - median) < abs(by[(round_ - 1, expert)] - median)
    experts = {e for _, i, *_, e in answers if i == "agree"}  # those with a value in any round
    assert (results["item"], results["experts"]) == ("agree", len(experts))
    assert (results["moves"], results["toward"]) == (moves, toward)
