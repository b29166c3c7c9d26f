"""The SPSS .sav export: one row per expert (pseudonym), one variable per round, item and dimension.

Every variable carries its measure level (nominal for the pseudonym and the group, ordinal for
5-point scales and ranks, scale for numbers), a display format that fits its values (F2.0 for a
5-point scale, so that -9 shows too), a variable label and value labels in one language (the
study's own by default; English and Russian files from the same data). No opinion is -9,
declared user-missing with the label "No opinion".
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from django.utils import translation
from django.utils.translation import gettext as _

from surveys.exports import export_long
from surveys.models import Item, Study
from surveys.reports.office import answer_columns, column_label, scale_labels, wide_table
from surveys.values import never_value

NO_OPINION_CODE = -9.0
SPSS_NAME_MAX = 64
SPSS_LABEL_MAX = 250
LANGUAGES = ("en", "ru")


@dataclass
class SavParts:
    """Everything pyreadstat.write_sav takes, by variable name."""

    table: pd.DataFrame
    labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict] = field(default_factory=dict)
    missing: dict[str, list[float]] = field(default_factory=dict)
    measures: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)


def localized(obj, name: str, language: str) -> str:
    """The object's text field in the language, else in English."""
    return getattr(obj, f"{name}_{language}", "") or getattr(obj, f"{name}_en")


def spss_name(label: str, taken: set[str]) -> str:
    """An SPSS variable name (letters, digits, _; at most 64 bytes) unique among `taken`."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", label)[:SPSS_NAME_MAX]
    base, k = name, 1
    while name.lower() in taken:
        suffix = f"_{k}"
        name, k = base[: SPSS_NAME_MAX - len(suffix)] + suffix, k + 1
    taken.add(name.lower())
    return name


def _value_labels(item: Item, dimension: str, language: str) -> dict[float, str]:
    """A variable's value labels: the rating scale's, the ranks', or a year item's "never"."""
    labels = {float(k): v for k, v in scale_labels(item, dimension, language).items()}
    if item.kind == Item.Kind.RANKING:
        last = len(item.options)
        labels = {float(k): str(k) for k in range(1, last + 1)}
        labels[1.0] = _("%(rank)d (first)") % {"rank": 1}
        labels[float(last)] = _("%(rank)d (last)") % {"rank": last}
    never = never_value(item)
    if never is not None:
        labels[float(never)] = localized(item, "never", language)
    return labels


def _measure_and_format(item: Item) -> tuple[str, str]:
    if item.kind in Item.RATED:
        return "ordinal", "F2.0"  # 1-5, and -9 for no opinion
    if item.kind == Item.Kind.RANKING:
        return "ordinal", "F2.0"
    if item.kind == Item.Kind.YEAR:
        return "scale", "F4.0"
    return "scale", "F8.2"


def _variable_text(item: Item, dimension: str, language: str) -> str:
    """What the variable asks: the item's text; for a ranking option, the option's text too."""
    hindsight = _("[In hindsight] ") if item.hindsight else ""
    text = hindsight + localized(item, "text", language)
    if item.kind == Item.Kind.RANKING:
        option = next(o for o in item.options if o["code"] == dimension)
        texts = option.get("text") or {}
        option_text = texts.get(language) or texts.get("en") or dimension
        return _("%(text)s (rank of: %(option)s)") % {"text": text, "option": option_text}
    return text


def sav_note(study: Study, language: str = "en") -> list[str]:
    """The .sav file's note: each item's help and each forecast's resolution (date and
    criteria), so forecasts can be scored once they resolve."""
    lines = []
    for item in study.items.propositions().order_by("theme__position", "position"):
        if localized(item, "help", language):
            lines.append(f"{item.code}: help: {localized(item, 'help', language)}")
        if item.resolves_on is not None:
            lines.append(f"{item.code}: resolves on {item.resolves_on:%Y-%m-%d}: "
                         f"{localized(item, 'resolution', language)}")
    return lines


def sav_parts(study: Study, language: str | None = None) -> SavParts:
    """The wide .sav table with its labels, user-missing values, measure levels and formats,
    labelled in `language` (the study's default language if None)."""
    language = language or study.default_language
    with translation.override(language):
        return _sav_parts(study, language)


def _sav_parts(study: Study, language: str) -> SavParts:
    long = export_long(study)
    columns = answer_columns(study, long)
    numeric = long.assign(
        value=long["value"].where(long["no_opinion"].eq(0), NO_OPINION_CODE),
        key=list(zip(long["round"], long["item"], long["dimension"], strict=True)))
    order = {(i.code, d): k for k, (i, d) in enumerate(columns)}
    keys = sorted(set(numeric["key"]), key=lambda c: (c[0], order[(c[1], c[2])]))
    wide = wide_table(numeric, "value", keys)
    items = {i.code: i for i, _d in columns}
    taken = {"expert", "group"}
    names: list[str] = []
    groups = {g.code: localized(g, "name", language) for g in study.groups.all()}
    parts = SavParts(table=pd.DataFrame(), labels={
        "expert": _("Expert (pseudonym)"), "group": _("Stakeholder group")},
        value_labels={"group": groups},
        measures={"expert": "nominal", "group": "nominal"})
    no_opinion = {NO_OPINION_CODE: _("No opinion")}
    for round_, code, dimension in keys:
        name = spss_name(f"r{round_}_{code}" + (f"_{dimension}" if dimension else ""), taken)
        names.append(name)
        text = _("Round %(number)s, %(column)s: %(text)s") % {
            "number": round_, "column": column_label(code, dimension),
            "text": _variable_text(items[code], dimension, language)}
        parts.labels[name] = text[:SPSS_LABEL_MAX]
        parts.value_labels[name] = _value_labels(items[code], dimension, language) | no_opinion
        parts.missing[name] = [NO_OPINION_CODE]
        parts.measures[name], parts.formats[name] = _measure_and_format(items[code])
    wide.columns = ["group", *names]
    # "Answer before you see the group": each first answer as a variable of its own, `..._pre`.
    have = set(numeric.loc[numeric["pre_feedback_value"].notna(), "key"])
    pre_keys = [k for k in keys if k in have]
    if pre_keys:
        pre = wide_table(numeric, "pre_feedback_value", pre_keys).drop(columns="group")
        pre.columns = [spss_name(f"r{r}_{c}" + (f"_{d}" if d else "") + "_pre", taken)
                       for r, c, d in pre_keys]
        for (round_, code, dimension), name in zip(pre_keys, pre.columns, strict=True):
            text = _("Round %(number)s, %(column)s, before the feedback") % {
                "number": round_, "column": column_label(code, dimension)}
            parts.labels[name] = text[:SPSS_LABEL_MAX]
            parts.value_labels[name] = _value_labels(items[code], dimension, language)
            parts.measures[name], parts.formats[name] = _measure_and_format(items[code])
        wide = wide.join(pre)
    parts.table = wide.reset_index().astype({"expert": str, "group": str})
    return parts


def sav_frame(study: Study, language: str | None = None) -> tuple[pd.DataFrame, dict, dict, dict]:
    """The wide .sav table with its variable labels, value labels and user-missing values."""
    parts = sav_parts(study, language)
    return parts.table, parts.labels, parts.value_labels, parts.missing


def sav_bytes(study: Study, language: str | None = None) -> bytes:
    """The .sav file, labelled in `language` (the study's default language if None)."""
    import pyreadstat

    parts = sav_parts(study, language)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.sav"
        pyreadstat.write_sav(parts.table, str(path), column_labels=parts.labels,
                             variable_value_labels=parts.value_labels,
                             missing_ranges=parts.missing,
                             variable_display_width={"expert": 14},
                             variable_measure=parts.measures, variable_format=parts.formats,
                             note=sav_note(study, language or study.default_language) or None)
        return path.read_bytes()
