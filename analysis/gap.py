"""The expert–public gap: a Delphi panel's final round beside an attitude survey, item by item.

For each proposition asked in both (matched by item code, or by a list of code pairs), one row
for all the survey's respondents and, with `by`, one per category of a respondent column
(country, profession, ...):

- the panel's last round: n, median, quartiles, IQR, % agree with its 95 % Wilson interval (on
  n) and the verdict under the given consensus rule (`analysis.consensus.verdicts`, judged over
  all the round's items, as the platform does);
- the survey's last round, weighted (`analysis.crosstab.weighted_crosstab`): n, summed weight,
  Kish's n_eff and design effect, weighted median, distribution and % agree with its 95 %
  Wilson interval on n_eff;
- the gap in % agree, survey minus panel, with Newcombe's hybrid score interval (Newcombe 1998,
  method 10): with d = p_s - p_p and each side's Wilson interval (l, u),
  low = d - sqrt((p_s - l_s)² + (u_p - p_p)²), high = d + sqrt((u_s - p_s)² + (p_p - l_p)²).
  The survey's Wilson interval uses the effective sample size (a weighted survey has less
  information than its n), the panel's its n; the two samples are taken as independent;
- Cliff's delta, P(S > P) - P(S < P) for a survey answer S and a panel answer P, each survey
  answer counted with its weight: delta = Σ_i w_i Σ_j sign(s_i - p_j) / (Σ_i w_i · m) over the
  m panel answers. With equal weights it is the usual delta, 2U / (n m) - 1 with U the
  Mann-Whitney U of the survey (ties counting one half); with weights it is the same quantity
  for the weighted (population) distribution of the survey's answers. Its size is named by
  Romano et al. (2006): negligible below 0.147, small below 0.33, medium below 0.474, else large.

`direction` says it plainly: "survey agrees more" / "survey agrees less" when the interval of
the gap lies above / below zero, "no clear difference" when it holds zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.consensus import verdicts
from analysis.crosstab import _categories, weighted_crosstab, wilson
from analysis.descriptive import boxes, rated_summary
from analysis.frames import require_scale, validate_long
from analysis.weights import flagged_column

GAP_COLUMNS: tuple[str, ...] = (
    "item", "survey_item", "by", "category",
    "panel_round", "panel_n", "panel_median", "panel_q1", "panel_q3", "panel_iqr",
    "panel_pct_agree", "panel_pct_agree_ci_low", "panel_pct_agree_ci_high", "panel_verdict",
    "survey_round", "survey_n", "survey_weighted_n", "survey_n_eff", "survey_deff",
    "survey_median", "survey_pct_agree", "survey_pct_agree_ci_low", "survey_pct_agree_ci_high",
    "survey_distribution",
    "gap_pct_agree", "gap_ci_low", "gap_ci_high", "cliffs_delta", "effect", "direction",
)  # fmt: skip
MORE, LESS, UNCLEAR = "survey agrees more", "survey agrees less", "no clear difference"
# Romano et al. (2006): |delta| below 0.147 negligible, 0.33 small, 0.474 medium.
EFFECT_BOUNDS: tuple[tuple[float, str], ...] = ((0.147, "negligible"), (0.33, "small"),
                                                (0.474, "medium"), (math.inf, "large"))


def label(frame: pd.DataFrame) -> pd.Series:
    """The item code, or `item/dimension` (as the CLI shows items)."""
    item, dimension = frame["item"].astype(str), frame["dimension"].astype(str)
    return item.where(dimension.eq(""), item + "/" + dimension)


def last_round(frame: pd.DataFrame) -> tuple[int, pd.DataFrame]:
    """(the last round, its rows) of a validated long frame."""
    round_ = int(frame["round"].max())
    return round_, frame.loc[frame["round"].eq(round_)]


def item_pairs(panel_items: Sequence[str], survey_items: Sequence[str],
               mapping: Sequence[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """The (panel, survey) item pairs compared: those of `mapping` whose two codes are present,
    else every code found in both, sorted. Raises ValueError when there is none."""
    panel_set, survey_set = set(panel_items), set(survey_items)
    if mapping is None:
        pairs = [(code, code) for code in sorted(panel_set & survey_set)]
    else:
        pairs = [(p, s) for p, s in mapping if p in panel_set and s in survey_set]
    if not pairs:
        how = "the mapping's pairs" if mapping is not None else "item codes"
        raise ValueError(f"no proposition is in both the panel and the survey (by {how}); "
                         f"panel items: {_few(panel_set)}; survey items: {_few(survey_set)}")
    return pairs


def _few(codes: set[str], at_most: int = 6) -> str:
    shown = sorted(codes)
    more = f", … ({len(shown)} in all)" if len(shown) > at_most else ""
    return (", ".join(shown[:at_most]) or "none") + more


def panel_figures(panel: pd.DataFrame, rule: Any, *, scale_min: int = 1, scale_max: int = 5,
                  agree_min: float | None = None,
                  disagree_max: float | None = None) -> pd.DataFrame:
    """The panel's last round per item label: n, median, quartiles, IQR, % agree with its
    Wilson interval and the rule's verdict (judged over the round's items together)."""
    round_, final = last_round(validate_long(panel))
    summary = rated_summary(final, scale_min=scale_min, scale_max=scale_max, agree_min=agree_min,
                            disagree_max=disagree_max)
    summary["verdict"] = verdicts(summary.assign(scale_min=scale_min, scale_max=scale_max), rule)
    p = summary["pct_agree"].to_numpy(dtype="float64") / 100
    n = summary["n"].to_numpy(dtype="float64")
    with np.errstate(all="ignore"):
        low, high = wilson(p, np.where(n > 0, n, np.nan)) * 100
    return pd.DataFrame({
        "item": label(summary).to_numpy(), "panel_round": round_,
        "panel_n": summary["n"].to_numpy(), "panel_median": summary["median"].to_numpy(),
        "panel_q1": summary["q1"].to_numpy(), "panel_q3": summary["q3"].to_numpy(),
        "panel_iqr": summary["iqr"].to_numpy(), "panel_pct_agree": p * 100,
        "panel_pct_agree_ci_low": low, "panel_pct_agree_ci_high": high,
        "panel_verdict": summary["verdict"].to_numpy()}).set_index("item")


def newcombe(p1: float, ci1: tuple[float, float], p2: float,
             ci2: tuple[float, float]) -> tuple[float, float, float]:
    """(d, low, high): the difference p1 - p2 of two independent proportions and Newcombe's
    hybrid score interval from each one's interval (Wilson's, for method 10)."""
    d = p1 - p2
    low = d - math.sqrt((p1 - ci1[0]) ** 2 + (ci2[1] - p2) ** 2)
    high = d + math.sqrt((ci1[1] - p1) ** 2 + (p2 - ci2[0]) ** 2)
    return d, low, high


def cliffs_delta(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray,
                 weights: Sequence[float] | np.ndarray | None = None) -> float:
    """Cliff's delta P(X > Y) - P(X < Y), each x counted with its weight (see the module doc);
    NaN when either side is empty."""
    x = np.asarray(x, dtype="float64")
    y = np.sort(np.asarray(y, dtype="float64"))
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype="float64")
    if not len(x) or not len(y) or not np.sum(w) > 0:
        return math.nan
    below = np.searchsorted(y, x, side="left")  # panel answers below each survey answer
    above = len(y) - np.searchsorted(y, x, side="right")
    return float(np.sum(w * (below - above)) / (np.sum(w) * len(y)))


def effect_size(delta: float) -> str | None:
    """Romano et al.'s name for the size of a Cliff's delta."""
    if math.isnan(delta):
        return None
    return next(name for bound, name in EFFECT_BOUNDS if abs(delta) < bound)


def direction(low: float, high: float) -> str | None:
    if math.isnan(low) or math.isnan(high):
        return None
    return MORE if low > 0 else LESS if high < 0 else UNCLEAR


def expert_public_gap(
    panel: pd.DataFrame,
    survey: pd.DataFrame,
    *,
    rule: Any,
    by: str | None = None,
    weight: str | None = None,
    pairs: Sequence[tuple[str, str]] | None = None,
    scale_min: int = 1,
    scale_max: int = 5,
    agree_min: float | None = None,
    disagree_max: float | None = None,
    include_flagged: bool = False,
) -> pd.DataFrame:
    """One row per compared item (panel code order) for all respondents (`category` None),
    then one per category of the survey's `by` column, with the columns of `GAP_COLUMNS`.

    `weight` names the survey's column of respondent weights (None: every respondent weighs
    1); `pairs` lists (panel code, survey code) to compare (None: the codes in both). Both
    sides use the last round of their frame and the same scale. Flagged survey respondents
    are left out unless `include_flagged` (as `weighted_crosstab`)."""
    panel = validate_long(panel)
    survey = validate_long(survey)
    require_scale(panel["value"], scale_min, scale_max)
    agree_min = boxes(scale_min, scale_max)[0] if agree_min is None else agree_min
    figures = panel_figures(panel, rule, scale_min=scale_min, scale_max=scale_max,
                            agree_min=agree_min, disagree_max=disagree_max)
    if weight is not None and weight not in survey.columns:
        raise ValueError(f"the survey has no weight column '{weight}'")
    if by is not None and by not in survey.columns:
        raise ValueError(f"the survey has no column '{by}' to break the estimates down by")
    survey_round, survey = last_round(survey)
    survey = survey.assign(_label=label(survey).to_numpy(),
                           _weight=1.0 if weight is None else survey[weight])
    pairs = item_pairs(list(figures.index), list(survey["_label"].unique()),
                       None if pairs is None else list(pairs))
    wanted = [s for _, s in pairs]
    part = survey.loc[survey["_label"].isin(wanted)]
    table = weighted_crosstab(part, by=by, weight="_weight", scale_min=scale_min,
                              scale_max=scale_max, agree_min=agree_min,
                              include_flagged=include_flagged)
    table["_label"] = label(table).to_numpy()
    kept = _answers(part, by, include_flagged)
    _, final = last_round(panel)
    final = final.assign(_label=label(final).to_numpy()).dropna(subset=["value"])
    rows = []
    for panel_item, survey_item in pairs:
        mine = final.loc[final["_label"].eq(panel_item), "value"].to_numpy()
        theirs = kept.loc[kept["_label"].eq(survey_item)]
        for record in table.loc[table["_label"].eq(survey_item)].to_dict(orient="records"):
            category = record["category"]
            answers = theirs if category is None else theirs.loc[theirs["_category"].eq(category)]
            rows.append(_row(panel_item, survey_item, survey_round, figures.loc[panel_item],
                             record, mine, answers))
    return pd.DataFrame(rows, columns=list(GAP_COLUMNS))


def _answers(survey: pd.DataFrame, by: str | None, include_flagged: bool) -> pd.DataFrame:
    """The survey answers the estimates use (answered; flagged ones left out unless included),
    with each one's category of `by` as `weighted_crosstab` writes it."""
    keep = survey["value"].notna() & (include_flagged | ~flagged_column(survey))
    out = survey.loc[keep, ["_label", "value", "_weight"]].copy()
    if by is not None:
        out["_category"] = _categories(survey.loc[keep], by).to_numpy()
    out["_weight"] = pd.to_numeric(out["_weight"], errors="coerce").astype("float64")
    return out


def _row(panel_item: str, survey_item: str, survey_round: int, panel: pd.Series,
         survey: dict[str, Any], panel_values: np.ndarray, answers: pd.DataFrame) -> dict[str, Any]:
    ps, pp = survey["pct_agree"] / 100, panel["panel_pct_agree"] / 100
    if panel["panel_n"] > 0 and survey["n"] > 0:
        _, low, high = newcombe(ps, (survey["pct_agree_ci_low"] / 100,
                                     survey["pct_agree_ci_high"] / 100),
                                pp, (panel["panel_pct_agree_ci_low"] / 100,
                                     panel["panel_pct_agree_ci_high"] / 100))
        gap = survey["pct_agree"] - panel["panel_pct_agree"]  # (in points: 100 - 80 is 20)
    else:
        gap = low = high = math.nan
    delta = cliffs_delta(answers["value"].to_numpy(), panel_values, answers["_weight"].to_numpy())
    return {
        "item": panel_item, "survey_item": survey_item, "by": survey["by"],
        "category": survey["category"], **panel.to_dict(), "survey_round": survey_round,
        "survey_n": survey["n"], "survey_weighted_n": survey["weighted_n"],
        "survey_n_eff": survey["n_eff"], "survey_deff": survey["deff"],
        "survey_median": survey["median"], "survey_pct_agree": survey["pct_agree"],
        "survey_pct_agree_ci_low": survey["pct_agree_ci_low"],
        "survey_pct_agree_ci_high": survey["pct_agree_ci_high"],
        "survey_distribution": survey["distribution"],
        "gap_pct_agree": gap, "gap_ci_low": low * 100, "gap_ci_high": high * 100,
        "cliffs_delta": delta, "effect": effect_size(delta), "direction": direction(low, high),
    }
