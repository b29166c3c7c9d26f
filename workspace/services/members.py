"""The study's staff: owners give staff users a role (owner, organizer, analyst) or take it away.

Only active accounts that are not superusers can be given a role; for any other username the
answer is the same as for one that does not exist.

A study always keeps at least one owner: the last owner can be neither removed nor demoted.
Every change is audited with the role before and after.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.models import AuditEvent, Study, StudyMember

Role = StudyMember.Role


def _owners(study: Study) -> int:
    # Locks the owners' rows, so two owners removing each other at once cannot leave none.
    return len(list(StudyMember.objects.select_for_update().filter(study=study, role=Role.OWNER)))


@transaction.atomic
def member_grant(*, study: Study, username: str, role: str, actor) -> StudyMember:
    """Give the staff user with this username a role in the study, or change their role."""
    if role not in Role.values:
        raise ServiceError(_("Choose a role: owner, organizer or analyst."),
                           field_errors={"role": _("Choose a role.")})
    # One answer, after the same single query, whether the account does not exist, is inactive or
    # is the operator's superuser (who holds no study role): the form tells nobody which.
    user = get_user_model().objects.filter(username=(username or "").strip(), is_active=True,
                                           is_superuser=False).first()
    if user is None:
        raise ServiceError(_("There is no active staff user with this username."),
                           field_errors={"username": _("No such user.")})
    owners = _owners(study)
    member = StudyMember.objects.select_for_update().filter(study=study, user=user).first()
    before = member.role if member else ""
    if before == role:
        raise ServiceError(_("%(user)s already has this role.") % {"user": user.get_username()})
    if before == Role.OWNER and owners <= 1:
        raise ServiceError(_("A study keeps at least one owner: make someone else an owner "
                             "first."))
    if member is None:
        member = StudyMember.objects.create(study=study, user=user, role=role)
    else:
        member.role = role
        member.save(update_fields=["role"])
    AuditEvent.objects.create(
        study=study, actor=actor, action="member_added" if not before else "member_role_changed",
        detail={"user": user.get_username(), "before": {"role": before} if before else {},
                "after": {"role": role}})
    return member


@transaction.atomic
def member_revoke(*, member: StudyMember, actor) -> None:
    """Take a staff user's role in the study away; the last owner stays."""
    study = member.study
    owners = _owners(study)
    member = StudyMember.objects.select_for_update().select_related("user").get(pk=member.pk)
    if member.role == Role.OWNER and owners <= 1:
        raise ServiceError(_("A study keeps at least one owner: make someone else an owner "
                             "first."))
    username, role = member.user.get_username(), member.role
    member.delete()
    AuditEvent.objects.create(study=study, actor=actor, action="member_removed",
                              detail={"user": username, "before": {"role": role}, "after": {}})
