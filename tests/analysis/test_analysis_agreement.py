"""Krippendorff's alpha and Fleiss' kappa against the values their authors published."""

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats import inter_rater

from analysis.agreement import fleiss_kappa, krippendorff_alpha, panel_agreement

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the 4 coders x 12 units
# example with missing values (None); unit 12 has one value only and cannot be paired.
KRIPPENDORFF_2011 = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}
# Fleiss (1971) as worked in most textbooks: 10 subjects, 14 raters, 5 categories, kappa 0.210.
FLEISS_TABLE = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def krippendorff_frame(no_opinion_for_missing: bool = False) -> pd.DataFrame:
    rows = []
    for coder, values in KRIPPENDORFF_2011.items():
        for unit, value in enumerate(values, start=1):
            if value is not None or no_opinion_for_missing:
                rows.append({"expert": coder, "round": 1, "item": f"u{unit:02d}",
                             "dimension": "", "value": np.nan if value is None else value})
    return pd.DataFrame(rows)


def fleiss_frame() -> pd.DataFrame:
    """Long answers reproducing the table: rater k gives subject i the k-th category in order."""
    rows = []
    for subject, counts in enumerate(FLEISS_TABLE, start=1):
        values = [category for category, n in enumerate(counts, start=1) for _ in range(n)]
        rows += [{"expert": f"R{k}", "round": 1, "item": f"s{subject}", "dimension": "",
                  "value": value} for k, value in enumerate(values)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("level", "published"), [
    ("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)])
def test_krippendorff_alpha_matches_the_published_example_with_missing_values(level, published):
    assert krippendorff_alpha(krippendorff_frame(), level=level) == pytest.approx(published, abs=5e-4)


def test_no_opinion_answers_count_as_missing_in_alpha():
    with_no_opinion = krippendorff_frame(no_opinion_for_missing=True)

    assert krippendorff_alpha(with_no_opinion, level="ordinal") == pytest.approx(0.815, abs=5e-4)


def test_alpha_is_undefined_when_every_answer_is_the_same():
    frame = pd.DataFrame({"expert": ["A", "B"], "round": 1, "item": "x", "dimension": "",
                          "value": [3, 3]})

    assert math.isnan(krippendorff_alpha(frame))


def test_fleiss_kappa_matches_the_textbook_example_and_statsmodels():
    kappa = fleiss_kappa(fleiss_frame())

    # P-bar = 0.378, P-e = 0.213 -> kappa = (0.378 - 0.213) / (1 - 0.213) = 0.210.
    assert kappa == pytest.approx(0.210, abs=5e-4)
    assert kappa == pytest.approx(inter_rater.fleiss_kappa(np.array(FLEISS_TABLE)), rel=1e-12)


def test_fleiss_kappa_of_two_raters_who_always_agree_is_one_and_of_a_single_answer_undefined():
    agree = pd.DataFrame({"expert": ["A", "B", "A", "B"], "round": 1, "item": ["x", "x", "y", "y"],
                          "dimension": "", "value": [1, 1, 2, 2]})
    single = pd.DataFrame({"expert": ["A"], "round": 1, "item": ["x"], "dimension": "", "value": [4]})

    assert fleiss_kappa(agree) == pytest.approx(1.0)
    assert math.isnan(fleiss_kappa(single))


def test_panel_agreement_reports_alpha_kappa_and_counts_per_round():
    first = krippendorff_frame()
    second = fleiss_frame().assign(round=2)

    out = panel_agreement(pd.concat([first, second]), level="ordinal").set_index("round")

    assert out.loc[1, "krippendorff_alpha"] == pytest.approx(0.815, abs=5e-4)
    assert out.loc[2, "fleiss_kappa"] == pytest.approx(0.210, abs=5e-4)
    assert (out.loc[1, "n_experts"], out.loc[1, "n_items"]) == (4, 12)
    assert (out.loc[2, "n_experts"], out.loc[2, "n_items"]) == (14, 10)
