"""Access per study role, checked on the server for every request.

A caller without a role in the study (another study's staff, an expert's invitation token)
gets 404, never 403, so a study's existence does not leak. Inside a study, analysts read and
organizers and owners write; members are managed by owners only.
"""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from api.authentication import ExpertPrincipal
from surveys.models import StudyMember

Role = StudyMember.Role
READ = (Role.OWNER, Role.ORGANIZER, Role.ANALYST)
WRITE = (Role.OWNER, Role.ORGANIZER)
OWNER = (Role.OWNER,)


class StaffOnly(BasePermission):
    """A signed-in staff user (session or API token); an expert's token gets 404 here."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.user, ExpertPrincipal):
            raise exceptions.NotFound
        return bool(request.user and request.user.is_authenticated)


class ExpertOnly(BasePermission):
    """The expert behind an invitation token."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, ExpertPrincipal)


def membership(*, user, slug: str) -> StudyMember:
    """The user's role in the study, or 404 when there is none."""
    member = StudyMember.objects.select_related("study").filter(study__slug=slug, user=user).first()
    if member is None:
        raise Http404
    return member


class StudyScoped:
    """For views under /studies/<slug>/: resolves self.study and self.role before anything
    else (a body is never read for a study the caller may not see) and enforces the roles."""

    permission_classes = [StaffOnly]
    read_roles: tuple[str, ...] = READ
    write_roles: tuple[str, ...] = WRITE

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        member = membership(user=request.user, slug=kwargs["slug"])
        self.study, self.role = member.study, member.role
        allowed = self.read_roles if request.method in SAFE_METHODS else self.write_roles
        if self.role not in allowed:
            if self.role not in self.read_roles:
                raise Http404  # not even visible to this role (e.g. experts' identities)
            raise exceptions.PermissionDenied(_("Your role in this study does not allow changes."))

    @property
    def is_organizer(self) -> bool:
        return self.role in WRITE
