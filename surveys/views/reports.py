"""Reports and exports of a study for its organizers and analysts (read only)."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from surveys.exports import FORMATS, export_bytes, export_filename
from surveys.models import Round, Study
from surveys.reports import jobs
from surveys.reports.checklist import CHECKLIST_FORMATS, checklist_file
from surveys.reports.data import report_data
from surveys.reports.render import PdfUnavailable, pdf_check
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
    """The round's report, read from storage (rendered once per snapshot and language)."""
    round_ = _member_round(request, slug, number)
    language = get_language() or "en"
    _key, pdf = jobs.pdf_request(round_=round_, language=language, enqueue=False)
    return render(request, "surveys/reports/page.html", {
        "study": round_.study, "round": round_, "body": jobs.report_body(round_, language),
        "rounds": round_.study.rounds.filter(number__lte=round_.number).order_by("number"),
        "pdf": pdf, "export_formats": [(key, f.label) for key, f in FORMATS.items()]})


@login_required
@require_GET
def report_download(request: HttpRequest, slug: str, number: int, fmt: str) -> HttpResponse:
    """The report as a file: the HTML at once; the PDF from storage, else built by a background
    job while this page shows its progress and refreshes itself."""
    round_ = _member_round(request, slug, number)
    if fmt not in REPORT_TYPES:
        raise Http404
    language = get_language() or "en"
    filename = f"{round_.study.slug}-round-{round_.number}.{fmt}"
    if fmt == "html":
        return _attachment(jobs.standalone_html(round_, language).encode("utf-8"),
                           REPORT_TYPES[fmt], filename)
    try:
        pdf_check()
    except PdfUnavailable as exc:
        return render(request, "surveys/reports/unavailable.html",
                      {"study": round_.study, "round": round_, "message": exc.message}, status=exc.status)
    key, status = jobs.pdf_request(round_=round_, language=language,
                                   retry=request.GET.get("retry") == "1")
    path = jobs.pdf_file(key)
    if path is not None:
        response = FileResponse(path.open("rb"), as_attachment=True, filename=filename,
                                content_type=REPORT_TYPES[fmt])
        response["Cache-Control"] = "private, no-store"
        return response
    return render(request, "surveys/reports/job.html",
                  {"study": round_.study, "round": round_, "status": status, "fmt": fmt})


@login_required
@require_GET
def report_checklist(request: HttpRequest, slug: str, number: int, fmt: str) -> HttpResponse:
    """The reporting-guideline checklist of the round's report as CSV or XLSX, in the
    request's language."""
    round_ = _member_round(request, slug, number)
    if fmt not in CHECKLIST_FORMATS or round_.study.mode == Study.Mode.SURVEY:
        raise Http404
    data, content_type = checklist_file(report_data(round_)["checklist"], fmt)
    return _attachment(data, content_type,
                       f"{round_.study.slug}-round-{round_.number}-checklist.{fmt}")
