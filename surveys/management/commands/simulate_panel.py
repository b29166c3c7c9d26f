from django.core.management.base import BaseCommand

from surveys.models import Round
from surveys.services.simulation import panel_simulate

from ._common import get_round, get_study


class Command(BaseCommand):
    help = "Have N synthetic experts, spread over the stakeholder groups, answer the open round."

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        parser.add_argument("--experts", type=int, default=40)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, **options):
        study = get_study(options["study"])
        round_ = get_round(study, None, status=Round.Status.OPEN)
        count = panel_simulate(round_=round_, n=options["experts"], seed=options["seed"])
        self.stdout.write(f"{count} simulated experts submitted round {round_.number}.")
