"""What the workspace's navigation shows depends on the viewer's role in the study."""

from django import template

from surveys.models import StudyMember
from surveys.selectors_staff import study_role

register = template.Library()


@register.simple_tag(takes_context=True)
def is_study_owner(context, study) -> bool:
    """Whether the signed-in user owns the study: only owners get the audit log link, since
    the page answers 404 to everybody else."""
    request = context.get("request")
    if study is None or request is None or not request.user.is_authenticated:
        return False
    return study_role(study, request.user) == StudyMember.Role.OWNER
