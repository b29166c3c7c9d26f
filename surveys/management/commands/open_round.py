from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from surveys.models import Round
from workspace.services import round_outcomes as outcomes
from workspace.services.planning import round_next
from workspace.services.rounds import round_start

from ._common import add_actor_argument, call, get_actor, get_study


class Command(BaseCommand):
    help = ("Open the study's draft round, or the next round (the last round's items, or all "
            "items for round 1), as the workspace does: round 1 needs registered rules.")

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        parser.add_argument("--days", type=int, default=None, help="Close after this many days.")
        add_actor_argument(parser)

    def handle(self, *args, **options):
        study = get_study(options["study"])
        actor = get_actor(study, options["actor"])
        closes_at = timezone.now() + timedelta(days=options["days"]) if options["days"] else None
        # One transaction: a refused start leaves no new draft behind.
        with transaction.atomic():
            round_ = (study.rounds.filter(status=Round.Status.DRAFT).first()
                      or call(round_next, study=study, actor=actor))
            round_ = call(round_start, round_=round_, actor=actor, closes_at=closes_at)
        self.stdout.write(f"{study.slug}: {outcomes.opened(round_)} "
                          f"({round_.items.count()} items)")
