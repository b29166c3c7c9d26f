"""Shared helpers for the management commands."""

from django.core.management.base import CommandError

from surveys.models import Round, Study


def get_study(slug: str) -> Study:
    try:
        return Study.objects.get(slug=slug)
    except Study.DoesNotExist:
        raise CommandError(f"No study with slug {slug!r}.") from None


def get_round(study: Study, number: int | None, *, status: str | None = None) -> Round:
    rounds = study.rounds.order_by("-number")
    if number is not None:
        rounds = rounds.filter(number=number)
    elif status is not None:
        rounds = rounds.filter(status=status)
    round_ = rounds.first()
    if round_ is None:
        which = f"round {number}" if number is not None else f"{status or 'any'} round"
        raise CommandError(f"Study {study.slug!r} has no {which}.")
    return round_
