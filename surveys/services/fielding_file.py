"""The study file's survey blocks: `anonymous`, `consent_required`, `compare_with` (the slug
of the Delphi study on the same items), `margins` (population shares to weight to),
`consent` (versioned texts),
`screening` (questions with eligibility rules), `collectors` (open links) and an item's
`instructed` (an attention check: the one answer it asks for), checked with the rest of the
file (surveys.services.studies) and loaded in its transaction.

    consent: [{version: "2026-1", text: {en: ..., ru: ...}}]
    screening: [{code: role, text: {en, ru}, options: [{code: expert, text: {en, ru}}],
                 eligible: [expert]}]
    collectors: [{code: ru-panel, group: RU, country: Russia, quota: 500,
                  opens_at: 2026-12-01T00:00:00Z, closes_at: ..., id_param: pid,
                  complete_redirect: https://..., screenout_redirect: https://...,
                  speeder_seconds: 120}]
"""

import datetime as dt
from typing import Any

from django.utils.dateparse import parse_datetime

from surveys.errors import StudyFileError
from surveys.models import Collector, ConsentText, StakeholderGroup, Study
from surveys.services.collectors import CODE, MAX_COLLECTORS, collector_problems

MAX_SCREENING = 20
MAX_CONSENTS = 20
MARGIN_VARIABLES = ("country", "group")  # the survey's respondent columns
INSTRUCTED_KINDS = ("agreement", "probability", "year", "numeric")  # one answer, on a scale


def _when(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _list(c, data: dict, key: str, limit: int) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        c.add(key, "expected a list")
        return []
    if len(value) > limit:
        c.add(key, f"more than {limit} entries (the limit)")
        return []
    return value


def _check_screening(c, data: dict) -> None:
    for q, question in enumerate(_list(c, data, "screening", MAX_SCREENING)):
        where = f"screening[{q}]"
        if not isinstance(question, dict) or not CODE.match(str(question.get("code", ""))):
            c.add(f"{where}.code", "expected a code of lower-case letters, digits, dashes")
            continue
        c.text(question, "text", where)
        options = question.get("options")
        if not isinstance(options, list) or not 2 <= len(options) <= 20:
            c.add(f"{where}.options", "expected a list of 2 to 20 options")
            continue
        codes = set()
        for o, option in enumerate(options):
            if not isinstance(option, dict) or not CODE.match(str(option.get("code", ""))):
                c.add(f"{where}.options[{o}].code", "expected a code")
                continue
            codes.add(option["code"])
            c.text(option, "text", f"{where}.options[{o}]")
        eligible = question.get("eligible")
        if not isinstance(eligible, list) or not eligible or not set(map(str, eligible)) <= codes:
            c.add(f"{where}.eligible", "expected a non-empty list of this question's options")


def _check_collector(c, collector: Any, where: str, groups: set[str], seen: set[str]) -> None:
    if not isinstance(collector, dict):
        c.add(where, "expected a mapping of the collector's settings")
        return
    if str(collector.get("code")) in seen:
        c.add(f"{where}.code", "used twice")
    seen.add(str(collector.get("code")))
    values = dict(collector)
    for key in ("opens_at", "closes_at"):
        if collector.get(key) is not None:
            values[key] = _when(collector[key])
            if values[key] is None:
                c.add(f"{where}.{key}", "expected a date and time such as 2026-12-01T09:00:00Z")
    for key, message in collector_problems(values, groups).items():
        c.add(f"{where}.{key}", message)


def _check_margins(c, data: dict) -> None:
    """`margins`: rows of variable (country or group), category, share and source, checked
    as analysis.weights checks a margins file."""
    import pandas as pd

    from analysis.weights import validate_margins

    rows = _list(c, data, "margins", 500)
    if not rows:
        return
    if not all(isinstance(r, dict) and r.get("variable") in MARGIN_VARIABLES for r in rows):
        c.add("margins", "expected rows of variable (country or group), category, share, source")
        return
    for k, r in enumerate(rows):
        source = r.get("source") or ""
        if not (isinstance(source, str) or isinstance(source, dict) and set(source) <= {"en", "ru"}
                and all(isinstance(v, str) for v in source.values())):
            c.add(f"margins[{k}].source", "expected a text, or {en: ..., ru: ...}")
            return
    try:
        validate_margins(pd.DataFrame([{**r, "source": ""} for r in rows]))
    except ValueError as exc:
        c.add("margins", str(exc))


def _on_scale(item: dict, value: float) -> bool:
    kind = item.get("kind")
    if kind == "agreement":
        return value in {1, 2, 3, 4, 5}
    if kind == "probability":
        return 0 <= value <= 100
    low, high = item.get("min"), item.get("max")
    if isinstance(low, bool) or isinstance(high, bool) or not isinstance(low, int | float) or \
            not isinstance(high, int | float):
        return False  # the item's own check reports its bounds
    return low <= value <= high


def _check_instructed(c, data: dict) -> None:
    """An item's `instructed`: it is a survey's attention check, asking for one answer on the
    item's own scale (an agreement item: 1 to 5)."""
    themes = data.get("themes")
    for t, theme in enumerate(themes if isinstance(themes, list) else []):
        items = theme.get("items") if isinstance(theme, dict) else None
        for i, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict) or item.get("instructed") is None:
                continue
            where, value = f"themes[{t}].items[{i}].instructed", item["instructed"]
            if data.get("mode") != "survey":
                c.add(where, "only a survey's items can be attention checks (mode: survey)")
            elif item.get("kind") not in INSTRUCTED_KINDS:
                c.add(where, "expected on an agreement, probability, year or numeric item")
            elif isinstance(value, bool) or not isinstance(value, int | float) or not _on_scale(
                    item, value):
                c.add(where, "expected the one answer asked for, on the item's scale "
                             "(agreement: 1 to 5)")


def fielding_problems(c, data: dict, groups: set[str]) -> None:
    """Add the survey blocks' problems (and the mode's) to the study file's checker `c`."""
    if data.get("mode", "classic") not in {"classic", "realtime", "survey"}:
        c.add("mode", "expected classic, realtime or survey")
    for key in ("anonymous", "consent_required"):
        if not isinstance(data.get(key, False), bool):
            c.add(key, "expected true or false")
    if not CODE.match(str(data.get("compare_with", "x"))):
        c.add("compare_with", "expected the slug of the Delphi study asking the same items")
    _check_margins(c, data)
    versions = set()
    for k, consent in enumerate(_list(c, data, "consent", MAX_CONSENTS)):
        where = f"consent[{k}]"
        version = consent.get("version") if isinstance(consent, dict) else None
        if not isinstance(version, str) or not 0 < len(version) <= 30 or version in versions:
            c.add(f"{where}.version", "expected a unique version label of 1 to 30 characters")
            continue
        versions.add(version)
        c.text(consent, "text", where)
    _check_screening(c, data)
    _check_instructed(c, data)
    seen: set[str] = set()
    for k, collector in enumerate(_list(c, data, "collectors", MAX_COLLECTORS)):
        _check_collector(c, collector, f"collectors[{k}]", groups, seen)


def _source(source: str | dict | None) -> str | dict:
    """A margin's source as stored: a text, or its texts by language ({en, ru}, blanks left
    out; one text alone when only English is given)."""
    if isinstance(source, dict):
        texts = {k: v.strip() for k, v in source.items() if v and v.strip()}
        return texts if set(texts) - {"en"} else texts.get("en", "")
    return str(source or "").strip()


def fielding_load(*, study: Study, data: dict) -> None:
    """Store the survey blocks of a checked file: consent versions are added (an existing
    version keeps its text: a changed text needs a new version), collectors created or
    updated by code (their tokens never change). A survey's one round is made and opened as
    any first round (the Rounds page, `open_round`)."""
    study.anonymous = data.get("anonymous", False)
    study.consent_required = data.get("consent_required", False)
    study.screening = data.get("screening", [])
    study.compare_with = data.get("compare_with", "")
    study.margins = [{"variable": r["variable"], "category": str(r["category"]),
                      "share": float(r["share"]), "source": _source(r.get("source"))}
                     for r in data.get("margins", [])]
    study.save(update_fields=["anonymous", "consent_required", "screening", "compare_with",
                              "margins"])
    for consent in data.get("consent", []):
        text = consent["text"]
        existing = ConsentText.objects.filter(study=study, version=consent["version"]).first()
        if existing is None:
            ConsentText.objects.create(study=study, version=consent["version"],
                                       text_en=text["en"], text_ru=text["ru"])
        elif (existing.text_en, existing.text_ru) != (text["en"], text["ru"]):
            raise StudyFileError([f"consent: version {consent['version']} is already in use "
                                  "with another text; give the changed text a new version"])
    groups = {g.code: g for g in StakeholderGroup.objects.filter(study=study)}
    for collector in data.get("collectors", []):
        Collector.objects.update_or_create(study=study, code=collector["code"], defaults={
            "group": groups[collector["group"]], "country": collector.get("country", ""),
            "quota": collector.get("quota"), "opens_at": _when(collector.get("opens_at")),
            "closes_at": _when(collector.get("closes_at")),
            "complete_redirect": collector.get("complete_redirect") or "",
            "screenout_redirect": collector.get("screenout_redirect") or "",
            "id_param": collector.get("id_param", "pid"),
            "speeder_seconds": collector.get("speeder_seconds", 0)})


def study_fielding_data(study: Study) -> dict:
    """The survey blocks in study-file shape, each only when set (collectors without their
    tokens: a copy of the study gets links of its own)."""
    data: dict[str, Any] = {"mode": study.mode} if study.mode == Study.Mode.SURVEY else {}
    data |= {k: True for k in ("anonymous", "consent_required") if getattr(study, k)}
    if study.compare_with:
        data["compare_with"] = study.compare_with
    if study.margins:
        data["margins"] = study.margins
    consents = [{"version": c.version, "text": {"en": c.text_en, "ru": c.text_ru}}
                for c in study.consent_texts.order_by("created_at", "pk")]
    if consents:
        data["consent"] = consents
    if study.screening:
        data["screening"] = study.screening
    collectors = []
    for c in study.collectors.select_related("group").order_by("code"):
        row = {"code": c.code, "group": c.group.code, "country": c.country, "quota": c.quota,
               "opens_at": c.opens_at, "closes_at": c.closes_at,
               "complete_redirect": c.complete_redirect,
               "screenout_redirect": c.screenout_redirect, "id_param": c.id_param,
               "speeder_seconds": c.speeder_seconds}
        collectors.append({k: v for k, v in row.items() if v not in (None, "")})
    if collectors:
        data["collectors"] = collectors
    return data
