from django.core.management.base import BaseCommand, CommandError

from surveys.errors import ServiceError
from surveys.services.aggregation import live_snapshot

from ._common import get_study


class Command(BaseCommand):
    help = ("Take a dated snapshot of a Real-Time study: its live round closes and is aggregated, "
            "and the next live round opens with every answer carried forward.")

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)

    def handle(self, *args, **options):
        study = get_study(options["study"])
        try:
            live = live_snapshot(study=study)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Snapshot of {study.slug!r} taken as round {live.number - 1}; "
                          f"round {live.number} is now live.")
