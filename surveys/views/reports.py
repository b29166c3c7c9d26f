"""Reports and exports of a study for its organizers and analysts (read only)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from surveys.exports import FORMATS, export_bytes, export_filename
from surveys.selectors import study_for_member


@login_required
@require_GET
def export_download(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    """The study's answers as a file; experts appear under pseudonyms only."""
    study = study_for_member(user=request.user, slug=slug)
    if fmt not in FORMATS:
        raise Http404
    response = HttpResponse(export_bytes(study, fmt), content_type=FORMATS[fmt].content_type)
    response["Content-Disposition"] = f'attachment; filename="{export_filename(study, fmt)}"'
    response["Cache-Control"] = "private, no-store"
    return response
