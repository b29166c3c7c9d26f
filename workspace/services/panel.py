"""The panel from the organizer's side: add experts (one by one or by CSV), withdraw, erase."""

import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.models import AuditEvent, Expert, Study
from surveys.pseudonyms import expert_pseudonym
from surveys.services.panel import expert_create, expert_links_revoke
from workspace.models import Message, OutboxMessage

LANGUAGES = ("en", "ru")
CSV_COLUMNS = ("name", "email", "group", "language")
MAX_CSV_BYTES = 1_000_000
MAX_CSV_ROWS = 5000
ERASED_DOMAIN = "erased.invalid"


@dataclass
class PanelRow:
    line: int
    name: str
    email: str
    group: str
    language: str


@dataclass
class PanelImport:
    """What a CSV upload would do: rows to add, duplicates of the panel, and every problem."""

    rows: list[PanelRow] = field(default_factory=list)
    duplicates: list[PanelRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    added: list[Expert] = field(default_factory=list)


def _row_problems(study: Study, *, name: str, email: str, group: str, language: str,
                  where: str) -> list[str]:
    problems = []
    if not name.strip():
        problems.append(f"{where}, name: " + _("missing"))
    elif len(name) > 200:
        problems.append(f"{where}, name: " + _("longer than 200 characters"))
    try:
        validate_email(email)
    except ValidationError:
        problems.append(f"{where}, email: " + _("%(value)r is not an email address") % {"value": email})
    codes = list(study.groups.values_list("code", flat=True))
    if group not in codes:
        problems.append(f"{where}, group: " + _("%(value)r is not one of %(codes)s") % {
            "value": group, "codes": ", ".join(codes)})
    if language not in LANGUAGES:
        problems.append(f"{where}, language: " + _("%(value)r is not en or ru") % {"value": language})
    return problems


def expert_add(*, study: Study, name: str, email: str, group: str, language: str, actor) -> Expert:
    """Add one expert after checking every field; a duplicate email is refused."""
    email = email.strip().lower()
    problems = _row_problems(study, name=name, email=email, group=group, language=language,
                             where=_("expert"))
    if problems:
        raise ServiceError("; ".join(problems))
    if study.experts.filter(email__iexact=email).exists():
        raise ServiceError(_("An expert with the email %(email)s is already on this panel.")
                           % {"email": email})
    return expert_create(study=study, name=name.strip(), email=email, group_code=group,
                         language=language, actor=actor)


def panel_csv_read(*, study: Study, content: bytes) -> PanelImport:
    """Check an uploaded CSV (name,email,group,language) and say what adding it would do."""
    result = PanelImport()
    if len(content) > MAX_CSV_BYTES:
        result.problems.append(_("The file is larger than 1 MB."))
        return result
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.problems.append(_("The file is not UTF-8 text."))
        return result
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS[:3] if c not in header]
    if missing:
        result.problems.append(_("line 1: missing column(s) %(columns)s; expected name, email, "
                                 "group, language") % {"columns": ", ".join(missing)})
        return result
    reader.fieldnames = header
    existing = {e.lower() for e in study.experts.values_list("email", flat=True)}
    seen: dict[str, int] = {}
    for index, raw in enumerate(reader):
        line = index + 2
        if index >= MAX_CSV_ROWS:
            result.problems.append(_("More than %(n)s rows.") % {"n": MAX_CSV_ROWS})
            break
        values = {c: (raw.get(c) or "").strip() for c in CSV_COLUMNS}
        if not any(values.values()):
            continue
        row = PanelRow(line=line, name=values["name"], email=values["email"].lower(),
                       group=values["group"], language=values["language"] or study.default_language)
        result.problems += _row_problems(study, name=row.name, email=row.email, group=row.group,
                                         language=row.language, where=_("line %(n)s") % {"n": line})
        if row.email in seen:
            result.problems.append(_("line %(n)s, email: %(email)s repeats line %(first)s") % {
                "n": line, "email": row.email, "first": seen[row.email]})
        elif row.email in existing:
            result.duplicates.append(row)
        else:
            result.rows.append(row)
        seen.setdefault(row.email, line)
    if not result.rows and not result.duplicates and not result.problems:
        result.problems.append(_("The file has no experts."))
    return result


@transaction.atomic
def panel_csv_import(*, study: Study, content: bytes, actor) -> PanelImport:
    """Add every new expert of the CSV, or nobody if any row has a problem; duplicates are skipped."""
    result = panel_csv_read(study=study, content=content)
    if result.problems:
        return result
    for row in result.rows:
        result.added.append(expert_create(study=study, name=row.name, email=row.email,
                                          group_code=row.group, language=row.language, actor=actor))
    AuditEvent.objects.create(study=study, actor=actor, action="panel_imported", detail={
        "added": [e.pk for e in result.added], "duplicates_skipped": len(result.duplicates)})
    return result


@transaction.atomic
def expert_withdraw(*, expert: Expert, actor, reason: str = "") -> Expert:
    """Take an expert off the panel: their links and sessions stop working, they get no more
    mail."""
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    if expert.withdrawn_at is not None:
        raise ServiceError(_("This expert has already been withdrawn."))
    expert.withdrawn_at = timezone.now()
    expert.save(update_fields=["withdrawn_at"])
    expert_links_revoke(expert=expert)
    Message.objects.filter(expert=expert, status=Message.Status.PENDING).update(
        status=Message.Status.FAILED, error=Message.WITHDRAWN)
    AuditEvent.objects.create(study=expert.study, actor=actor, action="expert_withdrawn",
                              detail={"expert": expert.pk, "reason": reason.strip()[:500],
                                      "before": {"withdrawn": False}, "after": {"withdrawn": True}})
    return expert


@transaction.atomic
def expert_revoke_token(*, expert: Expert, actor) -> Expert:
    """Make every personal link of the expert stop working, and end every session opened with
    one at its next request (a new link can be issued later); mail already queued for them is
    not sent (workspace.services.mail checks the links at sending)."""
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    had_link = expert_links_revoke(expert=expert)
    AuditEvent.objects.create(study=expert.study, actor=actor, action="token_revoked",
                              detail={"expert": expert.pk, "before": {"link": had_link},
                                      "after": {"link": False}})
    return expert


@transaction.atomic
def expert_erase(*, expert: Expert, actor) -> Expert:
    """Erase the expert's personal data on request; their answers stay under a pseudonym."""
    expert = Expert.objects.select_for_update().get(pk=expert.pk)
    pseudonym = expert_pseudonym(study_id=expert.study_id, expert_id=expert.pk)
    if expert.email.endswith("@" + ERASED_DOMAIN):
        raise ServiceError(_("This expert's personal data has already been erased."))
    now = timezone.now()
    expert.name = pseudonym
    expert.email = f"{pseudonym.lower()}@{ERASED_DOMAIN}"
    expert.withdrawn_at = expert.withdrawn_at or now
    expert.save(update_fields=["name", "email", "withdrawn_at"])
    expert_links_revoke(expert=expert)
    # The send log keeps that a message went out, not to which address (nor the server's
    # error text, which may quote it).
    Message.objects.filter(expert=expert).update(to_email="", error="")
    OutboxMessage.objects.filter(message__expert=expert).delete()
    Message.objects.filter(expert=expert, status=Message.Status.PENDING).update(
        status=Message.Status.FAILED, error="erased before sending")
    AuditEvent.objects.create(study=expert.study, actor=actor, action="expert_erased",
                              detail={"expert": expert.pk, "pseudonym": pseudonym})
    return expert


def is_erased(expert: Expert) -> bool:
    return expert.email.endswith("@" + ERASED_DOMAIN)


LIFETIME_MAX_DAYS = 3650


@transaction.atomic
def study_link_lifetime_set(*, study: Study, days: int, actor) -> Study:
    """Set how many days the experts' links keep working after the last round closes (0: they
    stop when it closes); while a round is open they always work."""
    if not 0 <= days <= LIFETIME_MAX_DAYS:
        raise ServiceError(_("A link lifetime goes from 0 to %(n)s days.") % {"n": LIFETIME_MAX_DAYS},
                           field_errors={"link_lifetime_days": _("From 0 to %(n)s.")
                                         % {"n": LIFETIME_MAX_DAYS}})
    study = Study.objects.select_for_update().get(pk=study.pk)
    before = study.link_lifetime_days
    if before == days:
        raise ServiceError(_("Nothing changed."))
    study.link_lifetime_days = days
    study.save(update_fields=["link_lifetime_days"])
    AuditEvent.objects.create(study=study, actor=actor, action="link_lifetime_changed",
                              detail={"before": {"days": before}, "after": {"days": days}})
    return study
