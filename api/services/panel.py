"""Deletes the API offers beyond the surveys and workspace services: an expert or a draft round
nobody answered. Withdrawing an expert and revoking a link are the workspace's services
(workspace.services.panel), called by both doors."""

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.models import AuditEvent, Expert, Round


class InUse(ServiceError):
    status = 409


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
