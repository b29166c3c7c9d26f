"""A round's report as HTML (a page, or a standalone file) and as PDF (WeasyPrint)."""

from __future__ import annotations

from collections.abc import Callable

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.models import Item, Round
from surveys.reports import charts
from surveys.reports.data import report_data
from surveys.reports.scatter import dimensions_chart
from surveys.values import SCALES

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
    if data.get("survey"):  # its estimates and gap are tables: no chart to draw
        return data | {"charts": {}}
    progress(30, "charts")
    shown: dict[str, object] = {"convergence": convergence_images(data["convergence"])}
    progress(40, "charts")
    shown["distributions"] = distribution_images(data["convergence"])
    progress(50, "charts")
    comparison = data["comparison"]  # its heat map is an HTML table (_groups.html), not a chart
    progress(60, "charts")
    shown["dimensions"] = dimension_images(data["dimension_points"],
                                           {g.code: g.name for g in comparison["groups"]})
    progress(70, "charts")
    return data | {"charts": shown}


def _rated(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["kind"] in Item.RATED]


def convergence_images(rows: list[dict]) -> list[str]:
    """The convergence dot plots of the rated items, one image per page of items."""
    rated = _rated(rows)
    labels = {"iqr": _("Interquartile range (scale points, 1-5 scale)"),
              "agree": _("Agreement (% of valid answers at 4-5)"), "round": _("Round %(n)s")}
    return [charts.data_uri(charts.convergence_chart(
        [r for r in rated if r["label"] in chunk], labels=labels))
        for chunk in charts.chunks(list(dict.fromkeys(r["label"] for r in rated)))]


def distribution_images(rows: list[dict]) -> list[dict]:
    """The distribution charts, one image per page of items: agreement items, then
    Policy-Delphi dimensions (each with its scale's legend), then estimates."""
    labels = {"share": _("Share of valid answers (%)"), "rounds": _("Round"),
              "iqr_bar": _("Interquartile range"), "median": _("Median"),
              Item.Kind.PROBABILITY: _("Probability (%)"), Item.Kind.YEAR: _("Year")}
    images = []
    for kind, scale in ((Item.Kind.AGREEMENT, [f"{k} {text}" for k, text in enumerate(SCALES[""], 1)]),
                        (Item.Kind.DIMENSIONS, [_("1 lowest"), "2", "3", "4", _("5 highest")])):
        mine = [r for r in rows if r["kind"] == kind]
        for chunk in charts.chunks(list(dict.fromkeys(r["label"] for r in mine))):
            images.append({"kind": kind, "src": charts.data_uri(charts.distribution_chart(
                [r for r in mine if r["label"] in chunk], labels=labels, scale=scale))})
    estimates = [r for r in rows if r["kind"] in Item.ESTIMATES]
    for chunk in charts.chunks(list(dict.fromkeys(r["label"] for r in estimates)), size=18):
        images.append({"kind": "estimate", "src": charts.data_uri(charts.estimate_chart(
            [r for r in estimates if r["label"] in chunk], labels=labels))})
    return images


def dimension_images(points: list[dict], names: dict[str, str]) -> list[str]:
    """One Policy-Delphi chart per pair of dimensions the items are rated on."""
    pairs = sorted({(p["x_dimension"], p["y_dimension"]) for p in points})
    return [charts.data_uri(dimensions_chart(
        [p for p in points if (p["x_dimension"], p["y_dimension"]) == pair],
        group_names=names, panel_label=_("Whole panel"), x_label=_dimension_label(pair[0]),
        y_label=_dimension_label(pair[1]))) for pair in pairs]


def _dimension_label(key: str) -> str:
    labels = {"desirability": _("Desirability (mean, 1-5)"), "feasibility": _("Feasibility (mean, 1-5)"),
              "importance": _("Importance (mean, 1-5)")}
    return labels.get(key, key)


def report_html(round_: Round, *, standalone: bool, context: dict | None = None, request=None) -> str:
    """The report as the platform page (standalone=False) or a self-contained HTML file."""
    context = context if context is not None else report_context(round_)
    if not standalone:
        return render_to_string("surveys/reports/page.html", context, request=request)
    body = render_to_string("surveys/reports/_body.html", context, request=request)
    return render_to_string("surveys/reports/standalone.html", context | {
        "body": mark_safe(body)}, request=request)  # noqa: S308 (our template's escaped output)


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
