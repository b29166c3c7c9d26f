"""The report's methods section, generated from the protocol and the study's record: a
hand-made two-round study with high attrition, small groups and an amended rule states each
limitation, in English and in Russian."""

import pytest
from django.utils import translation

from surveys.models import Round
from surveys.reports.methods import item_changes, methods_section
from surveys.services.rounds import round_create
from tests.workspace_helpers import (
    close_and_aggregate,
    english,  # noqa: F401 - a fixture
    make_experts,
    register_rules,
    submit,
)
from workspace.services.rounds import round_start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

REASON = "Half the panel left, so the stopping rule allows one more round."


@pytest.fixture
def two_rounds(study, organizer):
    """Ten experts (RU 4, US 3, WE 3) answer 'agree' in round 1; six of them (RU 4, US 2) in
    round 2. Attrition in round 2: 4 of the 10 who submitted round 1 = 40 %."""
    register_rules(study, organizer, aims={"en": "To see who leaves.", "ru": "Узнать, кто уйдёт."},
                   panel_criteria={"en": "Five years of work on arms control."})
    agree = study.items.get(code="agree")
    first = round_start(round_=round_create(study=study, items=[agree]), actor=organizer)
    specs = [(f"R{i}", "RU", "en") for i in range(4)] + [(f"U{i}", "US", "en") for i in range(3)] \
        + [(f"W{i}", "WE", "en") for i in range(3)]
    experts = make_experts(study, specs)
    for expert in experts:
        submit(expert, first, agree=4)
    close_and_aggregate(first)
    second = round_start(round_=round_create(study=study, items=[agree]), actor=organizer)
    for expert in experts[:6]:
        submit(expert, second, agree=5)
    register_rules(study, organizer, max_rounds=4, reason=REASON)
    return close_and_aggregate(second)


def test_the_methods_state_the_limitations_of_the_record(two_rounds, study):
    methods = methods_section(study, two_rounds)
    assert methods["limitations"] == [
        "Attrition in round 2 was 40 % (4 of 10), above 20 %.",
        # Per group and round: submitted round 1 RU 4, US 3, WE 3 (all fewer than 5); round 2
        # RU 4, US 2, WE 0: US lost 1 of 3 = 33.3 %, WE 3 of 3 = 100 %, RU 0 of 4.
        "Fewer than 5 answers were submitted in round 1 by the stakeholder groups: Russia (n = 4); "
        "United States (n = 3); Western Europe (n = 3); their figures are fragile.",
        "Attrition in the stakeholder group United States in round 2 was 33.3 % (1 of 3), above "
        "20 %.",
        "Attrition in the stakeholder group Western Europe in round 2 was 100 % (3 of 3), above "
        "20 %.",
        "Fewer than 5 answers were submitted in round 2 by the stakeholder groups: Russia (n = 4); "
        "United States (n = 2); Western Europe (n = 0); their figures are fragile.",
        "The stakeholder group Russia had 4 experts at round 1, fewer than 5: its figures are "
        "fragile.",
        "The stakeholder group United States had 3 experts at round 1, fewer than 5: its figures "
        "are fragile.",
        "The stakeholder group Western Europe had 3 experts at round 1, fewer than 5: its figures "
        "are fragile.",
        "The protocol was amended 1 time after round 1 opened.",
    ]
    assert "At round 1 the panel had 10 experts in 3 stakeholder groups (Russia 4, United "\
           "States 3, Western Europe 3)." in methods["panel"]
    assert "Panel selection and expertise: Five years of work on arms control." in methods["panel"]
    assert "Aims: To see who leaves." in methods["design"]
    assert ("4 experts who had submitted a round did not submit the next one (dropouts)."
            in methods["missing"])
    assert methods["software"].startswith("Software: Agora Delphi ")
    assert "SciPy" in methods["software"]


def test_the_report_prints_methods_and_protocol_in_both_languages(two_rounds, study, client,
                                                                  analyst):
    client.force_login(analyst)
    html = client.get(f"/studies/{study.slug}/reports/2/").content.decode()
    for anchor in ('id="protocol"', 'id="methods"', 'id="limitations"', 'href="#item-log"'):
        assert anchor in html
    assert "Attrition in round 2 was 40 % (4 of 10), above 20 %." in html
    assert REASON in html and "Registered rules" in html
    with translation.override("ru"):
        ru = methods_section(study, two_rounds)
    assert ru["limitations"][0] == "Выбывание в туре 2 составило 40 % (4 из 10), больше 20 %."
    assert ru["design"][-1] == "Цели: Узнать, кто уйдёт."
    assert ("Выбывание в группе заинтересованных сторон «Западная Европа» в туре 2 составило 100 % "
            "(3 из 3), больше 20 %.") in ru["limitations"]


def test_items_between_rounds_are_counted_by_relation(two_rounds, study):
    # Round 2 asked the one item of round 1 again: nothing added or dropped.
    assert item_changes(study, Round.objects.get(pk=two_rounds.pk)).get("dropped", 0) == 0


def test_rules_registered_late_or_never_are_limitations(study, organizer):
    from surveys.services.rounds import round_open  # as `manage.py open_round` does: no lock

    first = round_open(round_=round_create(study=study))
    assert "No protocol was registered: consensus was not defined in advance." in methods_section(
        study, first)["limitations"]
    register_rules(study, organizer, reason="Registered late: the study began on paper.")
    limits = methods_section(study, first)["limitations"]
    assert "The rules were registered after round 1 had opened." in limits
    assert not any("amended" in line for line in limits)


def test_policy_delphi_is_named_only_when_a_round_asked_dimensions(two_rounds, study):
    # The small study has a dimensions item, but neither round asked it.
    assert not any("several dimensions" in line for line in methods_section(study, two_rounds)["design"])


def test_a_russian_limitation_writes_its_share_with_a_decimal_comma(two_rounds, study):
    with translation.override("ru"):
        limitations = methods_section(study, two_rounds)["limitations"]
    assert any("составило 33,3 % (1 из 3)" in line for line in limitations), limitations
    assert not any("33.3" in line for line in limitations)
