from django.core.management.base import BaseCommand

from surveys.models import Round
from surveys.services.rounds import round_close
from workspace.services import round_outcomes as outcomes

from ._common import add_actor_argument, call, get_actor, get_round, get_study


class Command(BaseCommand):
    help = ("Close the study's open round (or round --round); its aggregation is enqueued once "
            "the close commits.")

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        parser.add_argument("--round", type=int, default=None, dest="number",
                            help="The round's number (default: the open round, else the last).")
        add_actor_argument(parser)

    def handle(self, *args, **options):
        study = get_study(options["study"])
        actor = get_actor(study, options["actor"])
        number = options["number"]
        if number is None and study.rounds.filter(status=Round.Status.OPEN).exists():
            round_ = get_round(study, None, status=Round.Status.OPEN)
        else:
            round_ = get_round(study, number)  # not open: the service says why it refuses
        round_ = call(round_close, round_=round_, actor=actor)
        self.stdout.write(f"{study.slug}: {outcomes.closed(round_)}")
