from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from surveys.errors import ServiceError
from surveys.models import Round
from surveys.services.rounds import round_create, round_open

from ._common import get_study


class Command(BaseCommand):
    help = "Open the study's next round (created from the last round's items, or all items)."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        parser.add_argument("--days", type=int, default=None, help="Close after this many days.")

    def handle(self, *args, **options):
        study = get_study(options["study"])
        closes_at = timezone.now() + timedelta(days=options["days"]) if options["days"] else None
        try:
            round_ = study.rounds.filter(status=Round.Status.DRAFT).first() or round_create(study=study)
            round_open(round_=round_, closes_at=closes_at)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Round {round_.number} of {study.slug!r} is open "
                          f"({round_.items.count()} items).")
