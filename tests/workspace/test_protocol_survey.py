"""A survey's registered protocol describes a survey (recruitment links, consent, screening,
quality checks, weighting), not Delphi rounds, consensus and stopping; in both languages."""

import pytest
from django.utils import translation

from surveys.figures import rule_in_force
from tests.surveys.fielding_helpers import survey_load
from workspace.selectors_protocol import canonical_json, protocol_content, protocol_summary

pytestmark = pytest.mark.django_db

CENSUS = {"en": "Census 2030", "ru": "Перепись 2030"}
MARGINS = [{"variable": "country", "category": "Russia", "share": 0.75, "source": CENSUS},
           {"variable": "country", "category": "United States", "share": 0.25,
            "source": CENSUS}]


def test_a_surveys_protocol_names_its_links_checks_and_weighting_not_rounds():
    study = survey_load(margins=MARGINS)
    content = protocol_content(study, rule_in_force(study))
    assert content["design"]["type"] == "survey"
    assert content["items"]["count"] == study.items.propositions().count()  # no attention check
    survey = content["survey"]
    assert [(c["code"], c["group"], c["quota"]) for c in survey["collectors"]] == [
        ("ru-panel", "RU", 5), ("us-open", "US", None)]
    assert survey["consent_versions"] == ["v1"]
    assert survey["screening"] == [{
        "code": "role", "eligible": ["expert"], "text": {"en": "Your work?", "ru": "Ваша работа?"},
        "options": {"expert": {"en": "Expert", "ru": "Эксперт"}}}]
    assert survey["weighting"]["margins"][0]["share"] == 0.75
    assert "token" not in canonical_json(content)  # the links' secrets are not registered
    summary = dict(protocol_summary(content))
    assert summary["Design"].startswith("Attitude survey: one round")
    assert "ru-panel (RU, Russia, quota 5)" in summary["Population and recruitment"]
    assert summary["Consent and screening"] == (
        "Consent text version(s): v1. Screening (eligible answers): Your work? (Expert).")
    assert summary["Population and recruitment"].startswith("not stated. Recruitment links:")
    assert "straight-lining" in summary["Quality checks"]
    # Named and written as the gap page writes them (margins_text): the country by its group.
    assert summary["Weighting"].endswith(
        "country Russia 0.750; country United States 0.250 (Census 2030).")
    for delphi in ("Rounds planned", "Consensus", "Stability", "Stopping",
                   "Feedback between rounds"):
        assert delphi not in summary
    with translation.override("ru"):
        russian = dict(protocol_summary(content))
    assert any(text.startswith("Опрос мнений: один тур") for text in russian.values())
    assert any("Ссылки сбора: ru-panel" in text for text in russian.values())
    assert russian["Взвешивание"].endswith("страна Россия 0,750; страна США 0,250 (Перепись 2030).")
    assert russian["Согласие и отбор"].endswith("Отбор (подходящие ответы): Ваша работа? (Эксперт).")
    # A protocol registered before the screening's texts were kept still reads, by its codes.
    del survey["screening"][0]["text"], survey["screening"][0]["options"]
    assert dict(protocol_summary(content))["Consent and screening"].endswith("role (expert).")


def test_without_margins_the_protocol_says_unweighted():
    study = survey_load()
    summary = dict(protocol_summary(protocol_content(study, rule_in_force(study))))
    assert summary["Weighting"] == "Unweighted: every respondent weighs 1."


def test_a_margins_source_is_a_text_or_its_texts_by_language():
    from surveys.services.fielding_file import study_fielding_data
    from surveys.services.studies import StudyFileError

    study = survey_load("both", margins=MARGINS)
    assert study.margins[0]["source"] == CENSUS  # kept by language, and exported so
    assert study_fielding_data(study)["margins"][0]["source"] == CENSUS
    plain = survey_load("plain", margins=[dict(m, source={"en": " Census "}) for m in MARGINS])
    assert plain.margins[0]["source"] == "Census"  # English alone is a plain text
    empty = survey_load("empty", margins=[dict(m, source=None) for m in MARGINS])
    assert empty.margins[0]["source"] == ""  # `source:` left empty in YAML
    with pytest.raises(StudyFileError) as caught:
        survey_load("wrong", margins=[dict(m, source={"de": "Volkszählung"}) for m in MARGINS])
    assert any("margins[0].source: expected a text, or {en: ..., ru: ...}" in p
               for p in caught.value.problems)
