"""The expert–public gap page: a survey beside its Delphi study, for members of both."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from surveys.models import Study
from surveys.selectors import study_for_member
from surveys.selectors_gap import (
    flagged_labels,
    gap_items,
    gap_panel,
    gap_result,
    margins_shown,
    margins_text,
)


def gap_pair(user, slug: str, panel_slug: str | None) -> tuple[Study, Study]:
    """(the survey, the panel) when the user is a member of both, else 404."""
    survey = study_for_member(user=user, slug=slug)
    wanted = gap_panel(survey=survey, slug=panel_slug)
    if survey.mode != Study.Mode.SURVEY or not wanted:
        raise Http404
    panel = study_for_member(user=user, slug=wanted)
    if panel.mode == Study.Mode.SURVEY:
        raise Http404
    return survey, panel


@login_required
@require_GET
def study_gap(request: HttpRequest, slug: str) -> HttpResponse:
    survey, panel = gap_pair(request.user, slug, request.GET.get("panel"))
    result = gap_result(panel, survey)
    margins = margins_shown(survey)
    return render(request, "surveys/gap.html", {
        "study": survey, "panel": panel, "items": gap_items(result.table, survey),
        "weighting_problem": result.problem, "margins": margins,
        "margins_line": margins_text(margins),
        "flagged": result.flagged, "flagged_labels": flagged_labels(result.flagged)})
