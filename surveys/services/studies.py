"""Loading a study from its human-editable YAML file, idempotently and all-or-nothing."""

import datetime as dt
import re
from pathlib import Path
from typing import Any, TypeGuard

from django.db import transaction

from surveys.errors import StudyFileError
from surveys.models import AuditEvent, Item, StakeholderGroup, Study, Theme
from surveys.services.fielding_file import fielding_load, fielding_problems
from surveys.studyfile import (
    MAX_DESCRIPTION,
    MAX_TEXT,
    problems_bounded,
    study_size_problems,
    study_yaml_load,
)
from workspace.models import ConsensusRule

CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
GROUP_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,19}$")
LANGS = ("en", "ru")
# What a study file's `consensus` block may hold: the registered rules' fields.
RULE_CHOICES = {"definition": ConsensusRule.Definition.values,
                "direction": ConsensusRule.Direction.values,
                "stability": ConsensusRule.Stability.values,
                "stopping": ConsensusRule.Stopping.values}
RULE_KEYS = set(ConsensusRule.REGISTERED)
DIMENSIONS = ("desirability", "feasibility", "importance")
MAX_DECIMALS = 4  # decimal places a numeric answer may have
KINDS = {kind.value for kind in Item.Kind}
# A timeline event's date, as precise as is known: 2019-08-02, 2018-02 or 2018.
EVENT_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


class _Checker:
    """Collects every problem with its location instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def text(self, data: dict, key: str, where: str, *, required: bool = True) -> None:
        value = data.get(key)
        if value is None and not required:
            return
        if not isinstance(value, dict):
            self.add(f"{where}.{key}", "expected a mapping with 'en' and 'ru' texts")
            return
        limit = MAX_DESCRIPTION if key == "description" else MAX_TEXT
        for lang in LANGS:
            if not isinstance(value.get(lang), str) or not value[lang].strip():
                self.add(f"{where}.{key}.{lang}", "missing or empty text")
            elif len(value[lang]) > limit:
                self.add(f"{where}.{key}.{lang}", f"longer than {limit:,} characters")

    def number(self, value: Any, where: str) -> TypeGuard[int | float]:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(where, f"expected a number, got {value!r}")
            return False
        return True


def _check_item(c: _Checker, item: Any, where: str, groups: set[str], seen: set[str]) -> None:
    if not isinstance(item, dict):
        c.add(where, "expected a mapping")
        return
    code = item.get("code")
    if not isinstance(code, str) or not CODE.match(code):
        c.add(f"{where}.code", "expected lower-case letters, digits and dashes")
    elif code in seen:
        c.add(f"{where}.code", f"duplicate item code {code!r}")
    else:
        seen.add(code)
    kind = item.get("kind")
    if kind not in KINDS:
        c.add(f"{where}.kind", f"{kind!r} is not one of {', '.join(sorted(KINDS))}")
        return
    c.text(item, "text", where)
    source = item.get("source")
    if source is not None and (not isinstance(source, dict)
                               or not isinstance(source.get("paragraph", 0), int)):
        c.add(f"{where}.source", "expected {paragraph: N, anchor: '...'}")
    if kind == "dimensions":
        dims = item.get("dimensions")
        if not isinstance(dims, list) or not dims or any(d not in DIMENSIONS for d in dims):
            c.add(f"{where}.dimensions", f"expected a non-empty list from {', '.join(DIMENSIONS)}")
    if kind in {"year", "numeric"}:
        low, high = item.get("min"), item.get("max")
        if c.number(low, f"{where}.min") and c.number(high, f"{where}.max") and low >= high:
            c.add(f"{where}.max", "must be greater than min")
    if "decimals" in item:
        places = item["decimals"]
        if kind != "numeric":
            c.add(f"{where}.decimals", "only a numeric item has decimal places")
        elif isinstance(places, bool) or not isinstance(places, int) or not 0 <= places <= MAX_DECIMALS:
            c.add(f"{where}.decimals", f"expected a whole number from 0 to {MAX_DECIMALS}")
    if kind == "ranking":
        options = item.get("options")
        if not isinstance(options, list) or len(options) < 2:
            c.add(f"{where}.options", "expected a list of at least two options")
        else:
            for k, option in enumerate(options):
                if not isinstance(option, dict) or not CODE.match(str(option.get("code", ""))):
                    c.add(f"{where}.options[{k}].code", "expected a code")
                else:
                    c.text(option, "text", f"{where}.options[{k}]")
    leaning = item.get("leaning", {})
    if not isinstance(leaning, dict) or not set(leaning) <= groups:
        c.add(f"{where}.leaning", "expected a mapping keyed by stakeholder group codes")
    _check_edition_keys(c, item, where, kind, groups)


def _check_edition_keys(c: _Checker, item: dict, where: str, kind: str, groups: set[str]) -> None:
    """The optional keys of a study's second edition: help, hindsight, a forecast's
    resolution, a year item's "never", and the simulated panel's spread and arguments."""
    c.text(item, "help", where, required=False)
    if not isinstance(item.get("hindsight", False), bool):
        c.add(f"{where}.hindsight", "expected true or false")
    resolution = item.get("resolution")
    if resolution is not None:
        if not isinstance(resolution, dict) or _date(resolution.get("date")) is None:
            c.add(f"{where}.resolution", "expected {date: YYYY-MM-DD, criteria: {en, ru}}")
        else:
            c.text(resolution, "criteria", f"{where}.resolution")
    if "never" in item:
        if kind != "year":
            c.add(f"{where}.never", "only a year item has a 'never' answer")
        c.text(item, "never", where)
    spread = item.get("spread", {})
    if not isinstance(spread, dict) or not set(spread) <= groups or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and v > 0
            for v in spread.values()):
        c.add(f"{where}.spread", "expected a mapping of stakeholder group codes to numbers > 0")
    arguments = item.get("arguments", {})
    allowed = ({str(o.get("code")) for o in item.get("options") or [] if isinstance(o, dict)}
               if kind == "ranking" else {"answers"} if kind == "open" else {"low", "high"})
    if not isinstance(arguments, dict) or not set(arguments) <= allowed:
        c.add(f"{where}.arguments", "expected a mapping with keys from " + ", ".join(sorted(allowed)))
        return
    for key, texts in arguments.items():
        if not isinstance(texts, list) or not texts:
            c.add(f"{where}.arguments.{key}", "expected a non-empty list of {en, ru} texts")
            continue
        for k, text in enumerate(texts):
            c.text({"text": text}, "text", f"{where}.arguments.{key}[{k}]")


def _date(value: Any) -> dt.date | None:
    """A date given as YYYY-MM-DD (a YAML date or a string), else None."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _check_frame(c: _Checker, data: dict) -> None:
    """The study's frame: the date its propositions refer to, and a dated timeline."""
    if "as_of" in data and _date(data["as_of"]) is None:
        c.add("as_of", "expected a date YYYY-MM-DD")
    if not isinstance(data.get("source_first_paragraph", ""), str):
        c.add("source_first_paragraph", "expected the first words of the source's paragraph 1")
    timeline = data.get("timeline", [])
    if not isinstance(timeline, list):
        c.add("timeline", "expected a list of {date: YYYY-MM-DD, text: {en, ru}}")
        return
    for k, event in enumerate(timeline):
        if not isinstance(event, dict) or not EVENT_DATE.match(str(event.get("date", ""))):
            c.add(f"timeline[{k}].date", "expected a date YYYY-MM-DD, YYYY-MM or YYYY")
        else:
            c.text(event, "text", f"timeline[{k}]")


def study_file_check(data: Any) -> list[str]:
    """Return the problems in a parsed study file, each prefixed by its location: counts over
    their limits alone if there are any, else every problem (at most MAX_PROBLEMS listed)."""
    if not isinstance(data, dict):
        return ["(top): expected a mapping"]
    return study_size_problems(data) or problems_bounded(_file_problems(data))


def _check_rule_text(c: _Checker, value: Any, where: str) -> None:
    """A registered protocol text: {en: ..., ru: ...}, either language may be left out."""
    if not isinstance(value, dict):
        c.add(where, "expected a mapping with 'en' and 'ru' texts")
        return
    for lang, text in value.items():
        if lang not in LANGS or not isinstance(text, str):
            c.add(f"{where}.{lang}", "expected text in en or ru")
        elif len(text) > MAX_TEXT:
            c.add(f"{where}.{lang}", f"longer than {MAX_TEXT:,} characters")


def _file_problems(data: dict) -> list[str]:
    c = _Checker()
    if data.get("version") != 1:
        c.add("version", "expected 1")
    if not isinstance(data.get("slug"), str) or not CODE.match(data["slug"]):
        c.add("slug", "expected lower-case letters, digits and dashes")
    c.text(data, "title", "(top)")
    c.text(data, "description", "(top)", required=False)
    consensus = data.get("consensus", {})
    if not isinstance(consensus, dict):
        c.add("consensus", "expected {agree_pct: 75, iqr_max: 1, direction: either}")
    else:
        pct = consensus.get("agree_pct", 75)
        if c.number(pct, "consensus.agree_pct") and not 0 < pct <= 100:
            c.add("consensus.agree_pct", "expected a percentage in (0, 100]")
        iqr = consensus.get("iqr_max", 1)
        if c.number(iqr, "consensus.iqr_max") and iqr < 0:
            c.add("consensus.iqr_max", "expected a number >= 0")
        for key, allowed in RULE_CHOICES.items():
            if key in consensus and consensus[key] not in allowed:
                c.add(f"consensus.{key}", "expected one of " + ", ".join(allowed))
        for key in ConsensusRule.TEXTS:
            _check_rule_text(c, consensus.get(key, {}), f"consensus.{key}")
        unknown = sorted(set(consensus) - RULE_KEYS)
        if unknown:
            c.add("consensus", "unknown key(s): " + ", ".join(map(str, unknown)))
    _check_frame(c, data)
    if data.get("default_language", "en") not in LANGS:
        c.add("default_language", "expected en or ru")
    min_cell = data.get("min_cell", 3)
    if type(min_cell) is not int or not 1 <= min_cell <= 50:
        c.add("min_cell", "expected a whole number from 1 to 50")
    groups: set[str] = set()
    raw_groups = data.get("stakeholder_groups")
    if not isinstance(raw_groups, list) or not raw_groups:
        c.add("stakeholder_groups", "expected a non-empty list")
        raw_groups = []
    for k, group in enumerate(raw_groups):
        where = f"stakeholder_groups[{k}]"
        if not isinstance(group, dict) or not GROUP_CODE.match(str(group.get("code", ""))):
            c.add(f"{where}.code", "expected an upper-case code such as RU")
            continue
        groups.add(group["code"])
        c.text(group, "name", where)
    themes = data.get("themes")
    if not isinstance(themes, list) or not themes:
        c.add("themes", "expected a non-empty list")
        themes = []
    theme_codes: set[str] = set()
    item_codes: set[str] = set()
    for t, theme in enumerate(themes):
        where = f"themes[{t}]"
        if not isinstance(theme, dict):
            c.add(where, "expected a mapping")
            continue
        code = theme.get("code")
        if not isinstance(code, str) or not CODE.match(code) or code in theme_codes:
            c.add(f"{where}.code", "expected a unique code of lower-case letters, digits, dashes")
        theme_codes.add(str(code))
        c.text(theme, "title", where)
        items = theme.get("items")
        if not isinstance(items, list) or not items:
            c.add(f"{where}.items", "expected a non-empty list")
            continue
        for i, item in enumerate(items):
            _check_item(c, item, f"{where}.items[{i}]", groups, item_codes)
            _check_resolves_after(c, item, f"{where}.items[{i}]", _date(data.get("as_of")))
    fielding_problems(c, data, groups)
    return c.problems


def _check_resolves_after(c: _Checker, item: Any, where: str, as_of: dt.date | None) -> None:
    """A forecast cannot resolve before the date the study's propositions refer to."""
    resolution = item.get("resolution") if isinstance(item, dict) else None
    resolves = _date(resolution.get("date")) if isinstance(resolution, dict) else None
    if as_of and resolves and resolves <= as_of:
        c.add(f"{where}.resolution.date", f"must come after the study's as_of date ({as_of})")


def study_file_read(path: str | Path) -> dict:
    """Parse a study file, raising StudyFileError that lists every problem."""
    try:
        data = study_yaml_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise StudyFileError([f"{path}: cannot be read ({exc.strerror})"]) from None
    problems = study_file_check(data)
    if problems:
        raise StudyFileError(problems)
    return data


def _item_fields(item: dict) -> dict:
    unit = item.get("unit") or {}
    source = item.get("source") or {}
    help_ = item.get("help") or {}
    never = item.get("never") or {}
    resolution = item.get("resolution") or {}
    criteria = resolution.get("criteria") or {}
    return {
        "kind": item["kind"],
        "text_en": item["text"]["en"],
        "text_ru": item["text"]["ru"],
        "source_paragraph": source.get("paragraph"),
        "source_anchor": source.get("anchor", ""),
        "dimensions": item.get("dimensions", []),
        "options": item.get("options", []),
        "min_value": item.get("min"),
        "max_value": item.get("max"),
        "unit_en": unit.get("en", ""),
        "unit_ru": unit.get("ru", ""),
        "decimals": item.get("decimals", 0) if item["kind"] == "numeric" else 0,
        "leaning": item.get("leaning", {}),
        "help_en": help_.get("en", ""),
        "help_ru": help_.get("ru", ""),
        "hindsight": bool(item.get("hindsight", False)),
        "resolves_on": _date(resolution.get("date")),
        "resolution_en": criteria.get("en", ""),
        "resolution_ru": criteria.get("ru", ""),
        "never_en": never.get("en", ""),
        "never_ru": never.get("ru", ""),
        "spread": item.get("spread", {}),
        "arguments": item.get("arguments", {}),
        "instructed": item.get("instructed"),  # checked in fielding_file (surveys only)
    }


def _texts_of(obj, field: str) -> dict:
    return {"en": getattr(obj, f"{field}_en"), "ru": getattr(obj, f"{field}_ru")}


def item_edition_data(item: Item) -> dict:
    """The item's second-edition keys in study-file shape (the inverse of _item_fields for
    them): help, hindsight, resolution, never, decimals, spread, arguments and an attention
    check's `instructed`, each only when set."""
    data: dict[str, Any] = {}
    if item.help_en or item.help_ru:
        data["help"] = _texts_of(item, "help")
    if item.hindsight:
        data["hindsight"] = True
    if item.resolves_on is not None:
        data["resolution"] = {"date": item.resolves_on, "criteria": _texts_of(item, "resolution")}
    if item.never_en or item.never_ru:
        data["never"] = _texts_of(item, "never")
    if item.decimals:
        data["decimals"] = item.decimals
    if item.spread:
        data["spread"] = item.spread
    if item.arguments:
        data["arguments"] = item.arguments
    if (value := item.instructed) is not None:  # an attention check
        data["instructed"] = int(value) if value.is_integer() else value
    return data


def study_frame_data(study: Study) -> dict:
    """The study's frame in study-file shape: as_of and the timeline, each only when set."""
    data: dict[str, Any] = {}
    if study.as_of is not None:
        data["as_of"] = study.as_of
    if study.timeline:
        data["timeline"] = study.timeline
    return data


def _answered_item_changes(data: dict) -> list[str]:
    """Problems for items that already have answers and whose answer format would change."""
    answered = {item.code: item for item in Item.objects.filter(
        study__slug=data["slug"], answers__isnull=False).distinct()}
    problems = []
    for t, theme in enumerate(data["themes"]):
        for i, raw in enumerate(theme["items"]):
            item = answered.get(raw["code"])
            if item is None:
                continue
            new = _item_fields(raw)
            before = (item.kind, item.dimensions, [o["code"] for o in item.options])
            if before != (new["kind"], new["dimensions"], [o["code"] for o in new["options"]]):
                problems.append(f"themes[{t}].items[{i}]: item {item.code!r} already has answers; "
                                "its kind, dimensions and options cannot change (add a new item)")
    return problems


@transaction.atomic
def study_load(*, data: dict, actor=None) -> Study:
    """Create or update the study a checked file describes; loading the same file again
    leaves the same study. Items that have answers keep their answer format."""
    problems = study_file_check(data) or _answered_item_changes(data)
    if problems:
        raise StudyFileError(problems)
    description = data.get("description") or {"en": "", "ru": ""}
    study, created = Study.objects.update_or_create(
        slug=data["slug"],
        defaults={
            "title_en": data["title"]["en"],
            "title_ru": data["title"]["ru"],
            "description_en": description["en"],
            "description_ru": description["ru"],
            "source": data.get("source", ""),
            "languages": data.get("languages", list(LANGS)),
            "default_language": data.get("default_language", "en"),
            "answer_before_feedback": bool(data.get("answer_before_feedback", False)),
            "mode": data.get("mode", "classic"),
            "min_cell": data.get("min_cell", 3),
            "as_of": _date(data.get("as_of")),
            "timeline": [{"date": str(e["date"]), "text": e["text"]}
                         for e in data.get("timeline", [])],
        },
    )
    for position, group in enumerate(data["stakeholder_groups"]):
        StakeholderGroup.objects.update_or_create(
            study=study,
            code=group["code"],
            defaults={"name_en": group["name"]["en"], "name_ru": group["name"]["ru"],
                      "position": position},
        )
    for t, theme_data in enumerate(data["themes"]):
        theme, _ = Theme.objects.update_or_create(
            study=study,
            code=theme_data["code"],
            defaults={"title_en": theme_data["title"]["en"],
                      "title_ru": theme_data["title"]["ru"], "position": t},
        )
        for i, item in enumerate(theme_data["items"]):
            Item.objects.update_or_create(
                study=study,
                code=item["code"],
                defaults={"theme": theme, "position": i, **_item_fields(item)},
            )
    fielding_load(study=study, data=data)  # consent, screening, collectors (surveys)
    AuditEvent.objects.create(
        study=study, actor=actor, action="study_created" if created else "study_updated",
        detail={"items": sum(len(t["items"]) for t in data["themes"])},
    )
    if "consensus" in data:
        _rules_from_file(study=study, consensus=data["consensus"], actor=actor)
    return study


def _rules_from_file(*, study: Study, consensus: dict, actor) -> None:
    """A file's `consensus` block registers the rules through the workspace's own service
    (unchanged rules register nothing); once round 1 has opened they can only change on the
    rules page, with a written reason."""
    from workspace.services.rules import rule_register, rules_differ, rules_locked

    if not rules_differ(study=study, values=consensus):
        return
    if rules_locked(study):
        raise StudyFileError(["consensus: the rules are locked since round 1 opened; change "
                              "them on the rules page with a written reason"])
    rule_register(study=study, actor=actor, **consensus)
