"""An organizer's collectors (a survey's open recruitment links) from the workspace: add one,
change its group, country, quota, dates, redirects and speeder threshold, close it now or
reopen it. The study file's `collectors:` block sets the same fields (fielding_file); both
check them here (`collector_problems`). A collector's token never changes: a link sent to a
panel provider keeps working."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.models import AuditEvent, Collector, Entry, StakeholderGroup, Study
from surveys.models.fielding import redirect_url_check

CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
PARAM = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,29}$")
MAX_COLLECTORS = 100
MAX_QUOTA = 1_000_000
FIELDS = ("group", "country", "quota", "opens_at", "closes_at", "complete_redirect",
          "screenout_redirect", "id_param", "speeder_seconds")


def collector_problems(values: dict, groups: set[str]) -> dict[str, str]:
    """Each field's problem, in the active language (empty when the collector is sound).
    `values` holds the study-file keys, dates already parsed (None when absent)."""
    problems: dict[str, str] = {}
    if not CODE.match(str(values.get("code", ""))):
        problems["code"] = _("Use lower-case letters, digits and dashes (at most 50).")
    if values.get("group") not in groups:
        problems["group"] = _("Choose one of the study's stakeholder groups.")
    quota = values.get("quota")
    if quota is not None and (type(quota) is not int or not 1 <= quota <= MAX_QUOTA):
        problems["quota"] = _("A quota is a whole number from 1 to %(max)s, or nothing.") % {
            "max": number_format(MAX_QUOTA, force_grouping=True)}
    opens, closes = values.get("opens_at"), values.get("closes_at")
    if opens and closes and closes <= opens:
        problems["closes_at"] = _("The link must close after it opens.")
    for key in ("complete_redirect", "screenout_redirect"):
        url = values.get(key) or ""
        try:
            if not isinstance(url, str) or len(url) > 500:
                raise ValidationError("")
            if url:
                redirect_url_check(url)
        except ValidationError:
            problems[key] = _("Enter an https:// address of at most 500 characters (http:// "
                              "only on 127.0.0.1 or localhost).")
    if not PARAM.match(str(values.get("id_param", "pid"))):
        problems["id_param"] = _("A parameter name such as pid (letters, digits, underscores).")
    seconds = values.get("speeder_seconds", 0)
    if type(seconds) is not int or not 0 <= seconds <= 86_400:
        problems["speeder_seconds"] = _("Whole seconds from 0 to 86400.")
    country = values.get("country", "")
    if not isinstance(country, str) or len(country) > 100:
        problems["country"] = _("At most 100 characters.")
    return problems


@transaction.atomic
def collector_save(*, study: Study, actor, code: str, values: dict,
                   new: bool = False) -> Collector:
    """Add the collector `code` (with `new`) or change it: every field of FIELDS in `values`
    (`group` a group code). Refused for a study that is not a survey, for a code already in
    use when adding, and for a quota below the completions the link already has."""
    if study.mode != Study.Mode.SURVEY:
        raise ServiceError(_("Only a survey has collectors."))
    study = Study.objects.select_for_update().get(pk=study.pk)  # one change at a time
    groups = {g.code: g for g in StakeholderGroup.objects.filter(study=study)}
    values = {key: values.get(key) for key in FIELDS}
    for key in ("country", "complete_redirect", "screenout_redirect", "id_param"):
        values[key] = (values[key] or "").strip()
    values["id_param"] = values["id_param"] or "pid"
    values["speeder_seconds"] = values["speeder_seconds"] or 0
    problems = collector_problems({"code": code, **values}, set(groups))
    if problems:
        raise ServiceError(_("The collector was not saved."), field_errors=problems)
    existing = Collector.objects.filter(study=study, code=code).first()
    if new and existing is not None:
        raise ServiceError(_("The collector was not saved."),
                           field_errors={"code": _("This code is already in use.")})
    if existing is None and not new:
        raise ServiceError(_("There is no such collector."))
    if existing is None and study.collectors.count() >= MAX_COLLECTORS:
        raise ServiceError(_("A study has at most %(n)s collectors.") % {"n": MAX_COLLECTORS})
    fields = values | {"group": groups[values["group"]]}
    if existing is not None and fields["quota"] is not None:
        done = existing.entries.filter(status=Entry.Status.COMPLETED).count()
        if fields["quota"] < done:
            raise ServiceError(_("The collector was not saved."), field_errors={
                "quota": _("The link already has %(n)s completions: the quota cannot be "
                           "lower.") % {"n": done}})
    before = _shown(existing) if existing else {}
    if existing is None:
        collector = Collector.objects.create(study=study, code=code, **fields)
    else:
        for key, value in fields.items():
            setattr(existing, key, value)
        existing.save(update_fields=list(fields))
        collector = existing
    AuditEvent.objects.create(study=study, actor=actor, action="collector_saved", detail={
        "code": code, "before": before, "after": _shown(collector)})
    return collector


@transaction.atomic
def collector_close(*, study: Study, actor, code: str, close: bool = True) -> Collector:
    """Close the link now (its closing time becomes now) or, with close=False, reopen it (no
    closing time). Respondents already answering may finish the page they are on."""
    collector = Collector.objects.select_for_update().filter(study=study, code=code).first()
    if collector is None:
        raise ServiceError(_("There is no such collector."))
    before = _shown(collector)
    now = timezone.now()
    collector.closes_at = now if close else None
    if not close and collector.opens_at and collector.opens_at > now:
        collector.opens_at = None
    collector.save(update_fields=["closes_at", "opens_at"])
    AuditEvent.objects.create(study=study, actor=actor,
                              action="collector_closed" if close else "collector_reopened",
                              detail={"code": code, "before": before, "after": _shown(collector)})
    return collector


def _shown(collector: Collector) -> dict:
    """The collector's settings as the audit log keeps them (never its token)."""
    return {"group": collector.group.code, "country": collector.country,
            "quota": collector.quota,
            "opens_at": collector.opens_at.isoformat() if collector.opens_at else None,
            "closes_at": collector.closes_at.isoformat() if collector.closes_at else None,
            "complete_redirect": collector.complete_redirect,
            "screenout_redirect": collector.screenout_redirect,
            "id_param": collector.id_param, "speeder_seconds": collector.speeder_seconds}
