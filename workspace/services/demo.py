"""The demo: the essay study run the way an organizer runs it, with a simulated panel.

Every step is the service a workspace page calls (import, team, rules, rounds, invitations),
acting as the demo organizer, and the simulated experts answer through the response
services; so what the demo leaves behind (audit log, send log, response times) is what a real
study leaves behind. Each step reuses what exists, so running the demo again is safe.
"""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model

from surveys.models import Expert, Round, Study, StudyMember
from surveys.services.panel import expert_issue_token
from surveys.services.rounds import round_close
from surveys.services.simulation import panel_simulate, sim_experts
from surveys.services.studies import study_file_read
from workspace.models import ConsensusRule
from workspace.services.mail import invitations_send
from workspace.services.members import member_grant
from workspace.services.planning import round_next
from workspace.services.rounds import round_start
from workspace.services.rules import FIELDS, rule_register, rules_locked
from workspace.services.transfer import study_yaml_import

STUDY_FILE = Path(settings.BASE_DIR) / "surveys" / "studies" / "euromd_2026.yaml"
# username, password, the study role; the organizer owns the study (its team page, audit log).
STAFF = {"organizer": ("organizer", "delphi-organizer", StudyMember.Role.OWNER),
         "analyst": ("analyst", "delphi-analyst", StudyMember.Role.ANALYST)}
# The expert links printed: one per group, in the language it most likely reads.
LINKS = (("RU", "ru"), ("US", "en"), ("CEE", "ru"))
LATE_RULES = "Registered by the demo: this study's round 1 had opened before rules were registered."


def demo_staff() -> dict:
    """The demo's staff users with their known passwords. They work in the workspace only: no
    admin rights and no model permissions (taken back from a database an older demo made)."""
    users = {}
    for name, (username, password, _role) in STAFF.items():
        user, _created = get_user_model().objects.get_or_create(username=username)
        user.set_password(password)
        user.is_staff = user.is_superuser = False
        user.is_active = True
        user.save()
        user.user_permissions.clear()
        users[name] = user
    return users


def demo_study(*, staff: dict, path: Path = STUDY_FILE) -> Study:
    """Import the study file (the essay study, or `path`: its survey) as the organizer (who
    then owns a new study); give the team their roles through the team service; register the
    file's consensus rule unless one exists."""
    data = study_file_read(path)
    organizer = staff["organizer"]
    study = study_yaml_import(content=path.read_bytes(), actor=organizer,
                              study=Study.objects.filter(slug=data["slug"]).first())
    for name, (username, _password, role) in STAFF.items():
        if not StudyMember.objects.filter(study=study, user=staff[name], role=role).exists():
            member_grant(study=study, username=username, role=role, actor=organizer)
    if not ConsensusRule.objects.filter(study=study).exists():
        values = {k: v for k, v in (data.get("consensus") or {}).items() if k in FIELDS}
        rule_register(study=study, actor=organizer, **values,
                      reason=LATE_RULES if rules_locked(study) else "")
    return study


def demo_round_one(*, study: Study, organizer, experts: int, seed: int) -> tuple[Round, int]:
    """Open round 1, invite the simulated panel, let it answer, close the round (its
    aggregation follows the close); returns the round and how many experts submitted now."""
    first = study.rounds.filter(number=1).first() or round_next(study=study, actor=organizer)
    if first.status == Round.Status.DRAFT:
        first = round_start(round_=first, actor=organizer)
    panel = [e for e in sim_experts(study=study, n=experts, actor=organizer)
             if e.withdrawn_at is None]
    invitations_send(study=study, experts=panel, actor=organizer)  # each expert once
    submitted = 0
    if first.status == Round.Status.OPEN:
        submitted = panel_simulate(round_=first, n=experts, seed=seed, actor=organizer)
        first = round_close(round_=first, actor=organizer)
    return first, submitted


def demo_round_two(*, study: Study, organizer) -> Round | None:
    """Plan round 2 from round 1 (every item carried) and open it, once round 1 is aggregated."""
    second = study.rounds.filter(number=2).first()
    if second is None and study.rounds.filter(
            number=1, status=Round.Status.AGGREGATED).exists():
        second = round_next(study=study, actor=organizer)
    if second is not None and second.status == Round.Status.DRAFT:
        second = round_start(round_=second, actor=organizer)
    return second


def demo_links(*, study: Study, organizer, experts: int) -> list[tuple[Expert, str]]:
    """New personal links for one simulated expert of each of three groups (the links these
    experts hold, and later reminders, leave them working)."""
    panel = [e for e in sim_experts(study=study, n=experts) if e.withdrawn_at is None]
    links = []
    for group, language in LINKS:
        members = [e for e in panel if e.group.code == group]
        expert = next((e for e in members if e.language == language), None) or next(
            iter(members), None)
        if expert is not None:
            links.append((expert, expert_issue_token(expert=expert, actor=organizer)))
    return links
