"""Changing a study's frame: its title and description, renaming and deleting groups and themes.

Codes never change (results, links and study files refer to them); names and titles do, in
both languages. A delete is refused with the reason while anything depends on the group or
theme, and never cascades: experts, answers, items and expertise ratings always stay.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.models import Aggregate, AuditEvent, ExpertiseRating, StakeholderGroup, Study, Theme

STUDY_FIELDS = ("title_en", "title_ru", "description_en", "description_ru")
DESCRIPTION_MAX = 5000


def _blank(**values: str) -> dict[str, str]:
    return {name: _("Required.") for name, value in values.items() if not (value or "").strip()}


@transaction.atomic
def study_update(*, study: Study, actor, title_en: str, title_ru: str, description_en: str = "",
                 description_ru: str = "") -> Study:
    """Change the study's title (required in English and Russian) and description."""
    values = {"title_en": title_en, "title_ru": title_ru, "description_en": description_en,
              "description_ru": description_ru}
    values = {name: (value or "").strip() for name, value in values.items()}
    errors = _blank(title_en=values["title_en"], title_ru=values["title_ru"])
    for name in ("title_en", "title_ru"):
        if len(values[name]) > 300:
            errors[name] = _("At most 300 characters.")
    for name in ("description_en", "description_ru"):
        if len(values[name]) > DESCRIPTION_MAX:
            errors[name] = _("At most %(n)s characters.") % {"n": DESCRIPTION_MAX}
    if errors:
        raise ServiceError(_("The study's title is needed in English and Russian."),
                           field_errors=errors)
    study = Study.objects.select_for_update().get(pk=study.pk)
    before = {name: getattr(study, name) for name in STUDY_FIELDS}
    if before == values:
        raise ServiceError(_("Nothing changed."))
    for name, value in values.items():
        setattr(study, name, value)
    study.save(update_fields=list(STUDY_FIELDS))
    AuditEvent.objects.create(study=study, actor=actor, action="study_updated",
                              detail={"before": before, "after": values})
    return study


MIN_CELL_RANGE = (1, 50)


@transaction.atomic
def study_min_cell_set(*, study: Study, min_cell: int, actor) -> Study:
    """Change how many experts must have answered before experts see the panel's figures or
    arguments on an item (and the size of a Real-Time batch)."""
    low, high = MIN_CELL_RANGE
    if type(min_cell) is not int or not low <= min_cell <= high:
        raise ServiceError(_("Expected a whole number from %(low)s to %(high)s.")
                           % {"low": low, "high": high},
                           field_errors={"min_cell": _("From %(low)s to %(high)s.")
                                         % {"low": low, "high": high}})
    study = Study.objects.select_for_update().get(pk=study.pk)
    if study.min_cell == min_cell:
        raise ServiceError(_("Nothing changed."))
    before, study.min_cell = study.min_cell, min_cell
    study.save(update_fields=["min_cell"])
    AuditEvent.objects.create(study=study, actor=actor, action="study_min_cell_set",
                              detail={"before": before, "after": min_cell})
    return study


def _retitle(obj, *, texts: dict[str, str], limit: int, action: str, actor):
    """Store new bilingual texts on a locked row and audit them with before and after."""
    before = {name: getattr(obj, name) for name in texts}
    after = {name: value.strip()[:limit] for name, value in texts.items()}
    if before == after:
        raise ServiceError(_("Nothing changed."))
    for name, value in after.items():
        setattr(obj, name, value)
    # A theme's updated_at keys the questionnaire's cached items: its new title shows at once.
    stamp = ["updated_at"] if hasattr(obj, "updated_at") else []
    obj.save(update_fields=[*after, *stamp])
    AuditEvent.objects.create(study=obj.study, actor=actor, action=action,
                              detail={"code": obj.code, "before": before, "after": after})
    return obj


@transaction.atomic
def group_rename(*, group: StakeholderGroup, name_en: str, name_ru: str,
                 actor) -> StakeholderGroup:
    """Give a stakeholder group new names in both languages; its code stays."""
    if _blank(name_en=name_en, name_ru=name_ru):
        raise ServiceError(_("Give the group's name in English and Russian."),
                           field_errors=_blank(name_en=name_en, name_ru=name_ru))
    group = StakeholderGroup.objects.select_for_update().get(pk=group.pk)
    return _retitle(group, texts={"name_en": name_en, "name_ru": name_ru}, limit=100,
                    action="group_renamed", actor=actor)


@transaction.atomic
def group_delete(*, group: StakeholderGroup, actor) -> None:
    """Delete a stakeholder group nothing depends on: no expert (withdrawn ones included) and no
    results. Items' simulated leanings towards it are dropped with it."""
    group = StakeholderGroup.objects.select_for_update().select_related("study").get(pk=group.pk)
    study = group.study
    experts = group.experts.count()
    if experts:
        raise ServiceError(_(
            "The group %(code)s has %(n)s expert(s), whose answers are never deleted; it stays. "
            "Rename it instead.") % {"code": group.code, "n": experts})
    if Aggregate.objects.filter(round__study=study, group=group.code).exists():
        raise ServiceError(_("Results of an aggregated round refer to the group %(code)s; it "
                             "stays. Rename it instead.") % {"code": group.code})
    leanings = []
    for item in study.items.only("pk", "code", "leaning"):
        if group.code in (item.leaning or {}):
            item.leaning = {k: v for k, v in item.leaning.items() if k != group.code}
            item.save(update_fields=["leaning"])
            leanings.append(item.code)
    before = {"code": group.code, "name_en": group.name_en, "name_ru": group.name_ru}
    group.delete()
    AuditEvent.objects.create(study=study, actor=actor, action="group_deleted",
                              detail={"before": before, "after": {},
                                      "leanings_dropped": leanings})


@transaction.atomic
def theme_rename(*, theme: Theme, title_en: str, title_ru: str, actor) -> Theme:
    """Give a theme new titles in both languages; its code stays."""
    if _blank(title_en=title_en, title_ru=title_ru):
        raise ServiceError(_("Give the theme's title in English and Russian."),
                           field_errors=_blank(title_en=title_en, title_ru=title_ru))
    theme = Theme.objects.select_for_update().get(pk=theme.pk)
    return _retitle(theme, texts={"title_en": title_en, "title_ru": title_ru}, limit=300,
                    action="theme_renamed", actor=actor)


@transaction.atomic
def theme_delete(*, theme: Theme, actor) -> None:
    """Delete a theme without items and without experts' self-rated expertise on it."""
    theme = Theme.objects.select_for_update().select_related("study").get(pk=theme.pk)
    items = theme.items.count()
    if items:
        raise ServiceError(_(
            "The theme %(code)s has %(n)s item(s); delete or move them first (an item already "
            "asked and its answers always stay).") % {"code": theme.code, "n": items})
    if ExpertiseRating.objects.filter(theme=theme).exists():
        raise ServiceError(_("Experts rated their expertise on the theme %(code)s; it stays. "
                             "Retitle it instead.") % {"code": theme.code})
    study = theme.study
    before = {"code": theme.code, "title_en": theme.title_en, "title_ru": theme.title_ru}
    theme.delete()
    AuditEvent.objects.create(study=study, actor=actor, action="theme_deleted",
                              detail={"before": before, "after": {}})
