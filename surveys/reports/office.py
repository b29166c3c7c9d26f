"""XLSX (a sheet per round and a codebook) and SPSS .sav (variable and value labels) exports.

Both are wide: one row per expert (pseudonym), one column per round, item and dimension.
In XLSX an empty cell means "not answered" and the text "no opinion" means no opinion; in the
.sav file no opinion is -9, declared as a user-missing value with the label "No opinion".
"""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

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
from surveys.feedback import never_value
from surveys.figures import round_figures
from surveys.models import Item, Study

NO_OPINION_TEXT = "no opinion"
NO_OPINION_CODE = -9.0
PRE_FEEDBACK_COLUMNS = ["expert", "group", "round", "item", "dimension", "pre_feedback_value",
                        "value"]
CODEBOOK_COLUMNS = ["column", "item", "dimension", "kind", "theme", "text_en", "text_ru",
                    *ITEM_METADATA_COLUMNS, "values"]
SPSS_NAME_MAX = 64
SPSS_LABEL_MAX = 250


def column_label(item: str, dimension: str) -> str:
    return f"{item}/{dimension}" if dimension else item


def scale_labels(item: Item, dimension: str) -> dict[int, str]:
    """English labels of a 1-5 rated answer (the questionnaire's own wording), else {}."""
    from surveys.questionnaire import SCALES

    if item.kind not in Item.RATED:
        return {}
    with translation.override("en"):
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


def _columns(study: Study, long: pd.DataFrame) -> list[tuple[Item, str]]:
    """(item, dimension) pairs in questionnaire order: every key answered in any round."""
    answered = set(zip(long["item"], long["dimension"], strict=True))
    items = study.items.select_related("theme").order_by("theme__position", "position")
    return [(item, key) for item in items if item.kind != Item.Kind.OPEN
            for key in item.answer_keys() if (item.code, key) in answered]


def _wide(long: pd.DataFrame, values: str, keys: list[tuple]) -> pd.DataFrame:
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
    values, no_opinion = _wide(part, "value", keys), _wide(part, "no_opinion", keys)
    wide = values.astype(object).where(~no_opinion.eq(1), NO_OPINION_TEXT)
    wide.columns = ["group", *(column_label(i, d) for i, d in keys)]
    return wide.reset_index()


def workbook_rows(study: Study) -> dict[str, list[list]]:
    """Every sheet of the XLSX export as rows of cell values (header first), neutralized."""
    long = export_long(study)
    columns = _columns(study, long)
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
    rules = rules_rows(study)
    if rules:
        sheets["Rules"] = rules
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


def rules_rows(study: Study) -> list[list]:
    """The registered rules and their changes after round 1 opened (with the written reasons),
    in English like the codebook; [] when no rule is registered."""
    from surveys.reports.data import registered_rules

    with translation.override("en"):
        rules = registered_rules(study)
    if rules is None:
        return []
    registered = rules["registered_at"].date().isoformat()
    rows = [["part", "revision", "date", "rule", "reason"]]
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


def workbook_bytes(study: Study) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, rows in workbook_rows(study).items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def spss_name(label: str, taken: set[str]) -> str:
    """An SPSS variable name (letters, digits, _; at most 64 bytes) unique among `taken`."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", label)[:SPSS_NAME_MAX]
    base, k = name, 1
    while name.lower() in taken:
        suffix = f"_{k}"
        name, k = base[: SPSS_NAME_MAX - len(suffix)] + suffix, k + 1
    taken.add(name.lower())
    return name


def _value_labels(item: Item, dimension: str) -> dict[float, str]:
    """A .sav variable's value labels: the rating scale's, or a year item's "never"."""
    labels = {float(k): v for k, v in scale_labels(item, dimension).items()}
    never = never_value(item)
    if never is not None:
        labels[float(never)] = item.never_en
    return labels


def sav_note(study: Study) -> list[str]:
    """The .sav file's note: each item's help and each forecast's resolution (date and
    criteria), in English, so forecasts can be scored once they resolve."""
    lines = []
    for item in study.items.order_by("theme__position", "position"):
        if item.help_en:
            lines.append(f"{item.code}: help: {item.help_en}")
        if item.resolves_on is not None:
            lines.append(f"{item.code}: resolves on {item.resolves_on:%Y-%m-%d}: "
                         f"{item.resolution_en}")
    return lines


def sav_frame(study: Study) -> tuple[pd.DataFrame, dict, dict, dict]:
    """The wide .sav table with its variable labels, value labels and user-missing values."""
    long = export_long(study)
    columns = _columns(study, long)
    numeric = long.assign(
        value=long["value"].where(long["no_opinion"].eq(0), NO_OPINION_CODE),
        key=list(zip(long["round"], long["item"], long["dimension"], strict=True)))
    order = {(i.code, d): k for k, (i, d) in enumerate(columns)}
    keys = sorted(set(numeric["key"]), key=lambda c: (c[0], order[(c[1], c[2])]))
    wide = _wide(numeric, "value", keys)
    items = {i.code: i for i, _ in columns}
    taken = {"expert", "group"}
    names, labels, value_labels = [], {"expert": "Expert (pseudonym)", "group": "Stakeholder group"}, {}
    for round_, code, dimension in keys:
        name = spss_name(f"r{round_}_{code}" + (f"_{dimension}" if dimension else ""), taken)
        names.append(name)
        hindsight = "[In hindsight] " if items[code].hindsight else ""
        text = f"Round {round_}, {column_label(code, dimension)}: {hindsight}{items[code].text_en}"
        labels[name] = text[:SPSS_LABEL_MAX]
        value_labels[name] = _value_labels(items[code], dimension) | {NO_OPINION_CODE: "No opinion"}
    wide.columns = ["group", *names]
    missing = {name: [NO_OPINION_CODE] for name in names}
    # "Answer before you see the group": each first answer as a variable of its own, `..._pre`.
    have = set(numeric.loc[numeric["pre_feedback_value"].notna(), "key"])
    pre_keys = [k for k in keys if k in have]
    if pre_keys:
        pre = _wide(numeric, "pre_feedback_value", pre_keys).drop(columns="group")
        pre.columns = [spss_name(f"r{r}_{c}" + (f"_{d}" if d else "") + "_pre", taken)
                       for r, c, d in pre_keys]
        for (round_, code, dimension), name in zip(pre_keys, pre.columns, strict=True):
            text = f"Round {round_}, {column_label(code, dimension)}, before the feedback"
            labels[name] = text[:SPSS_LABEL_MAX]
            value_labels[name] = _value_labels(items[code], dimension)
        wide = wide.join(pre)
    table = wide.reset_index().astype({"expert": str, "group": str})
    return table, labels, value_labels, missing


def sav_bytes(study: Study) -> bytes:
    import pyreadstat

    table, labels, value_labels, missing = sav_frame(study)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.sav"
        pyreadstat.write_sav(table, str(path), column_labels=labels,
                             variable_value_labels=value_labels, missing_ranges=missing,
                             variable_display_width={"expert": 14},
                             note=sav_note(study) or None)
        return path.read_bytes()
