"""A survey's collectors (open recruitment links): add, change, close and reopen them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from surveys.errors import ServiceError
from surveys.models import Collector, Study
from surveys.selectors_fielding import collector_is_open, survey_round
from surveys.selectors_staff import study_role
from surveys.services.collectors import FIELDS, collector_close, collector_save
from workspace import forms
from workspace.selectors import WRITE, study_for_organizer, study_for_reader
from workspace.views._common import back, run


def _survey(request, slug: str, *, read: bool = False) -> Study:
    """The survey, if the user may change it (`read`: may read it; analysts see the list)."""
    find = study_for_reader if read else study_for_organizer
    study = find(user=request.user, slug=slug)
    if study.mode != Study.Mode.SURVEY:
        raise Http404
    return study


def _groups(study: Study) -> list[tuple[str, str]]:
    return [(g.code, f"{g.code} · {g.name}") for g in study.groups.order_by("position", "code")]


def _saved(request, study: Study, form, *, new: bool) -> bool:
    """Save the form's collector; on a problem, put each field's message on the form."""
    if not form.is_valid():
        return False
    values = {key: form.cleaned_data.get(key) for key in FIELDS}
    try:
        collector_save(study=study, actor=request.user, code=form.cleaned_data["code"],
                       values=values, new=new)
    except ServiceError as exc:
        for field, message in exc.field_errors.items():
            form.add_error(field if field in form.fields else None, message)
        if not exc.field_errors:
            form.add_error(None, exc.message)
        return False
    messages.success(request, _("The collector %(code)s is saved.") % {
        "code": form.cleaned_data["code"]})
    return True


@login_required
def collectors_page(request, slug):
    """Every collector with its link, state and settings, and (for organizers) a form to add
    one and each link's actions."""
    study = _survey(request, slug, read=request.method != "POST")
    reader_only = study_role(study, request.user) not in WRITE
    form = forms.CollectorForm(request.POST or None, groups=_groups(study), prefix="new")
    if request.method == "POST" and _saved(request, study, form, new=True):
        return back("workspace:collectors", slug)
    round_ = survey_round(study)
    rows = [{"collector": c, "state": collector_is_open(c, round_),
             "link": request.build_absolute_uri(f"/s/{c.token}/")}
            for c in Collector.objects.filter(study=study).select_related("group")]
    return render(request, "workspace/collectors.html", {
        "study": study, "rows": rows, "form": form, "round_open": round_ is not None,
        "reader_only": reader_only},
        status=400 if form.errors else 200)


@login_required
def collector_edit(request, slug, code):
    study = _survey(request, slug)
    collector = Collector.objects.filter(study=study, code=code).select_related("group").first()
    if collector is None:
        raise Http404
    initial = {key: getattr(collector, key) for key in FIELDS} | {
        "code": collector.code, "group": collector.group.code}
    form = forms.CollectorForm(request.POST or None, initial=initial, groups=_groups(study),
                               editing=True, prefix="edit")
    if request.method == "POST" and _saved(request, study, form, new=False):
        return back("workspace:collectors", slug)
    return render(request, "workspace/collector_edit.html", {
        "study": study, "collector": collector, "form": form},
        status=400 if form.errors else 200)


@require_POST
@login_required
def collector_state(request, slug, code):
    """Close the link now (action=close) or reopen it (action=reopen)."""
    study = _survey(request, slug)
    action = request.POST.get("action")
    if action not in {"close", "reopen"}:
        messages.error(request, _("Unknown action."))
    elif run(request, collector_close, study=study, actor=request.user, code=code,
             close=action == "close") is not None:
        messages.success(request, (_("The link %(code)s is closed.") if action == "close" else
                                   _("The link %(code)s is open again.")) % {"code": code})
    return back("workspace:collectors", slug)
