"""Import and export of the study file (YAML) and of item lists (CSV).

An import is checked in full first: every problem is reported with its location and nothing
changes; only a clean file is applied, by the study file loader (surveys.services.studies).
"""

import csv
import io
from dataclasses import dataclass, field

import yaml
from django.db import transaction
from django.utils.translation import gettext as _

from surveys.errors import ServiceError, StudyFileError
from surveys.figures import rule_in_force
from surveys.models import Study, StudyMember
from surveys.services.studies import (
    _answered_item_changes,
    _check_item,
    _Checker,
    study_file_check,
    study_frame_data,
    study_load,
)
from surveys.studyfile import MAX_BYTES, MAX_ITEMS, problems_bounded, study_yaml_load
from workspace.services.builder import item_data, item_locked, options_format, options_parse
from workspace.services.members import member_grant
from workspace.services.rules import rules_differ, rules_locked

CSV_COLUMNS = ("theme", "code", "kind", "text_en", "text_ru", "source_paragraph", "source_anchor",
               "dimensions", "min", "max", "unit_en", "unit_ru", "options", "help_en", "help_ru",
               "hindsight", "resolves_on", "resolution_en", "resolution_ru", "never_en", "never_ru",
               "decimals")
# The simulated panel's data: never shown to experts, so changing it is not rewording an item.
SIMULATION_KEYS = ("leaning", "spread", "arguments")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ImportReport:
    data: dict | None = None
    problems: list[str] = field(default_factory=list)
    created: bool = False
    items_new: list[str] = field(default_factory=list)
    items_changed: list[str] = field(default_factory=list)

    def parsed(self) -> dict:
        """The file as a mapping: only a report whose file parsed as one gets this far."""
        if self.data is None:
            raise ValueError("the file was not parsed")
        return self.data


def study_data(study: Study) -> dict:
    """The study in study-file shape (loading it back changes nothing)."""
    themes = []
    for theme in study.themes.order_by("position"):
        items = [item_data(i) for i in theme.items.order_by("position")]
        themes.append({"code": theme.code, "title": {"en": theme.title_en, "ru": theme.title_ru},
                       "items": items})
    data = {
        "version": 1, "slug": study.slug, "title": {"en": study.title_en, "ru": study.title_ru},
        "source": study.source, "default_language": study.default_language,
        "answer_before_feedback": study.answer_before_feedback,
        "min_cell": study.min_cell,
        **study_frame_data(study),
        "consensus": rule_in_force(study).registered_values(),
        "stakeholder_groups": [{"code": g.code, "name": {"en": g.name_en, "ru": g.name_ru}}
                               for g in study.groups.order_by("position")],
        "themes": themes,
    }
    if study.description_en or study.description_ru:
        data["description"] = {"en": study.description_en, "ru": study.description_ru}
    return data


def study_export_yaml(study: Study) -> str:
    return yaml.safe_dump(study_data(study), allow_unicode=True, sort_keys=False, width=100)


def _parse_yaml(content: bytes) -> tuple[object, list[str]]:
    if len(content) > MAX_BYTES:
        return None, [_("(file): larger than 2 MB")]
    try:
        return study_yaml_load(content.decode("utf-8-sig")), []
    except UnicodeDecodeError:
        return None, [_("(file): not UTF-8 text")]
    except StudyFileError as exc:  # anchors, aliases, over a limit, or not YAML
        return None, exc.problems


def _changes(report: ImportReport, study: Study | None) -> ImportReport:
    before = {}
    if study is not None:
        before = {d["code"]: d for t in study_data(study)["themes"] for d in t["items"]}
    for theme in report.parsed()["themes"]:
        for item in theme["items"]:
            old = before.get(item["code"])
            if old is None:
                report.items_new.append(item["code"])
            elif {k: v for k, v in old.items() if k not in SIMULATION_KEYS} != {
                    k: v for k, v in item.items() if k not in SIMULATION_KEYS}:
                report.items_changed.append(item["code"])
    return report


def _guard(report: ImportReport, study: Study | None) -> ImportReport:
    """Refuse what would change history: asked items' wording, locked consensus thresholds."""
    report = _changes(report, study)
    if study is None:
        return report
    asked = {i.code for i in study.items.all() if item_locked(i)}
    for t, theme in enumerate(report.parsed()["themes"]):
        for i, item in enumerate(theme["items"]):
            if item["code"] in asked and item["code"] in report.items_changed:
                report.problems.append(f"themes[{t}].items[{i}]: " + _(
                    "item %(code)r has been asked already; reword it when planning the next "
                    "round") % {"code": item["code"]})
    consensus = report.parsed().get("consensus")
    if consensus and rules_locked(study) and rules_differ(study=study, values=consensus):
        report.problems.append("consensus: " + _("the rules are locked since round 1 opened; "
                                                 "change them on the rules page with a reason"))
    return report


def study_yaml_check(*, content: bytes, study: Study | None = None) -> ImportReport:
    """Check a study file (for this study, or a new one) and say what loading it would change."""
    data, problems = _parse_yaml(content)
    report = ImportReport(data=data if isinstance(data, dict) else None, problems=problems)
    if problems:
        return report
    report.problems = study_file_check(data)
    if report.problems:
        return report
    data = report.parsed()
    if study is not None and data["slug"] != study.slug:
        report.problems.append("slug: " + _("the file is for %(other)r, not this study (%(slug)r)")
                               % {"other": data["slug"], "slug": study.slug})
    elif study is None and Study.objects.filter(slug=data["slug"]).exists():
        report.problems.append("slug: " + _("a study with this address exists already"))
    else:
        report.problems = _answered_item_changes(data)
    report.created = study is None
    report = _guard(report, study) if not report.problems else report
    report.problems = problems_bounded(report.problems)
    return report


@transaction.atomic
def study_yaml_import(*, content: bytes, actor, study: Study | None = None) -> Study:
    """Apply a clean study file; a file with any problem raises StudyFileError and changes nothing."""
    report = study_yaml_check(content=content, study=study)
    if report.problems:
        raise StudyFileError(report.problems)
    loaded = study_load(data=report.parsed(), actor=actor)
    if study is None and actor is not None:  # a command run as no user leaves it ownerless
        member_grant(study=loaded, username=actor.get_username(), role=StudyMember.Role.OWNER,
                     actor=actor)
    return loaded


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _uncell(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def items_export_csv(study: Study) -> str:
    """The study's items, one per row; cells that a spreadsheet would run as formulas are quoted."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for theme in study.themes.order_by("position"):
        for item in theme.items.order_by("position"):
            writer.writerow([_cell(v) for v in (
                theme.code, item.code, item.kind, item.text_en, item.text_ru,
                item.source_paragraph, item.source_anchor, ";".join(item.dimensions),
                _num(item.min_value), _num(item.max_value), item.unit_en, item.unit_ru,
                options_format(item.options), item.help_en, item.help_ru,
                "yes" if item.hindsight else "", item.resolves_on or "", item.resolution_en,
                item.resolution_ru, item.never_en, item.never_ru, item.decimals or "")])
    return out.getvalue()


def _num(value):
    return "" if value is None else (int(value) if float(value).is_integer() else value)


def _row_item(row: dict, where: str, problems: list[str]) -> dict:
    item: dict = {"code": row["code"], "kind": row["kind"],
                  "text": {"en": row["text_en"], "ru": row["text_ru"]}}
    if row["source_paragraph"] or row["source_anchor"]:
        item["source"] = {"anchor": row["source_anchor"]}
        if row["source_paragraph"]:
            if row["source_paragraph"].isdigit():
                item["source"]["paragraph"] = int(row["source_paragraph"])
            else:
                problems.append(f"{where}, source_paragraph: " + _("expected a whole number"))
    if row["dimensions"]:
        item["dimensions"] = [d.strip() for d in row["dimensions"].split(";") if d.strip()]
    for key in ("min", "max"):
        if row[key]:
            try:
                number = float(row[key])
                item[key] = int(number) if number.is_integer() else number
            except ValueError:
                problems.append(f"{where}, {key}: " + _("expected a number"))
    if row["unit_en"] or row["unit_ru"]:
        item["unit"] = {"en": row["unit_en"], "ru": row["unit_ru"]}
    if row["decimals"]:
        if row["decimals"].isdigit():
            item["decimals"] = int(row["decimals"])
        else:
            problems.append(f"{where}, decimals: " + _("expected a whole number"))
    if row["options"]:
        options = options_parse(row["options"])
        if isinstance(options, str):
            problems.append(f"{where}, {options}")
        else:
            item["options"] = options
    return item | _row_edition(row, where, problems)


def _row_edition(row: dict, where: str, problems: list[str]) -> dict:
    """The second edition's columns (all optional) in study-file shape."""
    item: dict = {}
    for key in ("help", "never"):
        if row[f"{key}_en"] or row[f"{key}_ru"]:
            item[key] = {"en": row[f"{key}_en"], "ru": row[f"{key}_ru"]}
    if row["hindsight"]:
        if row["hindsight"].lower() not in {"yes", "no", "true", "false", "1", "0"}:
            problems.append(f"{where}, hindsight: " + _("expected yes or no"))
        item["hindsight"] = row["hindsight"].lower() in {"yes", "true", "1"}
    if row["resolves_on"] or row["resolution_en"] or row["resolution_ru"]:
        item["resolution"] = {"date": row["resolves_on"],
                              "criteria": {"en": row["resolution_en"], "ru": row["resolution_ru"]}}
    return item


def items_csv_check(*, study: Study, content: bytes) -> ImportReport:
    """Check an item list against the study: new codes add items, known codes update them."""
    data = study_data(study)
    report = ImportReport(data=data)
    if len(content) > MAX_BYTES:
        report.problems.append(_("(file): larger than 2 MB"))
        return report
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.problems.append(_("(file): not UTF-8 text"))
        return report
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS[:5] if c not in header]
    if missing:
        report.problems.append(_("line 1: missing column(s) %(columns)s") % {
            "columns": ", ".join(missing)})
        return report
    reader.fieldnames = header
    themes = {t["code"]: t for t in data["themes"]}
    groups = {g["code"] for g in data["stakeholder_groups"]}
    checker, seen = _Checker(), set[str]()
    for index, raw in enumerate(reader):
        where = _("line %(n)s") % {"n": index + 2}
        if index >= MAX_ITEMS:
            report.problems.append(f"{where}: " + _(
                "more than %(n)s items in the file (the limit)") % {"n": f"{MAX_ITEMS:,}"})
            break
        row = {c: _uncell((raw.get(c) or "").strip()) for c in CSV_COLUMNS}
        if not any(row.values()):
            continue
        if row["theme"] not in themes:
            report.problems.append(f"{where}, theme: " + _("%(value)r is not a theme of this study")
                                   % {"value": row["theme"]})
            continue
        item = _row_item(row, where, report.problems)
        _check_item(checker, item, where, groups, seen)
        for theme in themes.values():
            for old in theme["items"]:  # the CSV has no columns for the simulated panel's data
                if old["code"] == item["code"]:
                    item |= {k: old[k] for k in SIMULATION_KEYS if k in old}
            theme["items"] = [i for i in theme["items"] if i["code"] != item["code"]]
        themes[row["theme"]]["items"].append(item)
    report.problems += checker.problems
    if not seen and not report.problems:
        report.problems.append(_("The file has no items."))
    if not report.problems:
        report.problems = study_file_check(data) or _answered_item_changes(data)
    report = _guard(report, study) if not report.problems else report
    report.problems = problems_bounded(report.problems)
    return report


@transaction.atomic
def items_csv_import(*, study: Study, content: bytes, actor) -> ImportReport:
    report = items_csv_check(study=study, content=content)
    if report.problems:
        raise StudyFileError(report.problems)
    if not report.items_new and not report.items_changed:
        raise ServiceError(_("The file changes nothing."))
    study_load(data=report.parsed(), actor=actor)
    return report
