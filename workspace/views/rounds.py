"""Rounds: create round 1, plan the next from the last, edit a draft, open, extend, close, reopen."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

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
    item_derivations,
    items_outside_round,
    plan_proposal,
    previous_open_answers,
    round_reminder,
    rounds_with_items,
    study_has_rounds,
)
from workspace.services import mail, planning
from workspace.services import rounds as services
from workspace.views._common import back, run


@login_required
def rounds_page(request, slug):
    study = study_for_organizer(user=request.user, slug=slug)
    rounds = rounds_with_items(study)
    last = rounds[-1] if rounds else None
    proposal = plan_proposal(study)
    plan = proposal["items"]
    return render(request, "workspace/rounds.html", {
        "study": study, "rounds": rounds, "last": last, "plan": plan,
        "counts": proposal.get("counts"),
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


@require_POST
@login_required
def round_action(request, slug, number, action):
    """Open (now or at a time), extend, close now, reopen, schedule or unschedule reminders."""
    study = study_for_organizer(user=request.user, slug=slug)
    round_ = round_of(study, number)
    done = None
    if action == "start":
        form = forms.RoundStartForm(request.POST)
        if form.is_valid():
            done = run(request, services.round_start, round_=round_, actor=request.user,
                       **form.cleaned_data)
    elif action == "extend":
        form = forms.ExtendForm(request.POST)
        if form.is_valid():
            done = run(request, services.round_extend, round_=round_, actor=request.user,
                       **form.cleaned_data)
    elif action == "reopen":
        form = forms.ReopenForm(request.POST)
        if form.is_valid():
            done = run(request, services.round_reopen, round_=round_, actor=request.user,
                       **form.cleaned_data)
    elif action == "close":
        form = None
        done = run(request, round_close, round_=round_, actor=request.user)
    elif action == "reminders":
        form = forms.ReminderScheduleForm(request.POST)
        if form.is_valid():
            done = run(request, mail.reminder_schedule, round_=round_, actor=request.user,
                       hours_before=form.cleaned_data["hours"])
    elif action == "unremind":
        form = None
        pk = request.POST.get("reminder", "")
        reminder = round_reminder(round_, int(pk)) if pk.isdigit() else None
        if reminder is not None:
            run(request, mail.reminder_unschedule, reminder=reminder, actor=request.user)
    else:
        form = None
        messages.error(request, _("Unknown action."))
    if form is not None and not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    elif done is not None:
        messages.success(request, _("Round %(n)s: done.") % {"n": round_.number})
    return back("workspace:rounds", slug, anchor=f"round-{number}")


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
