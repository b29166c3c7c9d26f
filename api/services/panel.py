"""Panel changes the API offers beyond surveys.services.panel: revoke a link, withdraw, remove."""

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.models import AuditEvent, Expert, Round, StudyMember


class InUse(ServiceError):
    status = 409


@transaction.atomic
def expert_revoke_token(*, expert: Expert, actor=None) -> Expert:
    """Make the expert's personal link stop working (a new one can be issued later)."""
    expert.token_hash = None
    expert.save(update_fields=["token_hash"])
    AuditEvent.objects.create(study=expert.study, actor=actor, action="token_revoked",
                              detail={"expert": expert.pk})
    return expert


@transaction.atomic
def expert_withdraw(*, expert: Expert, actor=None) -> Expert:
    """Take the expert off the panel: the link stops working, their answers stay."""
    if expert.withdrawn_at is None:
        expert.withdrawn_at = timezone.now()
        expert.token_hash = None
        expert.save(update_fields=["withdrawn_at", "token_hash"])
        AuditEvent.objects.create(study=expert.study, actor=actor, action="expert_withdrawn",
                                  detail={"expert": expert.pk})
    return expert


def _delete(obj, message: str) -> None:
    try:
        with transaction.atomic():
            obj.delete()
    except (ProtectedError, RestrictedError):
        raise InUse(message) from None


def expert_delete(*, expert: Expert, actor=None) -> None:
    """Remove an expert who never answered; one with answers must be withdrawn instead."""
    study = expert.study
    with transaction.atomic():
        _delete(expert, _("This expert has answers, which are never deleted; withdraw the expert "
                          "instead."))
        AuditEvent.objects.create(study=study, actor=actor, action="expert_deleted", detail={})


def round_delete(*, round_: Round, actor=None) -> None:
    """Remove a draft round nobody answered; other rounds are part of the record."""
    if round_.status != Round.Status.DRAFT:
        raise InUse(_("Only a draft round can be deleted."))
    study, number = round_.study, round_.number
    with transaction.atomic():
        _delete(round_, _("This round has responses, which are never deleted."))
        AuditEvent.objects.create(study=study, actor=actor, action="round_deleted",
                                  detail={"round": number})


def member_remove(*, member: StudyMember, actor=None) -> None:
    """Take a staff user's role away; a study always keeps at least one owner."""
    with transaction.atomic():
        owners = StudyMember.objects.select_for_update().filter(
            study=member.study, role=StudyMember.Role.OWNER)
        if member.role == StudyMember.Role.OWNER and owners.count() <= 1:
            raise InUse(_("A study keeps at least one owner."))
        member.delete()
        AuditEvent.objects.create(study=member.study, actor=actor, action="member_removed",
                                  detail={"user": member.user.get_username()})
