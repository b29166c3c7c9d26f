from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from surveys.errors import ServiceError
from surveys.services.panel import expert_create, expert_issue_token

from ._common import get_study


class Command(BaseCommand):
    help = ("Add an expert to a study's panel (or take the existing one by email) and print a "
            "new personal link; earlier links of that expert stop working.")

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument("--group", default="", help="Stakeholder group code, e.g. RU.")
        parser.add_argument("--language", default="", choices=["", "en", "ru"])

    def handle(self, *args, **options):
        study = get_study(options["study"])
        expert = study.experts.filter(email__iexact=options["email"]).first()
        try:
            if expert is None:
                if not options["group"]:
                    raise CommandError("A new expert needs --group (a stakeholder group code).")
                expert = expert_create(
                    study=study, name=options["name"] or options["email"], email=options["email"],
                    group_code=options["group"], language=options["language"])
            token = expert_issue_token(expert=expert)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(settings.SITE_URL + reverse("expert_entry", args=[token]))
