"""The reporting-guideline checklist (ACCORD, DELPHISTAR, CREDES): each item with where the
report answers it, or a note that only the authors can.

Where an item points depends on what this study's report holds: an item the report cannot
answer for this study says so ("not reported: ..."), never points to an empty section.
Locations are the ids of the report's sections (surveys/templates/surveys/reports/_body.html).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import get_language, gettext, ngettext, pgettext

from surveys.reports.guidelines import GUIDELINES, SECTIONS, GuidelineItem

REPORTED, PARTIAL, AUTHORS, MISSING, NOT_APPLICABLE = (
    "reported", "partial", "authors", "missing", "not_applicable")


@dataclass(frozen=True)
class Evidence:
    status: str
    location: str  # a section id of the report, or "" when the report holds nothing for it
    note: str


def status_labels() -> dict[str, str]:
    return {
        REPORTED: pgettext("report checklist", "reported"),
        PARTIAL: pgettext("report checklist", "partly reported"),
        AUTHORS: pgettext("report checklist", "to be completed by the authors"),
        MISSING: pgettext("report checklist", "not reported"),
        NOT_APPLICABLE: pgettext("report checklist", "not applicable"),
    }


def columns() -> list[str]:
    """The table's header row, in the active language."""
    return [pgettext("report checklist column", "guideline"),
            pgettext("report checklist column", "number"),
            pgettext("report checklist column", "section"),
            pgettext("report checklist column", "topic"),
            pgettext("report checklist column", "location"),
            pgettext("report checklist column", "status"),
            pgettext("report checklist column", "note")]


def section_names() -> dict[str, str]:
    """The report's sections a checklist item can point to, by id."""
    return {
        "protocol": pgettext("report checklist", "Registered protocol"),
        "rules": pgettext("report checklist", "Registered rules"),
        "methods": pgettext("report checklist", "Methods"),
        "limitations": pgettext("report checklist", "Limitations"),
        "flow": pgettext("report checklist", "Participant flow"),
        "response": pgettext("report checklist", "Response by group"),
        "results": pgettext("report checklist", "Results per item"),
        "consensus": pgettext("report checklist", "Consensus table"),
        "groups": pgettext("report checklist", "Stakeholder groups compared"),
        "dissent": pgettext("report checklist", "Dissent register"),
        "item-log": pgettext("report checklist", "Item log"),
        "archive": pgettext("report checklist", "Feedback archive"),
    }


def _authors(data: dict) -> Evidence:
    return Evidence(AUTHORS, "", "")


def _aims(data: dict) -> Evidence:
    if data.get("protocol"):
        return Evidence(PARTIAL, "protocol", gettext(
            "The study's aims as registered; the authors state the audience and scope."))
    return Evidence(AUTHORS, "", gettext("No registered protocol states the aims."))


def _protocol(data: dict) -> Evidence:
    if data.get("protocol"):
        return Evidence(PARTIAL, "protocol", gettext(
            "The protocol as frozen on the platform, with its date and SHA-256 hash; its JSON "
            "and PDF are downloaded from the study's protocol page (organizers only). The "
            "authors give the registry and a public address."))
    if data.get("rules"):
        return Evidence(PARTIAL, "rules", gettext(
            "The rules were registered with their date, but no protocol record was frozen."))
    return Evidence(MISSING, "", gettext("Nothing was registered before round 1."))


def _panel(data: dict) -> Evidence:
    if data.get("protocol"):
        return Evidence(PARTIAL, "protocol", gettext(
            "The panel definition and selection criteria as registered; the authors describe "
            "the experts' expertise."))
    return Evidence(AUTHORS, "", gettext("No registered protocol defines the panel."))


def _flow_location(data: dict) -> str:
    return "flow" if data.get("flow") else "response"


def _recruitment(data: dict) -> Evidence:
    return Evidence(PARTIAL, _flow_location(data), gettext(
        "Experts invited, started and submitted by stakeholder group; the authors describe how "
        "the experts were found."))


def _composition(data: dict) -> Evidence:
    if data.get("flow"):
        return Evidence(REPORTED, "flow", gettext("The panel by stakeholder group in each round."))
    return Evidence(REPORTED, "response", gettext("The panel by stakeholder group in this round."))


def _characteristics(data: dict) -> Evidence:
    return Evidence(PARTIAL, _flow_location(data), gettext(
        "Only the number of experts per stakeholder group; the authors describe the experts' "
        "other characteristics."))


def _items(data: dict) -> Evidence:
    if data.get("item_log"):
        return Evidence(PARTIAL, "item-log", gettext(
            "Every item's history from round 1; the authors describe how the first items were "
            "drafted."))
    return Evidence(AUTHORS, "", "")


def _design(data: dict) -> Evidence:
    if data.get("methods_text"):
        return Evidence(REPORTED, "methods", gettext(
            "An online Delphi: its rounds, the anonymous feedback and the registered rules."))
    return Evidence(PARTIAL, "methods", gettext(
        "The rounds and the rules are listed; the authors describe the method."))


def _rules_date(rules: dict) -> str:
    registered = rules.get("registered_at")
    return registered.date().isoformat() if registered else "?"


def _first_version(data: dict) -> dict | None:
    """The protocol's first frozen version (its date and hash), if it was frozen before round 1."""
    protocol = data.get("protocol")
    first = protocol.get("first") if isinstance(protocol, dict) else None
    if not isinstance(first, dict) or not first.get("sha256") or not protocol.get("before_round1"):
        return None
    when = first.get("when")
    return {"date": when.date().isoformat() if when else "?", "hash": first["sha256"][:12]}


def _apriori(data: dict) -> Evidence:
    rules = data.get("rules")
    if not rules:
        return Evidence(MISSING, "", gettext(
            "Rules were not registered before round 1; the verdicts use the platform's default "
            "rule."))
    values = {"date": _rules_date(rules), "revision": rules.get("revision")}
    if rules.get("registered_late"):
        return Evidence(PARTIAL, "rules", gettext(
            "Rules registered on %(date)s, after round 1 had opened (revision %(revision)s).")
            % values)
    first = _first_version(data)
    if first:
        return Evidence(REPORTED, "rules", gettext(
            "Consensus defined a priori: in the protocol registered on %(date)s, before round 1 "
            "(SHA-256 %(hash)s...).") % first)
    return Evidence(REPORTED, "rules", gettext(
        "Consensus defined a priori: rules registered on %(date)s, before round 1 (revision "
        "%(revision)s).") % values)


def _rounds(data: dict) -> Evidence:
    if data.get("rules"):
        return Evidence(REPORTED, "rules", gettext(
            "The registered stopping rule; the rounds held are in the methods."))
    return Evidence(PARTIAL, "methods", gettext(
        "The rounds held are listed; no stopping rule was registered."))


def _scales(data: dict) -> Evidence:
    if data.get("protocol"):
        return Evidence(REPORTED, "protocol", gettext(
            'The answer scales under "Items and scales", and "no opinion" left out of every '
            "statistic."))
    return Evidence(PARTIAL, "methods", gettext(
        '"No opinion" is left out of every statistic; no registered protocol lists the answer '
        "scales."))


def _anonymity(data: dict) -> Evidence:
    return Evidence(REPORTED, "methods", gettext(
        "Experts answer under pseudonyms; arguments are shown without attribution."))


def _feedback(data: dict) -> Evidence:
    if data.get("archive"):
        return Evidence(REPORTED, "archive", gettext(
            "What the experts saw in each round, from the stored snapshots."))
    if getattr(data.get("round"), "number", None) == 1:
        return Evidence(NOT_APPLICABLE, "methods", gettext(
            "Round 1 is answered without feedback; the methods say what later rounds show."))
    return Evidence(PARTIAL, "methods", gettext(
        "The feedback is described, but this report holds no archive of what each round "
        "showed."))


def _changes(data: dict) -> Evidence:
    if data.get("item_log"):
        return Evidence(REPORTED, "item-log", gettext(
            "Items added, reworded, split, merged or dropped, with the reasons."))
    return Evidence(MISSING, "", gettext("No item history is recorded for this study."))


def _missing(data: dict) -> Evidence:
    if data.get("flow"):
        return Evidence(REPORTED, "flow", gettext(
            'Drop-outs per round and group; "no opinion" and unanswered items are left out of '
            "every statistic."))
    return Evidence(PARTIAL, "methods", gettext(
        'Attrition per round; "no opinion" answers are left out of every statistic.'))


def _analysis(data: dict) -> Evidence:
    return Evidence(REPORTED, "methods", gettext(
        "Median, quartiles, the share agreeing and the verdict under the rule; group tests."))


def _has_results(data: dict) -> bool:
    return bool(data.get("results"))


def _not_aggregated() -> Evidence:
    return Evidence(MISSING, "", gettext("The round has not been aggregated yet."))


def _outputs(data: dict) -> Evidence:
    if _has_results(data):
        return Evidence(PARTIAL, "consensus", gettext(
            "Each item's verdict under the rule; the authors describe how the outputs were "
            "drafted and agreed."))
    return Evidence(AUTHORS, "", "")


def _timeline(data: dict) -> Evidence:
    return Evidence(REPORTED, "methods", gettext("The opening and closing date of each round."))


def _response(data: dict) -> Evidence:
    if data.get("flow"):
        return Evidence(REPORTED, "flow", gettext(
            "The participant flow per round and group: invited, started, submitted, lost."))
    return Evidence(REPORTED, "methods", gettext(
        "Panel, submitted, response and attrition in each round."))


def _results_location(data: dict) -> str:
    return "results" if data.get("item_results") else "consensus"


def _results(data: dict) -> Evidence:
    if not _has_results(data):
        return _not_aggregated()
    if data.get("item_results"):
        return Evidence(REPORTED, "results", gettext(
            "Every item in every round: n, no opinion, median, IQR, the shares agreeing and "
            "disagreeing, verdict."))
    return Evidence(REPORTED, "consensus", gettext(
        "Every item of this round: n, median, IQR, the shares agreeing and disagreeing, "
        "verdict."))


def _outcome(data: dict) -> Evidence:
    stopping = (data.get("figures") or {}).get("stopping") or {}
    if not stopping.get("known"):
        if not data.get("rules"):
            return Evidence(MISSING, "", gettext("No stopping rule was registered."))
        return _not_aggregated()
    values = {"n": stopping["round"]}
    if stopping.get("stop"):
        note = gettext("Under the registered stopping rule the study stops after round %(n)s.")
    else:
        note = gettext("Under the registered stopping rule the study does not stop after round "
                       "%(n)s.")
    return Evidence(REPORTED, _results_location(data), note % values)


def _deviations(data: dict) -> Evidence:
    protocol = data.get("protocol")
    if isinstance(protocol, dict) and "amendments" in protocol:
        amendments = len(protocol["amendments"] or [])
        if not amendments:
            return Evidence(REPORTED, "protocol", gettext(
                "No amendments: the study ran as registered."))
        return Evidence(REPORTED, "protocol", ngettext(
            "%(n)s amendment after round 1 opened, with its reason.",
            "%(n)s amendments after round 1 opened, each with its reason.", amendments)
            % {"n": amendments})
    rules = data.get("rules")
    if not rules:
        return Evidence(MISSING, "", gettext("Nothing was registered to deviate from."))
    changes = len(rules.get("changes_after_lock") or [])
    if not changes:
        return Evidence(REPORTED, "rules", gettext("None: the rules are as registered."))
    return Evidence(REPORTED, "rules", ngettext(
        "%(n)s change after round 1 opened, with its reason.",
        "%(n)s changes after round 1 opened, each with its reason.", changes) % {"n": changes})


def _limitations(data: dict) -> Evidence:
    if data.get("methods_text"):
        return Evidence(PARTIAL, "limitations", gettext(
            "The method's limitations as the platform records them; the authors discuss the "
            "rest."))
    return Evidence(AUTHORS, "", "")


def _arguments(data: dict) -> Evidence:
    if data.get("archive"):
        return Evidence(REPORTED, "archive", gettext("The arguments shown in each round."))
    if data.get("dissent"):
        return Evidence(PARTIAL, "dissent", gettext(
            "The minority's anonymous arguments on each item without consensus."))
    return Evidence(AUTHORS, "", "")


def _groups(data: dict) -> Evidence:
    if (data.get("comparison") or {}).get("rows"):
        return Evidence(REPORTED, "groups", gettext(
            "Medians by group, with the test of their difference."))
    return Evidence(NOT_APPLICABLE, "", gettext("This round has no group statistics."))


def _stability(data: dict) -> Evidence:
    if data.get("rules"):
        return Evidence(REPORTED, "rules", gettext(
            "The registered stability rule; each item's stability is in the results."))
    return Evidence(MISSING, "", gettext("No stability rule was registered."))


def _dissent(data: dict) -> Evidence:
    if not _has_results(data):
        return _not_aggregated()
    return Evidence(PARTIAL, "dissent", gettext(
        "Items without consensus, the minority by group and its arguments; the authors "
        "discuss them."))


def _attainment(data: dict) -> Evidence:
    if not _has_results(data):
        return _not_aggregated()
    if data.get("rules"):
        return Evidence(REPORTED, "consensus", gettext(
            "The registered definition and each item's verdict under it."))
    return Evidence(PARTIAL, "consensus", gettext(
        "Verdicts under the platform's default rule: no rule was registered."))


EVIDENCE: dict[str, Callable[[dict], Evidence]] = {
    "authors": _authors, "aims": _aims, "protocol": _protocol, "panel": _panel,
    "recruitment": _recruitment, "composition": _composition,
    "characteristics": _characteristics, "items": _items,
    "design": _design, "apriori": _apriori, "rounds": _rounds, "scales": _scales,
    "anonymity": _anonymity, "feedback": _feedback, "changes": _changes, "missing": _missing,
    "analysis": _analysis, "outputs": _outputs, "timeline": _timeline, "response": _response,
    "results": _results, "outcome": _outcome, "deviations": _deviations,
    "limitations": _limitations, "arguments": _arguments, "groups": _groups,
    "stability": _stability, "dissent": _dissent, "attainment": _attainment,
}


def _russian() -> bool:
    return (get_language() or "en").startswith("ru")


def _entry(item: GuidelineItem, data: dict, names: dict[str, str], labels: dict[str, str]) -> dict:
    evidence = EVIDENCE[item.evidence](data)
    ru = _russian()
    return {"number": item.number, "section": SECTIONS[item.section][1 if ru else 0],
            "topic": item.topic_ru if ru else item.topic_en, "location": evidence.location,
            "location_label": names.get(evidence.location, ""), "status": evidence.status,
            "status_label": labels[evidence.status], "note": evidence.note}


def checklist(data: dict) -> list[dict]:
    """Per guideline (ACCORD, DELPHISTAR, CREDES): its items, each with the section of this
    report that answers it (or none), a status and a note, in the active language."""
    names, labels = section_names(), status_labels()
    return [{"key": g.key, "name": g.name, "citation": g.citation,
             "items": [_entry(item, data, names, labels) for item in g.items]}
            for g in GUIDELINES]


def checklist_rows(entries: list[dict]) -> list[list[str]]:
    """The checklist as a table (header first): one row per guideline item."""
    rows = [columns()]
    for guideline in entries:
        for e in guideline["items"]:
            where = f"{e['location_label']} (#{e['location']})" if e["location"] else ""
            rows.append([guideline["name"], e["number"], e["section"], e["topic"], where,
                         e["status_label"], e["note"]])
    return rows


def checklist_csv(entries: list[dict]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel reads the Cyrillic right."""
    out = io.StringIO()
    csv.writer(out).writerows(checklist_rows(entries))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def checklist_xlsx(entries: list[dict]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "Checklist"
    for row in checklist_rows(entries):
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for index, width in enumerate([12, 7, 18, 48, 30, 26, 60], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


CHECKLIST_FORMATS = {
    "csv": ("text/csv; charset=utf-8", checklist_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", checklist_xlsx),
}


def checklist_file(entries: list[dict], fmt: str) -> tuple[bytes, str]:
    """The checklist in one of CHECKLIST_FORMATS: its bytes and content type."""
    content_type, write = CHECKLIST_FORMATS[fmt]
    return write(entries), content_type
