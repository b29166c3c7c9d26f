"""The panel: add experts (one or by CSV), invitations, reminders, the send log, withdraw, erase."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from surveys.models import Response, Round
from surveys.selectors import round_current
from surveys.services.panel import study_links_end_at
from workspace import forms
from workspace.models import Message
from workspace.selectors import expert_of, message_log, panel_status, study_for_organizer
from workspace.selectors_panel import panel_facets, panel_filter, panel_list
from workspace.services import mail
from workspace.services import panel as panel_services
from workspace.services.outbox import outbox_enabled
from workspace.views._common import back, confirmation, nonce, run


@login_required
def panel_page(request, slug):
    study = study_for_organizer(user=request.user, slug=slug)
    groups = list(study.groups.all())
    form = forms.ExpertForm(request.POST or None, groups=groups)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        invite = data.pop("invite")
        expert = run(request, panel_services.expert_add, study=study, actor=request.user, **data)
        if expert is not None:
            if invite:
                mail.invitations_send(study=study, experts=[expert], actor=request.user)
            messages.success(request, _("%(name)s is on the panel.") % {"name": expert.name})
            return back("workspace:panel", slug)
    current = round_current(study)
    status = panel_status(study, current)
    labels = dict(Message.Status.choices) | dict(Response.Status.choices)
    wanted = panel_filter(study, request.GET)
    listing = panel_list(study, current, wanted)
    experts = [{"expert": e, "erased": panel_services.is_erased(e),
                **{k: labels[v] for k, v in status.get(e.pk, {}).items()}}
               for e in listing.page.object_list]
    return render(request, "workspace/panel.html", {
        "study": study, "form": form, "upload": forms.UploadForm(), "experts": experts,
        "listing": listing, "wanted": wanted, "facets": panel_facets(listing), "round": current,
        "log": message_log(study)[:200],
        "links_end_at": study_links_end_at(study), "lifetime_max": panel_services.LIFETIME_MAX_DAYS,
        "failed": message_log(study, failed_only=True).count(), "nonce": nonce(),
        "outbox": reverse("workspace:outbox", args=[slug]) if outbox_enabled() else "",
        "open": current is not None and current.status == Round.Status.OPEN},
        status=400 if request.method == "POST" else 200)


@require_POST
@login_required
def panel_upload(request, slug):
    study = study_for_organizer(user=request.user, slug=slug)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a CSV file."))
        return back("workspace:panel", slug)
    content = upload.read(panel_services.MAX_CSV_BYTES + 1)
    result = panel_services.panel_csv_import(study=study, content=content, actor=request.user)
    status = 400 if result.problems else 200
    return render(request, "workspace/panel_upload.html", {"study": study, "result": result},
                  status=status)


@require_POST
@login_required
def invite(request, slug):
    """Invite everyone not invited yet, or (with an expert id) send one expert a new invitation."""
    study = study_for_organizer(user=request.user, slug=slug)
    expert_id = request.POST.get("expert", "")
    if expert_id.isdigit():
        experts = [expert_of(study, int(expert_id))]
        queued = run(request, mail.invitations_send, study=study, experts=experts,
                     actor=request.user, nonce=request.POST.get("nonce", "")[:40])
    else:
        queued = run(request, mail.invitations_send, study=study, actor=request.user)
    if queued is not None:
        messages.success(request, ngettext("%(n)s invitation queued.", "%(n)s invitations queued.",
                                           len(queued)) % {"n": len(queued)})
    return back("workspace:panel", slug)


@require_POST
@login_required
def remind(request, slug):
    study = study_for_organizer(user=request.user, slug=slug)
    current = round_current(study)
    if current is None:
        messages.error(request, _("There is no round."))
        return back("workspace:panel", slug)
    queued = run(request, mail.reminder_send_now, round_=current, actor=request.user,
                 nonce=request.POST.get("nonce", ""))
    if queued is not None:
        messages.success(request, ngettext("%(n)s reminder queued.", "%(n)s reminders queued.",
                                           len(queued)) % {"n": len(queued)})
    return back("workspace:panel", slug)


@require_POST
@login_required
def retry(request, slug, pk):
    study = study_for_organizer(user=request.user, slug=slug)
    message = Message.objects.filter(study=study, pk=pk).select_related("expert").first()
    if message is None:
        raise Http404
    if run(request, mail.message_retry, message=message, actor=request.user) is not None:
        messages.success(request, _("The message is queued again."))
    return back("workspace:panel", slug, anchor="log")


@require_POST
@login_required
def withdraw(request, slug, pk):
    study = study_for_organizer(user=request.user, slug=slug)
    expert = expert_of(study, pk)
    if expert.withdrawn_at is None and (asked := confirmation(
            request, study=study, back_to=reverse("workspace:panel", args=[slug]),
            lines=withdraw_consequences(expert),
            title=_("Withdraw %(name)s?") % {"name": expert.name},
            button=_("Withdraw %(name)s") % {"name": expert.name})):
        return asked
    if run(request, panel_services.expert_withdraw, expert=expert, actor=request.user,
           reason=request.POST.get("reason", "")) is not None:
        messages.success(request, _("%(name)s is withdrawn: their links no longer work and they "
                                    "get no more email; their answers stay in the study.")
                         % {"name": expert.name})
    return back("workspace:panel", slug)


def withdraw_consequences(expert) -> list[str]:
    """What withdrawing the expert does (the confirmation page and dialog say it)."""
    return [_("%(name)s leaves the panel: every link they hold stops working and their open "
              "sessions end.") % {"name": expert.name},
            _("They get no more invitations, reminders or notices; messages queued for them are "
              "not sent."),
            _("Their answers so far stay in the study.")]


@require_POST
@login_required
def erase(request, slug, pk):
    study = study_for_organizer(user=request.user, slug=slug)
    expert = expert_of(study, pk)
    if request.POST.get("confirm") != "erase":
        messages.error(request, _("Type 'erase' to confirm."))
        return back("workspace:panel", slug)
    erased = run(request, panel_services.expert_erase, expert=expert, actor=request.user)
    if erased is not None:
        messages.success(request, _("Personal data erased; the answers stay under %(p)s.")
                         % {"p": erased.name})
    return back("workspace:panel", slug)


@require_POST
@login_required
def revoke(request, slug, pk):
    """End every link of the expert and the sessions opened with them."""
    study = study_for_organizer(user=request.user, slug=slug)
    expert = expert_of(study, pk)
    if asked := confirmation(
            request, study=study, back_to=reverse("workspace:panel", args=[slug]),
            lines=revoke_consequences(expert),
            title=_("Revoke %(name)s's links?") % {"name": expert.name},
            button=_("Revoke the links")):
        return asked
    if run(request, panel_services.expert_revoke_token, expert=expert,
           actor=request.user) is not None:
        messages.success(request, _("%(name)s's links no longer work; a new invitation gives a "
                                    "new one.") % {"name": expert.name})
    return back("workspace:panel", slug)


def revoke_consequences(expert) -> list[str]:
    """What revoking the expert's links does (the confirmation page and dialog say it)."""
    return [_("Every link sent to %(name)s so far stops working and their open sessions end.")
            % {"name": expert.name},
            _("Their answers so far stay; a new invitation gives them a new link.")]


@require_POST
@login_required
def link_lifetime(request, slug):
    study = study_for_organizer(user=request.user, slug=slug)
    days = request.POST.get("days", "").strip()
    if not days.isdigit():
        messages.error(request, _("Enter a whole number of days."))
    elif run(request, panel_services.study_link_lifetime_set, study=study, days=int(days),
             actor=request.user) is not None:
        messages.success(request, _("The link lifetime is saved."))
    return back("workspace:panel", slug, anchor="links")
