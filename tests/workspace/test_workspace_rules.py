"""Consensus, stability and stopping rules: registered before round 1, locked once it opens."""

import pandas as pd
import pytest

from analysis.consensus import rule_met
from surveys.errors import ServiceError
from surveys.figures import rule_in_force
from surveys.models import AuditEvent
from surveys.services.rounds import round_create
from tests.workspace_helpers import (
    english,  # noqa: F401 - a fixture
    register_rules,
)
from workspace.models import ConsensusRule
from workspace.selectors import rules_for_report
from workspace.services.rounds import round_start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_organizer_registers_rules_in_their_one_home(study, organizer):
    rule = register_rules(study, organizer, definition="combined", agree_pct=80, iqr_max=1.5,
                          stability="distribution", stability_pct=15, stopping="converged",
                          max_rounds=4)
    assert rule.revision == 1 and rule.locked_at is None
    assert rule.as_dict()["kind"] == "all"
    assert rule.stability_dict() == {"kind": "distribution", "change_below_pct": 15}
    assert rule.stopping_dict() == {"kind": "converged", "max_rounds": 4}
    assert rule_in_force(study) == rule and rule.direction == "either"
    event = AuditEvent.objects.get(study=study, action="rules_registered")
    assert event.actor == organizer and event.detail["after"]["consensus"]["agree_pct"] == 80


def test_rule_as_dict_is_what_the_analysis_package_evaluates(study, organizer):
    summary = pd.DataFrame({"n": [10, 10, 10, 0], "pct_agree": [80.0, 80.0, 60.0, None],
                            "iqr": [1.0, 2.0, 0.5, None]})
    combined = register_rules(study, organizer, definition="combined", agree_pct=75, iqr_max=1)
    # 80 % and IQR 1: met; IQR 2: not; 60 %: not; nobody answered: never consensus.
    assert list(rule_met(summary, combined)) == [True, False, False, False]
    agreement = register_rules(study, organizer, definition="agreement")
    assert list(rule_met(summary, agreement)) == [True, True, False, False]
    iqr = register_rules(study, organizer, definition="iqr")
    assert list(rule_met(summary, iqr)) == [True, False, True, False]
    assert iqr.as_dict()["definition"] == "iqr" and iqr.revision == 3


def test_round_1_cannot_open_before_the_rules_are_registered(study, organizer):
    draft = round_create(study=study)
    with pytest.raises(ServiceError, match="Register the consensus"):
        round_start(round_=draft, actor=organizer)
    register_rules(study, organizer)
    round_start(round_=draft, actor=organizer)
    rule = ConsensusRule.objects.get(study=study)
    assert rule.locked_at is not None
    assert AuditEvent.objects.filter(study=study, action="rules_locked").count() == 1


def test_locked_rules_change_only_with_a_written_reason_and_the_change_is_kept(study, organizer):
    register_rules(study, organizer, agree_pct=75)
    round_start(round_=round_create(study=study), actor=organizer)
    with pytest.raises(ServiceError, match="written reason") as error:
        register_rules(study, organizer, agree_pct=70, reason="too low")
    assert "reason" in error.value.field_errors
    assert ConsensusRule.objects.get(study=study).agree_pct == 75

    rule = register_rules(study, organizer, agree_pct=70,
                          reason="The panel is smaller than planned (12 instead of 30).")
    assert (rule.agree_pct, rule.revision) == (70, 2)
    change = rule.changes.get(revision=2)
    assert change.after_lock and change.before["consensus"]["agree_pct"] == 75
    assert change.after["consensus"]["agree_pct"] == 70
    event = AuditEvent.objects.get(study=study, action="rules_changed_after_lock")
    assert event.detail["reason"].startswith("The panel is smaller")
    report = rules_for_report(study)
    assert [c["reason"][:25] for c in report["changes_after_lock"]] == ["The panel is smaller than"]
    assert report["rule"]["consensus"]["agree_pct"] == 70


def test_rules_with_impossible_values_are_refused_field_by_field(study, organizer):
    with pytest.raises(ServiceError) as error:
        register_rules(study, organizer, agree_pct=120, iqr_max=-1, max_rounds=0,
                       definition="majority")
    assert set(error.value.field_errors) == {"agree_pct", "iqr_max", "max_rounds", "definition"}
    assert not ConsensusRule.objects.filter(study=study).exists()
    assert rule_in_force(study).pk is None


def test_registering_the_same_rules_again_changes_nothing(study, organizer):
    register_rules(study, organizer, agree_pct=75)
    with pytest.raises(ServiceError, match="Nothing changed"):
        register_rules(study, organizer, agree_pct=75)
