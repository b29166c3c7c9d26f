"""Shared helpers for the management commands: they find the study, the round and the acting
user, then call the service the workspace calls and refuse with its message."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from surveys.errors import ServiceError, StudyFileError
from surveys.models import Round, Study, StudyMember

WRITE = (StudyMember.Role.OWNER, StudyMember.Role.ORGANIZER)


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
        which = (f"round {number}" if number is not None
                 else f"{status} round" if status is not None else "round")
        raise CommandError(f"Study {study.slug!r} has no {which}.")
    return round_


def add_actor_argument(parser) -> None:
    parser.add_argument("--actor", default="", metavar="USERNAME",
                        help="Act (and be audited) as this user, an owner or organizer of the "
                             "study; without it the command acts as no user.")


def get_user(username: str):
    """The active user with this username, or None for an empty username."""
    if not username:
        return None
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"No active user {username!r}.")
    return user


def get_actor(study: Study | None, username: str):
    """The acting user (None without --actor); the workspace lets only the study's owners and
    organizers act on it, so the command does too."""
    user = get_user(username)
    if user is None or study is None:
        return user
    if not StudyMember.objects.filter(study=study, user=user, role__in=WRITE).exists():
        raise CommandError(f"{username!r} is not an owner or organizer of {study.slug!r}.")
    return user


def call(service, /, **kwargs):
    """Call the service; a refusal becomes a CommandError carrying the service's own message."""
    try:
        return service(**kwargs)
    except StudyFileError as exc:
        lines = "\n".join(f"  - {p}" for p in exc.problems)
        raise CommandError(f"{exc.message}; nothing was changed:\n{lines}") from None
    except ServiceError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.field_errors.items())
        raise CommandError(exc.message + (f" ({details})" if details else "")) from None
