"""A survey's registered protocol describes a survey (recruitment links, consent, screening,
quality checks, weighting), not Delphi rounds, consensus and stopping; in both languages."""

import pytest
from django.utils import translation

from surveys.figures import rule_in_force
from tests.surveys.fielding_helpers import survey_load
from workspace.selectors_protocol import canonical_json, protocol_content, protocol_summary

pytestmark = pytest.mark.django_db

MARGINS = [{"variable": "country", "category": "Russia", "share": 0.75, "source": "Census 2030"},
           {"variable": "country", "category": "United States", "share": 0.25,
            "source": "Census 2030"}]


def test_a_surveys_protocol_names_its_links_checks_and_weighting_not_rounds():
    study = survey_load(margins=MARGINS)
    content = protocol_content(study, rule_in_force(study))
    assert content["design"]["type"] == "survey"
    assert content["items"]["count"] == study.items.propositions().count()  # no attention check
    survey = content["survey"]
    assert [(c["code"], c["group"], c["quota"]) for c in survey["collectors"]] == [
        ("ru-panel", "RU", 5), ("us-open", "US", None)]
    assert survey["consent_versions"] == ["v1"]
    assert survey["screening"] == [{"code": "role", "eligible": ["expert"]}]
    assert survey["weighting"]["margins"][0]["share"] == 0.75
    assert "token" not in canonical_json(content)  # the links' secrets are not registered
    summary = dict(protocol_summary(content))
    assert summary["Design"].startswith("Attitude survey: one round")
    assert "ru-panel (RU, Russia, quota 5)" in summary["Population and recruitment"]
    assert summary["Consent and screening"] == (
        "Consent text version(s): v1. Screening (eligible answers): role (expert).")
    assert "straight-lining" in summary["Quality checks"]
    assert "Russia 0.75" in summary["Weighting"] and "(Census 2030)" in summary["Weighting"]
    for delphi in ("Rounds planned", "Consensus", "Stability", "Stopping",
                   "Feedback between rounds"):
        assert delphi not in summary
    with translation.override("ru"):
        russian = dict(protocol_summary(content))
    assert any(text.startswith("Опрос мнений: один тур") for text in russian.values())
    assert any("Ссылки сбора: ru-panel" in text for text in russian.values())


def test_without_margins_the_protocol_says_unweighted():
    study = survey_load()
    summary = dict(protocol_summary(protocol_content(study, rule_in_force(study))))
    assert summary["Weighting"] == "Unweighted: every respondent weighs 1."
