"""A survey's fielding: each collector's link, dates and quota, and how far it has got."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from surveys.selectors_fielding import fielding_table
from workspace.selectors import study_for_reader


@login_required
def fielding_page(request, slug):
    """Per collector: started, completed, screened out, declined, quota full, flagged and the
    quota's fill (collectors are created in the study file's `collectors:` block)."""
    study = study_for_reader(user=request.user, slug=slug)
    rows = fielding_table(study)
    for row in rows:
        row["link"] = request.build_absolute_uri(f"/s/{row['collector'].token}/")
    return render(request, "workspace/fielding.html", {"study": study, "rows": rows})
