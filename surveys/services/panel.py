"""The panel: experts, their invitation tokens, their expertise, and staff membership."""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from django.db import transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.models import (
    AuditEvent,
    Expert,
    ExpertiseRating,
    ExpertLink,
    Round,
    StakeholderGroup,
    Study,
    StudyMember,
)


def token_hash(token: str) -> str:
    """Hash an invitation token; only the hash is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def expert_create(
    *, study: Study, name: str, email: str, group_code: str, language: str = "", actor=None
) -> Expert:
    """Add an expert to the study's panel in a stakeholder group."""
    try:
        group = study.groups.get(code=group_code)
    except StakeholderGroup.DoesNotExist:
        codes = ", ".join(study.groups.values_list("code", flat=True))
        raise ServiceError(_("Unknown stakeholder group %(code)s; expected one of %(codes)s.")
                           % {"code": repr(group_code), "codes": codes}) from None
    if study.experts.filter(email__iexact=email).exists():
        raise ServiceError(_("An expert with the email %(email)s is already on this panel.")
                           % {"email": email})
    expert = Expert.objects.create(
        study=study, name=name, email=email.lower(), group=group,
        language=language or study.default_language,
    )
    AuditEvent.objects.create(study=study, actor=actor, action="expert_added",
                              detail={"expert": expert.pk, "group": group.code})
    return expert


@transaction.atomic
def expert_issue_token(*, expert: Expert, actor=None) -> str:
    """Give the expert one more personal link token (256 random bits). The links they hold
    keep working: only a revocation ends them."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    ExpertLink.objects.create(expert=expert, token_hash=token_hash(token), issued_at=now)
    expert.token_issued_at = now
    expert.save(update_fields=["token_issued_at"])
    AuditEvent.objects.create(study=expert.study, actor=actor, action="token_issued",
                              detail={"expert": expert.pk})
    return token


def expert_links_revoke(*, expert: Expert) -> bool:
    """End every link the expert holds and every session opened with one (at its next
    request); says whether a live link was revoked. Called inside the revoking service's
    transaction, on a locked expert row."""
    revoked = ExpertLink.objects.filter(expert=expert, revoked_at__isnull=True).update(
        revoked_at=timezone.now())
    Expert.objects.filter(pk=expert.pk).update(access_generation=F("access_generation") + 1)
    expert.refresh_from_db(fields=["access_generation"])
    return revoked > 0


def links_end_at(*, study: Study, round_open: bool, last_closed_at) -> datetime | None:
    """When the study's links stop working: never while a round is open or before the first
    round closes; else `link_lifetime_days` after the last round closed."""
    if round_open or last_closed_at is None:
        return None
    return last_closed_at + timedelta(days=study.link_lifetime_days)


def study_links_end_at(study: Study) -> datetime | None:
    """links_end_at for a study, read in one query."""
    rounds = study.rounds.aggregate(
        open=Count("pk", filter=Q(status=Round.Status.OPEN)), last=Max("closed_at"))
    return links_end_at(study=study, round_open=rounds["open"] > 0, last_closed_at=rounds["last"])


class LinkStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"  # the study's link lifetime has ended
    INVALID = "invalid"  # unknown, revoked, or the expert is withdrawn


def expert_link_status(token: str) -> tuple[LinkStatus, Expert | None, datetime | None]:
    """What a personal link's token opens, whose it is (the expert with their study; None when
    invalid) and when the study's links end (None: not yet known, a round is open or none has
    closed); one query, the hash compared in constant time."""
    if not token or len(token) > 100:
        return LinkStatus.INVALID, None, None
    digest = token_hash(token)
    rounds = Round.objects.filter(study_id=OuterRef("expert__study_id"))
    link = (ExpertLink.objects.select_related("expert__study")
            .filter(token_hash=digest, revoked_at__isnull=True, expert__withdrawn_at__isnull=True)
            .annotate(round_open=Exists(rounds.filter(status=Round.Status.OPEN)),
                      last_closed_at=Subquery(rounds.filter(closed_at__isnull=False)
                                              .order_by("-closed_at").values("closed_at")[:1]))
            .first())
    if link is None or not hmac.compare_digest(link.token_hash, digest):
        return LinkStatus.INVALID, None, None
    expert = link.expert
    ends = links_end_at(study=expert.study, round_open=link.round_open,
                        last_closed_at=link.last_closed_at)
    if ends is not None and ends <= timezone.now():
        return LinkStatus.EXPIRED, expert, ends
    return LinkStatus.VALID, expert, ends


def expert_for_token(token: str) -> Expert | None:
    """Return the active expert whose live link this is, or None."""
    status, expert, _ends = expert_link_status(token)
    return expert if status == LinkStatus.VALID else None


@transaction.atomic
def expert_set_language(*, expert: Expert, language: str) -> None:
    """Remember the language the expert chose."""
    if language not in {"en", "ru"}:
        raise ServiceError(_("Unknown language."))
    if expert.language != language:
        expert.language = language
        expert.save(update_fields=["language"])


@transaction.atomic
def expertise_save(*, expert: Expert, levels: dict[int, int]) -> None:
    """Store the expert's self-rated expertise (1-5) per theme id of their study."""
    theme_ids = set(expert.study.themes.values_list("id", flat=True))
    for theme_id, level in levels.items():
        if theme_id not in theme_ids or not 1 <= level <= 5:
            raise ServiceError(_("Expertise is rated 1 to 5 on one of the study's themes."))
        ExpertiseRating.objects.update_or_create(
            expert=expert, theme_id=theme_id, defaults={"level": level}
        )


@transaction.atomic
def member_add(*, study: Study, user, role: str) -> StudyMember:
    """Give a staff user a role in a study (idempotent)."""
    member, _ = StudyMember.objects.update_or_create(study=study, user=user, defaults={"role": role})
    return member
