"""The expert–public gap (analysis.gap, `python -m analysis gap`): Newcombe's interval against
the published examples, Cliff's delta by hand and against Mann-Whitney's U, the gap on a
hand-made pair of studies, the CLI's output and errors."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from analysis.cli_gap import GAP_FIELDS
from analysis.consensus import study_rule
from analysis.crosstab import wilson
from analysis.gap import GAP_COLUMNS, cliffs_delta, effect_size, expert_public_gap, newcombe
from tests.analysis.test_analysis_cli import run, write
from tests.conftest import ROOT

EXAMPLES = ROOT / "analysis" / "examples"
RULE = study_rule(agree_pct=75, iqr_max=1)


def interval(x: int, n: int) -> tuple[float, tuple[float, float]]:
    low, high = wilson(np.array(x / n), np.array(float(n)))
    return x / n, (float(low), float(high))


# --- Newcombe's hybrid score interval (method 10) ----------------------------------------------

# Newcombe (1998), Statistics in Medicine 17: 873-890, Table II, method 10 (score, no continuity
# correction). (The brief quoted "0.1750, 0.0249 to 0.3168" for 56/70 - 48/80; that difference is
# 0.2000, and the paper's interval for it is 0.0524 to 0.3339, as below and as the R package
# propint's tests and statsmodels give.)
PUBLISHED = [
    ((56, 70, 48, 80), (0.2000, 0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.6000, 0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.5714, 0.0582, 0.8062)),
    ((5, 56, 0, 29), (0.0893, -0.0381, 0.1926)),
    ((0, 10, 0, 20), (0.0000, -0.1611, 0.2775)),
    ((10, 10, 0, 20), (1.0000, 0.6791, 1.0000)),
]


@pytest.mark.parametrize("counts,expected", PUBLISHED)
def test_newcombe_interval_matches_the_published_table(counts, expected):
    a, m, b, n = counts
    got = newcombe(*interval(a, m), *interval(b, n))
    assert got == pytest.approx(expected, abs=5e-5)
    low, high = confint_proportions_2indep(a, m, b, n, method="newcomb", compare="diff")
    assert got[1:] == pytest.approx((low, high), abs=1e-9)


def test_newcombe_by_hand_for_9_of_10_against_3_of_10():
    # Wilson, z² = 3.8415, n = 10: 9/10: centre (0.9 + 0.19207) / 1.38415 = 0.78898, half
    # 1.96 / 1.38415 * sqrt(0.009 + 0.0096037) = 0.19313 -> (0.59585, 0.98211); 3/10: centre
    # 0.35550, half 1.41599 * sqrt(0.021 + 0.0096037) = 0.24771 -> (0.10779, 0.60322).
    # low = 0.6 - sqrt(0.30415² + 0.30322²) = 0.6 - 0.42948 = 0.17052;
    # high = 0.6 + sqrt(0.08211² + 0.19221²) = 0.6 + 0.20901 = 0.80901.
    d, low, high = newcombe(*interval(9, 10), *interval(3, 10))
    assert (d, low, high) == pytest.approx((0.6, 0.17052, 0.80901), abs=1e-4)


# --- Cliff's delta --------------------------------------------------------------------------------

def test_cliffs_delta_by_hand_and_from_mann_whitney_u():
    # x = 1 3 5 against y = 2 3: pairs (1,2) < (1,3) < (3,2) > (3,3) = (5,2) > (5,3) >:
    # 3 above, 2 below of 6 -> delta = 1/6. U of x (ties one half) = 3.5: 2U/6 - 1 = 1/6.
    assert cliffs_delta([1, 3, 5], [2, 3]) == pytest.approx(1 / 6)
    u = stats.mannwhitneyu([1, 3, 5], [2, 3]).statistic
    assert 2 * u / 6 - 1 == pytest.approx(1 / 6)
    rng = np.random.default_rng(20)
    x, y = rng.integers(1, 6, 40), rng.integers(1, 6, 25)
    u = stats.mannwhitneyu(x, y).statistic
    assert cliffs_delta(x, y) == pytest.approx(2 * u / (40 * 25) - 1)
    assert cliffs_delta([], [1]) != cliffs_delta([], [1])  # NaN


def test_weighted_cliffs_delta_counts_a_weight_of_two_as_two_answers():
    # Weights 2 1 1 on x = 1 3 5 are x = 1 1 3 5 unweighted against y = 2 3:
    # above 3 ((3,2), (5,2), (5,3)), below 4 (each 1 below 2 and 3) of 8: -1/8.
    assert cliffs_delta([1, 3, 5], [2, 3], [2, 1, 1]) == pytest.approx(-1 / 8)
    assert cliffs_delta([1, 1, 3, 5], [2, 3]) == pytest.approx(-1 / 8)
    assert cliffs_delta([1, 3, 5], [2, 3], [0.5, 0.25, 0.25]) == pytest.approx(-1 / 8)


@pytest.mark.parametrize("delta,name", [(0.1, "negligible"), (-0.2, "small"), (0.4, "medium"),
                                        (-0.5, "large"), (math.nan, None)])
def test_effect_sizes_are_named_by_romanos_bounds(delta, name):
    assert effect_size(delta) == name


# --- the gap on a hand-made pair of studies ----------------------------------------------------

def panel_rows() -> list[dict]:
    """Round 1 (not used) and round 2, the final one: q = 4 4 5 5 2, r = 1 2 2 3 4."""
    rows = [{"expert": f"E{k}", "round": 1, "item": "q", "value": 3} for k in range(5)]
    for item, values in (("q", [4, 4, 5, 5, 2]), ("r", [1, 2, 2, 3, 4])):
        rows += [{"expert": f"E{k}", "round": 2, "item": item, "value": v}
                 for k, v in enumerate(values)]
    return rows


# (respondent, country, weight, answer to q, flagged); F is flagged and left out.
SURVEY = [("A1", "A", 2, 5, False), ("A2", "A", 2, 4, False), ("B1", "B", 1, 2, False),
          ("B2", "B", 1, 1, False), ("B3", "B", 1, 3, False), ("F", "B", 1, 5, True)]


def survey_rows(item: str = "q") -> list[dict]:
    rows = [{"expert": e, "round": 1, "item": item, "value": v, "country": c, "w": w,
             "flagged": f} for e, c, w, v, f in SURVEY]
    return rows + [{"expert": e, "round": 1, "item": "s", "value": 3, "country": c, "w": w,
                    "flagged": f} for e, c, w, _, f in SURVEY]


def test_the_gap_on_a_hand_made_pair_of_studies():
    import pandas as pd

    out = expert_public_gap(pd.DataFrame(panel_rows()), pd.DataFrame(survey_rows()), rule=RULE,
                            by="country", weight="w")
    assert list(out.columns) == list(GAP_COLUMNS)
    assert list(out["category"].fillna("all")) == ["all", "A", "B"]  # only q is in both
    every, a, b = out.to_dict(orient="records")
    # Panel, round 2, q = 2 4 4 5 5: median 4, q1 4, q3 5, IQR 1, 4 of 5 agree (80 %): agree
    # under 75 % and IQR <= 1 with the median in the top boxes.
    assert (every["panel_round"], every["panel_n"], every["panel_median"], every["panel_iqr"],
            every["panel_pct_agree"], every["panel_verdict"]) == (2, 5, 4, 1, 80, "agree")
    assert (every["panel_pct_agree_ci_low"], every["panel_pct_agree_ci_high"]) == pytest.approx(
        [100 * x for x in proportion_confint(4, 5, method="wilson")])
    # Survey: weights 2 2 1 1 1 (F left out), the two agreeing answers weigh 4 of 7: 57.14 %;
    # n_eff = 7² / (4 + 4 + 1 + 1 + 1) = 49/11, deff = 5 / (49/11) = 55/49.
    assert (every["survey_n"], every["survey_weighted_n"]) == (5, 7)
    assert every["survey_n_eff"] == pytest.approx(49 / 11)
    assert every["survey_deff"] == pytest.approx(55 / 49)
    assert every["survey_pct_agree"] == pytest.approx(400 / 7)
    # Weighted distribution: 1 and 2 and 3 weigh 1 each, 4 and 5 weigh 2: 1/7 and 2/7.
    assert every["survey_distribution"] == pytest.approx(
        {1: 100 / 7, 2: 100 / 7, 3: 100 / 7, 4: 200 / 7, 5: 200 / 7})
    survey_ci = proportion_confint(4 / 7 * 49 / 11, 49 / 11, method="wilson")  # Wilson on n_eff
    assert (every["survey_pct_agree_ci_low"] / 100,
            every["survey_pct_agree_ci_high"] / 100) == pytest.approx(survey_ci)
    # Gap: 57.14 - 80 = -22.86 points; Newcombe from the two Wilson intervals.
    panel_ci = proportion_confint(4, 5, method="wilson")
    low = 4 / 7 - 0.8 - math.sqrt((4 / 7 - survey_ci[0]) ** 2 + (panel_ci[1] - 0.8) ** 2)
    high = 4 / 7 - 0.8 + math.sqrt((survey_ci[1] - 4 / 7) ** 2 + (0.8 - panel_ci[0]) ** 2)
    assert every["gap_pct_agree"] == pytest.approx(400 / 7 - 80)
    assert (every["gap_ci_low"], every["gap_ci_high"]) == pytest.approx((100 * low, 100 * high))
    assert every["direction"] == "no clear difference"
    # Cliff's delta against y = 2 4 4 5 5: the 5 (w 2) is above 3 and below none: +3 x 2; the
    # 4 (w 2): above 1, below 2: -1 x 2; the 2: -4; the 1: -5; the 3: above 1, below 4: -3.
    # (6 - 2 - 4 - 5 - 3) / (7 x 5) = -8/35.
    assert every["cliffs_delta"] == pytest.approx(-8 / 35)
    assert every["effect"] == "small"
    # A: 5 and 4, both weight 2: all agree (100 %), gap +20; delta (6 - 2) / (4 x 5) = 0.2.
    assert (a["survey_n"], a["survey_pct_agree"], a["gap_pct_agree"]) == (2, 100, 20)
    assert a["cliffs_delta"] == pytest.approx(0.2)
    # B: 2 1 3, nobody agrees: gap -80. Wilson 0/3 = (0, 0.5615), panel (0.3755, 0.9638):
    # low = -0.8 - 0.1638 = -0.9638, high = -0.8 + sqrt(0.5615² + 0.4245²) = -0.0961: below 0.
    assert (b["survey_n"], b["survey_pct_agree"], b["gap_pct_agree"]) == (3, 0, -80)
    assert (b["gap_ci_low"], b["gap_ci_high"]) == pytest.approx((-96.38, -9.61), abs=0.01)
    assert b["direction"] == "survey agrees less"
    assert (b["cliffs_delta"], b["effect"]) == (pytest.approx(-12 / 15), "large")
    # The panel's figures are the same on every row.
    assert a["panel_pct_agree"] == b["panel_pct_agree"] == 80


def test_items_with_other_codes_are_paired_by_the_mapping():
    import pandas as pd

    out = expert_public_gap(pd.DataFrame(panel_rows()), pd.DataFrame(survey_rows("Q1")), rule=RULE,
                            weight="w", pairs=[("q", "Q1"), ("r", "missing")])
    assert list(zip(out["item"], out["survey_item"], strict=True)) == [("q", "Q1")]
    assert out["survey_pct_agree"].iloc[0] == pytest.approx(400 / 7)


# --- the command line ---------------------------------------------------------------------------

@pytest.fixture
def files(tmp_path):
    return write(tmp_path, panel_rows(), "panel.csv"), write(tmp_path, survey_rows(), "survey.csv")


def test_the_cli_prints_the_pinned_fields(files):
    status, out, err = run("gap", *files, "--by", "country", "--weights", "w", "--rule",
                           "agree=75,iqr=1")
    assert (status, err) == (0, "")
    records = json.loads(out)
    assert [list(r) for r in records] == [GAP_FIELDS] * 3
    assert GAP_FIELDS == list(GAP_COLUMNS)
    every = records[0]
    assert (every["category"], every["panel_verdict"]) == (None, "agree")
    assert every["gap_pct_agree"] == pytest.approx(400 / 7 - 80)
    assert every["survey_distribution"]["4"] == pytest.approx(200 / 7)


def test_the_cli_warns_when_the_panel_has_no_registered_rule(files):
    status, out, err = run("gap", *files, "--weights", "w")
    assert status == 0 and len(json.loads(out)) == 1
    assert "has no registered rule: the panel's verdicts use the stated default" in err


def test_the_cli_reads_the_rule_registered_in_a_json_archive(tmp_path, files):
    archive = tmp_path / "study.json"
    archive.write_text(json.dumps({"study": {"consensus": {
        "definition": "agreement", "direction": "agree", "agree_pct": 90, "iqr_max": 1}},
        "answers": panel_rows()}))
    status, out, err = run("gap", str(archive), files[1], "--weights", "w")
    assert (status, err) == (0, "")
    assert json.loads(out)[0]["panel_verdict"] == "none"  # 80 % is below the registered 90 %


def test_the_cli_takes_a_map_and_warns_about_codes_it_cannot_find(tmp_path):
    panel = write(tmp_path, panel_rows(), "panel.csv")
    survey = write(tmp_path, survey_rows("Q1"), "survey.csv")
    mapping = tmp_path / "map.csv"
    mapping.write_text("panel_code,survey_code\nq,Q1\nr,nowhere\n")
    status, out, err = run("gap", panel, survey, "--map", str(mapping), "--rule", "agree_75")
    assert status == 0 and [r["survey_item"] for r in json.loads(out)] == ["Q1"]
    assert "warning: --map: 'nowhere' not in" in err


def error_of(*argv: str) -> str:
    status, out, err = run("gap", *argv)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_cli_errors_are_one_line(tmp_path, files):
    panel, survey = files
    other = write(tmp_path, [dict(r, item=r["item"] + "z") for r in survey_rows()], "other.csv")
    assert "no proposition is in both the panel and the survey" in error_of(panel, other)
    no_value = write(tmp_path, [{k: v for k, v in r.items() if k != "value"}
                                for r in panel_rows()], "novalue.csv")
    err = error_of(no_value, survey)
    assert "novalue.csv: long frame is missing required column(s): value" in err
    assert "survey.csv: --by nation: the survey has no such column" in error_of(panel, survey,
                                                                               "--by", "nation")
    assert "--weights weight: no such file, nor a column" in error_of(panel, survey,
                                                                      "--weights", "weight")
    mapping = tmp_path / "map.csv"
    mapping.write_text("panel,survey\nq,q\n")
    assert "the file needs the columns panel_code, survey_code" in error_of(
        panel, survey, "--map", str(mapping))
    off = write(tmp_path, [dict(r, value=7) for r in panel_rows()], "seven.csv")
    assert "seven.csv: column 'value' must hold integers from 1 to 5" in error_of(off, survey)
    assert "missing.csv: no such file" in error_of(str(tmp_path / "missing.csv"), survey)


def test_the_other_commands_do_not_import_the_gap():
    code = ("import io, sys; from analysis.cli import main; "
            f"main(['items', {str(EXAMPLES / 'example_long.csv')!r}], stdout=io.StringIO()); "
            "print('analysis.gap' in sys.modules, 'analysis.cli_gap' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.split() == ["False", "True"]


def test_the_readme_documents_the_fields():
    text = " ".join((ROOT / "analysis" / "README.md").read_text().split())
    assert " ".join(GAP_FIELDS) in text


# --- the notebook -------------------------------------------------------------------------------

def run_notebook(tmp_path, **parameters) -> dict:
    import papermill

    out = tmp_path / f"gap-{len(list(tmp_path.iterdir()))}.out.ipynb"
    nb = papermill.execute_notebook(str(ROOT / "analysis" / "notebooks" / "gap.ipynb"), str(out),
                                    parameters=parameters, cwd=str(ROOT), kernel_name="python3",
                                    progress_bar=False)
    [cell] = [c for c in nb.cells if "results" in c.metadata.get("tags", [])]
    return json.loads(cell.outputs[0]["text"])


def test_the_notebook_prints_the_figures_of_the_cli(tmp_path):
    results = run_notebook(tmp_path)  # the shipped example: weighted to the margins, by country
    status, out, _ = run("gap", str(EXAMPLES / "example_long.csv"),
                         str(EXAMPLES / "survey_long.csv"), "--map", str(EXAMPLES / "gap_map.csv"),
                         "--by", "country", "--margins", str(EXAMPLES / "survey_margins.csv"))
    assert status == 0
    records = json.loads(out)
    assert results["pairs"] == [["threat-1", "s1"], ["threat-2", "s2"], ["threat-3", "s3"]]
    for record in records:
        key = record["category"] or "all"
        item = record["item"]
        assert results["gap"][item][key] == pytest.approx(record["gap_pct_agree"])
        assert results["gap_ci"][item][key] == pytest.approx([record["gap_ci_low"],
                                                              record["gap_ci_high"]])
        assert results["cliffs_delta"][item][key] == pytest.approx(record["cliffs_delta"])
        assert results["direction"][item][key] == record["direction"]
        assert results["panel_verdict"][item] == record["panel_verdict"]


def test_the_notebook_says_when_nothing_is_in_both(tmp_path):
    panel = write(tmp_path, panel_rows(), "panel.csv")
    results = run_notebook(tmp_path, data=panel, rule="agree=75,iqr=1")
    assert (results["pairs"], results["gap"]) == ([], {})
