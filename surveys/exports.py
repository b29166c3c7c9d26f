"""Study exports: long CSV, XLSX, Parquet, SPSS .sav and a JSON archive, under pseudonyms only.

Experts appear only as stable per-study pseudonyms (surveys.pseudonyms); names, emails and
database ids never leave. Rows are ordered by round, item, dimension and pseudonym, so the
order says nothing about who joined when. Only submitted responses are exported. Spreadsheet
formulas are neutralized in CSV and XLSX (headers included); Parquet and JSON keep text as is.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys.figures import rule_in_force
from surveys.models import (
    Aggregate,
    Answer,
    ExpertiseRating,
    Item,
    PreFeedbackAnswer,
    Rationale,
    Response,
    Round,
    Study,
    proposition_q,
)
from surveys.pseudonyms import pseudonym_map
from surveys.services.fielding_file import study_fielding_data
from surveys.services.studies import item_edition_data, study_frame_data

LONG_COLUMNS = ["expert", "group", "round", "item", "dimension", "kind", "value", "no_opinion",
                "rationale", "pre_feedback_value"]
TEXT_COLUMNS = ["expert", "group", "round", "item", "type", "text"]
# OWASP: a cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ARCHIVE_FORMAT = "agora-delphi-archive"
# What the codebooks say of each item beyond its text: an "In hindsight" item, its help, and a
# forecast's resolution (date and criteria), so that forecasts can be scored once they resolve.
ITEM_METADATA_COLUMNS = ["hindsight", "help_en", "help_ru", "resolves_on", "resolution_en",
                         "resolution_ru", "never_en", "never_ru"]
PARQUET_ITEMS_KEY = b"agora-delphi:items"


@dataclass(frozen=True)
class ExportFormat:
    extension: str
    content_type: str
    label: str  # shown on the study and report pages
    language: str | None = None  # the labels' language (.sav); None: the study's own


CSV_TYPE, PARQUET_TYPE, SAV_TYPE = ("text/csv; charset=utf-8", "application/vnd.apache.parquet",
                                    "application/x-spss-sav")
FORMATS: dict[str, ExportFormat] = {
    "csv": ExportFormat("csv", CSV_TYPE, _("CSV (long)")),
    # The open texts and rationales, a second table beside the long one (TEXT_COLUMNS).
    "texts-csv": ExportFormat("texts.csv", CSV_TYPE, _("CSV (open texts)")),
    "xlsx": ExportFormat(
        "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel"),
    "parquet": ExportFormat("parquet", PARQUET_TYPE, "Parquet"),
    "texts-parquet": ExportFormat("texts.parquet", PARQUET_TYPE, _("Parquet (open texts)")),
    "sav": ExportFormat("sav", SAV_TYPE, "SPSS"),
    "sav-en": ExportFormat("en.sav", SAV_TYPE, _("SPSS (English labels)"), language="en"),
    "sav-ru": ExportFormat("ru.sav", SAV_TYPE, _("SPSS (Russian labels)"), language="ru"),
    "json": ExportFormat("json", "application/json", _("JSON archive")),
}


def neutralize(value: Any) -> Any:
    """A string that a spreadsheet would run as a formula, made inert by a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell and every header neutralized."""
    out = frame.rename(columns=neutralize)
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralize)
    return out


def _submitted(study: Study):
    return {"response__round__study": study, "response__status": Response.Status.SUBMITTED}


def _pseudonyms(study: Study) -> dict[int, str]:
    ids = Response.objects.filter(round__study=study).values_list("expert_id", flat=True)
    return pseudonym_map(study_id=study.pk, expert_ids=ids)


def _item_order(study: Study) -> dict[str, int]:
    codes = study.items.order_by("theme__position", "position").values_list("code", flat=True)
    return {code: k for k, code in enumerate(codes)}


def _sorted(frame: pd.DataFrame, study: Study, keys: list[str]) -> pd.DataFrame:
    order = _item_order(study)
    frame = frame.assign(_pos=frame["item"].map(order))
    frame = frame.sort_values(["round", "_pos", *keys], kind="stable").drop(columns="_pos")
    return frame.reset_index(drop=True)


def item_metadata(item: Item) -> dict[str, Any]:
    """The item's metadata columns (ITEM_METADATA_COLUMNS) for a codebook: resolves_on as
    YYYY-MM-DD, "" when the item is no forecast."""
    return {"hindsight": item.hindsight, "help_en": item.help_en, "help_ru": item.help_ru,
            "resolves_on": item.resolves_on.isoformat() if item.resolves_on else "",
            "resolution_en": item.resolution_en, "resolution_ru": item.resolution_ru,
            "never_en": item.never_en, "never_ru": item.never_ru}


def items_codebook(study: Study) -> list[dict[str, Any]]:
    """Every proposition of the study in questionnaire order: code, theme, kind, texts,
    metadata (the exported answers' items: no attention check)."""
    return [{"item": i.code, "theme": i.theme.code, "kind": i.kind, "text_en": i.text_en,
             "text_ru": i.text_ru, **item_metadata(i)}
            for i in study.items.propositions().select_related("theme").order_by("theme__position",
                                                                             "position")]


def export_long(study: Study) -> pd.DataFrame:
    """Every submitted numeric answer of the study, one row per answer (the analysis long format).

    value is NaN for "no opinion" (no_opinion is then 1); rationale is the expert's argument for
    the item in that round, repeated on each of the item's rows; pre_feedback_value is, in an
    "answer before you see the group" study, the first value the expert gave before the item's
    feedback opened (NaN otherwise). Open-text items are in export_texts; a survey's attention
    checks are no proposition and not exported (their failures are the respondents' flags).
    """
    names = _pseudonyms(study)
    rows = Answer.objects.filter(proposition_q("item__"), **_submitted(study)).exclude(
        item__kind=Item.Kind.OPEN).values_list(
        "response_id", "response__expert_id", "response__expert__group__code",
        "response__round__number", "item_id", "item__code", "dimension", "item__kind", "value",
        "no_opinion")
    rationales = dict(((r, i), t) for r, i, t in Rationale.objects.filter(**_submitted(study))
                      .values_list("response_id", "item_id", "text"))
    before = {(r, i, d): v for r, i, d, v in PreFeedbackAnswer.objects.filter(
        **_submitted(study)).values_list("response_id", "item_id", "dimension", "value")}
    records = [
        (names[expert], group, number, code, dimension, kind,
         math.nan if no_opinion or value is None else float(value), int(no_opinion),
         rationales.get((response, item), ""), before.get((response, item, dimension), math.nan))
        for response, expert, group, number, item, code, dimension, kind, value, no_opinion in rows
    ]
    frame = pd.DataFrame(records, columns=LONG_COLUMNS)
    frame = frame.astype({"expert": str, "group": str, "round": "int64", "item": str,
                          "dimension": str, "kind": str, "value": "float64", "no_opinion": "int64",
                          "rationale": str, "pre_feedback_value": "float64"})
    return _sorted(frame, study, ["dimension", "expert"])


def export_texts(study: Study) -> pd.DataFrame:
    """Open-text answers and rationales, one row each, under pseudonyms."""
    names = _pseudonyms(study)
    answers = Answer.objects.filter(**_submitted(study), item__kind=Item.Kind.OPEN).exclude(text="")
    rationales = Rationale.objects.filter(**_submitted(study)).exclude(text="")
    fields = ("response__expert_id", "response__expert__group__code", "response__round__number",
              "item__code", "text")
    records = [(names[e], g, n, c, kind, t)
               for kind, qs in (("answer", answers), ("rationale", rationales))
               for e, g, n, c, t in qs.values_list(*fields)]
    frame = pd.DataFrame(records, columns=TEXT_COLUMNS).astype(
        {"expert": str, "group": str, "round": "int64", "item": str, "type": str, "text": str})
    return _sorted(frame, study, ["type", "expert"])


def study_definition(study: Study) -> dict:
    """The study as a study file describes it (load_study accepts it back)."""
    def text(obj, field: str) -> dict:
        return {"en": getattr(obj, f"{field}_en"), "ru": getattr(obj, f"{field}_ru")}

    themes = []
    for theme in study.themes.order_by("position").prefetch_related("items"):
        items = []
        for item in sorted(theme.items.all(), key=lambda i: i.position):
            entry: dict[str, Any] = {"code": item.code, "kind": item.kind, "text": text(item, "text")}
            source = {"paragraph": item.source_paragraph, "anchor": item.source_anchor}
            if any(source.values()):
                entry["source"] = {k: v for k, v in source.items() if v not in (None, "")}
            extra = {"dimensions": item.dimensions, "options": item.options, "min": item.min_value,
                     "max": item.max_value, "leaning": item.leaning}
            entry |= {k: v for k, v in extra.items() if v not in (None, [], {})}
            if item.unit_en or item.unit_ru:
                entry["unit"] = text(item, "unit")
            items.append(entry | item_edition_data(item))
        themes.append({"code": theme.code, "title": text(theme, "title"), "items": items})
    description = text(study, "description")
    rule = rule_in_force(study)
    return {
        "version": 1, "slug": study.slug, "title": text(study, "title"),
        **({"description": description} if all(description.values()) else {}),
        "source": study.source,
        "languages": study.languages, "default_language": study.default_language,
        "consensus": rule.registered_values(),
        "answer_before_feedback": study.answer_before_feedback,
        "min_cell": study.min_cell,
        **study_frame_data(study), **study_fielding_data(study),
        "stakeholder_groups": [{"code": g.code, "name": text(g, "name")} for g in study.groups.all()],
        "themes": themes,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return value


def _aggregate_records(study: Study) -> list[dict]:
    fields = ["n", "no_opinion", "median", "q1", "q3", "iqr", "mean", "sd", "pct_agree",
              "pct_disagree", "distribution", "verdict", "stable", "median_change", "extra"]
    rows = (Aggregate.objects.filter(round__study=study)
            .order_by("round__number", "item__theme__position", "item__position", "dimension", "group")
            .values("round__number", "item__code", "dimension", "group", *fields))
    return [{"round": r.pop("round__number"), "item": r.pop("item__code"), **r} for r in rows]


def study_archive(study: Study) -> dict:
    """Definition, rounds, pseudonymized answers, texts, expertise and aggregates, JSON-ready."""
    names = _pseudonyms(study)
    rounds = [{"number": r.number, "status": r.status, "opens_at": r.opens_at,
               "closes_at": r.closes_at, "closed_at": r.closed_at, "aggregated_at": r.aggregated_at,
               "items": sorted(r.items.values_list("code", flat=True), key=_item_order(study).get)}
              for r in Round.objects.filter(study=study).order_by("number")]
    expertise = sorted(
        ({"expert": names[e], "theme": t, "level": level}
         for e, t, level in ExpertiseRating.objects.filter(expert_id__in=names)
         .values_list("expert_id", "theme__code", "level")),
        key=lambda r: (r["expert"], r["theme"]))
    answers = export_long(study).drop(columns="rationale")
    answers["no_opinion"] = answers["no_opinion"].astype(bool)
    return _jsonable({
        "format": ARCHIVE_FORMAT, "version": 1, "exported_at": timezone.now(),
        "study": study_definition(study), "rounds": rounds,
        "experts": sorted(({"expert": names[e], "group": g} for e, g in
                           study.experts.filter(pk__in=names).values_list("pk", "group__code")),
                          key=lambda r: r["expert"]),
        "expertise": expertise,
        "answers": answers.to_dict(orient="records"),
        "texts": export_texts(study).to_dict(orient="records"),
        "aggregates": _aggregate_records(study),
    })


def export_bytes(study: Study, fmt: str, language: str | None = None) -> bytes:
    """The study exported in one of FORMATS, as the bytes of the file; `language` overrides the
    format's labels' language (.sav only)."""
    if fmt == "csv":
        return neutralize_frame(export_long(study)).to_csv(index=False).encode("utf-8")
    if fmt == "texts-csv":
        return neutralize_frame(export_texts(study)).to_csv(index=False).encode("utf-8")
    if fmt in {"parquet", "texts-parquet"}:
        return _parquet_bytes(study, export_long(study) if fmt == "parquet" else export_texts(study))
    if fmt == "json":
        return json.dumps(study_archive(study), ensure_ascii=False, indent=1).encode("utf-8")
    if fmt == "xlsx":
        from surveys.reports import office

        return office.workbook_bytes(study)
    if fmt in FORMATS and FORMATS[fmt].extension.endswith("sav"):
        from surveys.reports import spss

        return spss.sav_bytes(study, language or FORMATS[fmt].language)
    raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")


def _parquet_bytes(study: Study, frame: pd.DataFrame) -> bytes:
    """The frame, with the items' codebook (items_codebook, as JSON) in the file's metadata
    under PARQUET_ITEMS_KEY."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    codebook = json.dumps(items_codebook(study), ensure_ascii=False).encode("utf-8")
    table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                           PARQUET_ITEMS_KEY: codebook})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def export_filename(study: Study, fmt: str) -> str:
    return f"{study.slug}-{timezone.now():%Y%m%d}.{FORMATS[fmt].extension}"
