"""The dashboard (live response, aggregation progress, verdicts), the rules, and the audit log."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from surveys.charts import distribution_chart
from surveys.figures import round_figures, stopping_status
from surveys.models import Item, Round, Study, StudyMember
from surveys.selectors import aggregation_progress, live_round
from surveys.selectors_staff import panel_results, study_role
from workspace import forms
from workspace.models import ConsensusRule
from workspace.selectors import (
    WRITE,
    audit_events,
    message_log,
    registered_rule,
    shown_round,
    snapshots,
    study_for_organizer,
    study_for_reader,
)
from workspace.services import rounds as rounds_service
from workspace.services.rules import FIELDS, rule_register, rules_locked
from workspace.views._common import back, run

BAR_WIDTH = 160


def _response_context(study, round_) -> dict:
    figures = round_figures(round_) if round_ else {}
    table = figures.get("participation", [])
    for row in table:
        row["bar"] = round(BAR_WIDTH * (row["rate"] or 0) / 100, 1)
    return {"round": round_, "figures": figures, "table": table, "bar_width": BAR_WIDTH,
            "median_minutes": table[-1]["median_minutes"] if table else None,
            "run": aggregation_progress(round_) if round_ else None,
            "live": round_ is not None and round_.status in (Round.Status.OPEN, Round.Status.CLOSED)}


def _verdict_rows(figures: dict) -> list[dict]:
    """The figures' per-item verdicts with the panel's statistics and distribution charts."""
    if not figures.get("verdicts"):
        return []
    aggs = {}
    for a in panel_results(figures["round"]):
        aggs.setdefault(a.item_id, []).append(a)
    rows = []
    for row in figures["verdicts"]:
        item = row["item"]
        charts = [{"dimension": a.dimension, "agg": a,
                   "chart": distribution_chart(a.distribution, median=a.median, q1=a.q1, q3=a.q3,
                                               own=None)}
                  for a in aggs.get(item.pk, []) if item.kind in Item.RATED]
        rows.append({**row, "aggs": aggs.get(item.pk, []), "charts": charts})
    return rows


@login_required
def dashboard(request, slug):
    """A Delphi study's home: response, verdicts and rules by round. A survey's home is its
    Fielding page (its one round's response is counted there, per collector)."""
    study = study_for_reader(user=request.user, slug=slug)
    if study.mode == Study.Mode.SURVEY:
        return back("workspace:fielding", slug)
    number = request.GET.get("round", "")
    round_ = shown_round(study, int(number) if number.isdigit() else None)
    if number.isdigit() and round_ is None:
        raise Http404
    context = _response_context(study, round_)
    role = study_role(study, request.user)
    return render(request, "workspace/dashboard.html", {
        "study": study, "role": StudyMember.Role(role).label, "writer": role in WRITE,
        "owner": role == StudyMember.Role.OWNER,
        "reader_only": role not in WRITE, "rounds": list(study.rounds.order_by("number")),
        "rule": registered_rule(study),
        "rounds_opened": rules_locked(study),
        "stopping": stopping_status(study), "rows": _verdict_rows(context["figures"]),
        **context,
        "failed_sends": message_log(study, failed_only=True).count() if role in WRITE else 0,
        **_realtime_context(study)})


def _realtime_context(study) -> dict:
    if study.mode != Study.Mode.REALTIME:
        return {"realtime": False}
    return {"realtime": True, "snapshots": snapshots(study),
            "live_round": live_round(study)}


@require_POST
@login_required
def snapshot_take(request, slug):
    """Take a dated snapshot of a Real-Time study's live round (organizers and owners)."""
    study = study_for_organizer(user=request.user, slug=slug)
    number = request.POST.get("live", "")
    live = run(request, rounds_service.snapshot_take, study=study, actor=request.user,
               live_number=int(number) if number.isdigit() else 0)
    if live is not None:
        messages.success(request, _("Snapshot %(n)s is taken and is being aggregated; round "
                                    "%(next)s is live.") % {"n": live.number - 1,
                                                            "next": live.number})
    return back("workspace:dashboard", slug, anchor="snapshots")


@login_required
def dashboard_live(request, slug):
    """The live part of the dashboard (response and aggregation progress), polled by htmx."""
    study = study_for_reader(user=request.user, slug=slug)
    number = request.GET.get("round", "")
    round_ = shown_round(study, int(number) if number.isdigit() else None)
    return render(request, "workspace/_live.html", {"study": study,
                                                    **_response_context(study, round_)})


@login_required
def rules_page(request, slug):
    study = study_for_organizer(user=request.user, slug=slug)
    rule = registered_rule(study)
    initial = {f: getattr(rule, f) for f in FIELDS} if rule else {
        f: ConsensusRule._meta.get_field(f).get_default() for f in FIELDS}
    form = forms.RuleForm(request.POST or None, initial=forms.RuleForm.initial_from(initial))
    if request.method == "POST":
        if form.is_valid():
            data = form.registered()
            reason = data.pop("reason")
            try_rule = run(request, rule_register, study=study, actor=request.user, reason=reason,
                           **data)
            if try_rule is not None:
                messages.success(request, _("The rules are registered (revision %(n)s).")
                                 % {"n": try_rule.revision})
                return back("workspace:rules", slug)
        else:
            messages.error(request, _("The rules need correcting."))
    return render(request, "workspace/rules.html", {
        "study": study, "rule": rule, "form": form, "locked": rules_locked(study),
        "changes": rule.changes.select_related("changed_by") if rule else []},
        status=400 if request.method == "POST" else 200)


@login_required
def audit_log(request, slug):
    """Every recorded action on the study (who, what, when, before and after): owners only."""
    from workspace.selectors import study_for_owner

    study = study_for_owner(user=request.user, slug=slug)
    events = audit_events(study)
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    rows = [{"event": e, "before": _audit_lines((e.detail or {}).get("before")),
             "after": _audit_lines((e.detail or {}).get("after")),
             "detail": _audit_lines({k: v for k, v in (e.detail or {}).items()
                                     if k not in ("before", "after")})} for e in page]
    return render(request, "workspace/audit.html", {"study": study, "page": page, "rows": rows})


def _audit_lines(value) -> list[str]:
    """An audit detail as 'key: value' lines a person reads (nested values as compact JSON)."""
    if value in (None, {}, []):
        return []
    if not isinstance(value, dict):
        return [json.dumps(value, ensure_ascii=False, default=str)]
    return [f"{key}: {v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)}"
            for key, v in value.items()]
