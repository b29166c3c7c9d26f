"""The organizer's fielding table per collector: the workspace page and the API resource read
the same selector; another study's staff get 404."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from surveys.services.panel import member_add
from tests.api.conftest import bearer
from tests.surveys.fielding_helpers import collector, survey_load, walk

pytestmark = pytest.mark.django_db


def _staff(study, name: str, role: str = "analyst"):
    user = get_user_model().objects.create_user(username=name, password="pw-123-long-enough")
    member_add(study=study, user=user, role=role)
    return user


def test_the_fielding_page_and_api_count_each_collector():
    study = survey_load()
    c = collector(study)
    walk(Client(), c.token, "a")
    walk(Client(), c.token, "b", role="other")
    Client().get(f"/s/{c.token}/?pid=c")  # opened, nothing answered
    reader = Client()
    reader.force_login(_staff(study, "ana"))
    page = reader.get(f"/studio/{study.slug}/fielding/")
    assert page.status_code == 200 and f"/s/{c.token}/".encode() in page.content
    rows = {r["code"]: r for r in page.context["rows"]}
    assert (rows["ru-panel"]["entries"], rows["ru-panel"]["started"],
            rows["ru-panel"]["completed"], rows["ru-panel"]["screened_out"]) == (3, 1, 1, 1)
    assert rows["ru-panel"]["fill_pct"] == 20.0 and rows["us-open"]["fill_pct"] is None  # 1/5
    assert rows["ru-panel"]["median_seconds"] >= 0 and rows["us-open"]["median_seconds"] is None
    api = Client().get(f"/api/v1/studies/{study.slug}/fielding/",
                       **bearer(_staff(study, "api-reader")))
    assert api.status_code == 200
    assert [r["completed"] for r in api.json()] == [1, 0]
    other = survey_load("other")
    stranger = Client()
    stranger.force_login(_staff(other, "eve", "owner"))
    assert stranger.get(f"/studio/{study.slug}/fielding/").status_code == 404


def test_collectors_come_from_the_study_file_and_keep_their_tokens():
    from surveys.services.studies import study_load
    from tests.surveys.fielding_helpers import survey_data

    study = survey_load()
    token = collector(study).token
    data = survey_data()
    data["collectors"][0]["quota"] = 50
    study_load(data=data)
    c = collector(study)
    assert (c.token, c.quota, c.country, c.group.code) == (token, 50, "Russia", "RU")


@pytest.mark.parametrize(("change", "where"), [
    ({"complete_redirect": "http://panel.example.org/done"}, "collectors[0].complete_redirect"),
    ({"screenout_redirect": "javascript:alert(1)"}, "collectors[0].screenout_redirect"),
    ({"group": "XX"}, "collectors[0].group"),
    ({"quota": 0}, "collectors[0].quota"),
    ({"id_param": "p id"}, "collectors[0].id_param"),
    ({"closes_at": "2020-01-01T00:00:00Z", "opens_at": "2021-01-01T00:00:00Z"},
     "collectors[0].closes_at"),
])
def test_bad_collectors_are_refused_with_their_location(change, where):
    from surveys.services.studies import study_file_check
    from tests.surveys.fielding_helpers import survey_data

    data = survey_data()
    data["collectors"][0] |= change
    assert any(p.startswith(where) for p in study_file_check(data))


def test_a_local_http_redirect_is_allowed_for_tests():
    from surveys.services.studies import study_file_check
    from tests.surveys.fielding_helpers import survey_data

    data = survey_data()
    data["collectors"][0]["complete_redirect"] = "http://127.0.0.1:8000/done"
    assert study_file_check(data) == []


def test_a_consent_version_cannot_change_its_text():
    from surveys.errors import StudyFileError
    from surveys.services.studies import study_load
    from tests.surveys.fielding_helpers import survey_data

    survey_load()
    data = survey_data()
    data["consent"] = [{"version": "v1", "text": {"en": "Changed.", "ru": "Изменено."}}]
    with pytest.raises(StudyFileError):
        study_load(data=data)


def test_the_respondents_file_joins_the_exports_and_names_nobody():
    import csv
    import io

    from surveys.exports import export_long

    study = survey_load()
    c = collector(study)
    walk(Client(), c.token, "ext-77")  # an id that never leaves the platform
    walk(Client(), c.token, "p2", role="other")
    reader = Client()
    reader.force_login(_staff(study, "ana"))
    answer = reader.get(f"/studio/{study.slug}/fielding/?download=csv")
    assert answer["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert [(r["status"], r["group"], r["country"], r["consent_version"]) for r in rows] == [
        ("completed", "RU", "Russia", "v1"), ("screened_out", "RU", "Russia", "v1")]
    assert "ext-77" not in answer.content.decode() and "p2" not in answer.content.decode()
    long = export_long(study)
    assert set(long["expert"]) == {rows[0]["expert"]}  # the same pseudonym as the answers
    assert len(long) == 8  # the nine answers less the open one (export_texts has it)


def test_the_study_file_export_carries_the_survey_blocks_and_loads_back():
    from surveys.exports import study_definition
    from surveys.services.studies import study_load

    study = survey_load()
    data = study_definition(study)
    assert data["mode"] == "survey" and data["consent"][0]["version"] == "v1"
    assert [c["code"] for c in data["collectors"]] == ["ru-panel", "us-open"]
    assert "token" not in data["collectors"][0] and data["screening"] == study.screening
    copy = study_load(data=data | {"slug": "poll-copy"})
    assert copy.mode == "survey" and collector(copy).quota == 5
    assert collector(copy).token != collector(study).token


def test_a_survey_archive_imports_back_with_its_answers():
    from surveys.exports import export_long, study_archive
    from surveys.services.archive_import import study_import_research_archive

    study = survey_load()
    walk(Client(), collector(study).token, "a1")
    copy = study_import_research_archive(archive=study_archive(study), slug="poll-archive")
    assert copy.mode == "survey"
    assert export_long(copy).drop(columns="expert").equals(export_long(study).drop(columns="expert"))


def test_the_median_completion_time_per_collector():
    import datetime as dt

    from surveys.models import Entry
    from surveys.selectors_fielding import fielding_table

    study = survey_load()
    c = collector(study)
    for pid in ("t1", "t2", "t3"):
        walk(Client(), c.token, pid)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for pid, seconds in (("t1", 100), ("t2", 600), ("t3", 200)):
        Entry.objects.filter(external_id=pid).update(
            started_at=start, completed_at=start + dt.timedelta(seconds=seconds))
    # 100, 200, 600 seconds: the median is the middle one, 200
    assert fielding_table(study)[0]["median_seconds"] == 200


def test_the_fielding_page_says_who_quota_full_counts_and_who_it_does_not():
    study = survey_load()
    reader = Client()
    reader.force_login(_staff(study, "ana"))
    english = reader.get(f"/studio/{study.slug}/fielding/").content.decode()
    assert ("Quota full: turned away because the collector's quota had filled, either on "
            "opening the link (counted once per browser; nothing else about them is kept) or "
            "on reaching the end (their answers stay a draft). Arrivals count both.") in english
    russian = reader.get(f"/studio/{study.slug}/fielding/",
                         HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Квота заполнена: не допущены, потому что квота ссылки сбора уже заполнена" in russian
    assert "Среди перешедших по ссылке учтены и те и другие." in russian
