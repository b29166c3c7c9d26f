"""A round's report as HTML (a page, or a standalone file) and as PDF (WeasyPrint)."""

from __future__ import annotations

from collections.abc import Callable

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.models import Round
from surveys.reports import charts
from surveys.reports.data import report_data

Progress = Callable[[int, str], None]


class PdfUnavailable(ServiceError):
    """WeasyPrint or the system libraries it needs (Pango, HarfBuzz) are missing."""

    status = 503


def _ignore(percent: int, phase: str) -> None:
    return None


def report_context(round_: Round, *, progress: Progress = _ignore) -> dict:
    """The report's data and its charts (as data: URIs), reporting progress from 0 to 70 %."""
    progress(5, "data")
    data = report_data(round_)
    progress(30, "charts")
    shown: dict[str, object] = {}
    if data["convergence"]:
        shown["convergence"] = charts.data_uri(charts.convergence_chart(data["convergence"]))
    progress(45, "charts")
    comparison = data["comparison"]  # its heat map is an HTML table (_groups.html), not a chart
    progress(60, "charts")
    pairs = sorted({(p["x_dimension"], p["y_dimension"]) for p in data["dimension_points"]})
    names = {g.code: g.name for g in comparison["groups"]}
    shown["dimensions"] = [
        charts.data_uri(charts.dimensions_chart(
            [p for p in data["dimension_points"] if (p["x_dimension"], p["y_dimension"]) == pair],
            group_names=names, panel_label=_("Whole panel"), x_label=_dimension_label(pair[0]),
            y_label=_dimension_label(pair[1])))
        for pair in pairs]
    progress(70, "charts")
    return data | {"charts": shown}


def _dimension_label(key: str) -> str:
    labels = {"desirability": _("Desirability (mean, 1-5)"), "feasibility": _("Feasibility (mean, 1-5)"),
              "importance": _("Importance (mean, 1-5)")}
    return labels.get(key, key)


def report_html(round_: Round, *, standalone: bool, context: dict | None = None, request=None) -> str:
    """The report as the platform page (standalone=False) or a self-contained HTML file."""
    context = context if context is not None else report_context(round_)
    template = "surveys/reports/standalone.html" if standalone else "surveys/reports/page.html"
    return render_to_string(template, context, request=request)


def pdf_check() -> None:
    """PdfUnavailable, with a clear message, when WeasyPrint or Pango cannot be loaded."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # WeasyPrint raises OSError when Pango cannot load
        raise PdfUnavailable(
            _("PDF reports need WeasyPrint and the Pango and HarfBuzz libraries, which this "
              "server lacks (%(reason)s). Download the HTML report instead.")
            % {"reason": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}) from None


def html_to_pdf(html: str) -> bytes:
    """The standalone HTML printed to PDF; PdfUnavailable with a clear message without Pango."""
    pdf_check()
    from weasyprint import HTML

    return HTML(string=html).write_pdf()
