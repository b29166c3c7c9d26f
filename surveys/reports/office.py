"""The XLSX export (a sheet per round, a codebook, the texts, the rules and the figures).

The round sheets are wide: one row per expert (pseudonym), one column per item and dimension.
An empty cell means "not answered" and the text "no opinion" means no opinion. The .sav export
(surveys.reports.spss) shares the wide tables.
"""

from __future__ import annotations

import io

import pandas as pd
from django.utils import translation

from surveys.exports import (
    ITEM_METADATA_COLUMNS,
    export_long,
    export_texts,
    item_metadata,
    neutralize,
    neutralize_frame,
)
from surveys.figures import round_figures
from surveys.models import Item, Study
from surveys.values import never_value

NO_OPINION_TEXT = "no opinion"
PRE_FEEDBACK_COLUMNS = ["expert", "group", "round", "item", "dimension", "pre_feedback_value",
                        "value"]
CODEBOOK_COLUMNS = ["column", "item", "dimension", "kind", "theme", "text_en", "text_ru",
                    *ITEM_METADATA_COLUMNS, "values"]


def column_label(item: str, dimension: str) -> str:
    return f"{item}/{dimension}" if dimension else item


def scale_labels(item: Item, dimension: str, language: str = "en") -> dict[int, str]:
    """The labels of a 1-5 rated answer (the questionnaire's own wording), else {}."""
    from surveys.values import SCALES

    if item.kind not in Item.RATED:
        return {}
    with translation.override(language):
        return {k: str(label) for k, label in enumerate(SCALES.get(dimension, SCALES[""]), start=1)}


def _values_text(item: Item, dimension: str) -> str:
    labels = scale_labels(item, dimension)
    if labels:
        return "; ".join(f"{k} = {v}" for k, v in labels.items()) + f"; {NO_OPINION_TEXT}"
    if item.kind == Item.Kind.RANKING:
        return f"rank 1 (first) to {len(item.options)}; {NO_OPINION_TEXT}"
    low, high = item.bounds()
    unit = f" {item.unit_en}" if item.unit_en else " %" if item.kind == Item.Kind.PROBABILITY else ""
    never = f"; {high:g} = {item.never_en}" if never_value(item) is not None else ""
    return f"{low:g} to {high:g}{unit}{never}; {NO_OPINION_TEXT}"


def answer_columns(study: Study, long: pd.DataFrame) -> list[tuple[Item, str]]:
    """(item, dimension) pairs in questionnaire order: every key answered in any round."""
    answered = set(zip(long["item"], long["dimension"], strict=True))
    items = study.items.propositions().select_related("theme").order_by("theme__position",
                                                                       "position")
    return [(item, key) for item in items if item.kind != Item.Kind.OPEN
            for key in item.answer_keys() if (item.code, key) in answered]


def wide_table(long: pd.DataFrame, values: str, keys: list[tuple]) -> pd.DataFrame:
    """One row per expert (with the group), one column per key tuple of `long["key"]`."""
    wide = long.pivot_table(index="expert", columns="key", values=values, aggfunc="first",
                            dropna=False)
    wide = wide.reindex(columns=keys)
    groups = long.drop_duplicates("expert").set_index("expert")["group"]
    wide.insert(0, "group", groups.reindex(wide.index))
    return wide


def round_table(long: pd.DataFrame, round_: int, columns: list[tuple[Item, str]]) -> pd.DataFrame:
    """One round wide: expert, group, then one column per (item, dimension), NaN if unanswered."""
    part = long.loc[long["round"].eq(round_)]
    part = part.assign(key=list(zip(part["item"], part["dimension"], strict=True)))
    present = set(part["key"])
    keys = [(i.code, d) for i, d in columns if (i.code, d) in present]
    values, no_opinion = wide_table(part, "value", keys), wide_table(part, "no_opinion", keys)
    wide = values.astype(object).where(~no_opinion.eq(1), NO_OPINION_TEXT)
    wide.columns = ["group", *(column_label(i, d) for i, d in keys)]
    return wide.reset_index()


def workbook_rows(study: Study) -> dict[str, list[list]]:
    """Every sheet of the XLSX export as rows of cell values (header first), neutralized."""
    long = export_long(study)
    columns = answer_columns(study, long)
    sheets: dict[str, list[list]] = {}
    for round_ in sorted(long["round"].unique()):
        table = neutralize_frame(round_table(long, int(round_), columns))
        sheets[f"Round {round_}"] = _rows(table)
    codebook = pd.DataFrame(
        [(column_label(i.code, d), i.code, d, i.kind, i.theme.code, i.text_en, i.text_ru,
          *item_metadata(i).values(), _values_text(i, d)) for i, d in columns],
        columns=CODEBOOK_COLUMNS)
    sheets["Codebook"] = _rows(neutralize_frame(codebook))
    sheets["Texts"] = _rows(neutralize_frame(export_texts(study)))
    before = long.loc[long["pre_feedback_value"].notna(), PRE_FEEDBACK_COLUMNS]
    if not before.empty:  # "answer before you see the group": each first answer beside the last
        sheets["Pre-feedback"] = _rows(neutralize_frame(before))
    sheets["Rules"] = rules_rows(study)
    fields = rule_fields_rows(study)
    if fields:  # machine-readable, for the notebooks (analysis.exported) and other tools
        sheets["Rule fields"] = fields
    sheets["Participation"], sheets["Verdicts"] = figures_rows(study)
    return sheets


PANEL = "(panel)"  # not a group code (those are upper-case letters and digits)
PARTICIPATION_COLUMNS = ["round", "group", "panel", "invited", "started", "submitted", "rate",
                         "previous", "lost", "attrition", "final", "median_minutes"]
VERDICT_COLUMNS = ["round", "item", "dimension", "verdict", "stable", "rule_revision"]


def figures_rows(study: Study) -> tuple[list[list], list[list]]:
    """The published figures of every round (surveys.figures): participation per group and
    for the panel (group "(panel)"), and each item's and dimension's verdict and stability under the
    rule revision its snapshot records."""
    participation, verdicts = [PARTICIPATION_COLUMNS], [VERDICT_COLUMNS]
    for round_ in study.rounds.order_by("number"):
        figures = round_figures(round_)
        for row in figures["participation"]:
            group = row["group"].code if row["group"] else PANEL
            row = {**row, "round": round_.number, "group": group}
            participation.append([row[c] for c in PARTICIPATION_COLUMNS])
        revision = figures["counts"]["rule_revision"]
        for row in figures["verdicts"]:
            code = row["item"].code
            verdicts.append([round_.number, code, None, row["verdict"], row["stable"], revision])
            if len(row["dimensions"]) > 1 or any(row["dimensions"]):
                verdicts += [[round_.number, code, d, v, None, revision]
                             for d, v in row["dimensions"].items()]
    return ([[neutralize(c) for c in r] for r in participation],
            [[neutralize(c) for c in r] for r in verdicts])


def rule_fields_rows(study: Study) -> list[list]:
    """The registered rule as (field, value) rows, as an organizer registered them; none when
    the study registered no rule."""
    from workspace.models import ConsensusRule

    rule = ConsensusRule.objects.filter(study=study).first()
    if rule is None:
        return []
    return [["field", "value"], *([field, getattr(rule, field)] for field in ConsensusRule.RULES)]


def rules_rows(study: Study) -> list[list]:
    """The registered rules (revision and sentences) and their changes after round 1 opened
    (with the written reasons), in English like the codebook. A study without registered rules
    gets the defaults its verdicts were computed under, as revision 0, "not registered"."""
    from surveys.figures import rule_in_force
    from surveys.reports.data import registered_rules
    from workspace.selectors import rule_lines

    rows = [["part", "revision", "date", "rule", "reason"]]
    with translation.override("en"):
        rules = registered_rules(study)
        if rules is None:
            lines = rule_lines(rule_in_force(study).snapshot())
            rows += [["not registered: the defaults in force", 0, None, line, None]
                     for line in lines]
            return [[neutralize(cell) for cell in row] for row in rows]
    registered = rules["registered_at"].date().isoformat()
    rows += [["registered rule", rules["revision"], registered, line, None]
             for line in rules["lines"]]
    for change in rules["changes_after_lock"]:
        for before, after in change["changed"]:
            rows.append(["changed after round 1 opened", change["revision"],
                         change["when"].date().isoformat(),
                         f"{before or '(none)'} -> {after}", change["reason"]])
    return [[neutralize(cell) for cell in row] for row in rows]


def _rows(table: pd.DataFrame) -> list[list]:
    # A spreadsheet has no empty string: "" is stored, and read back, as an empty cell.
    body = table.astype(object).where(table.notna() & table.ne(""), None).to_numpy().tolist()
    return [[neutralize(c) for c in table.columns], *body]


COLUMN_WIDTH_MIN, COLUMN_WIDTH_MAX = 8, 60
WIDTH_SAMPLE_ROWS = 500  # enough rows to size a column; a whole 10,000-expert sheet is not read


def column_widths(rows: list[list]) -> list[float]:
    """Each column's width in characters: its longest cell among the first rows, within bounds."""
    widths: list[float] = []
    for row in rows[:WIDTH_SAMPLE_ROWS]:
        for k, cell in enumerate(row):
            size = len(f"{cell:g}" if isinstance(cell, float) else str(cell)) if cell is not None else 0
            if k == len(widths):
                widths.append(COLUMN_WIDTH_MIN)
            widths[k] = max(widths[k], min(size + 2, COLUMN_WIDTH_MAX))
    return widths


def frozen_cell(title: str) -> str:
    """The top-left cell that scrolls: below the header, and right of expert and group on a round
    sheet."""
    return "C2" if title.startswith("Round ") else "A2"


def workbook_bytes(study: Study) -> bytes:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    for title, rows in workbook_rows(study).items():
        sheet = book.create_sheet(title)
        sheet.freeze_panes = frozen_cell(title)
        for k, width in enumerate(column_widths(rows), start=1):
            sheet.column_dimensions[get_column_letter(k)].width = width
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
