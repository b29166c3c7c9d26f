"""Survey weights and weighted crosstabs (issue 20): raking and post-stratification worked out
by hand, Kish's design effect and the intervals by hand, trimming, samplics' own documented
example, quality flags, and the `weights` / `crosstab` commands with their errors."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from analysis.crosstab import Z95, taylor_se, weighted_crosstab
from analysis.weights import kish, respondents, validate_margins, weigh
from tests.analysis.test_analysis_cli import run
from tests.conftest import ROOT

EXAMPLES = ROOT / "analysis" / "examples"
SURVEY = str(EXAMPLES / "survey_long.csv")
MARGINS = str(EXAMPLES / "survey_margins.csv")

# Ten respondents: 4 in (A, x), 2 in (A, y), 1 in (B, x), 3 in (B, y).
CELLS = [("A", "x")] * 4 + [("A", "y")] * 2 + [("B", "x")] + [("B", "y")] * 3
TWO_BY_TWO = {"variable": ["country", "country", "profession", "profession"],
              "category": ["A", "B", "x", "y"], "share": [0.5, 0.5, 0.4, 0.6]}


def people(cells=CELLS) -> pd.DataFrame:
    return pd.DataFrame(cells, columns=["country", "profession"],
                        index=[f"r{k:02d}" for k in range(len(cells))]).assign(flagged=False)


def margins(table: dict) -> pd.DataFrame:
    return validate_margins(pd.DataFrame(table))


def weighted_shares(weights: pd.Series, column: pd.Series) -> dict[str, float]:
    return (weights.groupby(column).sum() / weights.sum()).to_dict()


# --- weights -------------------------------------------------------------------------------


def test_raking_a_two_by_two_sample_meets_both_margins():
    # Targets x n = 10: country A 5, B 5; profession x 4, y 6. Cell totals start at 4 2 / 1 3.
    # Iteration 1, country: A has 6 -> x 5/6, B has 4 -> x 5/4: cells 3.3333 1.6667 / 1.25 3.75.
    #   profession: x has 3.3333 + 1.25 = 4.5833 -> x 4/4.5833 = 0.87273, y has 5.4167 ->
    #   x 6/5.4167 = 1.10769: cells 2.9091 1.8462 / 1.0909 4.1538; country A now 4.7552.
    # Iteration 2, country: A x 5/4.7552, B x 5/5.2448: cells 3.0588 1.9412 / 1.0400 3.9600;
    #   profession: x has 4.0988 -> x 0.97589, y 5.9012 -> x 1.01674: 2.9851 1.9737 /
    #   1.0149 4.0263; country A 4.9588 ... and so on. Raking keeps the sample's odds ratio
    #   (4 x 3) / (2 x 1) = 6, so the limit has cells a, 5 - a / 4 - a, 1 + a with
    #   a (1 + a) / ((5 - a)(4 - a)) = 6, i.e. a^2 - 11 a + 24 = 0, a = 3: cells 3 2 / 1 4,
    #   weights 3/4, 2/2, 1/1, 4/3.
    result = weigh(people(), margins(TWO_BY_TWO))
    w = result.weights.to_numpy()
    assert w == pytest.approx([0.75] * 4 + [1.0] * 2 + [1.0] + [4 / 3] * 3, abs=1e-6)
    group = people()
    assert weighted_shares(result.weights, group["country"]) == pytest.approx(
        {"A": 0.5, "B": 0.5}, abs=1e-6)
    assert weighted_shares(result.weights, group["profession"]) == pytest.approx(
        {"x": 0.4, "y": 0.6}, abs=1e-6)
    d = result.diagnostics
    assert (d["method"], d["n"], d["trimmed"], d["trim"]) == ("raking", 10, 0, None)
    assert d["max_margin_error"] < 1e-6
    assert d["weight_sum"] == pytest.approx(10)
    assert d["margins"]["country"]["A"] == pytest.approx(
        {"share": 0.5, "sample_share": 0.6, "weighted_share": 0.5, "source": ""})


def test_poststratification_weights_are_the_target_share_over_the_sample_share():
    # A is 6 of 10 (0.6) with a target of 0.3 -> 0.3 / 0.6 = 0.5; B 0.4 -> 0.7 / 0.4 = 1.75.
    result = weigh(people(), margins({"variable": ["country"] * 2, "category": ["A", "B"],
                                      "share": [0.3, 0.7], "source": ["census", "census"]}))
    assert result.weights.to_numpy() == pytest.approx([0.5] * 6 + [1.75] * 4)
    assert result.diagnostics["method"] == "poststratification"
    assert result.diagnostics["margins"]["country"]["B"]["source"] == "census"
    # Kish: Σw = 6 x 0.5 + 4 x 1.75 = 10, Σw² = 6 x 0.25 + 4 x 3.0625 = 13.75,
    # deff = 10 x 13.75 / 10² = 1.375, n_eff = 10 / 1.375 = 7.2727.
    assert result.diagnostics["deff"] == pytest.approx(1.375)
    assert result.diagnostics["n_eff"] == pytest.approx(10 / 1.375)
    assert (result.diagnostics["weight_min"], result.diagnostics["weight_max"],
            result.diagnostics["weight_ratio"]) == pytest.approx((0.5, 1.75, 3.5))


def test_joint_cells_are_post_stratified_as_one_variable():
    # Four cells, each with its share: weight = share / (cell count / 10).
    table = {"variable": ["country:profession"] * 4, "category": ["A:x", "A:y", "B:x", "B:y"],
             "share": [0.2, 0.3, 0.1, 0.4]}
    w = weigh(people(), margins(table)).weights.to_numpy()
    assert w == pytest.approx([0.2 / 0.4] * 4 + [0.3 / 0.2] * 2 + [0.1 / 0.1] + [0.4 / 0.3] * 3)


def test_kish_design_effect_by_hand():
    # w = 1, 1, 2, 4: Σw = 8, Σw² = 1 + 1 + 4 + 16 = 22; deff = 4 x 22 / 64 = 1.375;
    # n_eff = 64 / 22 = 2.909.
    deff, n_eff = kish(np.array([1.0, 1.0, 2.0, 4.0]))
    assert (deff, n_eff) == pytest.approx((1.375, 64 / 22))
    assert kish(np.ones(5)) == pytest.approx((1.0, 5.0))


def test_trimming_holds_weights_at_the_bounds_and_rakes_the_others_to_the_margins():
    # Untrimmed: 0.75 (4 of them), 1, 1, 1.333. With bounds 0.78-1.6 the four (A, x) weights
    # are held at 0.78 (cell total 3.12); the rest is raked to what is left: A 5 - 3.12 = 1.88
    # for (A, y), x 4 - 3.12 = 0.88 for (B, x), and B 5 - 0.88 = 4.12 = y 6 - 1.88 for (B, y):
    # weights 1.88 / 2 = 0.94, 0.88 / 1 = 0.88, 4.12 / 3 = 1.37333.
    result = weigh(people(), margins(TWO_BY_TWO), trim=(0.78, 1.6))
    assert result.weights.to_numpy() == pytest.approx(
        [0.78] * 4 + [0.94] * 2 + [0.88] + [4.12 / 3] * 3, abs=1e-6)
    assert result.diagnostics["trimmed"] == 4
    assert result.diagnostics["max_margin_error"] < 1e-6
    assert result.warnings == []


def test_bounds_that_the_margins_cannot_meet_still_hold_and_say_how_far_the_margins_are():
    # With 0.8-1.25 the (A, x) cell needs a >= 3.2 and the (B, y) cell a <= 2.75: impossible.
    result = weigh(people(), margins(TWO_BY_TWO), trim=(0.8, 1.25))
    w = result.weights.to_numpy()
    assert w.min() >= 0.8 and w.max() <= 1.25
    assert result.diagnostics["max_margin_error"] > 0.01
    assert "cannot both hold" in result.warnings[0]


def test_flagged_respondents_are_left_out_of_the_weights_unless_included():
    group = people().assign(flagged=[True] + [False] * 9)
    result = weigh(group, margins(TWO_BY_TWO))
    assert math.isnan(result.weights.iloc[0])
    assert result.diagnostics["flagged_excluded"] == 1 and result.diagnostics["n"] == 9
    included = weigh(group, margins(TWO_BY_TWO), include_flagged=True)
    assert included.diagnostics["n"] == 10
    assert included.weights.to_numpy() == pytest.approx(weigh(people(), margins(TWO_BY_TWO))
                                                        .weights.to_numpy())


def test_respondents_take_one_value_per_respondent_from_the_long_rows():
    frame = pd.DataFrame({"expert": ["a", "a", "b"], "round": 1, "item": ["p", "q", "p"],
                          "value": [1, 2, 3], "country": ["RU", "RU", "US"],
                          "flagged": ["", "yes", "false"]})
    table = respondents(frame, ["country"])
    assert table.to_dict(orient="index") == {"a": {"country": "RU", "flagged": True},
                                             "b": {"country": "US", "flagged": False}}
    with pytest.raises(ValueError, match="respondent 'a' has several values of 'country'"):
        respondents(frame.assign(country=["RU", "US", "US"]), ["country"])


# --- estimates -----------------------------------------------------------------------------

VALUES = [5, 5, 4, 4, 3, 2, 2, 1]
WEIGHTS = [1, 2, 1, 2, 1, 2, 1, 2]


def survey(values=VALUES, weights=WEIGHTS, countries=None) -> pd.DataFrame:
    countries = countries or ["RU"] * len(values)
    return pd.DataFrame({"expert": [f"e{k}" for k in range(len(values))], "round": 1,
                         "item": "s1", "value": values, "weight": weights, "country": countries})


def test_weighted_estimates_and_their_intervals_by_hand():
    [row] = weighted_crosstab(survey()).to_dict(orient="records")
    # Σw = 12, Σw² = 4 x 1 + 4 x 4 = 20: n_eff = 144 / 20 = 7.2, deff = 8 / 7.2 = 1.1111.
    assert (row["n"], row["weighted_n"]) == (8, 12)
    assert (row["n_eff"], row["deff"]) == pytest.approx((7.2, 8 / 7.2))
    # Agreeing (4-5): weights 1 + 2 + 1 + 2 = 6 of 12 -> p = 50 %. Wilson on m = n_eff = 7.2,
    # z² = 3.841459: z²/m = 0.533536, centre (0.5 + 0.266768) / 1.533536 = 0.5, half-width
    # 1.959964 / 1.533536 x sqrt(0.25 / 7.2 + 3.841459 / (4 x 51.84)) = 1.278072 x
    # sqrt(0.034722 + 0.018525) = 1.278072 x 0.230755 = 0.294922 -> 20.508 % to 79.492 %.
    assert row["pct_agree"] == pytest.approx(50)
    assert (row["pct_agree_ci_low"], row["pct_agree_ci_high"]) == pytest.approx((20.508, 79.492),
                                                                                abs=1e-3)
    m, z2 = 7.2, Z95**2
    half = Z95 / (1 + z2 / m) * math.sqrt(0.25 / m + z2 / (4 * m * m))
    assert row["pct_agree_ci_low"] == pytest.approx(100 * (0.5 - half))
    # Mean Σwv / Σw = (5 + 10 + 4 + 8 + 3 + 4 + 2 + 2) / 12 = 38 / 12 = 3.16667;
    # S² = Σw (v - mean)² / Σw = 25.6667 / 12 = 2.13889; half-width 1.95996 x sqrt(2.13889 / 7.2)
    # = 1.95996 x 0.545039 = 1.068257.
    assert row["mean"] == pytest.approx(38 / 12)
    assert (row["mean_ci_low"], row["mean_ci_high"]) == pytest.approx(
        (38 / 12 - 1.068257, 38 / 12 + 1.068257), abs=1e-5)
    # Taylor (with replacement, each respondent a unit): n / (n - 1) Σ (w (y - ȳ) / Σw)²; for
    # agreement y - ȳ = ±0.5: 8/7 x 0.25 x 20 / 144 = 0.0396825, SE 0.199205 -> 19.92 points.
    assert row["pct_agree_se_taylor"] == pytest.approx(100 * math.sqrt(8 / 7 * 0.25 * 20 / 144))
    v, w = np.array(VALUES, float), np.array(WEIGHTS, float)
    mean_se = math.sqrt(8 / 7 * np.sum((w * (v - 38 / 12) / 12) ** 2))
    assert row["mean_se_taylor"] == pytest.approx(mean_se)
    # Weighted median: cumulative weights by value 1: 2, 2: 5, 3: 6 = half of 12 -> (3 + 4) / 2.
    assert row["median"] == 3.5
    assert row["distribution"] == pytest.approx({1: 100 * 2 / 12, 2: 100 * 3 / 12,
                                                 3: 100 * 1 / 12, 4: 25, 5: 25})
    assert (row["by"], row["category"], row["flagged_excluded"]) == (None, None, 0)


def test_everyone_agreeing_gets_an_interval_below_100_percent():
    # p = 1 on m = 4 (equal weights): Wilson low = (1 + z²/8 - z sqrt(z²/64)) / (1 + z²/4)
    # = (1 + 0.480182 - 0.480182) / 1.960365 = 0.510109.
    [row] = weighted_crosstab(survey([5, 4, 5, 4], [1, 1, 1, 1])).to_dict(orient="records")
    assert (row["pct_agree"], row["pct_agree_ci_high"]) == (100, 100)
    assert row["pct_agree_ci_low"] == pytest.approx(100 / (1 + Z95**2 / 4))


def test_unweighted_crosstab_agrees_with_the_items_command():
    items = json.loads(run("items", str(EXAMPLES / "example_long.csv"))[1])
    crosstab = json.loads(run("crosstab", str(EXAMPLES / "example_long.csv"))[1])
    assert len(items) == len(crosstab)
    for mine, theirs in zip(crosstab, items, strict=True):
        assert (mine["round"], mine["item"], mine["n"]) == (theirs["round"], theirs["item"],
                                                            theirs["n"])
        assert (mine["median"], mine["mean"], mine["pct_agree"]) == pytest.approx(
            (theirs["median"], theirs["mean"], theirs["pct_agree"]))
        assert (mine["deff"], mine["n_eff"]) == pytest.approx((1, theirs["n"]))


def test_crosstab_rows_per_category_after_the_row_for_everyone():
    out = weighted_crosstab(survey(countries=["US", "RU"] * 4), by="country")
    assert list(zip(out["category"], out["n"], strict=True)) == [(None, 8), ("RU", 4), ("US", 4)]
    us = out.loc[out["category"].eq("US")].iloc[0]
    # US: values 5 4 3 2 with weight 1 each: 2 of 4 agree, mean 3.5, equal weights: deff 1.
    assert (us["pct_agree"], us["mean"], us["deff"], us["n_eff"]) == pytest.approx((50, 3.5, 1, 4))


def test_flagged_answers_are_left_out_and_counted_unless_included():
    frame = survey().assign(flagged=[False] * 7 + [True])
    [row] = weighted_crosstab(frame).to_dict(orient="records")
    assert (row["n"], row["flagged_excluded"], row["weighted_n"]) == (7, 1, 10)
    [kept] = weighted_crosstab(frame, include_flagged=True).to_dict(orient="records")
    assert (kept["n"], kept["flagged_excluded"]) == (8, 0)


def test_samplics_documented_taylor_example_is_reproduced():
    # samplics' documentation ("Taylor-based Estimation"): NHANES II zinc, finalwgt, strata
    # stratid, PSUs psuid -> mean 87.182067, SE 0.494483; without the strata SE 0.742622.
    from analysis.weights import samplics

    data = samplics().load_nhanes2()["data"]
    se = taylor_se(data["zinc"], data["finalwgt"], stratum=data["stratid"], psu=data["psuid"])
    assert se == pytest.approx(0.494483, abs=1e-6)
    assert taylor_se(data["zinc"], data["finalwgt"], psu=data["psuid"]) == pytest.approx(
        0.742622, abs=1e-6)


# --- the commands --------------------------------------------------------------------------


def write_margins(tmp_path, text: str) -> str:
    path = tmp_path / "margins.csv"
    path.write_text(text)
    return str(path)


def test_weights_writes_each_respondents_weight_and_crosstab_reads_them_back(tmp_path):
    out = tmp_path / "weights.csv"
    status, printed, err = run("weights", SURVEY, "--margins", MARGINS, "--out", str(out))
    assert (status, err) == (0, "")
    [diagnostics] = json.loads(printed)
    weights = pd.read_csv(out, dtype={"expert": str})
    assert list(weights.columns) == ["expert", "weight"]
    assert weights["weight"].isna().sum() == diagnostics["flagged_excluded"] == 3
    assert weights["weight"].sum() == pytest.approx(diagnostics["n"])
    from_file = json.loads(run("crosstab", SURVEY, "--by", "country", "--weights", str(out))[1])
    direct = json.loads(run("crosstab", SURVEY, "--by", "country", "--margins", MARGINS)[1])
    assert from_file == direct
    assert {row["category"] for row in direct} == {None, "RU", "US", "DE", "PL"}


@pytest.mark.parametrize(("margins_text", "message"), [
    ("variable,category,share\ncountry,RU,0.5\ncountry,US,0.4\n",
     "the shares of 'country' sum to 0.9, not 1 (within 0.001)"),
    ("variable,category,share\ncountry,RU,0.3\ncountry,US,0.3\ncountry,DE,0.2\n"
     "country,PL,0.1\ncountry,FR,0.1\n", "category 'FR' of 'country' in the margins has no respondent"),
    ("variable,category,share\ncountry,RU,0.5\ncountry,US,0.5\n",
     "category 'DE', 'PL' of 'country' in the data has no share in the margins"),
    ("variable,cat,share\ncountry,RU,1\n", "the margins need the column(s) category"),
    ("variable,category,share\ncountry,RU,lots\n", "share of country=RU must be a number"),
    ("variable,category,share\nage,old,1\n", "the data has no column 'age'"),
])
def test_weights_errors_name_the_cause_in_one_line(tmp_path, margins_text, message):
    status, out, err = run("weights", SURVEY, "--margins", write_margins(tmp_path, margins_text))
    assert (status, out) == (2, "")
    assert err.startswith("python -m analysis weights: error: ") and err.count("\n") == 1
    assert message in err


def test_crosstab_errors_and_warnings(tmp_path):
    status, _, err = run("crosstab", SURVEY, "--weights", "nothing-like-this")
    assert status == 2 and "no such file, nor a column" in err
    partial = tmp_path / "w.csv"
    partial.write_text("expert,weight\nR001,1.5\n")
    status, _, err = run("crosstab", SURVEY, "--weights", str(partial))
    assert status == 2 and "respondent 'R002' has no positive weight" in err
    status, _, err = run("crosstab", SURVEY, "--by", "nation")
    assert status == 2 and "--by nation" in err
    status, out, err = run("crosstab", SURVEY, "--margins", MARGINS, "--trim", "0.5,2")
    assert status == 0 and "warning: the weighted margins miss the targets" in err
    assert json.loads(out)


def test_a_weight_column_of_the_data_and_include_flagged(tmp_path):
    path = tmp_path / "data.csv"
    survey().assign(flagged=[False] * 7 + [True]).to_csv(path, index=False)
    [row] = json.loads(run("crosstab", str(path), "--weights", "weight")[1])
    assert (row["n"], row["flagged_excluded"], row["weighted_n"]) == (7, 1, 10)
    [row] = json.loads(run("crosstab", str(path), "--weights", "weight", "--include-flagged")[1])
    assert (row["n"], row["pct_agree"], row["median"]) == (8, 50, 3.5)


def test_the_readme_section_shows_the_real_output_and_fields():
    from analysis import cli_weights

    text = (ROOT / "analysis" / "README.md").read_text()
    section = text.split("## Weights and crosstabs", 1)[1].split("\n## ", 1)[0]
    shown = 0
    for block in section.split("```\n")[1::2]:
        lines = block.splitlines()
        if not lines or not lines[0].startswith("$ python -m analysis "):
            continue
        status, out, err = run(*lines[0].removeprefix("$ python -m analysis ").split())
        assert status == 0
        assert all(line in (out + err).splitlines() for line in lines[1:] if line != "…"), lines[0]
        shown += 1
    assert shown >= 2
    for fields in (cli_weights.WEIGHTS_FIELDS, cli_weights.CROSSTAB_FIELDS):
        assert " ".join(fields) in " ".join(section.split())


def test_margins_this_sample_cannot_meet_give_a_warning_with_the_gap():
    # Everyone in A is x and everyone in B is y: A 50 % and x 40 % cannot both hold.
    group = people([("A", "x")] * 6 + [("B", "y")] * 4)
    result = weigh(group, margins(TWO_BY_TWO))
    assert result.diagnostics["max_margin_error"] == pytest.approx(0.1)
    assert "raking did not converge" in result.warnings[0]


def test_the_other_commands_do_not_import_samplics():
    import subprocess
    import sys

    code = ("import io, sys; from analysis.cli import main; "
            f"main(['items', {str(EXAMPLES / 'example_long.csv')!r}], stdout=io.StringIO()); "
            "print('samplics' in sys.modules, 'analysis.cli_weights' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.split() == ["False", "True"]
