"""Pages for organizers and analysts (the Django admin does the rest until #4)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from surveys.figures import participation
from surveys.models import Aggregate, StudyMember
from surveys.reports.data import registered_rules
from surveys.selectors import round_current, studies_for_user, study_for_member


def home(request: HttpRequest) -> HttpResponse:
    memberships = studies_for_user(request.user) if request.user.is_authenticated else []
    return render(request, "surveys/home.html", {"memberships": memberships})


@login_required
def study_overview(request: HttpRequest, slug: str) -> HttpResponse:
    """Rounds, response rates by stakeholder group, and the latest snapshot of results."""
    study = study_for_member(user=request.user, slug=slug)
    role = StudyMember.objects.get(study=study, user=request.user).role
    rounds = list(study.rounds.order_by("number"))
    current = round_current(study)
    aggregated = [r for r in rounds if r.aggregated_at is not None]
    latest = aggregated[-1] if aggregated else None
    results = []
    if latest is not None:
        results = list(Aggregate.objects.filter(round=latest, group="").select_related(
            "item", "item__theme").order_by("item__theme__position", "item__position",
                                            "dimension"))
    return render(request, "surveys/study.html", {
        "study": study, "role": role, "rounds": rounds, "current": current,
        "rates": participation(current) if current else [], "latest": latest,
        "results": results, "groups": list(study.groups.all()),
        "rules": registered_rules(study),
    })
