import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from surveys.models import Round
from workspace.models import Message
from workspace.services import demo, demo_final, demo_survey
from workspace.services.outbox import outbox_enabled

from ._common import call

LANGUAGE_NAMES = {"en": "English", "ru": "Russian"}  # the printout is in English


class Command(BaseCommand):
    help = ("Set up the essay study as an organizer would, with a simulated panel: rules "
            "registered, the panel invited, round 1 answered, closed and aggregated, round 2 "
            "open; and the same study run through all its planned rounds, for a final report. "
            "Safe to run again: it reuses what exists and prints new expert links.")

    def add_arguments(self, parser):
        parser.add_argument("--experts", type=int, default=40)
        parser.add_argument("--seed", type=int, default=2011)
        parser.add_argument("--respondents", type=int, default=demo_survey.RESPONDENTS,
                            help="simulated arrivals at the essay survey's collectors")

    def _wait_for_aggregation(self, round_, timeout: float = 120.0) -> None:
        """In-process Celery has finished already; a real worker gets up to two minutes."""
        deadline = time.monotonic() + timeout
        round_.refresh_from_db()
        while round_.status == Round.Status.CLOSED and time.monotonic() < deadline:
            time.sleep(0.5)
            round_.refresh_from_db()
        if round_.status == Round.Status.CLOSED:
            raise CommandError(f"Round {round_.number} is closed but not aggregated after "
                               f"{timeout:.0f} s: is a Celery worker running for "
                               f"{settings.CELERY_BROKER_URL}?")

    def _wait_for_invitations(self, study, timeout: float = 60.0) -> None:
        """Sending an invitation issues the expert a new link, so the links printed at the end
        are issued only once every invitation has gone out (or failed)."""
        deadline = time.monotonic() + timeout
        queued = Message.objects.filter(study=study, kind=Message.Kind.INVITATION, status__in=[
            Message.Status.PENDING, Message.Status.SENDING])
        while queued.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        if queued.exists():
            raise CommandError(f"Invitations are still queued after {timeout:.0f} s: is a Celery "
                               f"worker running for {settings.CELERY_BROKER_URL}?")

    def handle(self, *args, **options):
        staff = call(demo.demo_staff)
        organizer = staff["organizer"]
        study = call(demo.demo_study, staff=staff)
        first, submitted = call(demo.demo_round_one, study=study, organizer=organizer,
                                experts=options["experts"], seed=options["seed"])
        if submitted:
            self.stdout.write(f"{submitted} simulated experts answered round 1.")
        self._wait_for_aggregation(first)
        call(demo.demo_round_two, study=study, organizer=organizer)
        self._wait_for_invitations(study)
        links = call(demo.demo_links, study=study, organizer=organizer,
                     experts=options["experts"])
        final = self._finished(staff, options["experts"], options["seed"])
        survey = self._survey(staff, options["respondents"])
        self._summary(study, links)
        self.stdout.write(f"\nFinished study, every planned round run (its final report): "
                          f"{demo_final.report_url(final)}")
        self._survey_summary(survey, study)

    def _finished(self, staff, experts: int, seed: int):
        """The same study run through all its rounds, for the final report."""
        final = call(demo_final.finished_study, staff=staff)
        while True:
            closed = call(demo_final.next_round, study=final, organizer=staff["organizer"],
                          experts=experts, seed=seed)
            last = closed or final.rounds.order_by("-number").first()
            if closed is None and (last is None or last.status != Round.Status.CLOSED):
                return final  # every planned round is aggregated
            self._wait_for_aggregation(last)

    def _survey(self, staff, respondents: int):
        """The essay survey beside the panel: imported and answered by simulated respondents
        in bulk; its round stays open for the collector link."""
        started = time.monotonic()
        survey = call(demo.demo_study, staff=staff, path=demo_survey.SURVEY_FILE)
        _round, completed = call(demo_survey.demo_survey_round, study=survey,
                                 organizer=staff["organizer"], n=respondents)
        if completed:
            self.stdout.write(f"{completed} simulated respondents completed the essay survey "
                              f"({time.monotonic() - started:.1f} s).")
        return survey

    def _survey_summary(self, survey, panel) -> None:
        base = settings.SITE_URL
        self.stdout.write(self.style.SUCCESS(f"\nSurvey: {survey.title_en}"))
        self.stdout.write(f"  Overview: {base}{reverse('study_overview', args=[survey.slug])}")
        gap = f"{base}{reverse('study_gap', args=[survey.slug])}"
        self.stdout.write(f"  Expert-public gap beside the finished run's final round: {gap}")
        self.stdout.write(f"  ... beside the study in progress: {gap}?panel={panel.slug}")
        self.stdout.write(f"  Survey report: {base}{reverse('report_page', args=[survey.slug, 1])}")
        self.stdout.write("  Fielding (live, signed in as the organizer): "
                          f"{base}{reverse('workspace:fielding', args=[survey.slug])}; "
                          f"collectors: {base}{reverse('workspace:collectors', args=[survey.slug])}")
        collector = demo_survey.demo_survey_link(survey)
        if collector is not None:
            self.stdout.write(f"  Collector link ({collector.country}, quota {collector.quota}; "
                              "the survey stays open: answer it as a respondent, one response "
                              "per browser; a panel provider adds ?pid=<its id>): "
                              f"{base}{reverse('survey_entry', args=[collector.token])}")

    def _summary(self, study, links) -> None:
        rounds = ", ".join(f"round {r.number}: {r.get_status_display().lower()}"
                           for r in study.rounds.order_by("number"))
        base = settings.SITE_URL
        invited = Message.objects.filter(study=study, kind=Message.Kind.INVITATION)
        notices = Message.objects.filter(study=study, kind=Message.Kind.ROUND_OPENED)
        self.stdout.write(self.style.SUCCESS(f"\nStudy: {study.title_en} ({rounds})"))
        self.stdout.write(f"  {study.items.count()} items in {study.themes.count()} themes, "
                          f"{study.experts.count()} experts on the panel, "
                          f"{invited.count()} invitations and {notices.count()} round-opened "
                          f"notices in the send log "
                          f"(mail backend: {settings.EMAIL_BACKEND.rsplit('.', 2)[-2]})\n")
        self.stdout.write(f"Staff login at {base}{reverse('login')}")
        for role, (username, password, study_role) in demo.STAFF.items():
            self.stdout.write(f"  {role:<10} user {username!r} password {password!r} "
                              f"({study_role} of the study)")
        self.stdout.write(f"Study overview: {base}{reverse('study_overview', args=[study.slug])}")
        self.stdout.write(f"Organizer workspace: {base}{reverse('workspace:home')} "
                          "(the organizer owns the study and reads its audit log there)")
        self.stdout.write("Reports and exports (organizer, analyst): linked from the study overview")
        if outbox_enabled():
            self.stdout.write(f"Outbox (every email as the expert received it; organizer): "
                              f"{base}{reverse('workspace:outbox', args=[study.slug])}")
        self.stdout.write(f"API documentation: {base}{reverse('api-docs')}")
        self.stdout.write(f"Django admin: {base}{reverse('admin:index')} (the operator's superuser "
                          "only, created with manage.py createsuperuser; not for organizers)\n")
        self.stdout.write("Expert links (new links on every run; earlier ones keep working; "
                          "each opens in its expert's language):")
        for expert, token in links:
            label = f"{expert.group.name_en}, opens in {LANGUAGE_NAMES[expert.language]}"
            self.stdout.write(f"  {label:<48} {base}{reverse('expert_entry', args=[token])}")
