"""What each round action did, in the organizer's words: the message the workspace shows after
it (and why nothing was done, when nothing was). Read after the action's service committed."""

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from surveys.models import AggregationRun, Round
from workspace.models import Message, Reminder
from workspace.services.mail import non_responders


def at(when: datetime) -> str:
    """A time as the workspace shows it: '14:02 UTC' today, '2026-12-10 18:00 UTC' otherwise."""
    when = when.astimezone(UTC)
    if when.date() == timezone.now().astimezone(UTC).date():
        return when.strftime("%H:%M") + " UTC"
    return when.strftime("%Y-%m-%d %H:%M") + " UTC"


def _closing(round_: Round) -> str:
    if round_.closes_at is None:
        return _("it has no closing time: close it by hand")
    return _("it closes at %(when)s") % {"when": at(round_.closes_at)}


def opened(round_: Round) -> str:
    """After round_start: opened now (with whom the notice goes to) or scheduled."""
    if round_.status == Round.Status.DRAFT and round_.opens_at is not None:
        return _("Round %(n)s opens at %(opens)s; %(closing)s. The panel is told by email when "
                 "it opens.") % {"n": round_.number, "opens": at(round_.opens_at),
                                 "closing": _closing(round_)}
    told = Message.objects.filter(round=round_, kind=Message.Kind.ROUND_OPENED).count()
    if told:
        notice = ngettext(
            "%(count)s expert is told by email, with a pointer to the link they hold (no new link).",
            "%(count)s experts are told by email, with a pointer to the link they hold (no new link).",
            told) % {"count": told}
    else:
        notice = _("Nobody was emailed: no expert holds a personal link yet. Invite the panel "
                   "from the Panel page.")
    return _("Round %(n)s opened at %(when)s; %(closing)s. %(notice)s") % {
        "n": round_.number, "when": at(round_.opens_at or timezone.now()),
        "closing": _closing(round_), "notice": notice}


def closed(round_: Round) -> str:
    """After round_close: when, against the planned time, and where the aggregation stands."""
    round_.refresh_from_db()
    when = at(round_.closed_at or timezone.now())
    if round_.status == Round.Status.AGGREGATED and round_.aggregated_at:
        return _("Round %(n)s closed at %(when)s and was aggregated at %(agg)s; plan the next "
                 "round below.") % {"n": round_.number, "when": when, "agg": at(round_.aggregated_at)}
    run = AggregationRun.objects.filter(round=round_).order_by("-version").first()
    if run is not None and run.status == AggregationRun.Status.FAILED:
        return _("Round %(n)s closed at %(when)s; the aggregation failed: see the dashboard.") % {
            "n": round_.number, "when": when}
    return _("Round %(n)s closed at %(when)s; aggregation started.") % {
        "n": round_.number, "when": when}


def extended(round_: Round, before: datetime | None) -> str:
    when = at(round_.closes_at or timezone.now())  # round_extend always sets it
    if before is None:
        return _("Round %(n)s now closes at %(when)s.") % {"n": round_.number, "when": when}
    return _("Round %(n)s now closes at %(when)s instead of %(before)s; scheduled reminders "
             "move with it.") % {"n": round_.number, "when": when, "before": at(before)}


def reopened(round_: Round) -> str:
    return _("Round %(n)s is open again; %(closing)s. Its pending aggregation was dropped.") % {
        "n": round_.number, "closing": _closing(round_)}


def _hours(hours: list[int]) -> str:
    return ", ".join(str(h) for h in sorted(set(hours), reverse=True))


def reminders_scheduled(round_: Round, made: list[Reminder], hours: list[int]) -> str:
    """After reminder_schedule: which reminders are new, when they go out and to how many."""
    if not made:
        return _("Nothing scheduled: reminders %(hours)s hours before closing exist already.") % {
            "hours": _hours(hours)}
    new = [r.hours_before for r in made if r.hours_before]
    waiting = non_responders(round_).count()
    to = ngettext("to the %(count)s expert who has not submitted yet",
                  "to the %(count)s experts who have not submitted yet", waiting) % {
        "count": waiting}
    if round_.closes_at is None:
        return _("Reminders scheduled for %(hours)s hours before closing, %(to)s; they go out "
                 "once the round has a closing time.") % {"hours": _hours(new), "to": to}
    times = ", ".join(at(round_.closes_at - r.offset()) for r in made if r.hours_before)
    return _("Reminders scheduled for %(times)s (%(hours)s hours before closing), %(to)s.") % {
        "times": times, "hours": _hours(new), "to": to}


def reminder_removed(hours: int | None) -> str:
    return _("The reminder %(hours)s hours before closing is removed.") % {"hours": hours}
