"""What a round's report shows, read from the database (selectors; no rendering here).

Nothing here names an expert: group comparisons and the dissent register work on answers
and anonymous rationales only, and rationales are listed in alphabetical order so that their
order says nothing about who wrote them or when.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from surveys.figures import participation, participation_total, round_figures, verdict_counts
from surveys.models import (
    Aggregate,
    Answer,
    Item,
    PreFeedbackAnswer,
    Response,
    Round,
    Study,
)
from surveys.reports.archive import feedback_archive
from surveys.reports.checklist import checklist
from surveys.reports.flow import item_log, item_log_view, item_results, participant_flow
from surveys.reports.items import positions as _order
from surveys.reports.items import study_items as _items
from surveys.reports.methods import methods_section, protocol_section
from surveys.reports.statistics import dissent_register, group_comparison, ranking_results


@dataclass
class ResultRow:
    """One line of the consensus table: an item, or one dimension of it, for the whole panel."""

    code: str
    dimension: str
    text: str
    kind: str
    aggregate: Aggregate

    @property
    def label(self) -> str:
        return f"{self.code}/{self.dimension}" if self.dimension else self.code


def consensus_table(round_: Round, items: dict[str, Item]) -> list[ResultRow]:
    """The round's panel snapshot, in questionnaire order."""
    order = _order(items)
    rows = [ResultRow(a.item.code, a.dimension, items[a.item.code].text, a.item.kind, a)
            for a in Aggregate.objects.filter(round=round_, group="").select_related("item")]
    return sorted(rows, key=lambda r: (order[r.code], r.dimension))


def methods_summary(study: Study, round_: Round) -> dict:
    """Rounds, response per round and the items reaching each verdict per round (the figures
    the dashboard shows: surveys.figures), as reporting guidelines ask."""
    rounds = []
    for r in study.rounds.filter(number__lte=round_.number).order_by("number"):
        rounds.append({"round": r, "items": r.items.propositions().count(), **participation_total(r),
                       "counts": verdict_counts(r)})
    return {"rounds": rounds, "anchoring": pre_feedback_changes(round_)
            if study.answer_before_feedback else None}


def pre_feedback_changes(round_: Round) -> dict[str, int]:
    """Of the answers kept as given before the feedback opened (submitted responses of the
    round), how many the expert changed afterwards: the submitted answer differs or is gone."""
    submitted = {"response__round": round_, "response__status": Response.Status.SUBMITTED}
    final = {(r, i, d): None if no_opinion else v for r, i, d, v, no_opinion in
             Answer.objects.filter(**submitted).values_list("response_id", "item_id",
                                                            "dimension", "value", "no_opinion")}
    before = PreFeedbackAnswer.objects.filter(**submitted).values_list(
        "response_id", "item_id", "dimension", "value")
    changed = sum(final.get((r, i, d)) != v for r, i, d, v in before)
    return {"changed": changed, "total": len(before)}


def convergence_rows(study: Study, round_: Round, items: dict[str, Item]) -> list[dict]:
    """The panel's snapshot of every rated or estimated item and dimension in every round up
    to this one (n, median, quartiles, IQR, % agreement, the answers' distribution), in
    questionnaire order then round order: the convergence and distribution charts read it."""
    order = _order(items)
    rows = Aggregate.objects.filter(
        round__study=study, round__number__lte=round_.number, group="",
        item__kind__in=[*Item.RATED, *Item.ESTIMATES]).values_list(
        "item__code", "item__kind", "dimension", "round__number", "n", "median", "q1", "q3",
        "iqr", "pct_agree", "distribution")
    out = [{"label": f"{c}/{d}" if d else c, "kind": kind, "round": number, "n": n,
            "median": median, "q1": q1, "q3": q3, "iqr": iqr, "pct_agree": pct,
            "distribution": dist or {}, "unit": items[c].unit, "_key": (order[c], d)}
           for c, kind, d, number, n, median, q1, q3, iqr, pct, dist in rows if c in items]
    return sorted(out, key=lambda r: (r["_key"], r["round"]))


def dimension_points(round_: Round, items: dict[str, Item]) -> list[dict]:
    """For each Policy-Delphi item: the panel's and each group's means on its first two dimensions."""
    points = []
    means = defaultdict(dict)
    for a in Aggregate.objects.filter(round=round_, item__kind=Item.Kind.DIMENSIONS).select_related("item"):
        means[(a.item.code, a.group)][a.dimension] = a.mean
    for code, item in items.items():
        if item.kind != Item.Kind.DIMENSIONS or len(item.dimensions) < 2:
            continue
        x_dim, y_dim = item.dimensions[:2]
        for (c, group), values in sorted(means.items()):
            if c == code and values.get(x_dim) is not None and values.get(y_dim) is not None:
                points.append({"item": code, "group": group, "x_dimension": x_dim,
                               "y_dimension": y_dim, "x": values[x_dim], "y": values[y_dim]})
    return points


def answers_count(round_: Round) -> int:
    """How many answers the report of this round reads (it decides sync or background render)."""
    return Answer.objects.filter(response__round__study_id=round_.study_id,
                                 response__round__number__lte=round_.number).count()


def registered_rules(study: Study) -> dict | None:
    """The rules registered in the workspace before round 1 and every change made after it
    opened, with its written reason (workspace.selectors.rules_for_report); None if none."""
    from workspace.selectors import rules_for_report  # the workspace builds on surveys

    return rules_for_report(study)


def report_data(round_: Round) -> dict:
    """Everything the report of one round shows, except the charts drawn from it; a survey's
    report has sections of its own (surveys.reports.survey)."""
    study = round_.study
    if study.mode == Study.Mode.SURVEY:
        from surveys.reports.survey import survey_report_data

        return survey_report_data(round_)
    items = _items(study)
    data = {
        "study": study, "round": round_, "methods": methods_summary(study, round_),
        "rules": registered_rules(study),
        "results": consensus_table(round_, items), "rates": participation(round_),
        "figures": round_figures(round_), "rated_kinds": sorted(Item.RATED),
        "convergence": convergence_rows(study, round_, items),
        "comparison": group_comparison(round_, items),
        "dimension_points": dimension_points(round_, items),
        "dissent": dissent_register(round_, items),
        "ranking": ranking_results(round_, items),
        "protocol": protocol_section(study),
        "methods_text": methods_section(study, round_),
        "flow": participant_flow(study, round_),
        "item_results": item_results(study, round_, items),
        "item_log": item_log(study, round_, items),
        "archive": feedback_archive(study, round_),
    }
    data["item_log_view"] = item_log_view(data["item_log"], round_)
    return data | {"checklist": checklist(data)}
