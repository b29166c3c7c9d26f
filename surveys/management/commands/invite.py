import secrets

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse

from surveys.services.panel import expert_issue_token
from workspace.models import Message
from workspace.services.mail import invitations_send
from workspace.services.panel import expert_add

from ._common import add_actor_argument, call, get_actor, get_study


class Command(BaseCommand):
    help = ("Add an expert to a study's panel (or take the existing one by email) and send them "
            "an invitation with a new personal link, as the workspace's panel page does; "
            "the links the expert already holds keep working. The send log records it.")

    def add_arguments(self, parser):
        parser.add_argument("--study", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument("--group", default="", help="Stakeholder group code, e.g. RU.")
        parser.add_argument("--language", default="", choices=["", "en", "ru"])
        parser.add_argument("--link-only", action="store_true",
                            help="Print a new personal link instead of mailing an invitation "
                                 "(as the API's invitation endpoint gives one).")
        add_actor_argument(parser)

    def handle(self, *args, **options):
        study = get_study(options["study"])
        actor = get_actor(study, options["actor"])
        expert = study.experts.filter(email__iexact=options["email"].strip()).first()
        with transaction.atomic():
            if expert is None:
                if not options["group"]:
                    raise CommandError("A new expert needs --group (a stakeholder group code).")
                expert = call(expert_add, study=study, actor=actor,
                              name=options["name"] or options["email"], email=options["email"],
                              group=options["group"],
                              language=options["language"] or study.default_language)
            if options["link_only"]:
                token = call(expert_issue_token, expert=expert, actor=actor)
                self.stdout.write(settings.SITE_URL.rstrip("/") + reverse("expert_entry", args=[token]))
                return
            # Each run is a new invitation, as the panel page's per-expert button sends one.
            queued = call(invitations_send, study=study, experts=[expert], actor=actor,
                          nonce=secrets.token_urlsafe(12))
        message = Message.objects.get(pk=queued[0].pk)
        self.stdout.write(f"Invitation to {expert.email} ({dict(settings.LANGUAGES)[expert.language]}): "
                          f"{message.get_status_display().lower()} (send log #{message.pk}).")
