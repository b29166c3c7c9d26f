"""The demo's finished study: the same essay study run through all its planned rounds, so that
an analyst finds a final report (protocol, participant flow, verdicts, stability, stopping
outcome, feedback archive) beside the study still in progress.

It is run as the organizer runs a study, through the same services as the demo (workspace.
services.demo): its rules are registered before round 1, so its protocol is frozen before any
answer; each round is planned from the one before, opened, answered by the simulated panel and
closed. Running the demo again reuses what exists and goes on from where it stopped.
"""

import re

from django.conf import settings

from surveys.models import Round, Study, StudyMember
from surveys.services.rounds import round_close
from surveys.services.simulation import panel_simulate, sim_experts
from surveys.services.studies import study_file_read
from workspace.models import ConsensusRule
from workspace.services.demo import STAFF, STUDY_FILE
from workspace.services.mail import invitations_send
from workspace.services.members import member_grant
from workspace.services.planning import round_next
from workspace.services.rounds import round_start
from workspace.services.rules import FIELDS, rule_register
from workspace.services.transfer import study_yaml_import

SLUG = "euromd-2026-final"
TITLE = {"en": " (finished run)", "ru": " (завершённый прогон)"}


def _study_file() -> bytes:
    """The demo's study file under this study's slug, its titles marked as the finished run."""
    text = STUDY_FILE.read_text(encoding="utf-8")
    text = re.sub(r"^slug: .*$", f"slug: {SLUG}", text, count=1, flags=re.M)
    for language, mark in TITLE.items():  # the titles are double-quoted in the file
        text = re.sub(rf'^(title:\n(?:  .*\n)*?  {language}: ".*)"$',
                      lambda m, mark=mark: f'{m.group(1)}{mark}"', text, count=1, flags=re.M)
    return text.encode("utf-8")


def finished_study(*, staff: dict) -> Study:
    """Import the study (as the organizer, who owns it), give the analyst its role, register
    the file's rules before round 1."""
    organizer = staff["organizer"]
    study = Study.objects.filter(slug=SLUG).first() or study_yaml_import(
        content=_study_file(), actor=organizer)
    for name, (username, _password, role) in STAFF.items():
        if not StudyMember.objects.filter(study=study, user=staff[name], role=role).exists():
            member_grant(study=study, username=username, role=role, actor=organizer)
    if not ConsensusRule.objects.filter(study=study).exists():
        data = study_file_read(STUDY_FILE)
        values = {k: v for k, v in (data.get("consensus") or {}).items() if k in FIELDS}
        rule_register(study=study, actor=organizer, **values)
    return study


def planned_rounds(study: Study) -> int:
    rule = ConsensusRule.objects.filter(study=study).first()
    return rule.max_rounds if rule else 3


def next_round(*, study: Study, organizer, experts: int, seed: int) -> Round | None:
    """Run the study's next round: plan it from the last aggregated one, open it, let the
    panel answer and close it (its aggregation follows). None once every planned round is
    closed, or while the last closed round waits for its aggregation."""
    last = study.rounds.order_by("-number").first()
    if last is not None and last.status == Round.Status.CLOSED:
        return None  # the caller waits for the aggregation and asks again
    if last is None or last.status == Round.Status.AGGREGATED:
        if last is not None and last.number >= planned_rounds(study):
            return None
        last = round_next(study=study, actor=organizer)
    if last.status == Round.Status.DRAFT:
        last = round_start(round_=last, actor=organizer)
    if last.number == 1:
        panel = [e for e in sim_experts(study=study, n=experts, actor=organizer)
                 if e.withdrawn_at is None]
        invitations_send(study=study, experts=panel, actor=organizer)
    panel_simulate(round_=last, n=experts, seed=seed + last.number, actor=organizer)
    return round_close(round_=last, actor=organizer)


def report_url(study: Study) -> str:
    from django.urls import reverse

    last = study.rounds.order_by("-number").first()
    number = last.number if last else 1
    return settings.SITE_URL + reverse("report_page", args=[study.slug, number])
