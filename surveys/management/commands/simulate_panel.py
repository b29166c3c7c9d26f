from django.core.management.base import BaseCommand

from surveys.models import Round
from surveys.services.simulation import DROPOUT, panel_simulate

from ._common import add_actor_argument, call, get_actor, get_round, get_study


class Command(BaseCommand):
    help = ("Have N synthetic experts, spread over the stakeholder groups, answer the open round "
            "through the response services (a draft save, then the submit); from round 2 only "
            "those who submitted the previous round, less the dropouts.")

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        parser.add_argument("--experts", type=int, default=40)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--dropout", type=float, default=DROPOUT,
                            help="share of the previous round's experts who do not submit this "
                                 "round (default %(default)s)")
        add_actor_argument(parser)

    def handle(self, *args, **options):
        study = get_study(options["study"])
        actor = get_actor(study, options["actor"])  # audited as adding the synthetic experts
        round_ = get_round(study, None, status=Round.Status.OPEN)
        count = call(panel_simulate, round_=round_, n=options["experts"], seed=options["seed"],
                     dropout=options["dropout"], actor=actor)
        self.stdout.write(f"{count} simulated experts submitted round {round_.number}.")
