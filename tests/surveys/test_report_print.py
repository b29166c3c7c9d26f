"""The printed report (issue 18): a 40-item, 3-round, 4-group study printed to A4 by WeasyPrint,
read back with pdfplumber: no page larger than A4, no number split across lines in a table
cell (a check shown to catch the old stylesheet's breaks), every rated item in the groups
section; and the Policy-Delphi chart's labels never overlap. Each page is rendered to PNG in
test-artifacts/report/ for a person to look at."""

import base64
import io
import re
import shutil
import subprocess

import pdfplumber
import pytest
from django.utils import translation
from matplotlib.text import Text

from surveys.models import Aggregate, Item
from surveys.reports import charts
from surveys.reports.render import html_to_pdf, report_context, report_html
from surveys.reports.scatter import LABEL_GID, dimensions_figure
from surveys.services.aggregation import round_aggregate
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.simulation import panel_simulate
from surveys.services.studies import study_load
from tests.conftest import ROOT
from tests.surveys.test_reports import answer_round

ARTIFACTS = ROOT / "test-artifacts" / "report"
A4 = (595.28, 841.89)  # points
GROUPS = [("RU", "Russia", "Россия"), ("US", "United States", "США"),
          ("WE", "Western Europe", "Западная Европа"),
          ("CEE", "Central and Eastern Europe", "Центральная и Восточная Европа")]
# A digit, a line break inside the same cell, a digit or a number's own sign: "2/\n9",
# "0.44\n2/7", "1\n2" (n stacked one digit per line).
SPLIT_NUMBER = re.compile(r"\d[.,/%]?\n[.,/%]?\d")
# The stylesheet of the report before issue 18, verbatim.
OLD_STYLE = """<style>
@page { size: A4; margin: 16mm 14mm; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 9pt; color: #111; max-width: 60rem;
       margin: 1rem auto; }
h1 { font-size: 15pt; } h2 { font-size: 12pt; margin-top: 1.4em; border-bottom: 1px solid #ccc; }
h3 { font-size: 10pt; }
table { border-collapse: collapse; margin: .5em 0; width: 100%; font-size: 8pt; }
th, td { border: 1px solid #ccc; padding: 2px 4px; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
table.results td:nth-child(2) { width: 42%; }
img { max-width: 100%; } .muted { color: #555; } .dissent { break-inside: avoid; }
</style>"""


def _statement(k: int) -> dict:
    return {"en": f"Proposition {k}: cooperation on missile defence between Russia and the West "
                  f"would make the Euro-Atlantic security order more stable than it is today.",
            "ru": f"Утверждение {k}: сотрудничество России и Запада в противоракетной обороне "
                  f"сделало бы евроатлантический порядок безопасности устойчивее, чем сегодня."}


def _study_data() -> dict:
    items = [{"code": f"threat-{k}", "kind": "agreement", "text": _statement(k),
              "leaning": {"RU": 1 + k % 5, "US": 5 - k % 4, "WE": 3, "CEE": 2 + k % 3}}
             for k in range(1, 35)]
    items += [{"code": f"policy-{k}", "kind": "dimensions", "text": _statement(100 + k),
               "dimensions": ["desirability", "feasibility"]} for k in range(1, 5)]
    items += [{"code": f"prob-{k}", "kind": "probability", "text": _statement(200 + k)}
              for k in range(1, 3)]
    return {"version": 1, "slug": "print-study", "source": "Test source",
            "title": {"en": "A printed study", "ru": "Напечатанное исследование"},
            "stakeholder_groups": [{"code": c, "name": {"en": en, "ru": ru}} for c, en, ru in GROUPS],
            "themes": [{"code": "all", "title": {"en": "All", "ru": "Все"}, "items": items}]}


@pytest.fixture
def final_round(db):
    """Three rounds answered by 24 simulated experts (6 per group), each closed and aggregated."""
    study = study_load(data=_study_data())
    for number in (1, 2, 3):
        round_ = round_open(round_=round_create(study=study))
        panel_simulate(round_=round_, n=24, seed=number)
        round_close(round_=round_)
        round_aggregate(round_id=round_.pk)
        round_.refresh_from_db()
    return round_


def _cells(pdf: pdfplumber.PDF) -> list[tuple[int, str]]:
    """Every table cell's text on every page (lines joined by newlines), with its page."""
    found = []
    for number, page in enumerate(pdf.pages, 1):
        for table in page.extract_tables():
            found += [(number, cell) for row in table for cell in row if cell]
    return found


def _split_numbers(pdf_bytes: bytes) -> list[tuple[int, str]]:
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        return [(page, cell) for page, cell in _cells(pdf) if SPLIT_NUMBER.search(cell)]


def _tables_only(html: str) -> str:
    """The report without its images: the tables print in a fraction of the time."""
    return re.sub(r'<img [^>]*src="data:[^"]*"[^>]*>', "", html)


def _save_pages(pdf_bytes: bytes, name: str) -> None:
    """Each page as a PNG for a person to look at (poppler's pdftoppm, else pypdfium2)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    if shutil.which("pdftoppm"):
        source = ARTIFACTS / f"{name}.pdf"
        source.write_bytes(pdf_bytes)
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(source), str(ARTIFACTS / name)],  # noqa: S603, S607
                       check=True, timeout=120)
        return
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf_bytes)
    for k in range(len(document)):
        document[k].render(scale=60 / 72).to_pil().save(ARTIFACTS / f"{name}-{k + 1:02d}.png")


def test_the_printed_report_fits_a4_and_never_splits_a_number(final_round):
    with translation.override("en"):
        context = report_context(final_round)
        html = report_html(final_round, standalone=True, context=context)
    pdf_bytes = html_to_pdf(html)
    _save_pages(pdf_bytes, "final-en")

    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        for page in pdf.pages:
            assert page.width <= A4[0] + 0.5 and page.height <= A4[1] + 0.5
        cells = _cells(pdf)
        text = "\n".join(page.extract_text() for page in pdf.pages)
    assert len(cells) > 200  # the tables were read: the check below has something to check
    assert [cell for cell in cells if SPLIT_NUMBER.search(cell[1])] == []
    assert "A DELPHI CONSENSUS STUDY" in text  # ACCORD item 1: the title block says what it is
    # Every rated item and dimension appears in the groups section (the heat map or its table).
    groups = text[text.index("Stakeholder groups compared\n"):text.index("Policy-Delphi dimensions\n")]
    rated = {f"{a.item.code}/{a.dimension}" if a.dimension else a.item.code
             for a in Aggregate.objects.filter(round=final_round, group="",
                                               item__kind__in=list(Item.RATED)).select_related("item")}
    assert len(rated) == 34 + 4 * 2
    assert {label for label in rated if label not in groups.replace("\n", " ")} == set()


def test_the_split_number_check_catches_the_old_stylesheets_breaks(final_round):
    """The check above can fail: under the old cells' rule (overflow-wrap: anywhere, narrow
    columns) the same report's tables break numbers across lines."""
    with translation.override("en"):
        html = _tables_only(report_html(final_round, standalone=True))
    old = re.sub(r"<style>.*?</style>", lambda _m: OLD_STYLE, html, flags=re.S)
    assert _split_numbers(html_to_pdf(old)) != []


def _labels_overlap(fig) -> list[tuple[str, str]]:
    renderer = fig.canvas.get_renderer()
    texts = [t for t in fig.findobj(Text) if t.get_gid() == LABEL_GID]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    return [(a, b) for k, (a, box_a) in enumerate(boxes) for b, box_b in boxes[k + 1:]
            if box_a.overlaps(box_b)]


def test_policy_delphi_labels_never_collide_even_when_crowded():
    # 30 items whose panel means sit within a quarter of a scale point of one another, each
    # with four groups around it: every label must still find a place of its own.
    points = []
    for k in range(30):
        x, y = 3 + (k % 6) * 0.05, 3 + (k // 6) * 0.05
        points.append({"item": f"item-{k:02d}", "group": "", "x": x, "y": y})
        points += [{"item": f"item-{k:02d}", "group": g, "x": x + dx, "y": y + dy}
                   for g, dx, dy in (("RU", -.4, .2), ("US", .4, -.1), ("WE", .1, .3), ("CEE", -.2, -.3))]
    fig = dimensions_figure(points, group_names={"RU": "Russia"}, panel_label="Whole panel",
                            x_label="Desirability", y_label="Feasibility")
    labels = [t for t in fig.findobj(Text) if t.get_gid() == LABEL_GID]
    assert sorted(t.get_text() for t in labels) == [f"item-{k:02d}" for k in range(30)]
    assert _labels_overlap(fig) == []
    renderer = fig.canvas.get_renderer()
    frame = fig.axes[0].get_window_extent(renderer)
    assert all(frame.contains(*t.get_window_extent(renderer).min) for t in labels)


def test_every_chart_has_one_quantity_per_axis_and_a_legend():
    rows = [{"label": f"item-{k}", "kind": "agreement", "round": r, "iqr": 2 - r / 2,
             "pct_agree": 40 + 10 * r, "distribution": {"1": 1, "2": 2, "3": 3, "4": 4 + r, "5": r},
             "median": 4, "q1": 3, "q3": 4, "unit": "", "n": 10} for k in range(30) for r in (1, 2, 3)]
    labels = {"iqr": "Interquartile range (scale points)", "agree": "Agreement (%)",
              "round": "Round %(n)s", "share": "Share of valid answers (%)"}
    convergence = charts.convergence_chart(rows[:24 * 3], labels=labels)
    for text in ("Interquartile range (scale points)", "Agreement (%)", "Round 1", "Round 3", "item-0"):
        assert f">{text}<" in convergence
    scale = ["1 Strongly disagree", "2", "3", "4", "5 Strongly agree"]
    distribution = charts.distribution_chart(rows[:24 * 3], labels=labels, scale=scale)
    assert ">1 Strongly disagree<" in distribution and ">Share of valid answers (%)<" in distribution
    assert [len(c) for c in charts.chunks([r["label"] for r in rows[::3]])] == [15, 15]


def test_the_printed_report_and_its_charts_speak_russian(study, round1):
    answer_round(study, round1)
    round_close(round_=round1)
    round_aggregate(round_id=round1.pk)
    with translation.override("ru"):
        context = report_context(round1)
        html = report_html(round1, standalone=True, context=context)
    assert "Дельфи-исследование консенсуса" in html and "Содержание" in html
    assert '<details class="appendix" open>' in html  # the file has nothing to click: all open
    [convergence] = context["charts"]["convergence"]
    document = base64.b64decode(convergence.split(",", 1)[1]).decode()
    assert ">Межквартильный размах (пункты шкалы 1–5)<" in document and ">Тур 1<" in document
