"""The expert–public gap on the platform: a Delphi study's final round beside a survey on the
same items, through `analysis.gap.expert_public_gap` (no figure computed here).

Both sides are the exports' long frame (`surveys.exports.export_long`); the survey's rows get
each respondent's `country` (the collector's) and `flagged` (any quality flag) from the
respondents file (`surveys.selectors_fielding.survey_respondents`). Every respondent weighs 1
unless the survey's file declares population `margins`: then `analysis.weights.weigh`
post-stratifies (one variable) or rakes (several) to them. Flagged respondents are left out,
as `analysis.gap` does by default, and counted per flag (`flagged_left_out`) for the page and
the API alike. The panel's last aggregated round is its final round.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import pandas as pd
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from analysis.gap import LESS, MORE, UNCLEAR, expert_public_gap
from analysis.weights import Weighting, margin_columns, respondents, validate_margins, weigh
from surveys.exports import export_long
from surveys.figures import rule_in_force
from surveys.models import Item, Round, Study
from surveys.selectors_fielding import survey_item_numbers, survey_respondents
from surveys.services.fielding import QUALITY_FLAGS
from surveys.values import local_text

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
    """The survey's answers of these item kinds with each respondent's country, `flags` (";"-joined,
    "" when none) and `flagged` (any flag)."""
    frame = export_long(survey)
    frame = frame.loc[frame["kind"].isin(kinds)]
    people = pd.DataFrame(survey_respondents(survey), columns=["expert", "country", "flags"])
    frame = frame.merge(people, on="expert", how="left")
    frame["country"] = frame["country"].fillna("")
    frame["flags"] = frame["flags"].fillna("")
    frame["flagged"] = frame["flags"].ne("")
    return frame


def flagged_left_out(frame: pd.DataFrame) -> dict[str, Any]:
    """The respondents of a survey frame left out as flagged: {"respondents": how many,
    "flags": {flag: how many of them have it}} in QUALITY_FLAGS order (one respondent may
    have several flags, so the flags may add up to more)."""
    people = frame.loc[frame["flagged"], ["expert", "flags"]].drop_duplicates("expert")
    counts = Counter(flag for flags in people["flags"] for flag in flags.split(";") if flag)
    order = [f for f in QUALITY_FLAGS if f in counts] + sorted(set(counts) - set(QUALITY_FLAGS))
    return {"respondents": len(people), "flags": {f: counts[f] for f in order}}


def flagged_labels(flagged: dict[str, Any]) -> list[str]:
    """Each flag's count as the page says it, in the active language ("80 speeders")."""
    texts = {
        "speeder": lambda n: ngettext("%(n)s speeder", "%(n)s speeders", n),
        "straight_lining": lambda n: ngettext("%(n)s straight-lining", "%(n)s straight-lining",
                                              n),
        "instructed_response": lambda n: ngettext(
            "%(n)s failing the attention check", "%(n)s failing the attention check", n),
        "honeypot": lambda n: ngettext("%(n)s filling the hidden field",
                                       "%(n)s filling the hidden field", n)}
    return [(texts[f](n) if f in texts else f"%(n)s {f}") % {"n": n}
            for f, n in flagged["flags"].items()]


def survey_weighting(survey: Study, frame: pd.DataFrame) -> tuple[Weighting | None, str]:
    """(analysis.weights' weights and diagnostics to the survey's declared margins, flagged
    respondents left out; "") — or (None, why they could not be weighted). (None, "") when no
    margins are declared or there are no answers yet."""
    if not survey.margins or frame.empty:
        return None, ""
    try:
        margins = validate_margins(pd.DataFrame(
            [{**m, "source": margin_source(m)} for m in survey.margins]))
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


class GapResult(NamedTuple):
    """analysis.gap's table, overall and per country (None when there is nothing to set side
    by side: no aggregated panel round, no survey answers, no shared item); why the declared
    margins could not weight the answers ("" when they did or there are none: the estimates
    are then unweighted); the respondents left out as flagged (`flagged_left_out`)."""

    table: pd.DataFrame | None
    problem: str
    flagged: dict[str, Any]


def gap_result(panel: Study, survey: Study) -> GapResult:
    """The gap between the panel and the survey, as the page and the API show it."""
    panel_rows = panel_frame(panel)
    frame = survey_frame(survey)
    flagged = flagged_left_out(frame)
    survey_rows, problem = survey_weighted(survey, frame.drop(columns="flags"))
    if panel_rows.empty or survey_rows.empty:
        return GapResult(None, problem, flagged)
    rule = rule_in_force(panel).as_dict()
    weight = "weight" if "weight" in survey_rows.columns else None
    try:
        return GapResult(expert_public_gap(panel_rows, survey_rows, rule=rule, by="country",
                                           weight=weight), problem, flagged)
    except ValueError:  # no proposition in both
        return GapResult(None, problem, flagged)


def gap_frame(panel: Study, survey: Study) -> pd.DataFrame | None:
    """analysis.gap's table (see `gap_result`)."""
    return gap_result(panel, survey).table


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
    text, the number the respondents saw (`survey_item_numbers`), the overall row and the
    per-country rows (each country named as its collector's group), with `direction` and
    `effect` labelled in the active language."""
    records = gap_records(table)
    texts = {i.code: i for i in Item.objects.filter(study=survey).select_related("theme")}
    numbers = survey_item_numbers(survey) if records else {}
    names = country_names(survey)
    items: dict[str, dict[str, Any]] = {}
    for row in records:
        row["direction_label"] = DIRECTIONS.get(row["direction"], "")
        row["effect_label"] = EFFECTS.get(row["effect"], "")
        row["category_label"] = names.get(row["category"], row["category"])
        entry = items.setdefault(row["item"], {"code": row["item"],
                                               "number": numbers.get(row["survey_item"], ""),
                                               "item": texts.get(row["survey_item"]),
                                               "overall": None, "countries": []})
        if row["category"] is None:
            entry["overall"] = row
        else:
            entry["countries"].append(row)
    return sorted(items.values(), key=lambda e: (e["item"].theme.position, e["item"].position)
                  if e["item"] is not None else (10**6, 0))


def country_names(survey: Study) -> dict[str, str]:
    """Each collector's country label -> its group's name in the active language."""
    return {c.country: c.group.name for c in survey.collectors.select_related("group")}


def margin_name(variable: str, category: str, *, countries: dict[str, str],
                groups: dict[str, str]) -> tuple[str, str]:
    """(variable, category) both named in the active language: "country" and "group", a
    country by the name of its collector's group (`countries`), a group by its name
    (`groups`); anything else as declared."""
    variables = {"country": _("country"), "group": _("group")}
    names = {"country": countries, "group": groups}
    return (str(variables.get(variable, variable)),
            str(names.get(variable, {}).get(category, category)))


def margin_namer(survey: Study) -> Callable[[str, str], tuple[str, str]]:
    """`margin_name` with the survey's collectors and groups as they stand."""
    return partial(margin_name, countries=country_names(survey),
                   groups={g.code: g.name for g in survey.groups.all()})


def margin_source(margin: dict) -> str:
    """A margin's source in the active language (a study file may give it as {en, ru})."""
    return local_text(margin.get("source"))


def margins_text(margins: list[dict[str, Any]]) -> str:
    """Named margins (variable, category, share) as one line, "country Russia 0.3; ...", the
    shares as a reader's number (a decimal comma in Russian): the gap page's and the
    registered protocol's one wording."""
    return "; ".join(f"{m['variable']} {m['category']} {floatformat(m['share'], -3)}"
                     for m in margins)


def margins_shown(survey: Study) -> list[dict[str, Any]]:
    """The survey's declared margins for the page: each variable and category named in the
    active language (`margin_namer`), with share and source."""
    name = margin_namer(survey)
    shown = []
    for m in survey.margins:
        variable, category = name(str(m["variable"]), str(m["category"]))
        shown.append({"variable": variable, "category": category, "share": m["share"],
                      "source": margin_source(m)})
    return shown


def gap_panel(*, survey: Study, slug: str | None) -> str:
    """The panel's slug to compare with: the one asked for, else the survey's `compare_with`."""
    return slug or survey.compare_with
