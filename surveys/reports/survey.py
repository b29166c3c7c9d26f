"""What an attitude survey's report shows (Study.Mode.SURVEY), read from the database: the
fielding and quality checks, the weighting, the estimates per item and the expert–public gap.

No figure is computed here: the fielding counts are `surveys.selectors_fielding`'s (the
fielding page's), the weights `analysis.weights`' through `surveys.selectors_gap` (the gap
page's), the estimates `analysis.crosstab.weighted_crosstab`'s and the gap `analysis.gap`'s
through the gap page's selector, so the page, the API and the report show the same numbers.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from django.db.models import Count, Max, Min, Q

from analysis.crosstab import weighted_crosstab
from analysis.weights import Weighting
from surveys.models import AggregationRun, Entry, Item, Round, Study, StudyMember
from surveys.reports.items import study_items
from surveys.selectors_fielding import (
    FLAG_NAMES,
    fielding_dashboard,
    survey_item_numbers,
    survey_respondents,
)
from surveys.selectors_gap import (
    _clean,
    country_names,
    flagged_labels,
    gap_items,
    gap_result,
    margin_namer,
    margin_source,
    survey_frame,
    survey_weighting,
)

RATED = tuple(sorted(Item.RATED))


def fielding_section(study: Study) -> dict[str, Any]:
    """Per collector the fielding page's counts, their totals with the median completion
    time, the fielding dates (first arrival, last completion) and the flagged respondents."""
    dashboard = fielding_dashboard(study)
    dates = Entry.objects.filter(collector__study=study).aggregate(
        first=Min("created_at"), last=Max("completed_at"))
    return {"rows": dashboard["rows"], "totals": dashboard["totals"], "dates": dates,
            "flagged": flagged_respondents(study)}


def flagged_respondents(study: Study) -> list[dict[str, Any]]:
    """The completed respondents with a quality flag: pseudonym (as in the exports), collector
    and their flags labelled in the active language, in collector then arrival order."""
    out = []
    for row in survey_respondents(study):
        if row["status"] == Entry.Status.COMPLETED and row["flags"]:
            labels = [str(FLAG_NAMES.get(flag, flag)) for flag in row["flags"].split(";")]
            out.append({"expert": row["expert"], "collector": row["collector"],
                        "country": row["country"], "flags": labels})
    return out


def weighting_section(study: Study, frame: pd.DataFrame, weighting: Weighting | None,
                      problem: str) -> dict[str, Any]:
    """The declared margins (with each category's sample and weighted share once weighted;
    variables and categories named as the gap page names them, `margin_namer`), the method
    and analysis.weights' diagnostics; or why the estimates are unweighted."""
    name = margin_namer(study)
    people = frame.drop_duplicates("expert") if not frame.empty else frame
    flagged = int(people["flagged"].sum()) if not frame.empty else 0
    out: dict[str, Any] = {"declared": bool(study.margins), "problem": problem,
                           "respondents": len(people), "flagged_excluded": flagged,
                           "n": len(people) - flagged, "weighted": weighting is not None}
    if weighting is None:
        out["margins"] = [_margin_row(name(str(m.get("variable", "")),
                                          str(m.get("category", ""))), m)
                          for m in study.margins]
        return out
    d = weighting.diagnostics
    out["margins"] = [_margin_row(name(str(variable), str(category)), shares)
                      for variable, categories in d["margins"].items()
                      for category, shares in categories.items()]
    out |= {key: _clean(d[key]) for key in ("method", "n", "flagged_excluded", "n_eff",
                                            "deff", "weight_min", "weight_max",
                                            "max_margin_error")}
    out["warnings"] = weighting.warnings
    out["sources"] = sorted({m["source"] for m in out["margins"] if m["source"]})
    return out


def _margin_row(named: tuple[str, str], shares: dict[str, Any]) -> dict[str, Any]:
    """A margin's target, sample and weighted shares in per cent (None when not weighted)."""
    variable, category = named
    def pct(key: str) -> float | None:
        value = shares.get(key)
        return None if value is None else 100 * float(value)

    return {"variable": variable, "category": category, "share": pct("share"),
            "sample_share": pct("sample_share"), "weighted_share": pct("weighted_share"),
            "source": margin_source(shares)}


def estimates_section(study: Study, frame: pd.DataFrame,
                      weighting: Weighting | None) -> list[dict[str, Any]]:
    """Per rated item (and dimension), in questionnaire order: the row for all respondents
    and one per country (named as its collector's group) with n, the weighted % agree and its
    95 % interval and the weighted median (analysis.crosstab), flagged respondents left out;
    weighted to the margins when they weight the answers, else every respondent weighs 1."""
    if frame.empty:
        return []
    weights = (frame["expert"].astype(str).map(weighting.weights) if weighting is not None
               else pd.Series(1.0, index=frame.index))
    try:
        table = weighted_crosstab(frame.assign(weight=weights), by="country")
    except ValueError:  # no answer on the 1-5 scale to estimate from
        return []
    items = study_items(study)
    numbers = survey_item_numbers(study)
    names = country_names(study)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for record in table.to_dict(orient="records"):
        row = {key: _clean(record[key]) for key in ("n", "flagged_excluded", "pct_agree",
                                                    "pct_agree_ci_low", "pct_agree_ci_high",
                                                    "median", "n_eff")}
        code, dimension = str(record["item"]), str(record["dimension"] or "")
        entry = rows.setdefault((code, dimension), {
            "code": code, "number": numbers.get(code, ""), "dimension": dimension,
            "item": items.get(code),
            "overall": None, "countries": []})
        if record["category"] is None:
            entry["overall"] = row
        else:
            entry["countries"].append(row | {"label": names.get(record["category"],
                                                                record["category"])})
    order = {code: k for k, code in enumerate(items)}
    return sorted(rows.values(), key=lambda e: (order.get(e["code"], math.inf), e["dimension"]))


def gap_panel_for_report(survey: Study) -> Study | None:
    """The Delphi study the survey's `compare_with` names, when an owner of it is a member of
    the survey too (the report is read by the survey's members; the gap page asks membership of
    both, so the panel's figures appear only where its owner has joined the survey)."""
    if not survey.compare_with:
        return None
    panel = Study.objects.filter(slug=survey.compare_with).exclude(mode=Study.Mode.SURVEY).first()
    if panel is None:
        return None
    owners = StudyMember.objects.filter(study=panel, role=StudyMember.Role.OWNER).values("user")
    return panel if survey.members.filter(user__in=owners).exists() else None


def gap_section(survey: Study) -> dict[str, Any] | None:
    """The gap page's items (`surveys.selectors_gap`: the same table as the page and the
    API), or None when the survey compares with no panel the report may show."""
    panel = gap_panel_for_report(survey)
    if panel is None:
        return None
    result = gap_result(panel, survey)
    return {"panel": panel, "items": gap_items(result.table, survey), "problem": result.problem,
            "flagged": result.flagged, "flagged_labels": flagged_labels(result.flagged)}


def survey_state(study: Study) -> str:
    """What the survey's report reads besides the responses, for its storage key: the entries
    (statuses, flags, last arrival and completion), the margins and the compared panel's
    snapshots."""
    entries = Entry.objects.filter(collector__study=study).aggregate(
        n=Count("id"), completed=Count("id", filter=Q(status=Entry.Status.COMPLETED)),
        flagged=Count("id", filter=~Q(flags={})), declined=Count("id", filter=Q(
            status=Entry.Status.DECLINED)), last=Max("created_at"), done=Max("completed_at"))
    panel = gap_panel_for_report(study)
    runs = (AggregationRun.objects.filter(round__study=panel, status=AggregationRun.Status.DONE)
            .aggregate(n=Count("id"), v=Max("version")) if panel else {})
    return f"{sorted(entries.items())}:{study.margins}:{panel and panel.pk}:{runs}"


def survey_report_data(round_: Round) -> dict[str, Any]:
    """Everything a survey's report shows."""
    from surveys.reports.methods import protocol_section
    from surveys.services.fielding import consent_current  # a read: the consent page's own

    study = round_.study
    frame = survey_frame(study, RATED)
    weighting, problem = survey_weighting(study, frame)
    return {
        "study": study, "round": round_, "survey": True,
        "protocol": protocol_section(study), "consent": consent_current(study),
        "fielding": fielding_section(study),
        "weighting": weighting_section(study, frame, weighting, problem),
        "estimates": estimates_section(study, frame, weighting),
        "gap": gap_section(study),
        "collectors": study.collectors.select_related("group").order_by("code"),
        "items_count": len(study_items(study)),
        "attention_checks": study.items.exclude(instructed=None).count(),
    }
