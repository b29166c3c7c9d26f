"""The report's per-item results across rounds (selectors): every item's figures and verdict in
every round up to the report's, with its stability, the verdict under the rule as originally
registered when the rule was amended after the lock, and the study's stopping outcome.

Nothing is recomputed from answers: the figures, verdicts and stability are the aggregation's
stored snapshot (surveys.models.Aggregate); only the verdict under the original rule is judged
again, by analysis.consensus.verdicts on those stored figures.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from analysis.consensus import verdicts
from analysis.exported import consensus_rule
from surveys.figures import round_rule, stopping_status
from surveys.models import Aggregate, Item, Round, Study

# The stored figures a rule reads (the rest of a row's statistics are in Aggregate.extra).
_FIGURES = ("n", "median", "q1", "q3", "iqr", "mean", "sd", "pct_agree", "pct_disagree")


def report_rounds(study: Study, round_: Round) -> list[Round]:
    """The rounds a report of `round_` covers: 1..N, drafts left out."""
    return list(study.rounds.filter(number__lte=round_.number)
                .exclude(status=Round.Status.DRAFT).order_by("number"))


def original_rule(rules: dict | None) -> dict | None:
    """The consensus rule as registered before round 1 opened, when a change after the lock
    altered it (from workspace.selectors.rules_for_report); else None."""
    changes = (rules or {}).get("changes_after_lock") or []
    if not changes or not changes[0]["before"]:
        return None  # no change after the lock, or rules first registered after it
    registered = changes[0]["before"].get("consensus") or {}
    if not registered or registered == (rules or {}).get("rule", {}).get("consensus"):
        return None
    return registered


def verdicts_under(rule: dict, aggregates: list[Aggregate]) -> dict[int, str | None]:
    """Aggregate pk -> its verdict under `rule` (a registered consensus block), judged on the
    stored figures of rated items by analysis.consensus.verdicts."""
    rated = [a for a in aggregates if a.item.kind in Item.RATED]
    if not rated:
        return {}
    frame = pd.DataFrame([
        {**a.extra, **{f: getattr(a, f) for f in _FIGURES},
         "scale_min": (a.item.bounds() or (1, 5))[0], "scale_max": (a.item.bounds() or (1, 5))[1]}
        for a in rated], index=[a.pk for a in rated])
    found = verdicts(frame.astype({f: "float64" for f in _FIGURES}), consensus_rule(rule))
    return {pk: (v if isinstance(v, str) else None) for pk, v in found.items()}


def item_results(study: Study, round_: Round, items: dict[str, Item]) -> dict:
    """Per item asked in rounds 1..N (open questions left out: they have no figures), in
    questionnaire order, one line per round and dimension: `asked`, the stored aggregate `a`
    (None: not aggregated), and `original` (the verdict under the original rule). Beside them:
    the rounds with the rule revision their verdicts are under, the original rule (None: not
    amended) and the stopping outcome."""
    rounds = report_rounds(study, round_)
    asked = {r.pk: set(r.items.values_list("pk", flat=True)) for r in rounds}
    stored: dict[tuple[int, int], list[Aggregate]] = defaultdict(list)
    for a in (Aggregate.objects.filter(round__in=rounds, group="").select_related("item")
              .order_by("dimension")):
        stored[(a.item_id, a.round_id)].append(a)
    rules = _rules(study)
    original = original_rule(rules)
    judged = verdicts_under(original, [a for rows in stored.values() for a in rows]) if original else {}
    out = []
    for item in items.values():
        if item.kind == Item.Kind.OPEN or not any(item.pk in ids for ids in asked.values()):
            continue
        lines = []
        for r in rounds:
            if item.pk not in asked[r.pk]:
                lines.append({"round": r, "asked": False})
                continue
            found = sorted(stored.get((item.pk, r.pk), []), key=lambda a: _key(item, a.dimension))
            lines += [{"round": r, "asked": True, "a": a, "dimension": _dimension(item, a.dimension),
                       "original": judged.get(a.pk)} for a in found] or [
                {"round": r, "asked": True, "a": None}]
        out.append({"item": item, "lines": lines, "rated": item.kind in Item.RATED})
    # The stopping rule worded as the protocol's rule line (workspace.selectors.rule_lines).
    stopping = stopping_status(study, through=round_) | {"line": rules["lines"][2] if rules else ""}
    return {"items": out, "original_rule": original, "stopping": stopping,
            "rounds": [{"round": r, "run": round_rule(r)} for r in rounds]}


def _rules(study: Study) -> dict | None:
    from workspace.selectors import rules_for_report  # the workspace builds on surveys

    return rules_for_report(study)


def _key(item: Item, dimension: str) -> int:
    keys = item.answer_keys()
    return keys.index(dimension) if dimension in keys else len(keys)


def _dimension(item: Item, dimension: str) -> str:
    """A dimension's name as the report prints it (a ranking option's text)."""
    if not dimension:
        return ""
    return item.option_text(dimension) if item.kind == Item.Kind.RANKING else dimension
