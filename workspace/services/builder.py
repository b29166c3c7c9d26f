"""The study builder: a new study, its stakeholder groups, themes and items.

Item data use the study file's shape ({"code", "kind", "text": {"en", "ru"}, "source", ...}) and
are checked by the study file's own checker, so the builder and the YAML import agree.
"""

import re

from django.db import transaction
from django.utils.translation import gettext as _

from surveys.errors import ServiceError, StudyFileError
from surveys.models import AuditEvent, Item, Round, StakeholderGroup, Study, StudyMember, Theme
from surveys.services.panel import member_add
from surveys.services.studies import (
    CODE,
    GROUP_CODE,
    MAX_DECIMALS,
    _check_item,
    _Checker,
    _item_fields,
    item_edition_data,
)
from surveys.studyfile import MAX_TEXT

# _check_item/_Checker/_item_fields are the study file's own checker and field mapping: reusing
# them (rather than a copy) keeps the builder's rules and the YAML loader's rules the same.


# Item keys only the study file (or the API) sets; the workspace's item form keeps them.
FILE_ONLY_KEYS = ("help", "hindsight", "resolution", "never", "leaning", "spread", "arguments")


def _texts(**values: str) -> list[str]:
    return [k for k, v in values.items() if not (v or "").strip()]


@transaction.atomic
def study_create(*, slug: str, title_en: str, title_ru: str, actor) -> Study:
    """Create an empty draft study; its creator becomes its owner."""
    errors = {}
    if not CODE.match(slug or ""):
        errors["slug"] = _("Use lower-case letters, digits and dashes.")
    elif Study.objects.filter(slug=slug).exists():
        errors["slug"] = _("This address is taken.")
    for name in _texts(title_en=title_en, title_ru=title_ru):
        errors[name] = _("Required.")
    if errors:
        raise ServiceError(_("The study needs correcting."), field_errors=errors)
    study = Study.objects.create(slug=slug, title_en=title_en.strip(), title_ru=title_ru.strip(),
                                 languages=["en", "ru"])
    member_add(study=study, user=actor, role=StudyMember.Role.OWNER)
    AuditEvent.objects.create(study=study, actor=actor, action="study_created",
                              detail={"after": {"slug": slug, "title_en": study.title_en}})
    return study


@transaction.atomic
def group_save(*, study: Study, code: str, name_en: str, name_ru: str, actor) -> StakeholderGroup:
    """Add a stakeholder group, or rename the group with this code."""
    if not GROUP_CODE.match(code or ""):
        raise ServiceError(_("A group code is upper-case, e.g. RU."), field_errors={
            "code": _("Use upper-case letters, digits and underscores, e.g. RU.")})
    if _texts(name_en=name_en, name_ru=name_ru):
        raise ServiceError(_("Give the group's name in English and Russian."))
    before = study.groups.filter(code=code).values("name_en", "name_ru").first()
    group, _created = StakeholderGroup.objects.update_or_create(
        study=study, code=code, defaults={"name_en": name_en.strip(), "name_ru": name_ru.strip(),
                                          "position": study.groups.count() if not before else
                                          study.groups.get(code=code).position})
    AuditEvent.objects.create(study=study, actor=actor, action="group_saved", detail={
        "code": code, "before": before or {}, "after": {"name_en": group.name_en,
                                                         "name_ru": group.name_ru}})
    return group


@transaction.atomic
def theme_save(*, study: Study, code: str, title_en: str, title_ru: str, actor) -> Theme:
    """Add a theme, or retitle the theme with this code."""
    if not CODE.match(code or ""):
        raise ServiceError(_("A theme code uses lower-case letters, digits and dashes."),
                           field_errors={"code": _("Use lower-case letters, digits and dashes.")})
    if _texts(title_en=title_en, title_ru=title_ru):
        raise ServiceError(_("Give the theme's title in English and Russian."))
    before = study.themes.filter(code=code).values("title_en", "title_ru").first()
    position = study.themes.count() if not before else study.themes.get(code=code).position
    theme, _created = Theme.objects.update_or_create(
        study=study, code=code, defaults={"title_en": title_en.strip(),
                                          "title_ru": title_ru.strip(), "position": position})
    AuditEvent.objects.create(study=study, actor=actor, action="theme_saved", detail={
        "code": code, "before": before or {}, "after": {"title_en": theme.title_en,
                                                         "title_ru": theme.title_ru}})
    return theme


def item_problems(study: Study, data: dict, *, editing: Item | None = None) -> list[str]:
    """Every problem of one item in study-file shape, located by field."""
    checker = _Checker()
    others = study.items.all() if editing is None else study.items.exclude(pk=editing.pk)
    seen = set(others.values_list("code", flat=True))
    groups = set(study.groups.values_list("code", flat=True))
    _check_item(checker, data, "item", groups, seen)
    return checker.problems


# The study file's item keys and the workspace item form's fields they are shown beside.
PROBLEM_FIELDS = {"code": "code", "kind": "kind", "text.en": "text_en", "text.ru": "text_ru",
                  "source": "source_paragraph", "dimensions": "dimensions", "min": "min",
                  "max": "max", "decimals": "decimals", "unit": "unit_en", "options": "options"}
OPTION_PROBLEM = re.compile(r"^options\[(\d+)\]\.(code|text)")


def _problem_message(key: str, message: str) -> str:
    """The checker's terse problem (made for study-file authors) in plain words."""
    if key == "code":
        return (_("Another item of this study already has this code.") if "duplicate" in message
                else _("Use lower-case letters, digits and dashes, e.g. energy-1."))
    if key in {"text.en", "text.ru"}:
        return (_("This text is too long (at most %(n)s characters).") % {"n": MAX_TEXT}
                if "longer" in message else _("Write the text."))
    if key in {"min", "max"}:
        if "greater" in message:
            return _("The maximum must be greater than the minimum.")
        return (_("Required for this kind of item: enter a number.") if "got None" in message
                else _("Enter a number."))
    return {
        "kind": _("Choose one of the kinds in the list."),
        "source": _("Enter the paragraph's number as a whole number."),
        "dimensions": _("Choose at least one dimension."),
        "decimals": _("Enter a whole number from %(low)s to %(high)s.") % {
            "low": 0, "high": MAX_DECIMALS},
        "options": _("Give at least two options, one per line."),
    }.get(key, "")


def item_field_errors(problems: list[str]) -> dict[str | None, list[str]]:
    """The study file checker's problems for one item ("item.min: expected a number, got
    None") as plain messages keyed by the item form's field (None: the form as a whole)."""
    errors: dict[str | None, list[str]] = {}
    for problem in problems:
        where, _sep, message = problem.partition(": ")
        key = where.removeprefix("item").lstrip(".")
        option = OPTION_PROBLEM.match(key)
        if option:
            field: str | None = "options"
            number = int(option[1]) + 1
            text = (_("Option %(n)s: use lower-case letters, digits and dashes for its code.")
                    if option[2] == "code" else
                    _("Option %(n)s: give its text in English and in Russian.")) % {"n": number}
        elif key in PROBLEM_FIELDS:
            field, text = PROBLEM_FIELDS[key], _problem_message(key, message)
        else:  # a key only the study file sets (leaning, never, ...), kept by the form
            field = None
            text = _("A setting from the study file does not fit this item (%(key)s); change it "
                     "in the study file.") % {"key": key or where}
        errors.setdefault(field, [])
        if text not in errors[field]:
            errors[field].append(text)
    return errors


def item_edit_note(study: Study, item: Item | None) -> str:
    """Where a save on the item form takes effect, in a sentence for the organizer."""
    if item is not None:
        return _("No round has asked this item yet: a change shows in every round that asks it. "
                 "Once a round with it opens, its wording stays.")
    if not study.rounds.exists():
        return _("Round 1 asks every item of the study, this one included.")
    if study.rounds.filter(number=1, status=Round.Status.DRAFT).exists():
        return _("A new item joins round 1, which is still a draft.")
    return _("A new item appears from the next round (add it to that round's draft on the Rounds "
             "page); an open round keeps its items.")


def item_locked(item: Item) -> bool:
    """An item asked in a round that has opened keeps its wording: change it by rewording."""
    return item.rounds.exclude(status=Round.Status.DRAFT).exists() or item.answers.exists()


def _snapshot(item: Item) -> dict:
    return {"code": item.code, "kind": item.kind, "text_en": item.text_en, "text_ru": item.text_ru,
            "theme": item.theme.code}


@transaction.atomic
def item_save(*, study: Study, theme: Theme, data: dict, actor, item: Item | None = None) -> Item:
    """Create an item (or change one never asked yet) from study-file shaped data.

    A new item joins the study's draft round 1 if there is one.
    """
    if theme.study_id != study.pk:
        raise ServiceError(_("Unknown theme."))
    if item is not None and item_locked(item):
        raise ServiceError(_("This item has been asked already; reword it when planning the next "
                             "round."))
    problems = item_problems(study, data, editing=item)
    if problems:
        raise StudyFileError(problems)
    fields = _item_fields({**data, "leaning": data.get("leaning", {})})
    before = _snapshot(item) if item else {}
    if item is None:
        position = theme.items.count()
        item = Item.objects.create(study=study, theme=theme, code=data["code"], position=position,
                                   **fields)
        draft = study.rounds.filter(number=1, status=Round.Status.DRAFT).first()
        if draft is not None:
            draft.items.add(item)
    else:
        for name, value in fields.items():
            setattr(item, name, value)
        item.code, item.theme = data["code"], theme
        item.save()
    AuditEvent.objects.create(study=study, actor=actor, action="item_saved",
                              detail={"item": item.pk, "before": before, "after": _snapshot(item)})
    return item


@transaction.atomic
def item_delete(*, item: Item, actor) -> None:
    """Delete an item that no round has asked (drafts included: it leaves them first)."""
    if item_locked(item) or item.derived.exists():
        raise ServiceError(_("This item has been asked or has derived items; it stays."))
    study = item.study
    before = _snapshot(item)
    for round_ in item.rounds.all():
        round_.items.remove(item)
    item.origins.all().delete()
    item.delete()
    AuditEvent.objects.create(study=study, actor=actor, action="item_deleted",
                              detail={"before": before})


OPTION_LINE = re.compile(r"^\s*([a-z0-9][a-z0-9-]*)\s*\|\s*(.+?)\s*\|\s*(.+?)\s*$")


def options_read(text: str) -> tuple[list[dict], int | None]:
    """Ranking options from lines 'code | English | Russian', and the first bad line's number."""
    options: list[dict] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        match = OPTION_LINE.match(line)
        if not match:
            return options, number
        options.append({"code": match[1], "text": {"en": match[2], "ru": match[3]}})
    return options, None


def options_parse(text: str) -> list[dict] | str:
    """Ranking options from lines 'code | English | Russian', or the first bad line's message."""
    options, bad = options_read(text)
    if bad is not None:
        return _("options, line %(n)s: expected 'code | English | Russian'") % {"n": bad}
    return options


def options_format(options: list[dict]) -> str:
    return "\n".join(f"{o['code']} | {o['text'].get('en', '')} | {o['text'].get('ru', '')}"
                     for o in options)


def item_data(item: Item) -> dict:
    """An item in study-file shape (the inverse of the loader's field mapping)."""
    data: dict = {"code": item.code, "kind": item.kind,
                  "text": {"en": item.text_en, "ru": item.text_ru}}
    if item.source_paragraph is not None or item.source_anchor:
        data["source"] = {k: v for k, v in (("paragraph", item.source_paragraph),
                                            ("anchor", item.source_anchor)) if v not in (None, "")}
    if item.kind == Item.Kind.DIMENSIONS:
        data["dimensions"] = list(item.dimensions)
    if item.kind in {Item.Kind.YEAR, Item.Kind.NUMERIC}:
        data["min"], data["max"] = _number(item.min_value), _number(item.max_value)
    if item.unit_en or item.unit_ru:
        data["unit"] = {"en": item.unit_en, "ru": item.unit_ru}
    if item.kind == Item.Kind.RANKING:
        data["options"] = item.options
    if item.leaning:
        data["leaning"] = item.leaning
    return data | item_edition_data(item)


def _number(value: float | None):
    return int(value) if value is not None and float(value).is_integer() else value
