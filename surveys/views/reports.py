"""Reports and exports of a study for its organizers and analysts (read only)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from surveys.exports import FORMATS, export_bytes, export_filename
from surveys.models import Round
from surveys.reports import jobs
from surveys.reports.data import answers_count
from surveys.reports.render import PdfUnavailable, html_to_pdf, report_context, report_html
from surveys.selectors import study_for_member

REPORT_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


def _attachment(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _member_round(request: HttpRequest, slug: str, number: int) -> Round:
    study = study_for_member(user=request.user, slug=slug)
    return get_object_or_404(Round.objects.select_related("study"), study=study, number=number)


@login_required
@require_GET
def export_download(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    """The study's answers as a file; experts appear under pseudonyms only."""
    study = study_for_member(user=request.user, slug=slug)
    if fmt not in FORMATS:
        raise Http404
    return _attachment(export_bytes(study, fmt), FORMATS[fmt].content_type, export_filename(study, fmt))


@login_required
@require_GET
def report_page(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """The round's report: methods, response, consensus, convergence, groups, dissent."""
    round_ = _member_round(request, slug, number)
    context = report_context(round_) | {
        "export_formats": [(key, f.label) for key, f in FORMATS.items()]}
    return HttpResponse(report_html(round_, standalone=False, context=context, request=request))


@login_required
@require_GET
def report_download(request: HttpRequest, slug: str, number: int, fmt: str) -> HttpResponse:
    """The report as a file: rendered now for a small study, else by a worker with progress."""
    round_ = _member_round(request, slug, number)
    if fmt not in REPORT_TYPES:
        raise Http404
    filename = f"{round_.study.slug}-round-{round_.number}.{fmt}"
    if answers_count(round_) > jobs.sync_limit():
        key, status = jobs.report_job_request(round_=round_, language=get_language() or "en")
        data = jobs.job_file(key, fmt)
        if data is not None:
            return _attachment(data, REPORT_TYPES[fmt], filename)
        return render(request, "surveys/reports/job.html",
                      {"study": round_.study, "round": round_, "status": status, "fmt": fmt})
    html = report_html(round_, standalone=True)
    if fmt == "html":
        return _attachment(html.encode("utf-8"), REPORT_TYPES[fmt], filename)
    try:
        return _attachment(html_to_pdf(html), REPORT_TYPES[fmt], filename)
    except PdfUnavailable as exc:
        return render(request, "surveys/reports/unavailable.html",
                      {"study": round_.study, "round": round_, "message": exc.message}, status=exc.status)
