"""The registered protocol: its page and its downloads (the canonical JSON whose SHA-256 the
page shows, and a PDF), for every member of the study."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from surveys.reports.render import PdfUnavailable, html_to_pdf
from surveys.selectors_staff import study_role
from workspace.selectors import WRITE, study_for_reader
from workspace.selectors_protocol import protocol_history, protocol_version_of, protocol_view


def _version(request) -> int | None:
    value = request.GET.get("version", "")
    return int(value) if value.isdigit() else None


def _context(study, version: int | None) -> dict:
    versions = protocol_history(study)
    shown = protocol_view(protocol_version_of(study, version)) if versions else None
    return {"study": study, "shown": shown, "history": versions}


@login_required
def protocol_page(request, slug):
    study = study_for_reader(user=request.user, slug=slug)
    version = _version(request)
    context = _context(study, version)
    if version is not None and context["shown"] is None:
        raise Http404
    return render(request, "workspace/protocol.html", {
        **context, "reader_only": study_role(study, request.user) not in WRITE})


@login_required
def protocol_download(request, slug, fmt):
    """The version's canonical JSON, byte for byte as hashed, or the protocol as a PDF."""
    study = study_for_reader(user=request.user, slug=slug)
    version = protocol_version_of(study, _version(request))
    name = f"{study.slug}-protocol-v{version.version}"
    if fmt == "json":
        response = HttpResponse(version.canonical.encode("utf-8"),
                                content_type="application/json; charset=utf-8")
    elif fmt == "pdf":
        html = render_to_string("workspace/protocol_print.html", {
            "study": study, "shown": protocol_view(version), "history": protocol_history(study)})
        try:
            response = HttpResponse(html_to_pdf(html), content_type="application/pdf")
        except PdfUnavailable as exc:
            return HttpResponse(exc.message, status=503, content_type="text/plain; charset=utf-8")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
