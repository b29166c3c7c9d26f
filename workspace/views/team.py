"""The study's staff: owners give roles and take them away; organizers see who is on the team."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from surveys.models import StudyMember
from surveys.selectors_staff import study_role
from workspace import forms
from workspace.selectors import member_of, members, study_for_organizer, study_for_owner
from workspace.services.members import member_grant, member_revoke
from workspace.views._common import back, run


@login_required
def team_page(request, slug):
    """Owners add a staff user by username with a role, or change a role; organizers read."""
    study = study_for_organizer(user=request.user, slug=slug)
    owner = study_role(study, request.user) == StudyMember.Role.OWNER
    form = forms.MemberForm(request.POST or None)
    if request.method == "POST":
        study = study_for_owner(user=request.user, slug=slug)
        if not form.is_valid():
            messages.error(request, _("Give a username and a role."))
        elif run(request, member_grant, study=study, actor=request.user,
                 **form.cleaned_data) is not None:
            messages.success(request, _("%(user)s is now %(role)s of the study.") % {
                "user": form.cleaned_data["username"],
                "role": StudyMember.Role(form.cleaned_data["role"]).label.lower()})
            if study_role(study, request.user) == StudyMember.Role.ANALYST:
                return back("workspace:dashboard", slug)  # an owner who made themself analyst
            return back("workspace:team", slug)
    return render(request, "workspace/team.html", {
        "study": study, "members": members(study), "owner": owner, "form": form},
        status=400 if request.method == "POST" else 200)


@require_POST
@login_required
def member_remove(request, slug, pk):
    study = study_for_owner(user=request.user, slug=slug)
    member = member_of(study, pk)
    name = member.user.get_username()
    run(request, member_revoke, member=member, actor=request.user)
    if not study.members.filter(pk=pk).exists():
        messages.success(request, _("%(user)s has no role in the study any more.") % {"user": name})
        if member.user_id == request.user.pk:
            return redirect("workspace:home")
    return back("workspace:team", slug)
