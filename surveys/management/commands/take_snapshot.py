from django.core.management.base import BaseCommand

from surveys.models import Round
from workspace.services.rounds import snapshot_take

from ._common import add_actor_argument, call, get_actor, get_study


class Command(BaseCommand):
    help = ("Take a dated snapshot of a Real-Time study: its live round closes and is aggregated, "
            "and the next live round opens with every answer carried forward.")

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        add_actor_argument(parser)

    def handle(self, *args, **options):
        study = get_study(options["study"])
        actor = get_actor(study, options["actor"])
        live = study.rounds.filter(status=Round.Status.OPEN).values_list("number", flat=True).first()
        live = call(snapshot_take, study=study, live_number=live or 0, actor=actor)
        self.stdout.write(f"Snapshot of {study.slug!r} taken as round {live.number - 1}; "
                          f"round {live.number} is now live.")
