"""`python -m analysis`: every command on small files whose statistics are worked out by hand."""

import io
import json
import math
import subprocess
import sys

import pandas as pd
import pytest

from analysis.cli import main
from tests.conftest import ROOT

EXAMPLE = ROOT / "analysis" / "examples" / "example_long.csv"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def write(tmp_path, rows: list[dict], name: str = "data.csv") -> str:
    path = tmp_path / name
    frame = pd.DataFrame(rows)
    if name.endswith(".parquet"):
        frame.to_parquet(path)
    elif name.endswith(".xlsx"):
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return str(path)


def answers(item: str, values: list, *, round_: int = 1, groups: list | None = None,
            experts: list | None = None) -> list[dict]:
    experts = experts or [f"X{k}" for k in range(len(values))]
    groups = groups or [""] * len(values)
    return [{"expert": e, "round": round_, "item": item, "group": g, "value": v}
            for e, g, v in zip(experts, groups, values, strict=True)]


@pytest.fixture
def rated(tmp_path) -> str:
    # Item a: 1 2 4 4 5 and one "no opinion" (the empty value); RU answered 1 and 2.
    rows = answers("a", [1, 2, 4, 4, 5, None], groups=["RU", "RU", "US", "US", "WE", "WE"])
    return write(tmp_path, rows)


def test_items_prints_hand_worked_statistics_as_json(rated):
    status, out, err = run("items", rated)
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    assert list(record) == ["round", "item", "group", "n", "no_opinion", "median", "q1", "q3",
                            "iqr", "mean", "sd", "cv", "pct_agree", "pct_disagree",
                            "tastle_wierman"]
    assert record["no_opinion"] == 1
    # Sorted 1 2 4 4 5: q1 at position 1 of 0..4 -> 2, q3 at 3 -> 4; mean 16/5; SD sqrt(10.8/4).
    assert (record["round"], record["item"], record["group"], record["n"]) == (1, "a", "", 5)
    assert (record["median"], record["q1"], record["q3"], record["iqr"]) == (4, 2, 4, 2)
    assert record["mean"] == pytest.approx(3.2)
    assert record["sd"] == pytest.approx(math.sqrt(2.7), abs=1e-5)
    assert record["cv"] == pytest.approx(math.sqrt(2.7) / 3.2, abs=1e-5)
    assert (record["pct_agree"], record["pct_disagree"]) == (60, 40)
    # Tastle-Wierman: 1 + mean of log2(1 - |x - 3.2| / 4) over the five answers.
    terms = [math.log2(1 - d / 4) for d in (2.2, 1.2, 0.8, 0.8, 1.8)]
    assert record["tastle_wierman"] == pytest.approx(1 + sum(terms) / 5, abs=1e-5)


def test_items_by_group_and_as_csv(rated):
    status, out, _ = run("items", rated, "--by-group", "--format", "csv")
    assert status == 0
    table = pd.read_csv(io.StringIO(out), keep_default_na=False)
    assert list(table.columns)[:4] == ["round", "item", "group", "n"]
    ru = table.loc[table["group"] == "RU"].iloc[0]
    assert (ru["n"], ru["median"], ru["pct_agree"]) == (2, 1.5, 0)
    we = table.loc[table["group"] == "WE"].iloc[0]
    assert (we["n"], we["median"], we["sd"]) == (1, 5, "")  # one answer: no SD, printed empty


def test_items_rand_adds_the_disagreement_index(tmp_path):
    path = write(tmp_path, answers("r", [7, 8, 8, 9, 9]))
    status, out, _ = run("items", path, "--rand", "--scale-max", "9")
    [record] = json.loads(out)
    # P30 at position 1.2 of 0..4 -> 8; P70 at 2.8 -> 8 + .8 = 8.8; IPR .8, IPRCP 8.4,
    # AI |5 - 8.4| = 3.4, IPRAS 2.35 + 1.5 * 3.4 = 7.45, DI .8 / 7.45. Agreement is 7-9 of 9.
    assert status == 0
    assert (record["p30"], record["p70"]) == (8, 8.8)
    assert record["ipr"] == pytest.approx(0.8)
    assert record["iprcp"] == pytest.approx(8.4)
    assert record["ai"] == pytest.approx(3.4)
    assert record["ipras"] == pytest.approx(7.45)
    assert record["di"] == pytest.approx(0.8 / 7.45, abs=1e-6)
    assert record["pct_agree"] == 100


def test_a_dimension_is_reported_as_item_slash_dimension(tmp_path):
    rows = [dict(r, dimension="feasibility") for r in answers("dims", [1, 5])]
    status, out, _ = run("items", write(tmp_path, rows))
    assert json.loads(out)[0]["item"] == "dims/feasibility"


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four observers,
# twelve units, values 1-5 with missing data. Published: nominal .743, ordinal .815,
# interval .849, ratio .797.
KRIPPENDORFF_2011 = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}


@pytest.mark.parametrize("level,alpha", [
    ("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)])
def test_agreement_reproduces_krippendorffs_published_alphas(tmp_path, level, alpha):
    rows = [{"expert": coder, "round": 1, "item": f"u{k:02d}", "value": v}
            for coder, values in KRIPPENDORFF_2011.items()
            for k, v in enumerate(values, start=1) if v is not None]
    status, out, _ = run("agreement", write(tmp_path, rows), "--level", level)
    [record] = json.loads(out)
    assert status == 0
    assert list(record) == ["round", "krippendorff_alpha", "fleiss_kappa", "n_experts", "n_items"]
    assert record["krippendorff_alpha"] == pytest.approx(alpha, abs=5e-4)
    assert (record["n_experts"], record["n_items"]) == (4, 12)


# Fleiss' kappa, the worked example of Wikipedia's "Fleiss' kappa" article (14 raters, ten
# subjects, five categories): P-bar .378, P_e .213, kappa .210.
FLEISS_COUNTS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def test_agreement_reproduces_the_published_fleiss_kappa(tmp_path):
    rows = []
    for subject, counts in enumerate(FLEISS_COUNTS):
        values = [category for category, count in enumerate(counts, start=1) for _ in range(count)]
        rows += answers(f"s{subject}", values, experts=[f"R{k}" for k in range(14)])
    status, out, _ = run("agreement", write(tmp_path, rows))
    [record] = json.loads(out)
    assert record["fleiss_kappa"] == pytest.approx(0.210, abs=5e-4)
    assert (record["n_experts"], record["n_items"]) == (14, 10)


def test_fleiss_kappa_allows_a_different_number_of_answers_per_item(tmp_path):
    rows = answers("u1", [1, 1, 2]) + answers("u2", [2, 2]) + answers("u3", [1])
    status, out, _ = run("agreement", write(tmp_path, rows), "--level", "nominal")
    # u3 has one answer and drops out. P_u1 = (2^2 + 1^2 - 3) / (3 * 2) = 1/3, P_u2 = 1;
    # P-bar 2/3; categories over 5 answers: 2/5 and 3/5, P_e = 13/25; kappa = (2/3 - 13/25)/(12/25).
    assert json.loads(out)[0]["fleiss_kappa"] == pytest.approx(11 / 36, abs=1e-6)


def _ranking_rows(values_by_expert: dict, round_: int = 1) -> list[dict]:
    return [{"expert": e, "round": round_, "item": item, "value": v}
            for e, values in values_by_expert.items() for item, v in zip("abcd", values, strict=True)]


def test_ranking_gives_tie_corrected_kendall_w_per_round(tmp_path):
    untied = {"A": (1, 2, 3, 4), "B": (2, 1, 3, 4), "C": (1, 3, 2, 4)}
    # Ratings, not ranks: expert A rated a 5 and b, c 4; ranked within A that is 1, 2.5, 2.5, 4.
    tied = {"A": (5, 4, 4, 1), "B": (4, 5, 3, 2), "C": (5, 5, 3, 1)}
    path = write(tmp_path, _ranking_rows(untied) + _ranking_rows(tied, round_=2))
    status, out, _ = run("ranking", path)
    first, second = json.loads(out)
    assert list(first) == ["round", "item", "kendall_w", "chi2", "df", "p", "n_experts",
                           "n_options"]
    assert first["item"] == ""  # no ranking items: the round's items are the options
    # Round 1: rank sums 4, 6, 8, 12 around 7.5, S = 35, W = 12*35 / (9 * 60) = 7/9, chi2 = 7;
    # chi-square with 3 df: P(X > 7) = erfc(sqrt(3.5)) + sqrt(14/pi) exp(-3.5).
    assert first["kendall_w"] == pytest.approx(7 / 9, abs=1e-6)
    assert (first["chi2"], first["df"], first["n_experts"], first["n_options"]) == (7, 3, 3, 4)
    p = math.erfc(math.sqrt(3.5)) + math.sqrt(14 / math.pi) * math.exp(-3.5)
    assert first["p"] == pytest.approx(p, abs=1e-6)
    # Round 2 ranks each expert's ratings ascending (W does not depend on the direction):
    # A: 4, 2.5, 2.5, 1 (ties T = 6); B: 3, 4, 2, 1; C: 3.5, 3.5, 2, 1 (T = 6).
    # R = 10.5, 10, 6.5, 3 around 7.5; S = 9 + 6.25 + 1 + 20.25 = 36.5;
    # W = 12 * 36.5 / (9 * 60 - 3 * 12) = 73/84.
    assert second["kendall_w"] == pytest.approx(73 / 84, abs=1e-6)


def test_stability_between_two_rounds(tmp_path):
    first = answers("a", [1, 1, 5, 1, 3], experts=["A", "B", "C", "D", "E"])
    second = answers("a", [2, 3, 2, 5], round_=2, experts=["A", "B", "C", "D"])
    status, out, _ = run("stability", write(tmp_path, first + second), "--from", "1", "--to", "2")
    [record] = json.loads(out)
    assert list(record) == ["item", "data", "n_pairs", "wilcoxon_statistic", "wilcoxon_p",
                            "pct_changed", "iqr_change", "cv_change", "distribution_change",
                            "stable"]
    assert record["data"] == "scale 1-5"
    # Differences +1 +2 -3 +4 rank 1 2 3 4: W+ = 7, W- = 3, statistic min = 3. Exactly: 5 of
    # the 16 sign patterns have W- <= 3 ({}, 1, 2, 3, 1+2), two-sided p = 10/16.
    assert (record["n_pairs"], record["wilcoxon_statistic"]) == (4, 3)
    assert record["wilcoxon_p"] == pytest.approx(0.625)
    assert record["pct_changed"] == 100
    # CV: round 1 (1 1 5 1 3) mean 2.2, SD sqrt(12.8/4); round 2 (2 3 2 5) mean 3, SD sqrt(2).
    cv_change = math.sqrt(2) / 3 - math.sqrt(3.2) / 2.2
    assert record["cv_change"] == pytest.approx(cv_change, abs=1e-5)
    # Shares 1: .6 -> 0, 2: 0 -> .5, 3: .2 -> .25, 5: .2 -> .25; half the sum of |changes| = .6.
    assert record["distribution_change"] == pytest.approx(60)
    # IQR: round 1 sorted 1 1 1 3 5 -> 1 to 3 = 2; round 2 sorted 2 2 3 5 -> q1 2 (position .75),
    # q3 3.5 (position 2.25); change -0.5. 60 % moved: not stable under Scheibe's 15 %.
    assert record["iqr_change"] == pytest.approx(-0.5)
    assert record["stable"] is False


def test_groups_uses_mann_whitney_for_two_groups_and_kruskal_wallis_for_three(tmp_path):
    rows = answers("a", [1, 2, 3, 4, 5], groups=["RU", "RU", "US", "US", "US"])
    rows += answers("b", [1, 2, 3, 4, 5], groups=["RU", "RU", "US", "US", "WE"])
    status, out, _ = run("groups", write(tmp_path, rows))
    a, b = json.loads(out)
    assert list(a) == ["item", "test", "statistic", "p", "n_groups", "n", "n_by_group", "p_holm",
                       "p_bh"]
    assert (a["n"], a["n_by_group"]) == (5, {"RU": 2, "US": 3})
    # a: every RU answer is below every US answer, U(RU) = 0; exactly 1 of the C(5,2) = 10
    # splits is this extreme in each direction: two-sided p = 2/10.
    assert (a["test"], a["statistic"], a["n_groups"]) == ("mann-whitney", 0, 2)
    assert a["p"] == pytest.approx(0.2)
    # b: rank sums RU 3, US 7, WE 5; H = 12/30 * (9/2 + 49/2 + 25) - 18 = 3.6; chi2(2) tail e^-1.8.
    assert (b["test"], b["n_groups"]) == ("kruskal-wallis", 3)
    assert b["statistic"] == pytest.approx(3.6)
    assert b["p"] == pytest.approx(math.exp(-1.8), abs=1e-6)
    # The family is these two tests, p = .2 and e^-1.8 = .1653 (m = 2). Holm: 2 x .1653 =
    # .3306, then max(.3306, 1 x .2) = .3306. BH: .2 x 2/2 = .2, min(.2, .1653 x 2/1) = .2.
    assert (a["p_holm"], b["p_holm"]) == pytest.approx((2 * math.exp(-1.8), 2 * math.exp(-1.8)))
    assert (a["p_bh"], b["p_bh"]) == pytest.approx((0.2, 0.2))


def test_groups_adjusts_the_rounds_p_values_as_statsmodels_does(tmp_path):
    from statsmodels.stats.multitest import multipletests

    rows = []
    for k, item in enumerate("abcdef"):
        values = [1 + (j * (k + 2)) % 5 for j in range(12)]
        rows += answers(item, values, groups=["RU", "US", "WE"] * 4)
    status, out, _ = run("groups", write(tmp_path, rows))
    records = json.loads(out)
    # Item d: every answer is 1 (j * 5 % 5 = 0), so its test has no p: null, out of the family.
    [untested] = [r for r in records if r["p"] is None]
    assert (untested["item"], untested["p_holm"], untested["p_bh"]) == ("d", None, None)
    tested = [r for r in records if r["p"] is not None]
    p = [r["p"] for r in tested]
    assert len(p) == 5
    assert [r["p_holm"] for r in tested] == pytest.approx(list(multipletests(p, method="holm")[1]))
    assert [r["p_bh"] for r in tested] == pytest.approx(list(multipletests(p, method="fdr_bh")[1]))


def test_a_parquet_file_and_a_round_filter(tmp_path):
    rows = answers("a", [1, 2, 4]) + answers("a", [5, 5, 5], round_=2)
    status, out, _ = run("items", write(tmp_path, rows, "data.parquet"), "--round", "2")
    [record] = json.loads(out)
    assert (status, record["round"], record["median"], record["iqr"]) == (0, 2, 5, 0)


@pytest.mark.parametrize("content,args,message", [
    ("expert,round,item\nA,1,a\n", ("items",), "missing required column(s): value"),
    ("expert,round,item,value\nA,1,a,high\n", ("items",), "must be numeric"),
    ("", ("items",), "the file is empty"),
    ("expert,round,item,value\n", ("items",), "no answers to analyse"),
    ("expert,round,item,value\nA,1,a,4\n", ("groups", "--round", "3"), "round 3 is not in the data"),
    ("expert,round,item,value\nA,1,a,4\n", ("items", "--round", "2"), "rounds: 1"),
    ("expert,round,item,value\nA,1,a,7\n", ("items",), "integers from 1 to 5; found 7.0"),
    ("expert,round,item,value\nA,1,a,4\n", ("stability", "--from", "1", "--to", "2"), "round 2"),
    ("expert,round,item,value\nA,1,a,4\n", ("groups",), "no stakeholder groups"),
])
def test_bad_input_gets_one_line_and_status_2(tmp_path, content, args, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    command, *options = args
    status, out, err = run(command, str(path), *options)
    assert status == 2
    assert out == ""
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_the_real_command_fails_cleanly_on_a_missing_file_and_a_bad_option(tmp_path):
    missing = subprocess.run([sys.executable, "-m", "analysis", "items", str(tmp_path / "none.csv")],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2
    assert missing.stderr == f"python -m analysis items: error: {tmp_path / 'none.csv'}: no such file\n"
    bad = subprocess.run([sys.executable, "-m", "analysis", "items", "x.csv", "--level", "odd"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "unrecognized arguments: --level odd" in bad.stderr


def test_the_shipped_example_runs_through_every_command():
    for command in (["items"], ["agreement"], ["ranking"], ["stability", "--from", "1", "--to", "2"],
                    ["groups"]):
        status, out, err = run(command[0], str(EXAMPLE), *command[1:])
        assert (status, err) == (0, "")
        assert json.loads(out)


def test_the_analysts_guide_shows_the_real_output_of_each_command():
    guide = (ROOT / "docs" / "analysts.md").read_text()
    block = guide.split("## Command line", 1)[1].split("```\n", 2)[1]
    shown: dict[str, list[str]] = {}
    for line in block.splitlines():
        if line.startswith("$ python -m analysis "):
            command = line.removeprefix("$ python -m analysis ").split(";")[0]
            shown[command] = []
        elif not line.startswith("…") and line not in {"2"}:
            shown[command].append(line)
    assert {c.split()[0] for c in shown} == {"items", "agreement", "ranking", "stability", "groups"}
    for command, lines in shown.items():
        status, out, err = run(*command.split())
        printed = (out + err).splitlines()
        assert all(line in printed for line in lines), command


def test_kind_keeps_the_rated_rows_of_a_platform_export(tmp_path):
    rows = [dict(r, kind="agreement") for r in answers("a", [4, 5])]
    rows += [dict(r, kind="year") for r in answers("y", [2040, 2050])]
    path = write(tmp_path, rows)
    status, out, err = run("items", path)
    assert status == 2 and "found 2040.0; the file mixes item kinds: choose some with --kind" in err
    status, out, _ = run("items", path, "--kind", "agreement")
    assert status == 0 and [(r["item"], r["n"]) for r in json.loads(out)] == [("a", 2)]
