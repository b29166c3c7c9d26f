"""Kendall's W and mean ranks, checked against examples worked by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from analysis import kendall_w, mean_ranks, ranking_summary

OPTIONS = ("a", "b", "c", "d")


def _rankings(ranks_by_expert: dict[str, tuple], *, item="rank-q", round_=1) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"expert": expert, "round": round_, "item": item, "dimension": option, "value": rank}
            for expert, ranks in ranks_by_expert.items()
            for option, rank in zip(OPTIONS, ranks, strict=True)
        ]
    )


def _chi2_sf_df3(x: float) -> float:
    # Closed form of the chi-square survival function with 3 degrees of freedom:
    # 2(1 - Phi(sqrt x)) + sqrt(2x/pi) exp(-x/2), and 2(1 - Phi(z)) = erfc(z/sqrt 2).
    return math.erfc(math.sqrt(x / 2)) + math.sqrt(2 * x / math.pi) * math.exp(-x / 2)


UNTIED = {"A": (1, 2, 3, 4), "B": (2, 1, 3, 4), "C": (1, 3, 2, 4)}
TIED = {"A": (1, 2, 2, 4), "B": (2, 1, 3, 4), "C": (1, 1, 3, 4)}


def test_kendall_w_without_ties():
    row = kendall_w(_rankings(UNTIED)).iloc[0]
    # Rank sums R = a 4, b 6, c 8, d 12; mean m(n+1)/2 = 3*5/2 = 7.5;
    # S = 3.5^2 + 1.5^2 + .5^2 + 4.5^2 = 35; W = 12*35 / (3^2 * (4^3 - 4)) = 420/540 = 7/9.
    # Cross-check: Spearman rho A-B .8, A-C .8, B-C .4, mean 2/3 = (mW - 1)/(m - 1) = (7/3-1)/2.
    assert row["kendall_w"] == pytest.approx(7 / 9)
    assert row["chi2"] == pytest.approx(7.0)  # m(n-1)W = 3*3*7/9
    assert row["df"] == 3
    assert row["p"] == pytest.approx(_chi2_sf_df3(7.0))  # .0719
    assert row["n_experts"] == 3
    assert row["n_options"] == 4


def test_kendall_w_with_ties_uses_average_ranks_and_the_tie_correction():
    row = kendall_w(_rankings(TIED)).iloc[0]
    # Within-expert ranks: A 1, 2.5, 2.5, 4 (T=2^3-2=6); B 2,1,3,4 (T=0); C 1.5,1.5,3,4 (T=6).
    # R = a 4.5, b 5, c 8.5, d 12; S = 3^2 + 2.5^2 + 1^2 + 4.5^2 = 36.5;
    # W = 12*36.5 / (9*60 - 3*12) = 438/504 = 73/84 = .869048.
    assert row["kendall_w"] == pytest.approx(73 / 84)
    assert row["chi2"] == pytest.approx(657 / 84)  # 3*3*73/84 = 7.8214
    assert row["p"] == pytest.approx(_chi2_sf_df3(657 / 84))  # .0498


def test_identical_rankings_give_perfect_concordance():
    row = kendall_w(_rankings({"A": (1, 2, 3, 4), "B": (1, 2, 3, 4), "C": (1, 2, 3, 4)})).iloc[0]
    # R = 3, 6, 9, 12; S = 4.5^2 + 1.5^2 + 1.5^2 + 4.5^2 = 45; W = 540/540.
    assert row["kendall_w"] == pytest.approx(1.0)


def test_experts_who_did_not_rank_every_option_are_dropped():
    partial = pd.DataFrame(
        [
            {"expert": "D", "round": 1, "item": "rank-q", "dimension": "a", "value": 1},
            {"expert": "E", "round": 1, "item": "rank-q", "dimension": "a", "value": 1},
            {"expert": "E", "round": 1, "item": "rank-q", "dimension": "b", "value": np.nan},
            {"expert": "E", "round": 1, "item": "rank-q", "dimension": "c", "value": 2},
            {"expert": "E", "round": 1, "item": "rank-q", "dimension": "d", "value": 3},
        ]
    )
    row = kendall_w(pd.concat([_rankings(UNTIED), partial])).iloc[0]
    assert row["n_experts"] == 3
    assert row["kendall_w"] == pytest.approx(7 / 9)


def test_a_single_ranker_gives_no_concordance():
    row = kendall_w(_rankings({"A": (1, 2, 3, 4)})).iloc[0]
    assert row["n_experts"] == 1
    assert np.isnan(row["kendall_w"])
    assert np.isnan(row["p"])


def test_rounds_are_kept_apart():
    frame = pd.concat([_rankings(UNTIED), _rankings(TIED, round_=2)])
    result = kendall_w(frame)
    assert list(result["round"]) == [1, 2]
    assert list(result["kendall_w"]) == pytest.approx([7 / 9, 73 / 84])


def test_mean_ranks_use_within_expert_average_ranks():
    result = mean_ranks(_rankings(TIED))
    assert list(result["dimension"]) == list(OPTIONS)
    # a (1+2+1.5)/3, b (2.5+1+1.5)/3, c (2.5+3+3)/3, d 4.
    assert list(result["mean_rank"]) == pytest.approx([1.5, 5 / 3, 8.5 / 3, 4.0])
    assert list(result["n"]) == [3, 3, 3, 3]


def test_ranking_summary_gives_kendalls_w_and_the_mean_ranks_from_one_ranking():
    frame = pd.concat([_rankings(UNTIED), _rankings(TIED, round_=2)])

    concordance, means = ranking_summary(frame)

    assert list(concordance["kendall_w"]) == pytest.approx([7 / 9, 73 / 84])  # as worked above
    assert list(means.loc[means["round"].eq(2), "mean_rank"]) == pytest.approx(
        [1.5, 5 / 3, 8.5 / 3, 4.0])
    pd.testing.assert_frame_equal(concordance, kendall_w(frame))
    pd.testing.assert_frame_equal(means, mean_ranks(frame))
