"""Rounds: create round 1, plan the next from the last, edit a draft, open, extend, close, reopen."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from surveys.figures import stopping_status
from surveys.models import Round
from surveys.selectors import aggregation_progress, round_items, round_previous
from surveys.services.rounds import round_close, round_create
from workspace import forms
from workspace.selectors import (
    item_history,
    item_of,
    origins_for_round,
    round_of,
    study_for_organizer,
)
from workspace.selectors_rounds import (
    close_consequences,
    item_derivations,
    items_outside_round,
    open_consequences,
    plan_proposal,
    previous_open_answers,
    round_reminder,
    rounds_with_items,
    study_has_rounds,
)
from workspace.services import mail, planning
from workspace.services import round_outcomes as outcomes
from workspace.services import rounds as services
from workspace.services.outbox import outbox_enabled
from workspace.views._common import back, confirmation, run


@login_required
def rounds_page(request, slug):
    study = study_for_organizer(user=request.user, slug=slug)
    rounds = rounds_with_items(study)
    last = rounds[-1] if rounds else None
    proposal = plan_proposal(study)
    plan = proposal["items"]
    for r in rounds:  # what the confirmation dialogs say (confirm.js; the page without JS)
        if r.status == Round.Status.DRAFT:
            r.open_lines = open_consequences(r)
            r.open_title = _("Open round %(n)s?") % {"n": r.number}
            r.open_button = _("Open round %(n)s") % {"n": r.number}
        elif r.status == Round.Status.OPEN:
            r.close_lines = close_consequences(r)
            r.close_title = _("Close round %(n)s now?") % {"n": r.number}
            r.close_button = _("Close round %(n)s now") % {"n": r.number}
    return render(request, "workspace/rounds.html", {
        "outbox": reverse("workspace:outbox", args=[slug]) if outbox_enabled() else "",
        "study": study, "rounds": rounds, "last": last, "plan": plan,
        "counts": proposal.get("counts"), "stopping": stopping_status(study),
        "start_form": forms.RoundStartForm(), "extend_form": forms.ExtendForm(),
        "reopen_form": forms.ReopenForm(), "reminder_form": forms.ReminderScheduleForm(),
        "progress": aggregation_progress(last) if last else None})


@require_POST
@login_required
def round_first(request, slug):
    study = study_for_organizer(user=request.user, slug=slug)
    if study_has_rounds(study):
        messages.error(request, _("Round 1 exists already."))
    elif run(request, round_create, study=study, actor=request.user) is not None:
        messages.success(request, _("Round 1 is a draft with all the study's items."))
    return back("workspace:rounds", slug)


@require_POST
@login_required
def round_plan(request, slug):
    study = study_for_organizer(user=request.user, slug=slug)
    include = [int(pk) for pk in request.POST.getlist("include") if pk.isdigit()]
    round_ = run(request, planning.round_plan_next, study=study, include=include, actor=request.user)
    if round_ is None:
        return back("workspace:rounds", slug)
    messages.success(request, _("Round %(n)s is planned as a draft.") % {"n": round_.number})
    return back("workspace:round_draft", slug, round_.number)


def _round_back(slug, number):
    return back("workspace:rounds", slug, anchor=f"round-{number}")


@require_POST
@login_required
def round_action(request, slug, number, action):
    """Open (now or at a time), extend, close now, reopen, schedule or unschedule reminders.
    Opening and closing are asked for first (a confirmation page, or the dialog with JS)."""
    study = study_for_organizer(user=request.user, slug=slug)
    round_ = round_of(study, number)
    back_to = reverse("workspace:rounds", args=[slug]) + f"#round-{number}"
    form = {"start": forms.RoundStartForm, "extend": forms.ExtendForm, "reopen": forms.ReopenForm,
            "reminders": forms.ReminderScheduleForm}.get(action)
    bound = form(request.POST) if form else None
    if bound is not None and not bound.is_valid():
        messages.error(request, " ".join(str(e) for errors in bound.errors.values() for e in errors))
        return _round_back(slug, number)
    data = bound.cleaned_data if bound is not None else {}
    if action == "start":
        if round_.status == Round.Status.DRAFT and (asked := confirmation(
                request, study=study, back_to=back_to, lines=open_consequences(round_),
                title=_("Open round %(n)s?") % {"n": number},
                button=_("Open round %(n)s") % {"n": number})):
            return asked
        done = run(request, services.round_start, round_=round_, actor=request.user, **data)
        said = outcomes.opened(done) if done is not None else ""
    elif action == "close":
        if round_.status == Round.Status.OPEN and (asked := confirmation(
                request, study=study, back_to=back_to, lines=close_consequences(round_),
                title=_("Close round %(n)s now?") % {"n": number},
                button=_("Close round %(n)s now") % {"n": number})):
            return asked
        done = run(request, round_close, round_=round_, actor=request.user)
        said = outcomes.closed(done) if done is not None else ""
    elif action == "extend":
        before = round_.closes_at
        done = run(request, services.round_extend, round_=round_, actor=request.user, **data)
        said = outcomes.extended(done, before) if done is not None else ""
    elif action == "reopen":
        done = run(request, services.round_reopen, round_=round_, actor=request.user, **data)
        said = outcomes.reopened(done) if done is not None else ""
    elif action == "reminders":
        made = run(request, mail.reminder_schedule, round_=round_, actor=request.user,
                   hours_before=data["hours"])
        said = outcomes.reminders_scheduled(round_, made, data["hours"]) if made is not None else ""
    elif action == "unremind":
        pk = request.POST.get("reminder", "")
        reminder = round_reminder(round_, int(pk)) if pk.isdigit() else None
        hours = reminder.hours_before if reminder is not None else None
        said = ""
        if reminder is None:
            messages.error(request, _("This reminder does not exist (any more)."))
        elif run(request, mail.reminder_unschedule, reminder=reminder, actor=request.user):
            said = outcomes.reminder_removed(hours)
    else:
        said = ""
        messages.error(request, _("Unknown action."))
    if said:
        messages.success(request, said)
    return _round_back(slug, number)


@login_required
def round_draft(request, slug, number):
    """The items of a round with their provenance; a draft's items can be changed here."""
    study = study_for_organizer(user=request.user, slug=slug)
    round_ = round_of(study, number)
    items = round_items(round_)
    origins = origins_for_round(round_)
    return render(request, "workspace/round_draft.html", {
        "study": study, "round": round_, "is_draft": round_.status == Round.Status.DRAFT,
        "rows": [{"item": i, "origins": origins.get(i.pk, [])} for i in items],
        "others": items_outside_round(study, round_), "previous": round_previous(round_),
        "open_answers": previous_open_answers(round_), "reword": forms.RewordForm()})


def _texts(post, prefix: str = "") -> dict:
    return {k: post.get(prefix + k, "").strip() for k in ("code", "text_en", "text_ru")}


@require_POST
@login_required
def draft_edit(request, slug, number, action):
    """Reword, split, merge, add or remove items of a draft round."""
    study = study_for_organizer(user=request.user, slug=slug)
    round_ = round_of(study, number)
    post = request.POST
    code = post.get("item", "")
    if action == "reword":
        run(request, planning.draft_item_reword, round_=round_, item=item_of(study, code),
            actor=request.user, **_texts(post))
    elif action == "split":
        parts = [_texts(post, f"p{k}-") for k in range(1, 5)]
        parts = [p for p in parts if any(p.values())]
        run(request, planning.draft_item_split, round_=round_, item=item_of(study, code),
            parts=parts, actor=request.user)
    elif action == "merge":
        items = [item_of(study, c) for c in post.getlist("items")]
        run(request, planning.draft_items_merge, round_=round_, items=items, actor=request.user,
            **_texts(post))
    elif action == "add":
        source = post.get("source", "")
        run(request, planning.draft_item_add, round_=round_, item=item_of(study, code),
            source_item=item_of(study, source) if source else None, note=post.get("note", ""),
            actor=request.user)
    elif action == "remove":
        run(request, planning.draft_item_remove, round_=round_, item=item_of(study, code),
            actor=request.user)
    else:
        messages.error(request, _("Unknown action."))
    return back("workspace:round_draft", slug, number)


@login_required
def item_lineage(request, slug, code):
    study = study_for_organizer(user=request.user, slug=slug)
    item = item_of(study, code)
    return render(request, "workspace/lineage.html", {
        "study": study, "item": item, "history": item_history(item),
        "derived": item_derivations(item)})
