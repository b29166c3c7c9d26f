"""The panel: experts, their invitation tokens, their expertise, and staff membership."""

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.models import AuditEvent, Expert, ExpertiseRating, StakeholderGroup, Study, StudyMember


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
    """Give the expert a new personal link token (256 random bits); older links stop working."""
    token = secrets.token_urlsafe(32)
    expert.token_hash = token_hash(token)
    expert.token_issued_at = timezone.now()
    expert.save(update_fields=["token_hash", "token_issued_at"])
    AuditEvent.objects.create(study=expert.study, actor=actor, action="token_issued",
                              detail={"expert": expert.pk})
    return token


def expert_for_token(token: str) -> Expert | None:
    """Return the active expert whose link this is, or None; the hash is compared in constant time."""
    if not token or len(token) > 100:
        return None
    digest = token_hash(token)
    expert = Expert.objects.select_related("study").filter(token_hash=digest).first()
    if expert is None or not hmac.compare_digest(expert.token_hash or "", digest):
        return None
    if expert.withdrawn_at is not None:
        return None
    return expert


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
