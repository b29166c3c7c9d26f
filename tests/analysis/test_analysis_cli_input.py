"""`python -m analysis` on real-world data (issue 19): continuous stability, per-item W, rounds
that cannot be scored, full precision, messages naming the cause, warnings, --rule, --scale,
.xlsx, and imports limited to what a command needs."""

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.analysis.test_analysis_cli import EXAMPLE, answers, run, write
from tests.conftest import ROOT

# --- 1. stability on continuous values ---------------------------------------------------

BEFORE = [0.1, 0.5, 0.9, 0.3, 0.25]
AFTER = [0.2, 0.5, 0.7, 0.6, 0.35]


def test_stability_of_probabilities_is_computed_and_says_the_data_is_continuous(tmp_path):
    experts = ["A", "B", "C", "D", "E"]
    rows = answers("p", BEFORE, experts=experts) + answers("p", AFTER, round_=2, experts=experts)
    status, out, err = run("stability", write(tmp_path, rows), "--from", "1", "--to", "2")
    assert (status, err) == (0, "")
    [record] = json.loads(out)
    expected = stats.wilcoxon(np.subtract(AFTER, BEFORE), zero_method="wilcox")
    assert record["data"] == "continuous"
    assert record["n_pairs"] == 5
    assert record["wilcoxon_statistic"] == pytest.approx(expected.statistic)
    assert record["wilcoxon_p"] == pytest.approx(expected.pvalue)
    assert record["pct_changed"] == 80  # B stayed at 0.5
    iqr = [np.subtract(*np.percentile(v, [75, 25])) for v in (BEFORE, AFTER)]
    assert record["iqr_change"] == pytest.approx(iqr[1] - iqr[0])
    cv = [np.std(v, ddof=1) / np.mean(v) for v in (BEFORE, AFTER)]
    assert record["cv_change"] == pytest.approx(cv[1] - cv[0])
    # Shares of scale points mean nothing for a probability: no distribution change, no verdict.
    assert (record["distribution_change"], record["stable"]) == (None, None)


def test_a_platform_export_mixes_rated_and_year_items_by_their_kind(tmp_path):
    rows = [dict(r, kind="agreement") for r in answers("a", [1, 2, 3])]
    rows += [dict(r, kind="agreement") for r in answers("a", [2, 2, 3], round_=2)]
    rows += [dict(r, kind="year") for r in answers("y", [2030, 2040, 2050])]
    rows += [dict(r, kind="year") for r in answers("y", [2035, 2040, 2045], round_=2)]
    status, out, err = run("stability", write(tmp_path, rows), "--from", "1", "--to", "2")
    assert (status, err) == (0, "")
    a, y = json.loads(out)
    assert (a["item"], a["data"], a["distribution_change"]) == ("a", "scale 1-5", pytest.approx(100 / 3))
    assert (y["item"], y["data"], y["iqr_change"]) == ("y", "continuous", -5)


def test_a_declared_continuous_scale_treats_whole_numbers_as_continuous(tmp_path):
    rows = answers("n", [1, 2, 3]) + answers("n", [1, 2, 4], round_=2)
    status, out, _ = run("stability", write(tmp_path, rows), "--from", "1", "--to", "2",
                         "--scale", "continuous")
    assert json.loads(out)[0]["data"] == "continuous"


# --- 2. Kendall's W per ranking item ---------------------------------------------------

def _ranks(item: str, by_expert: dict[str, tuple]) -> list[dict]:
    return [{"expert": e, "round": 1, "item": item, "dimension": option, "value": rank}
            for e, ranks in by_expert.items() for option, rank in zip("xyz", ranks, strict=True)]


def test_ranking_scores_each_ranking_item_on_its_own(tmp_path):
    rows = _ranks("p", {"A": (1, 2, 3), "B": (1, 2, 3), "C": (1, 3, 2), "D": (1, 2, 3)})
    rows += _ranks("q", {"A": (3, 2, 1), "B": (2, 3, 1), "C": (3, 2, 1), "D": (3, 1, 2)})
    path = write(tmp_path, rows)
    status, out, _ = run("ranking", path)
    p, q = json.loads(out)
    # p: rank sums 4, 9, 11 around 8: S = 16 + 1 + 9 = 26, W = 12 * 26 / (16 * 24) = 0.8125,
    # chi2 = 4 * 2 * W = 6.5 on 2 df: p = exp(-6.5 / 2).
    assert (p["item"], p["df"], p["n_experts"], p["n_options"]) == ("p", 2, 4, 3)
    assert p["kendall_w"] == pytest.approx(0.8125)
    assert p["chi2"] == pytest.approx(6.5)
    assert p["p"] == pytest.approx(math.exp(-3.25))
    # q: rank sums 11, 8, 5: S = 9 + 0 + 9 = 18, W = 216 / 384 = 0.5625.
    assert q["kendall_w"] == pytest.approx(0.5625)
    status, out, _ = run("ranking", path, "--across-items")
    [pooled] = json.loads(out)
    assert (pooled["item"], pooled["df"], pooled["n_options"]) == ("", 5, 6)


# --- 3. agreement with a round it cannot score -----------------------------------------

def test_agreement_reports_null_for_a_round_with_one_expert_and_scores_the_others(tmp_path):
    rows = answers("a", [1], experts=["A"]) + answers("b", [3], experts=["A"])
    rows += answers("a", [1, 1, 2], round_=2) + answers("b", [2, 2, 2], round_=2)
    status, out, err = run("agreement", write(tmp_path, rows), "--level", "nominal")
    assert (status, err) == (0, "")
    first, second = json.loads(out)
    assert (first["round"], first["krippendorff_alpha"], first["n_experts"]) == (1, None, 1)
    assert second["krippendorff_alpha"] is not None


# --- 4. full precision -------------------------------------------------------------------

def test_numbers_are_printed_at_full_precision(tmp_path):
    status, out, _ = run("items", write(tmp_path, answers("a", [1, 1, 2])))
    assert json.loads(out)[0]["mean"] == 4 / 3  # not 1.33333


# --- 5. messages and warnings --------------------------------------------------------------

@pytest.mark.parametrize("header,cause", [
    ("expert;round;item;value\nA;1;a;4\n", "separated by semicolons"),
    ("Expert,Round,Item,Value\nA,1,a,4\n", "the header has 'Expert' for 'expert'"),
])
def test_a_missing_column_message_names_the_likely_cause(tmp_path, header, cause):
    path = tmp_path / "data.csv"
    path.write_text(header)
    status, out, err = run("items", str(path))
    assert status == 2 and "missing required column(s)" in err and cause in err


def test_a_fractional_round_is_shown_as_a_plain_number(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("expert,round,item,value\nA,1.5,a,4\n")
    status, _, err = run("items", str(path))
    assert status == 2 and "found 1.5" in err and "np." not in err


@pytest.mark.parametrize("encoding,name", [("cp1251", "Windows-1251"), ("utf-8-sig", "UTF-8 with BOM")])
def test_windows_1251_and_bom_files_are_read_and_the_encoding_is_said(tmp_path, encoding, name):
    path = tmp_path / "data.csv"
    frame = pd.DataFrame(answers("угроза", [4, 5]))
    path.write_bytes(frame.to_csv(index=False).encode(encoding))
    status, out, err = run("items", str(path))
    assert status == 0
    assert json.loads(out)[0]["item"] == "угроза"
    assert err == f"python -m analysis items: note: {path}: read as {name}\n"


def test_codes_differing_only_in_spaces_and_empty_codes_are_warned_about(tmp_path):
    rows = answers("x", [4, 5]) + answers("x ", [4, 4]) + answers("", [3], experts=[""])
    status, out, err = run("items", write(tmp_path, rows))
    assert status == 0 and json.loads(out)
    assert "warning: 1 row(s) have an empty expert code" in err
    assert "warning: 1 row(s) have an empty item code" in err
    assert "warning: item codes 'x', 'x ' differ only in spaces or case" in err


def test_values_off_the_scale_are_warned_about_in_agreement_and_ranking(tmp_path):
    path = write(tmp_path, answers("a", [1, 7]) + answers("b", [2, 3]))
    for command in ("agreement", "ranking"):
        status, out, err = run(command, path)
        assert status == 0 and json.loads(out)
        assert "warning: 1 value(s) are off the 1-5 scale (e.g. 7.0)" in err, command
    status, _, err = run("agreement", path, "--scale", "1-7")
    assert (status, err) == (0, "")


def test_rand_on_five_point_data_warns(tmp_path):
    status, out, err = run("items", write(tmp_path, answers("a", [4, 5])), "--rand")
    assert status == 0 and json.loads(out)[0]["pct_agree"] == 0
    assert "warning: --rand is defined on a 1-9 scale" in err


# --- 6. --rule, --scale and .xlsx ------------------------------------------------------------

def test_rule_gives_the_three_way_verdict_and_the_items_verdict(tmp_path, capsys):
    rows = answers("yes", [4, 4, 5, 5]) + answers("no", [1, 1, 2, 2]) + answers("split", [1, 3, 5, 3])
    rows += [dict(r, dimension="f") for r in answers("dims", [4, 5, 5, 5])]
    rows += [dict(r, dimension="g") for r in answers("dims", [1, 1, 1, 2])]
    status, out, err = run("items", write(tmp_path, rows), "--rule", "agree=75,iqr=1")
    assert (status, err) == (0, "")
    got = {r["item"]: (r["verdict"], r["item_verdict"]) for r in json.loads(out)}
    assert got == {"dims/f": ("agree", "none"), "dims/g": ("disagree", "none"),
                   "no": ("disagree", "disagree"), "split": ("none", "none"),
                   "yes": ("agree", "agree")}
    with pytest.raises(SystemExit) as bad:
        run("items", write(tmp_path, rows), "--rule", "agree=75")
    assert bad.value.code == 2 and "--rule is agree=PCT,iqr=MAX" in capsys.readouterr().err


def test_scale_declares_a_seven_point_scale(tmp_path):
    # On 1-7 the top boxes are >= 7 - 0.4 * 6 = 4.6: the 5, 6 and 7 agree, the 4 does not.
    status, out, err = run("items", write(tmp_path, answers("a", [4, 5, 6, 7])), "--scale", "1-7")
    assert (status, err) == (0, "")
    assert json.loads(out)[0]["pct_agree"] == 75


def test_an_excel_file_is_read(tmp_path):
    path = write(tmp_path, answers("a", [1, 2, 4]) + answers("b", [5, None, 5]), "data.xlsx")
    status, out, err = run("items", path)
    assert (status, err) == (0, "")
    a, b = json.loads(out)
    assert (a["median"], b["n"], b["no_opinion"]) == (2, 2, 1)


# --- 8. a command imports only what it needs ---------------------------------------------------

def test_items_does_not_import_scipy_stats():
    code = ("import sys, io; from analysis.cli import main; "
            f"main(['items', {str(EXAMPLE)!r}], stdout=io.StringIO()); "
            "print('scipy.stats' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "False"


def test_groups_and_items_come_out_sorted_whatever_the_files_order(tmp_path):
    rows = answers("b", [3, 4, 5, 1, 2], groups=["US", "US", "US", "RU", "RU"])
    rows += answers("a", [1, 2], groups=["US", "RU"])
    status, out, _ = run("groups", write(tmp_path, rows))
    a, b = json.loads(out)
    assert (a["item"], b["item"]) == ("a", "b")
    # U is the statistic of the group whose code sorts first (RU), below every US answer: 0.
    assert (b["statistic"], list(b["n_by_group"])) == (0, ["RU", "US"])


# --- the guide --------------------------------------------------------------------------------

README = ROOT / "analysis" / "README.md"


def test_the_readme_shows_the_real_output_and_fields_of_each_command():
    from analysis import cli

    text = README.read_text()
    shown: dict[str, list[str]] = {}
    command = ""
    for block in text.split("```\n")[1::2]:
        for line in block.splitlines():
            if line.startswith("$ python -m analysis "):
                command = line.removeprefix("$ python -m analysis ")
                shown[command] = []
            elif command and line != "…":
                shown[command].append(line)
        command = ""
    assert {c.split()[0] for c in shown} == {"items", "agreement", "ranking", "stability", "groups",
                                             "weights", "crosstab", "gap"}
    for command, lines in shown.items():
        status, out, err = run(*command.split())
        assert status == 0 and all(line in (out + err).splitlines() for line in lines), command
    for fields in (cli.ITEM_FIELDS, cli.AGREEMENT_FIELDS, cli.RANKING_FIELDS, cli.STABILITY_FIELDS,
                   cli.GROUP_FIELDS, cli.RAND_FIELDS, cli.RULE_FIELDS):
        assert " ".join(fields) in " ".join(text.split()), fields
