"""Pages for organizers and analysts (the Django admin does the rest until #4)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from surveys.exports import FORMATS
from surveys.figures import participation, verdict_counts
from surveys.models import StudyMember
from surveys.reports.data import registered_rules
from surveys.selectors import round_current, studies_for_user, study_for_member
from surveys.selectors_staff import panel_results, rounds_in_order, study_groups, study_role


def home(request: HttpRequest) -> HttpResponse:
    memberships = studies_for_user(request.user) if request.user.is_authenticated else []
    return render(request, "surveys/home.html", {"memberships": memberships})


@login_required
def study_overview(request: HttpRequest, slug: str) -> HttpResponse:
    """Rounds, response rates by stakeholder group, and the latest snapshot of results."""
    study = study_for_member(user=request.user, slug=slug)
    rounds = rounds_in_order(study)
    current = round_current(study)
    aggregated = [r for r in rounds if r.aggregated_at is not None]
    latest = aggregated[-1] if aggregated else None
    return render(request, "surveys/study.html", {
        "study": study, "role": StudyMember.Role(study_role(study, request.user)).label, "rounds": rounds,
        "current": current, "rates": participation(current) if current else [],
        "latest": latest, "results": panel_results(latest) if latest else [],
        "counts": verdict_counts(latest) if latest else None,
        "groups": study_groups(study),
        "rules": registered_rules(study),
        "export_formats": [(key, f.label) for key, f in FORMATS.items()],
    })
