"""Round-over-round views of a Delphi study for notebooks and reports: convergence, consensus
under several definitions, polarization between two groups, attrition bias and trajectories.

All functions take the long format (analysis.frames) with rated answers on one scale.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from analysis import ranktests
from analysis.consensus import AGREE, DISAGREE, rule_met, study_rule, verdicts
from analysis.descriptive import apmo_cutoff, rated_summary
from analysis.frames import group_index, validate_long

KEYS: list[str] = ["item", "dimension"]
DEFINITIONS: tuple[str, ...] = ("rule", "agreement", "iqr", "sd", "tastle_wierman", "apmo")


def convergence(frame: pd.DataFrame, *, scale_min: int = 1, scale_max: int = 5,
                agree_min: float | None = None) -> pd.DataFrame:
    """Per round, item and dimension: n, median, IQR, SD, % agreement and Tastle-Wierman."""
    out = rated_summary(frame, scale_min=scale_min, scale_max=scale_max, agree_min=agree_min,
                        by=("round", *KEYS))
    return out.loc[:, ["round", *KEYS, "n", "median", "iqr", "sd", "pct_agree", "pct_disagree",
                       "tastle_wierman"]]


def consensus_definitions(summary: pd.DataFrame, *, agree_pct: float = 75.0, iqr_max: float = 1.0,
                          sd_max: float = 1.0, tw_min: float = 0.8,
                          rule: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One boolean column per consensus definition, side by side, for each summary row.

    rule: the study's registered rule (an analysis.consensus rule mapping; by default % agreement
    >= agree_pct and IQR <= iqr_max), judged as every page judges it (analysis.consensus.verdicts:
    `verdict` is "agree", "disagree", "none" or None, and `rule` is True for the first two);
    agreement, iqr, sd and tastle_wierman: each threshold alone; apmo: % agreement at least
    the round's APMO cut-off. `unanimous` says whether all definitions give the same verdict.
    """
    out = summary.loc[:, ["round", *KEYS]].copy()
    rules = {"agreement": {"kind": "agree_pct", "min": agree_pct},
             "iqr": {"kind": "iqr", "max": iqr_max},
             "sd": {"kind": "sd", "max": sd_max},
             "tastle_wierman": {"kind": "tastle_wierman", "min": tw_min}}
    for name, spec in rules.items():
        out[name] = rule_met(summary, spec).fillna(False).astype(bool)
    registered = rule if rule is not None else study_rule(agree_pct=agree_pct, iqr_max=iqr_max)
    out["verdict"] = verdicts(summary, registered)
    out["rule"] = out["verdict"].isin([AGREE, DISAGREE])
    cutoffs = {r: apmo_cutoff(part) for r, part in summary.groupby("round")}
    out["apmo_cutoff"] = summary["round"].map(cutoffs)
    out["apmo"] = pd.concat([rule_met(part, {"kind": "apmo"}, apmo=cutoffs[r])
                             for r, part in summary.groupby("round")]).reindex(
        summary.index).fillna(False).astype(bool)
    judged = out.loc[:, list(DEFINITIONS)]
    out["unanimous"] = judged.all(axis=1) | ~judged.any(axis=1)
    return out.loc[:, ["round", *KEYS, *DEFINITIONS, "verdict", "apmo_cutoff", "unanimous"]]


def verdict_changes(definitions: pd.DataFrame, *, definition: str = "rule") -> pd.DataFrame:
    """Items whose verdict under `definition` changed from one round to the next."""
    wide = definitions.pivot_table(index=KEYS, columns="round", values=definition, aggfunc="first")
    rounds = list(wide.columns)
    rows = [(*key, before, after, bool(wide.loc[key, after]))
            for key in wide.index for before, after in zip(rounds, rounds[1:], strict=False)
            if pd.notna(wide.loc[key, before]) and pd.notna(wide.loc[key, after])
            and bool(wide.loc[key, before]) != bool(wide.loc[key, after])]
    return pd.DataFrame(rows, columns=[*KEYS, "from_round", "to_round", "now"])


def polarization(frame: pd.DataFrame, *, group_a: str, group_b: str) -> pd.DataFrame:
    """Per round and item: the two groups' means, the gap between them and its Mann-Whitney p."""
    df = validate_long(frame).loc[:, ["round", *KEYS, "group", "value"]]  # (columns first)
    df = df.loc[df["group"].isin([group_a, group_b]) & df["value"].notna()]
    in_a, values = df["group"].eq(group_a).to_numpy(), df["value"].to_numpy()
    grouped = df.groupby(["round", *KEYS], sort=True)
    ids = grouped.ngroup().to_numpy()
    tests = _MannWhitney(ids, values, in_a, grouped.ngroups)
    rows = []
    for (round_, item, dimension), at in grouped.indices.items():
        a, b = values[at[in_a[at]]], values[at[~in_a[at]]]
        if len(a) == 0 or len(b) == 0:
            continue
        rows.append((round_, item, dimension, len(a), len(b), a.mean(), b.mean(),
                     abs(a.mean() - b.mean()), tests.p(ids[at[0]], a, b)))
    return pd.DataFrame(rows, columns=["round", *KEYS, "n_a", "n_b", "mean_a", "mean_b", "gap", "p"])


def attrition(frame: pd.DataFrame, *, first_round: int | None = None,
              last_round: int | None = None) -> pd.DataFrame:
    """Did the experts who left answer differently? Round-one answers of stayers vs dropouts.

    A dropout answered `first_round` (default the first) but not `last_round` (default the
    last). One row per item: counts, means, the difference (dropouts minus stayers) and the
    two-sided Mann-Whitney p.
    """
    df = validate_long(frame)
    first = int(df["round"].min()) if first_round is None else first_round
    last = int(df["round"].max()) if last_round is None else last_round
    stayers = df.loc[df["round"].eq(last), "expert"].unique()
    early = df.loc[:, ["expert", *KEYS, "value"]]  # (the columns needed, then the rows)
    early = early.loc[df["round"].eq(first) & df["value"].notna()]
    stayed = early["expert"].isin(stayers).to_numpy()  # once for all rows, not once per item
    values = early["value"].to_numpy()
    grouped = early.groupby(KEYS, sort=True)
    ids = grouped.ngroup().to_numpy()
    tests = _MannWhitney(ids, values, stayed, grouped.ngroups)
    rows = []
    for (item, dimension), at in grouped.indices.items():
        stay, left = values[at[stayed[at]]], values[at[~stayed[at]]]
        rows.append((item, dimension, len(stay), len(left), _mean(stay), _mean(left),
                     _mean(left) - _mean(stay), tests.p(ids[at[0]], stay, left)))
    return pd.DataFrame(rows, columns=[*KEYS, "n_stayed", "n_left", "mean_stayed", "mean_left",
                                       "difference", "p"])


def trajectories(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per expert, item and round from the second on: the answer, the previous one,
    the panel median the expert saw, and whether the expert moved toward that median."""
    df = validate_long(frame)
    # Integer codes for experts (in sorted order) and items, so that pairs, medians and the
    # final order need no join or sort on text columns; then the valid answers' codes (no copy
    # of the frame's rows until the result: rows of text are slow to copy).
    expert_codes, expert_names = pd.factorize(df["expert"], sort=True)
    key_index, key_codes = group_index(df, KEYS)
    rows = np.flatnonzero(df["value"].notna().to_numpy())
    experts, keys = expert_codes[rows], key_codes[rows]
    rounds, values = df["round"].to_numpy()[rows], df["value"].to_numpy()[rows]
    answer = keys.astype(np.int64) * max(len(expert_names), 1) + experts
    order = np.lexsort((rounds, answer))
    # An answer is paired with the one just before it in this order: same expert and item,
    # the round before.
    pair = (answer[order][1:] == answer[order][:-1]) & (rounds[order][1:] == rounds[order][:-1] + 1)
    now, before = order[1:][pair], order[:-1][pair]
    by_expert = np.lexsort((rounds[now], keys[now], experts[now]))
    now, before = now[by_expert], before[by_expert]
    panel = rounds.astype(np.int64) * max(len(key_index), 1) + keys  # one number per round and item
    seen = pd.Series(values).groupby(panel).median().reindex(panel[before]).to_numpy()
    previous, value = values[before], values[now]
    moved = df.loc[:, ["expert", "group", "round", *KEYS]].iloc[rows[now]].reset_index(drop=True)
    moved["previous"], moved["value"], moved["panel_median"] = previous, value, seen
    moved["changed"] = value != previous
    moved["toward_median"] = np.abs(value - seen) < np.abs(previous - seen)
    return moved


def group_spread(frame: pd.DataFrame) -> pd.DataFrame:
    """Per round and item, over every stakeholder group present (experts without a group left
    out): the number of groups, the lowest and highest group mean and the spread between them."""
    df = validate_long(frame).loc[:, ["round", *KEYS, "group", "value"]]  # (columns first)
    df = df.loc[df["value"].notna() & df["group"].ne("")]
    means = df.groupby(["round", *KEYS, "group"], sort=True)["value"].mean()
    out = means.groupby(level=["round", *KEYS]).agg(["size", "min", "max"])
    out.columns = ["groups", "lowest", "highest"]
    out["spread"] = out["highest"] - out["lowest"]
    return out.reset_index()


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else float("nan")


class _MannWhitney:
    """Two-sided Mann-Whitney p of the `first` rows against the others, per key: every key's
    answers ranked at once (analysis.ranktests, scipy's numbers to the last bit) where scipy
    takes the normal approximation, scipy itself where it takes the exact test."""

    def __init__(self, key: np.ndarray, values: np.ndarray, first: np.ndarray, keys: int) -> None:
        key = key.astype(np.int64)
        ranks, self.ties, self.longest = ranktests.average_ranks(key, values, keys)
        self.rank_sums = np.bincount(key, weights=np.where(first, ranks, 0.0), minlength=keys)

    def p(self, k: int, a: np.ndarray, b: np.ndarray) -> float:
        if len(a) and len(b) and ranktests.asymptotic_mannwhitneyu(len(a), len(b),
                                                                   int(self.longest[k])):
            return ranktests.mannwhitneyu(self.rank_sums[k], len(a), len(b), self.ties[k])[1]
        return _mann_whitney_p(a, b)


def _mann_whitney_p(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    from scipy import stats  # here: a second to import, which only two notebooks need

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # identical samples: p is NaN, said so
        return float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
