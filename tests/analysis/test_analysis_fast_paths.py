"""The fast paths of the statistics give pandas' and scipy's numbers to the last bit: quartiles
and medians from counts per scale point, the groupby on group numbers, ranks of whole numbers,
the Mann-Whitney p of the reporting views, the CSV read by pyarrow. Checked with == on
random panels, not approx."""

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from analysis import frames, ranktests, reporting
from analysis.descriptive import point_counts, rated_summary, scale_quantile


def _panel(seed: int, experts: int = 60, items: int = 12, rounds: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(f"e{e:03d}", ["a", "b", "c", ""][e % 4], r, f"q{i:02d}", "", float(rng.integers(1, 6)))
            for r in range(1, rounds + 1) for e in range(experts) for i in range(items)]
    frame = pd.DataFrame(rows, columns=["expert", "group", "round", "item", "dimension", "value"])
    frame.loc[rng.random(len(frame)) < 0.1, "value"] = np.nan
    # A few small panels: an item answered by two experts, an item nobody answered in round 2.
    frame = frame.loc[~(frame["item"].eq("q00") & frame["expert"].gt("e001"))]
    return frame.loc[~(frame["item"].eq("q01") & frame["round"].eq(2))].reset_index(drop=True)


def test_quantiles_from_counts_equal_pandas():
    for seed in range(5):
        frame = _panel(seed)
        grouped = frame.groupby(["round", "item"], sort=True)["value"]
        index, ids = frames.group_index(frame, ["round", "item"])
        values = frame["value"].to_numpy()
        counts = point_counts(values, ids, len(index), 1, 5)
        points = np.arange(1, 6)
        assert (scale_quantile(counts, points, 0.5, median=True) == grouped.median().to_numpy()
                ).all()
        for q in (0.25, 0.75, 0.1, 0.9, 0.3):
            want = grouped.quantile(q).to_numpy()
            got = scale_quantile(counts, points, q)
            assert ((got == want) | (np.isnan(got) & np.isnan(want))).all(), q


def test_rated_summary_equals_a_plain_pandas_groupby():
    frame = _panel(11)
    summary = rated_summary(frame, by=("round", "item", "dimension"))
    grouped = frame.groupby(["round", "item", "dimension"], sort=True)["value"]
    for column, want in (("median", grouped.median()), ("mean", grouped.mean()),
                         ("sd", grouped.std()), ("q1", grouped.quantile(0.25)),
                         ("q3", grouped.quantile(0.75)), ("n", grouped.count())):
        got, want = summary[column].to_numpy(), want.to_numpy()
        assert ((got == want) | (pd.isna(got) & pd.isna(want))).all(), column


def test_groupby_on_numbers_equals_groupby_on_keys():
    frame = _panel(3)
    index, ids = frames.group_index(frame, ["round", "item"])
    grouped = frames.numbered_groupby(frame["value"].to_numpy(), ids, len(index) + 1)
    plain = frame.groupby(["round", "item"], sort=True)["value"]
    for name in ("mean", "std", "count"):
        got, want = getattr(grouped, name)().to_numpy(), getattr(plain, name)().to_numpy()
        assert ((got[:-1] == want) | (np.isnan(got[:-1]) & np.isnan(want))).all(), name
    assert np.isnan(grouped.mean().to_numpy()[-1])  # a number no row has: no answers


def test_ranks_of_whole_numbers_equal_ranks_of_factorized_values():
    rng = np.random.default_rng(5)
    key = rng.integers(0, 7, 5000)
    for value in (rng.integers(-4, 5, 5000).astype(float), rng.normal(size=5000)):
        ranks, ties, longest = ranktests.average_ranks(key, value, 7)
        for k in range(7):
            want = stats.rankdata(value[key == k])
            assert (ranks[key == k] == want).all()
        assert ranks.dtype == np.float64 and ties.shape == longest.shape == (7,)


def test_mann_whitney_p_of_the_reporting_views_equals_scipy():
    frame = _panel(7, experts=80)
    table = reporting.polarization(frame, group_a="a", group_b="b")
    df = frame.loc[frame["value"].notna()]
    for row in table.itertuples(index=False):
        part = df.loc[df["round"].eq(row.round) & df["item"].eq(row.item)]
        a = part.loc[part["group"].eq("a"), "value"].to_numpy()
        b = part.loc[part["group"].eq("b"), "value"].to_numpy()
        want = stats.mannwhitneyu(a, b, alternative="two-sided").pvalue
        assert row.p == want or (np.isnan(row.p) and np.isnan(want))


def test_csv_read_by_pyarrow_equals_pandas_read(tmp_path: Path):
    path = tmp_path / "answers.csv"
    _panel(2).assign(kind="agreement").to_csv(path, index=False)
    fast = frames.read_long(path)
    plain = frames.validate_long(pd.read_csv(
        path, dtype=dict.fromkeys(("expert", "item", "dimension", "group"), str),
        keep_default_na=False, na_values={"value": ["", "NA", "N/A", "NaN", "nan", "null"]}))
    pd.testing.assert_frame_equal(fast, plain, check_exact=True)
