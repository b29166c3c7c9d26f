"""The expert–public gap on the platform: a Delphi study's final round beside a survey on the
same items, through `analysis.gap.expert_public_gap` (no figure computed here).

Both sides are the exports' long frame (`surveys.exports.export_long`); the survey's rows get
each respondent's `country` (the collector's) and `flagged` (any quality flag) from the
respondents file (`surveys.selectors_fielding.survey_respondents`). Every respondent weighs 1
unless the survey's file declares population `margins`: then `analysis.weights.weigh`
post-stratifies (one variable) or rakes (several) to them. Flagged respondents are left out,
as `analysis.gap` does by default. The panel's last aggregated round is its final round.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from django.utils.translation import gettext_lazy as _

from analysis.gap import LESS, MORE, UNCLEAR, expert_public_gap
from analysis.weights import Weighting, margin_columns, respondents, validate_margins, weigh
from surveys.exports import export_long
from surveys.figures import rule_in_force
from surveys.models import Item, Round, Study
from surveys.selectors_fielding import survey_respondents

KINDS = ("agreement",)
DIRECTIONS = {MORE: _("survey agrees more"), LESS: _("survey agrees less"),
              UNCLEAR: _("no clear difference")}
EFFECTS = {"negligible": _("negligible"), "small": _("small"), "medium": _("medium"),
           "large": _("large")}


def panel_frame(panel: Study) -> pd.DataFrame:
    """The panel's rated answers up to its last aggregated round (an open round's early
    submissions are not the panel's final word)."""
    last = (panel.rounds.filter(status=Round.Status.AGGREGATED).order_by("-number")
            .values_list("number", flat=True).first())
    frame = export_long(panel)
    return frame.loc[frame["kind"].isin(KINDS) & frame["round"].le(last or 0)]


def survey_frame(survey: Study, kinds: tuple[str, ...] = KINDS) -> pd.DataFrame:
    """The survey's answers of these item kinds with each respondent's country and `flagged`."""
    frame = export_long(survey)
    frame = frame.loc[frame["kind"].isin(kinds)]
    people = pd.DataFrame(survey_respondents(survey), columns=["expert", "country", "flags"])
    frame = frame.merge(people, on="expert", how="left")
    frame["country"] = frame["country"].fillna("")
    frame["flagged"] = frame["flags"].fillna("").ne("")
    return frame.drop(columns="flags")


def survey_weighting(survey: Study, frame: pd.DataFrame) -> tuple[Weighting | None, str]:
    """(analysis.weights' weights and diagnostics to the survey's declared margins, flagged
    respondents left out; "") — or (None, why they could not be weighted). (None, "") when no
    margins are declared or there are no answers yet."""
    if not survey.margins or frame.empty:
        return None, ""
    try:
        margins = validate_margins(pd.DataFrame(survey.margins))
        return weigh(respondents(frame, margin_columns(margins)), margins), ""
    except ValueError as exc:
        return None, str(exc)


def survey_weighted(survey: Study, frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """(the survey frame with each answer's respondent `weight` to the survey's margins, NaN
    for flagged respondents, who are left out; "") — or (the frame as it is, why it could not
    be weighted: e.g. a margin's category without respondents yet). As it is, too, when no
    margins are declared."""
    weighting, problem = survey_weighting(survey, frame)
    if weighting is None:
        return frame, problem
    return frame.assign(weight=frame["expert"].astype(str).map(weighting.weights)), ""


def gap_result(panel: Study, survey: Study) -> tuple[pd.DataFrame | None, str]:
    """(analysis.gap's table, overall and per country, or None when there is nothing to set
    side by side: no aggregated panel round, no survey answers, no shared item; why the
    declared margins could not weight the answers, "" when they did or there are none: the
    estimates are then unweighted)."""
    panel_rows = panel_frame(panel)
    survey_rows, problem = survey_weighted(survey, survey_frame(survey))
    if panel_rows.empty or survey_rows.empty:
        return None, problem
    rule = rule_in_force(panel).as_dict()
    weight = "weight" if "weight" in survey_rows.columns else None
    try:
        return expert_public_gap(panel_rows, survey_rows, rule=rule, by="country",
                                 weight=weight), problem
    except ValueError:  # no proposition in both
        return None, problem


def gap_frame(panel: Study, survey: Study) -> pd.DataFrame | None:
    """analysis.gap's table (see `gap_result`)."""
    return gap_result(panel, survey)[0]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def gap_records(table: pd.DataFrame | None) -> list[dict[str, Any]]:
    """The table's rows as JSON-ready dicts (NaN as None), the API's payload."""
    if table is None:
        return []
    return [{k: _clean(v) for k, v in row.items()} for row in table.to_dict(orient="records")]


def gap_items(table: pd.DataFrame | None, survey: Study) -> list[dict[str, Any]]:
    """Per compared item of the table in the survey's questionnaire order, for the page: its
    text, the overall row and the per-country rows (each country named as its collector's
    group), with `direction` and `effect` labelled in the active language."""
    records = gap_records(table)
    texts = {i.code: i for i in Item.objects.filter(study=survey).select_related("theme")}
    names = {c.country: c.group.name for c in survey.collectors.select_related("group")}
    items: dict[str, dict[str, Any]] = {}
    for row in records:
        row["direction_label"] = DIRECTIONS.get(row["direction"], "")
        row["effect_label"] = EFFECTS.get(row["effect"], "")
        row["category_label"] = names.get(row["category"], row["category"])
        entry = items.setdefault(row["item"], {"code": row["item"],
                                               "item": texts.get(row["survey_item"]),
                                               "overall": None, "countries": []})
        if row["category"] is None:
            entry["overall"] = row
        else:
            entry["countries"].append(row)
    return sorted(items.values(), key=lambda e: (e["item"].theme.position, e["item"].position)
                  if e["item"] is not None else (10**6, 0))


def gap_panel(*, survey: Study, slug: str | None) -> str:
    """The panel's slug to compare with: the one asked for, else the survey's `compare_with`."""
    return slug or survey.compare_with
