"""Reads of the staff's study overview page (surveys/views/staff.py)."""

from surveys.models import Aggregate, Round, StakeholderGroup, Study, StudyMember


def study_role(study: Study, user) -> str:
    """The user's role in the study ("" when they have none)."""
    return (StudyMember.objects.filter(study=study, user=user).values_list("role", flat=True)
            .first() or "")


def rounds_in_order(study: Study) -> list[Round]:
    return list(study.rounds.order_by("number"))


def study_groups(study: Study) -> list[StakeholderGroup]:
    return list(study.groups.all())


def panel_results(round_: Round) -> list[Aggregate]:
    """The round's snapshot for the whole panel (no group rows), in questionnaire order."""
    return list(Aggregate.objects.filter(round=round_, group="").select_related(
        "item", "item__theme", "run").order_by("item__theme__position", "item__position", "dimension"))
