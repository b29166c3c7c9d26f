import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse

from surveys.models import Round, StudyMember
from surveys.services.panel import expert_issue_token, member_add
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.simulation import panel_simulate, sim_experts
from surveys.services.studies import study_file_read, study_load

STUDY_FILE = Path(settings.BASE_DIR) / "surveys" / "studies" / "trenin_2011.yaml"
LOGINS = {"organizer": ("organizer", "delphi-organizer"), "analyst": ("analyst", "delphi-analyst")}


class Command(BaseCommand):
    help = ("Set up the essay study with a simulated panel: round 1 answered and aggregated, "
            "round 2 open. Safe to run again: it reuses what exists.")

    def add_arguments(self, parser):
        parser.add_argument("--experts", type=int, default=40)
        parser.add_argument("--seed", type=int, default=2011)

    def _user(self, study, role: str):
        username, password = LOGINS[role]
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.set_password(password)
        user.is_staff = role == "organizer"
        user.save()
        if role == "organizer":
            user.user_permissions.set(Permission.objects.filter(content_type__app_label="surveys"))
        # The organizer owns the demo study: a study always keeps an owner, and only owners
        # read its audit log.
        member_add(study=study, user=user, role=StudyMember.Role.OWNER
                   if role == "organizer" else StudyMember.Role.ANALYST)
        return username, password

    def _wait_for_aggregation(self, round_, timeout: float = 120.0) -> None:
        """In-process Celery has finished already; a real worker gets up to two minutes."""
        deadline = time.monotonic() + timeout
        round_.refresh_from_db()
        while round_.status != Round.Status.AGGREGATED and time.monotonic() < deadline:
            time.sleep(0.5)
            round_.refresh_from_db()
        if round_.status != Round.Status.AGGREGATED:
            raise CommandError(f"Round {round_.number} is closed but not aggregated after "
                               f"{timeout:.0f} s: is a Celery worker running for "
                               f"{settings.CELERY_BROKER_URL}?")

    def handle(self, *args, **options):
        study = study_load(data=study_file_read(STUDY_FILE))
        logins = [self._user(study, role) for role in LOGINS]
        first = study.rounds.filter(number=1).first()
        if first is None:
            first = round_create(study=study)
        if first.status == Round.Status.DRAFT:
            first = round_open(round_=first)
        if first.status == Round.Status.CLOSED:
            self._wait_for_aggregation(first)
        if first.status == Round.Status.OPEN:
            count = panel_simulate(round_=first, n=options["experts"], seed=options["seed"])
            self.stdout.write(f"{count} simulated experts answered round 1.")
            round_close(round_=first)  # aggregation runs once the close commits
        self._wait_for_aggregation(first)
        if first.status == Round.Status.AGGREGATED and not study.rounds.filter(number=2).exists():
            round_open(round_=round_create(study=study))
        experts = sim_experts(study=study, n=options["experts"])
        wanted = ["RU", "US", "CEE"]
        chosen = [next(e for e in experts if e.group.code == code) for code in wanted]
        with transaction.atomic():
            links = [(e, expert_issue_token(expert=e)) for e in chosen]
        rounds = ", ".join(f"round {r.number}: {r.get_status_display().lower()}"
                           for r in study.rounds.order_by("number"))
        base = settings.SITE_URL
        self.stdout.write(self.style.SUCCESS(f"\nStudy: {study.title_en} ({rounds})"))
        self.stdout.write(f"  {study.items.count()} items in {study.themes.count()} themes, "
                          f"{study.experts.count()} experts on the panel\n")
        self.stdout.write(f"Staff login at {base}{reverse('login')}")
        for role, (username, password) in zip(LOGINS, logins, strict=True):
            self.stdout.write(f"  {role:<10} user {username!r} password {password!r}")
        self.stdout.write(f"Study overview: {base}{reverse('study_overview', args=[study.slug])}")
        self.stdout.write(f"Organizer workspace: {base}{reverse('workspace:home')} "
                          "(the organizer owns the study and reads its audit log there)")
        self.stdout.write("Reports and exports (organizer, analyst): linked from the study overview")
        self.stdout.write(f"API documentation: {base}{reverse('api-docs')}")
        self.stdout.write(f"Admin (organizer): {base}{reverse('admin:index')}\n")
        self.stdout.write("Expert links (new links on every run; older ones stop working):")
        for expert, token in links:
            self.stdout.write(f"  {expert.group.name_en:<28} {base}{reverse('expert_entry', args=[token])}")
