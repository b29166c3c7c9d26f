"""An organizer adds, changes, closes and reopens a survey's collectors in the workspace; the
link's address never changes; analysts and strangers cannot; bad input is a message, never a
500, and saves nothing."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from surveys.models import AuditEvent, Collector
from surveys.services.panel import member_add
from tests.surveys.fielding_helpers import collector, survey_load, walk

pytestmark = pytest.mark.django_db

NEW = {"new-code": "we-list", "new-group": "RU", "new-country": "Western Europe",
       "new-quota": "3", "new-id_param": "rid",
       "new-complete_redirect": "https://panel.example.org/ok", "new-speeder_seconds": "30"}


def _client(study, name: str, role: str = "organizer") -> Client:
    user = get_user_model().objects.create_user(username=name, password="pw-123-long-enough")
    member_add(study=study, user=user, role=role)
    client = Client()
    client.force_login(user)
    return client


def test_an_organizer_adds_a_collector_whose_link_takes_respondents():
    study = survey_load()
    page = _client(study, "org").post(f"/studio/{study.slug}/collectors/", NEW)
    assert page.status_code == 302
    c = collector(study, "we-list")
    assert (c.group.code, c.country, c.quota, c.id_param, c.speeder_seconds) == (
        "RU", "Western Europe", 3, "rid", 30)
    assert c.complete_redirect == "https://panel.example.org/ok" and len(c.token) >= 32
    assert AuditEvent.objects.filter(study=study, action="collector_saved",
                                     detail__code="we-list").exists()
    done = walk(Client(), c.token)
    assert done.status_code == 302 and done["Location"] == "https://panel.example.org/ok"
    listed = _client(study, "org2").get(f"/studio/{study.slug}/collectors/")
    assert f"/s/{c.token}/".encode() in listed.content and b"we-list" in listed.content


def test_changing_a_collector_keeps_its_token_and_code():
    study = survey_load()
    token = collector(study).token
    org = _client(study, "org")
    form = org.get(f"/studio/{study.slug}/collectors/ru-panel/")
    assert form.status_code == 200 and form.context["form"].initial["quota"] == 5
    answer = org.post(f"/studio/{study.slug}/collectors/ru-panel/", {
        "edit-code": "renamed", "edit-group": "US", "edit-country": "Russia (elite list)",
        "edit-quota": "", "edit-id_param": "pid", "edit-speeder_seconds": "0"})
    assert answer.status_code == 302
    c = collector(study)
    assert (c.token, c.code, c.group.code, c.country, c.quota) == (
        token, "ru-panel", "US", "Russia (elite list)", None)
    assert not Collector.objects.filter(code="renamed").exists()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("new-code", "Bad Code", "lower-case"),
    ("new-code", "ru-panel", "already in use"),
    ("new-complete_redirect", "http://panel.example.org/", "https://"),
    ("new-closes_at", "2020-01-01T00:00", "close after it opens"),
    ("new-id_param", "p id", "parameter name"),
    ("new-quota", "0", "from 1 to 1,000,000"),
    ("new-quota", "99999999999999999999", "from 1 to 1,000,000"),
    ("new-speeder_seconds", "-1", "from 0 to 86400"),
    ("new-group", "XX", ""),
])
def test_bad_input_is_a_message_and_saves_nothing(field, value, message):
    study = survey_load()
    data = NEW | {field: value}
    if field == "new-closes_at":
        data["new-opens_at"] = "2021-01-01T00:00"
    page = _client(study, "org").post(f"/studio/{study.slug}/collectors/", data)
    assert page.status_code == 400
    assert message.encode() in page.content
    assert Collector.objects.filter(study=study).count() == 2


def test_the_quota_cannot_go_below_the_completions():
    study = survey_load()
    walk(Client(), collector(study).token, "a")
    walk(Client(), collector(study).token, "b")
    page = _client(study, "org").post(f"/studio/{study.slug}/collectors/ru-panel/", {
        "edit-group": "RU", "edit-quota": "1", "edit-id_param": "pid"})
    assert page.status_code == 400 and b"already has 2 completions" in page.content
    assert collector(study).quota == 5


def test_closing_now_stops_new_respondents_and_reopening_lets_them_in():
    study = survey_load()
    org = _client(study, "org")
    token = collector(study).token
    assert org.post(f"/studio/{study.slug}/collectors/ru-panel/state/",
                    {"action": "close"}).status_code == 302
    assert Client().get(f"/s/{token}/?pid=z").status_code == 410
    assert b"closed" in org.get(f"/studio/{study.slug}/collectors/").content
    org.post(f"/studio/{study.slug}/collectors/ru-panel/state/", {"action": "reopen"})
    assert collector(study).closes_at is None
    assert Client().get(f"/s/{token}/?pid=z").status_code == 200
    assert list(AuditEvent.objects.filter(study=study, action__startswith="collector_")
                .values_list("action", flat=True).order_by("pk")) == [
        "collector_closed", "collector_reopened"]


def test_analysts_only_read_and_strangers_and_delphi_studies_have_no_collector_pages():
    from surveys.services.studies import study_load
    from tests.conftest import small_study_data

    study = survey_load()
    analyst = _client(study, "ana", "analyst")
    listed = analyst.get(f"/studio/{study.slug}/collectors/")  # analysts read the list
    assert listed.status_code == 200 and b"ru-panel" in listed.content
    assert b"Close now" not in listed.content and b'id="add"' not in listed.content
    assert analyst.get(f"/studio/{study.slug}/collectors/ru-panel/").status_code == 404
    assert analyst.post(f"/studio/{study.slug}/collectors/", NEW).status_code == 404
    assert analyst.post(f"/studio/{study.slug}/collectors/ru-panel/state/",
                        {"action": "close"}).status_code == 404
    assert collector(study).closes_at is None
    other = survey_load("other")
    assert _client(other, "eve", "owner").get(
        f"/studio/{study.slug}/collectors/").status_code == 404
    delphi = study_load(data=small_study_data("delphi"))
    assert _client(delphi, "org", "owner").get(
        f"/studio/{delphi.slug}/collectors/").status_code == 404


def test_the_page_reads_in_russian():
    study = survey_load()
    org = _client(study, "org")
    page = org.get(f"/studio/{study.slug}/collectors/", HTTP_ACCEPT_LANGUAGE="ru")
    text = page.content.decode()
    assert "Добавить ссылку сбора" in text and "Закрыть сейчас" in text


def test_the_api_lists_adds_changes_closes_and_reopens_collectors():
    from tests.api.conftest import bearer

    study = survey_load()
    user = get_user_model().objects.create_user(username="api-org", password="pw-123-long-enough")
    member_add(study=study, user=user, role="organizer")
    auth = bearer(user)
    base = f"/api/v1/studies/{study.slug}/collectors/"
    listed = Client().get(base, **auth)
    assert listed.status_code == 200
    assert [(r["code"], r["state"], r["quota"]) for r in listed.json()] == [
        ("ru-panel", "open", 5), ("us-open", "open", None)]
    made = Client().post(base, {"code": "cee", "group": "US", "quota": 40}, **auth,
                         content_type="application/json")
    assert made.status_code == 201 and made.json()["link"].endswith(
        f"/s/{collector(study, 'cee').token}/")
    bad = Client().post(base, {"code": "cee", "group": "US"}, **auth,
                        content_type="application/json")
    assert bad.status_code == 400 and "already in use" in bad.content.decode()
    huge = Client().post(base, {"code": "big", "group": "US", "quota": 2**70}, **auth,
                         content_type="application/json")
    assert huge.status_code == 400 and "from 1 to 1,000,000" in huge.content.decode()
    changed = Client().put(base + "cee/", {"group": "RU", "country": "Poland"}, **auth,
                           content_type="application/json")
    assert changed.status_code == 200
    assert (changed.json()["group"], changed.json()["country"], changed.json()["quota"]) == (
        "RU", "Poland", None)
    closed = Client().post(base + "cee/close/", **auth)
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    assert Client().post(base + "cee/reopen/", **auth).json()["state"] == "open"
    assert Client().post(base + "nope/close/", **auth).status_code == 404
    analyst = get_user_model().objects.create_user(username="api-ana", password="pw-123-long-x")
    member_add(study=study, user=analyst, role="analyst")
    assert Client().get(base, **bearer(analyst)).status_code == 200  # analysts read
    assert Client().post(base + "cee/close/", **bearer(analyst)).status_code == 403


def test_a_surveys_home_is_its_fielding_page():
    study = survey_load()
    org = _client(study, "org")
    answer = org.get(f"/studio/{study.slug}/")
    assert answer.status_code == 302 and answer["Location"] == f"/studio/{study.slug}/fielding/"
    page = org.get(f"/studio/{study.slug}/fielding/").content.decode()
    assert f'href="/studio/{study.slug}/"' not in page  # no Dashboard link for a survey
