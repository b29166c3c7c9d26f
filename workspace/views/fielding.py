"""A survey's fielding: each collector's link, dates and quota, and how far it has got."""

import csv
import io

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from surveys.charts import time_histogram
from surveys.exports import neutralize
from surveys.selectors_fielding import RESPONDENT_COLUMNS, fielding_dashboard, survey_respondents
from surveys.selectors_staff import study_role
from workspace.selectors import WRITE, study_for_reader


def _respondents_csv(study) -> HttpResponse:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=RESPONDENT_COLUMNS)
    writer.writeheader()
    for row in survey_respondents(study):
        writer.writerow({k: neutralize(v) for k, v in row.items()})
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-respondents.csv"'
    return response


@login_required
def fielding_page(request, slug):
    """Per collector and in total: started, completed, screened out, declined, quota full,
    flagged and the quota's fill (collectors are made on the Collectors page or in the study
    file's `collectors:` block), and the completion-time histogram; while fielding,
    fielding.js refreshes it from the API's fielding/dashboard/. With ?download=csv, one row
    per respondent."""
    study = study_for_reader(user=request.user, slug=slug)
    if request.GET.get("download") == "csv":
        return _respondents_csv(study)
    dashboard = fielding_dashboard(study)
    for row in dashboard["rows"]:
        row["link"] = request.build_absolute_uri(f"/s/{row['collector'].token}/")
        row["histogram"] = time_histogram(row["times"])
    return render(request, "workspace/fielding.html", {
        "study": study, **dashboard, "histogram": time_histogram(dashboard["times"]),
        "poll_seconds": settings.FIELDING_POLL_SECONDS,
        "reader_only": study_role(study, request.user) not in WRITE})
