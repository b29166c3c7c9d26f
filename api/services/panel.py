"""Panel changes the API offers beyond the surveys and workspace services: revoke a link, delete
an expert or a draft round nobody answered."""

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.models import AuditEvent, Expert, Round


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
