from django.core.management.base import BaseCommand, CommandError

from surveys.errors import ServiceError
from surveys.models import Round
from surveys.services.rounds import round_close

from ._common import get_round, get_study


class Command(BaseCommand):
    help = "Close the study's open round; its aggregation is enqueued once the close commits."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)

    def handle(self, *args, **options):
        study = get_study(options["study"])
        round_ = get_round(study, None, status=Round.Status.OPEN)
        try:
            round_close(round_=round_)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        round_.refresh_from_db()
        self.stdout.write(f"Round {round_.number} of {study.slug!r} is {round_.status}.")
