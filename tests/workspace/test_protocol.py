"""The registered protocol: frozen with every registration or change of the rules, hashed with
SHA-256 over its canonical JSON (recomputed here with hashlib), amended after round 1 only with
a reason, downloadable byte for byte, and readable by the study's members only."""

import hashlib
import json

import pytest

from surveys.errors import ServiceError
from surveys.services.rounds import round_create
from surveys.services.studies import study_file_check, study_load
from tests.conftest import small_study_data
from tests.workspace_helpers import english, register_rules  # noqa: F401 - a fixture
from workspace.models import ConsensusRule, ProtocolVersion
from workspace.selectors_protocol import canonical_json, protocol_content
from workspace.services import transfer
from workspace.services.rounds import round_start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

REASON = "The panel is smaller than planned, so one more round is needed."
TEXTS = {"aims": {"en": "To test the protocol.", "ru": "Проверить протокол."},
         "panel_criteria": {"en": "Ten years in the field.", "ru": "Десять лет в профессии."},
         "rounds_rationale": {"en": "Three rounds suffice.", "ru": "Трёх туров достаточно."}}
# Each registered field with a value other than the one registered in `registered`.
CHANGED = {"definition": "agreement", "direction": "agree", "agree_pct": 80, "iqr_max": 1.5,
           "stability": "distribution", "stability_p": 0.1, "stability_pct": 20,
           "stopping": "max_rounds", "max_rounds": 4,
           "aims": {"en": "Other aims."}, "panel_criteria": {"ru": "Другие критерии."},
           "rounds_rationale": {"en": "Four rounds."}}


def independent_hash(canonical: str) -> str:
    """The SHA-256 a reader computes from the downloaded JSON, as sha256sum does."""
    content = json.loads(canonical)
    again = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert again == canonical  # the stored text is the canonical form itself
    return hashlib.sha256(again.encode("utf-8")).hexdigest()


@pytest.fixture
def registered(study, organizer):
    register_rules(study, organizer, definition="combined", agree_pct=75, iqr_max=1,
                   stopping="converged", max_rounds=3, **TEXTS)
    return ProtocolVersion.objects.get(study=study)


def test_registering_the_rules_freezes_version_1_hashed_over_its_canonical_json(registered):
    assert registered.version == 1 and not registered.amendment and registered.frozen_at
    assert registered.sha256 == independent_hash(registered.canonical)
    content = json.loads(registered.canonical)
    assert content["aims"] == TEXTS["aims"] and content["rounds"]["planned"] == 3
    assert content["consensus"] == {"definition": "combined", "direction": "either",
                                    "agree_pct": 75.0, "iqr_max": 1.0}
    assert [g["code"] for g in content["panel"]["stakeholder_groups"]] == ["RU", "US", "WE"]
    # small_study_data: one item of each kind but "numeric", in two themes.
    assert content["items"]["count"] == 6 and content["items"]["themes"] == 2
    assert content["feedback"]["min_cell"] == 3 and content["anonymity"]["rationales_unattributed"]
    # No id and no time inside what is hashed: no key names one, no value is this year's date.
    assert not {k for k in keys(content) if k in ("id", "pk", "slug") or k.endswith(("_at", "_id"))}
    assert str(registered.frozen_at.date()) not in registered.canonical


def keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


def test_the_hash_is_the_same_computed_twice_and_for_an_identical_study(registered, study,
                                                                         organizer):
    rule = ConsensusRule.objects.get(study=study)
    assert canonical_json(protocol_content(study, rule)) == registered.canonical
    twin = study_load(data=small_study_data(slug="twin"))
    register_rules(twin, organizer, definition="combined", agree_pct=75.0, iqr_max=1.0,
                   stopping="converged", max_rounds=3,
                   **{k: dict(reversed(list(v.items()))) for k, v in TEXTS.items()})
    assert ProtocolVersion.objects.get(study=twin).sha256 == registered.sha256


@pytest.mark.parametrize("field", ConsensusRule.REGISTERED)
def test_the_hash_changes_when_any_registered_field_changes(registered, study, organizer, field):
    assert set(CHANGED) == set(ConsensusRule.REGISTERED)
    register_rules(study, organizer, **{field: CHANGED[field]})
    latest = ProtocolVersion.objects.filter(study=study).latest("version")
    assert latest.version == 2 and not latest.amendment
    assert latest.sha256 != registered.sha256
    assert latest.sha256 == independent_hash(latest.canonical)


def test_a_change_after_round_1_opened_is_an_amendment_with_its_reason(registered, study,
                                                                       organizer):
    round_start(round_=round_create(study=study), actor=organizer)
    assert ProtocolVersion.objects.filter(study=study).count() == 1  # nothing changed at the lock
    with pytest.raises(ServiceError):
        register_rules(study, organizer, max_rounds=4)  # no reason
    assert ProtocolVersion.objects.filter(study=study).count() == 1
    register_rules(study, organizer, max_rounds=4, reason=REASON)
    amended = ProtocolVersion.objects.filter(study=study).latest("version")
    assert (amended.version, amended.amendment, amended.reason) == (2, True, REASON)
    assert amended.change.after_lock and amended.change.reason == REASON
    assert json.loads(amended.canonical)["stopping"]["max_rounds"] == 4
    from surveys.reports.methods import protocol_section

    section = protocol_section(study)
    assert section["before_round1"] and section["current"]["version"] == amended
    [row] = section["amendments"]
    assert row["reason"] == REASON and row["sha256"] == amended.sha256
    assert row["parts"] == ["Rounds planned", "Stopping"]


def test_a_study_changed_after_registration_is_frozen_again_as_round_1_opens(registered, study,
                                                                             organizer):
    study.min_cell = 5
    study.save(update_fields=["min_cell"])
    round_start(round_=round_create(study=study), actor=organizer)
    at_lock = ProtocolVersion.objects.filter(study=study).latest("version")
    assert at_lock.version == 2 and not at_lock.amendment
    assert json.loads(at_lock.canonical)["feedback"]["min_cell"] == 5


def test_the_json_download_hashes_to_the_shown_hash_and_the_pdf_is_a_pdf(registered, study,
                                                                         client, analyst):
    client.force_login(analyst)
    page = client.get(f"/studio/{study.slug}/protocol/")
    assert page.status_code == 200 and registered.sha256 in page.content.decode()
    assert "Ten years in the field." in page.content.decode()
    download = client.get(f"/studio/{study.slug}/protocol/json/")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    assert hashlib.sha256(download.content).hexdigest() == registered.sha256
    pdf = client.get(f"/studio/{study.slug}/protocol/pdf/?version=1")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert client.get(f"/studio/{study.slug}/protocol/json/?version=9").status_code == 404


def test_outsiders_get_404_and_visitors_the_login(registered, study, client, outsider):
    for path in ("protocol/", "protocol/json/", "protocol/pdf/"):
        assert client.get(f"/studio/{study.slug}/{path}").status_code == 302  # to the login
    client.force_login(outsider)
    for path in ("protocol/", "protocol/json/", "protocol/pdf/"):
        assert client.get(f"/studio/{study.slug}/{path}").status_code == 404
        assert client.get(f"/studio/no-such-study/{path}").status_code == 404


def test_the_api_gives_members_every_version_with_its_canonical_json(registered, study,
                                                                     analyst):
    from rest_framework.test import APIClient

    from tests.api.conftest import bearer

    body = APIClient().get(f"/api/v1/studies/{study.slug}/protocol/", **bearer(analyst)).json()
    assert body["current"]["sha256"] == registered.sha256
    assert independent_hash(body["current"]["canonical"]) == registered.sha256
    assert [v["version"] for v in body["versions"]] == [1]


def test_the_rules_page_registers_the_protocol_texts(study, client, organizer):
    client.force_login(organizer)
    form = {"definition": "combined", "direction": "either", "agree_pct": "75", "iqr_max": "1",
            "stability": "wilcoxon", "stability_p": "0.05", "stability_pct": "15",
            "stopping": "max_rounds", "max_rounds": "3", "aims_en": " Aims in English. ",
            "aims_ru": "", "panel_criteria_ru": "Критерии.", "reason": ""}
    assert client.post(f"/studio/{study.slug}/rules/", form).status_code == 302
    rule = ConsensusRule.objects.get(study=study)
    assert rule.aims == {"en": "Aims in English."} and rule.panel_criteria == {"ru": "Критерии."}
    assert rule.rounds_rationale == {}
    page = client.get(f"/studio/{study.slug}/rules/").content.decode()
    assert "Aims in English." in page and f"/studio/{study.slug}/protocol/" in page


def test_the_study_file_carries_the_texts_there_and_back(registered, study):
    data = transfer.study_data(study)
    assert data["consensus"]["aims"] == TEXTS["aims"]
    twin = study_load(data={**data, "slug": "twin"})
    assert ProtocolVersion.objects.get(study=twin).sha256 == registered.sha256
    bad = {**data, "consensus": {**data["consensus"], "aims": "just a string",
                                 "panel_criteria": {"de": "Kriterien"}}}
    problems = study_file_check(bad)
    assert "consensus.aims: expected a mapping with 'en' and 'ru' texts" in problems
    assert "consensus.panel_criteria.de: expected text in en or ru" in problems


def test_the_api_registers_the_texts_and_a_new_version(registered, study, organizer, analyst):
    from rest_framework.test import APIClient

    from tests.api.conftest import bearer

    api = APIClient()
    url = f"/api/v1/studies/{study.slug}/"
    body = api.put(url + "rules/", {"rounds_rationale": {"en": "Two rounds."}}, format="json",
                   **bearer(organizer)).json()
    assert body["rule"]["rounds_rationale"] == {"en": "Two rounds."} and body["rule"]["aims"]
    protocol = api.get(url + "protocol/", **bearer(analyst)).json()
    assert [v["version"] for v in protocol["versions"]] == [1, 2]
    assert protocol["current"]["changed"] == ["rounds.rationale.en", "rounds.rationale.ru"]
    assert api.put(url + "rules/", {"aims": {"de": "Ziele"}}, format="json",
                   **bearer(organizer)).status_code == 400
    assert ProtocolVersion.objects.filter(study=study).count() == 2


def test_the_protocol_page_and_pdf_read_in_russian(registered, study, client, organizer):
    client.force_login(organizer)
    page = client.get(f"/studio/{study.slug}/protocol/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Зарегистрированный протокол" in page and "Десять лет в профессии." in page
    assert "Цели" in page and "Проверить протокол." in page
    overview = client.get(f"/studies/{study.slug}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert f"/studio/{study.slug}/protocol/" in overview
