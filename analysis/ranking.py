"""Agreement on ranking items: Kendall's coefficient of concordance W and mean ranks.

A ranking item has one row per expert and option: ``dimension`` is the option code and
``value`` the rank the expert gave it. Each expert's values are re-ranked within the expert
(ties get average ranks), so 1, 2, 2, 4 becomes 1, 2.5, 2.5, 4.

Experts who did not rank every option of an item (a missing row or a no-opinion value for
some option) are dropped from that item: W assumes each rater ranks the same n options.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analysis.frames import group_keys, validate_long

DEFAULT_BY: tuple[str, ...] = ("round", "item")
KENDALL_COLUMNS: tuple[str, ...] = ("kendall_w", "chi2", "df", "p", "n_experts", "n_options")


def kendall_w(frame: pd.DataFrame, *, by: Sequence[str] = DEFAULT_BY) -> pd.DataFrame:
    """Return tie-corrected Kendall's W with its chi-square test per `by` key.

    W = 12 S / (m^2 (n^3 - n) - m sum_j T_j), chi2 = m (n - 1) W on n - 1 degrees of
    freedom, with m complete rankers and n options. W is NaN with fewer than two rankers or
    two options, or when every ranker tied every option (the denominator is then zero).
    """
    df = validate_long(frame)
    keys = group_keys(df, by)
    return _kendall(df, _complete_rankings(df, keys), keys)


def mean_ranks(frame: pd.DataFrame, *, by: Sequence[str] = DEFAULT_BY) -> pd.DataFrame:
    """Return one row per `by` key and option with its mean within-expert rank and n rankers.

    Only complete rankings count, so the mean ranks describe the same panel as kendall_w.
    """
    df = validate_long(frame)
    keys = group_keys(df, by)
    return _mean_ranks(_complete_rankings(df, keys), keys)


def ranking_summary(
    frame: pd.DataFrame, *, by: Sequence[str] = DEFAULT_BY
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kendall_w(frame, by=by), mean_ranks(frame, by=by)), ranking each expert's answers once."""
    df = validate_long(frame)
    keys = group_keys(df, by)
    ranked = _complete_rankings(df, keys)
    return _kendall(df, ranked, keys), _mean_ranks(ranked, keys)


def _kendall(df: pd.DataFrame, ranked: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    n_options = df.groupby(keys, sort=True)["dimension"].nunique().rename("n_options")
    m = ranked.groupby(keys, sort=True)["expert"].nunique()
    out = pd.DataFrame({"n_options": n_options})
    out["n_experts"] = m.reindex(out.index, fill_value=0).astype("int64")
    out["s"] = _rank_sum_spread(ranked, keys).reindex(out.index)
    out["ties"] = _tie_sum(ranked, keys).reindex(out.index)
    mm = out["n_experts"].astype("float64")
    nn = out["n_options"].astype("float64")
    denominator = mm**2 * (nn**3 - nn) - mm * out["ties"]
    defined = (mm >= 2) & (nn >= 2) & (denominator > 0)
    out["kendall_w"] = (12.0 * out["s"] / denominator).where(defined)
    out["chi2"] = mm * (nn - 1.0) * out["kendall_w"]
    out["df"] = (out["n_options"] - 1).clip(lower=0)
    from scipy import special  # here: the CLI's items need no scipy

    out["p"] = pd.Series(special.chdtrc(out["df"], out["chi2"]), index=out.index).where(defined)
    return out.loc[:, list(KENDALL_COLUMNS)].reset_index()


def _mean_ranks(ranked: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    grouped = ranked.groupby([*keys, "dimension"], sort=True)["rank"]
    out = pd.DataFrame({"mean_rank": grouped.mean(), "n": grouped.count()})
    return out.reset_index()


def _complete_rankings(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    options = df.groupby(keys)["dimension"].transform("nunique")
    by_expert = df.groupby([*keys, "expert"])["value"]
    answered = by_expert.transform("count")
    kept = answered.eq(options)
    if kept.all():  # the usual case: rank within the groups already formed
        return df.assign(rank=by_expert.rank(method="average"))
    complete = df.loc[kept].copy()
    complete["rank"] = complete.groupby([*keys, "expert"])["value"].rank(method="average")
    return complete


def _rank_sum_spread(ranked: pd.DataFrame, keys: list[str]) -> pd.Series:
    # S: squared deviations of each option's rank sum R_i from the mean rank sum.
    rank_sums = ranked.groupby([*keys, "dimension"], sort=True)["rank"].sum()
    level_keys = list(range(len(keys)))
    deviation = rank_sums - rank_sums.groupby(level=level_keys).transform("mean")
    return (deviation**2).groupby(level=level_keys).sum()


def _tie_sum(ranked: pd.DataFrame, keys: list[str]) -> pd.Series:
    # sum over raters j of T_j = sum (t^3 - t) over each run of t tied ranks.
    t = ranked.groupby([*keys, "expert", "rank"], sort=True).size().astype("float64")
    level_keys = list(range(len(keys)))
    return (t**3 - t).groupby(level=level_keys).sum()
