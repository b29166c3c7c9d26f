"""Turning a closed round's answers into its snapshot of statistics, exactly once."""

import math

import pandas as pd
from django.db import transaction
from django.utils import timezone

import analysis
from surveys.models import Aggregate, AuditEvent, Item, Round
from surveys.selectors import answers_frame

KEYS = ["item", "dimension", "group"]
_FIELDS = ["n", "no_opinion", "median", "q1", "q3", "iqr", "mean", "sd", "pct_agree"]


def _with_panel(frame: pd.DataFrame, summarize) -> pd.DataFrame:
    """Summaries for the whole panel (group '') and for each stakeholder group."""
    by_group = summarize(frame, by=("item", "dimension", "group"))
    panel = summarize(frame, by=("item", "dimension")).assign(group="")
    return pd.concat([panel, by_group], ignore_index=True)


def round_statistics(frame: pd.DataFrame, *, agree_pct: float, iqr_max: float) -> pd.DataFrame:
    """One row per item, dimension and group ('' = panel) with every feedback statistic."""
    if frame.empty:
        return pd.DataFrame(columns=[*KEYS, *_FIELDS])
    parts = []
    rated = frame[frame["kind"].isin(list(Item.RATED))]
    if not rated.empty:
        stats = _with_panel(rated, lambda f, by: analysis.rated_summary(f, by=by).reset_index())
        stats["consensus"] = analysis.consensus_met(stats, agree_pct=agree_pct, iqr_max=iqr_max)
        parts.append(stats)
    numeric = frame[frame["kind"].isin([*Item.ESTIMATES, Item.Kind.RANKING])]
    if not numeric.empty:
        stats = _with_panel(numeric, lambda f, by: analysis.estimate_summary(f, by=by).reset_index())
        parts.append(stats)
    return pd.concat(parts, ignore_index=True)


def _ranking_extra(frame: pd.DataFrame) -> dict[str, dict]:
    ranked = frame[frame["kind"] == Item.Kind.RANKING]
    if ranked.empty:
        return {}
    table = analysis.kendall_w(ranked, by=("item",)).reset_index()
    return {row["item"]: {k: _clean(row[k]) for k in ("kendall_w", "chi2", "df", "p", "n_experts")}
            for row in table.to_dict("records")}


def _clean(value):
    """Turn numpy scalars and NaN into JSON- and database-friendly values."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return None if math.isnan(number) else number


def _previous_medians(round_: Round) -> dict[tuple[str, str, str], float]:
    rows = Aggregate.objects.filter(
        round__study_id=round_.study_id, round__number=round_.number - 1
    ).values_list("item__code", "dimension", "group", "median")
    return {(i, d, g): m for i, d, g, m in rows}


def round_aggregate(*, round_id: int) -> int:
    """Write the round's snapshot, replacing any earlier one; returns the rows written.

    Idempotent: a retry or a second run leaves exactly one snapshot. A round that is not
    closed (or no longer exists) is left alone.
    """
    with transaction.atomic():
        round_ = Round.objects.select_for_update().filter(pk=round_id).select_related("study").first()
        if round_ is None or round_.status not in {Round.Status.CLOSED, Round.Status.AGGREGATED}:
            return 0
        study = round_.study
        frame = answers_frame(round_ids=[round_.pk])
        stats = round_statistics(frame, agree_pct=study.consensus_agree_pct,
                                 iqr_max=study.consensus_iqr_max)
        ranking = _ranking_extra(frame)  # Kendall's W, kept on the panel's option rows
        previous = _previous_medians(round_)
        items = {item.code: item.pk for item in round_.items.all()}
        rows = []
        for rec in stats.to_dict("records"):
            key = (rec["item"], rec["dimension"], rec["group"])
            median = _clean(rec.get("median"))
            before = previous.get(key)
            consensus = rec.get("consensus")
            rows.append(Aggregate(
                round=round_, item_id=items[rec["item"]], dimension=rec["dimension"],
                group=rec["group"], n=int(rec["n"]), no_opinion=int(rec["no_opinion"]),
                median=median, q1=_clean(rec.get("q1")), q3=_clean(rec.get("q3")),
                iqr=_clean(rec.get("iqr")), mean=_clean(rec.get("mean")),
                sd=_clean(rec.get("sd")), pct_agree=_clean(rec.get("pct_agree")),
                distribution=_clean(rec.get("distribution")) or {},
                consensus=None if consensus is None or pd.isna(consensus) else bool(consensus),
                median_change=None if before is None or median is None else median - before,
                extra={k: _clean(rec[k]) for k in ("p10", "p90", "cv", "tastle_wierman")
                       if k in rec} | (ranking.get(rec["item"], {}) if rec["group"] == "" else {}),
            ))
        Aggregate.objects.filter(round=round_).delete()
        Aggregate.objects.bulk_create(rows)
        round_.status = Round.Status.AGGREGATED
        round_.aggregated_at = timezone.now()
        round_.save(update_fields=["status", "aggregated_at"])
        AuditEvent.objects.create(study=study, action="round_aggregated",
                                  detail={"round": round_.number, "rows": len(rows)})
    return len(rows)
