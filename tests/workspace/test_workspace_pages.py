"""The workspace's pages: who may see what (404 otherwise), and the main flows through forms."""

import re

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core import mail as django_mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from surveys.models import AuditEvent, Expert, Round
from surveys.services.panel import expert_issue_token, member_add
from surveys.services.rounds import round_create
from tests.workspace_helpers import submit
from workspace.models import ConsensusRule
from workspace.services import transfer

pytestmark = pytest.mark.django_db

PAGES = ["", "rules/", "build/", "build/item/", "build/item/agree/", "build/item/agree/history/",
         "export/yaml/", "export/csv/", "panel/", "rounds/", "rounds/1/", "rounds/1/preview/",
         "team/"]
ACTIONS = ["build/group/", "build/theme/", "build/item/agree/delete/", "import/yaml/", "panel/upload/",
           "panel/invite/", "panel/remind/", "rounds/first/", "rounds/plan/", "rounds/1/start/",
           "rounds/1/items/remove/", "panel/1/withdraw/", "panel/1/erase/", "audit/",
           "build/study/", "build/group/RU/rename/", "build/group/RU/delete/",
           "build/theme/one/rename/", "build/theme/one/delete/", "snapshot/", "team/",
           "team/1/remove/"]


def _client(user) -> Client:
    """Log in through the login page, as staff do (the lockout backend sees the request)."""
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username,
                                                "password": f"{user.username}-pw-123"})
    assert response.status_code == 302, "the login failed"
    return client


@pytest.fixture
def owner(study):
    user = get_user_model().objects.create_user(username="wendy", password="wendy-pw-123")
    member_add(study=study, user=user, role="owner")
    return user


@pytest.fixture
def draft(study):
    return round_create(study=study)


def test_outsiders_and_analysts_get_404_on_every_organizer_page_and_action(
        study, draft, alice, organizer, analyst, outsider):
    for user in (outsider, analyst):
        client = _client(user)
        for path in PAGES[1:]:
            assert client.get(f"/studio/{study.slug}/{path}").status_code == 404, (user, path)
        for path in ACTIONS:
            assert client.post(f"/studio/{study.slug}/{path}").status_code == 404, (user, path)
    assert _client(outsider).get(f"/studio/{study.slug}/").status_code == 404
    assert _client(analyst).get(f"/studio/{study.slug}/").status_code == 200  # analysts read
    assert not AuditEvent.objects.exclude(action__in=["study_created", "expert_added",
                                                      "round_created"]).exists()


def test_organizers_see_every_page_and_only_owners_read_the_audit_log(
        study, draft, organizer, owner):
    client = _client(organizer)
    for path in PAGES:
        assert client.get(f"/studio/{study.slug}/{path}").status_code == 200, path
    assert client.get(f"/studio/{study.slug}/audit/").status_code == 404
    page = _client(owner).get(f"/studio/{study.slug}/audit/")
    assert page.status_code == 200 and b"round_created" in page.content
    assert _client(organizer).get("/studio/nonexistent/").status_code == 404
    assert Client().get(f"/studio/{study.slug}/").status_code == 302  # to the login page


def test_registering_rules_through_the_form_then_changing_them_needs_a_reason(study, organizer):
    client = _client(organizer)
    form = {"definition": "combined", "direction": "either", "agree_pct": "70", "iqr_max": "1",
            "stability": "wilcoxon", "stability_p": "0.05", "stability_pct": "15", "stopping": "max_rounds",
            "max_rounds": "3", "reason": ""}
    assert client.post(f"/studio/{study.slug}/rules/", form).status_code == 302
    assert ConsensusRule.objects.get(study=study).agree_pct == 70
    client.post(f"/studio/{study.slug}/rounds/first/")
    response = client.post(f"/studio/{study.slug}/rounds/1/start/",
                           {"opens_at": "", "closes_at": "", "confirm": "1"})
    assert response.status_code == 302
    assert Round.objects.get(study=study, number=1).status == "open"
    refused = client.post(f"/studio/{study.slug}/rules/", form | {"agree_pct": "60"}, follow=True)
    assert "written reason" in refused.content.decode()
    assert ConsensusRule.objects.get(study=study).agree_pct == 70
    client.post(f"/studio/{study.slug}/rules/", form | {"agree_pct": "60",
                                                        "reason": "Smaller panel than planned."})
    assert ConsensusRule.objects.get(study=study).agree_pct == 60
    dashboard = client.get(f"/studio/{study.slug}/").content.decode()
    assert "changed after round 1 opened" in dashboard and "Smaller panel than planned." in dashboard


def test_adding_an_expert_with_an_invitation_and_uploading_a_bad_csv(
        study, organizer, django_capture_on_commit_callbacks):
    client = _client(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/studio/{study.slug}/panel/", {
            "name": "Dana", "email": "dana@example.org", "group": "RU", "language": "ru",
            "invite": "on"})
    assert response.status_code == 302
    assert [m.to for m in django_mail.outbox] == [["dana@example.org"]]
    bad = SimpleUploadedFile("panel.csv", b"name,email,group\nX,not-an-email,RU\n", "text/csv")
    page = client.post(f"/studio/{study.slug}/panel/upload/", {"file": bad})
    assert page.status_code == 400
    assert "line 2, email: &#x27;not-an-email&#x27; is not an email address" in page.content.decode()
    assert Expert.objects.filter(study=study).count() == 1


def test_a_study_file_upload_shows_the_report_before_anything_changes(study, organizer):
    client = _client(organizer)
    data = transfer.study_data(study)
    data["themes"][0]["items"][0]["text"]["en"] = "Edited before any round"
    content = yaml.safe_dump(data, allow_unicode=True)
    upload = SimpleUploadedFile("study.yaml", content.encode(), "application/yaml")
    page = client.post(f"/studio/{study.slug}/import/yaml/", {"file": upload})
    assert page.status_code == 200 and "1 changed item" in page.content.decode()
    assert study.items.get(code="agree").text_en == "English text"  # nothing changed yet
    client.post(f"/studio/{study.slug}/import/yaml/", {"content": content, "confirm": "1"})
    assert study.items.get(code="agree").text_en == "Edited before any round"


def test_the_preview_shows_the_questionnaire_as_an_expert_sees_it_and_saves_nothing(
        study, draft, organizer):
    page = _client(organizer).get(f"/studio/{study.slug}/rounds/1/preview/")
    html = page.content.decode()
    assert page.status_code == 200 and "Preview: this is what an expert sees" in html
    assert html.count('class="item') == 6 and 'name="a-rank.a"' in html
    assert "<script>" not in html and ' style="' not in html
    assert not Expert.objects.exists()


def test_the_dashboard_and_its_live_part_show_response_by_group(round1, organizer, alice, bob):
    expert_issue_token(expert=alice)
    expert_issue_token(expert=bob)
    submit(alice, round1, agree=4)
    live = _client(organizer).get(f"/studio/{round1.study.slug}/live/?round=1").content.decode()
    assert 'hx-trigger="every 5s"' in live
    cells = re.findall(r'data-group="(\w+)".*?class="ws-submitted">(\d+)<', live, re.S)
    assert dict(cells) == {"RU": "1", "US": "0", "WE": "0", "all": "1"}


def test_staff_passwords_are_argon2_and_logins_lock_after_repeated_failures(study, organizer):
    assert organizer.password.startswith("argon2$")
    client = Client()
    for _ in range(5):
        client.post("/accounts/login/", {"username": "olga", "password": "wrong"})
    locked = client.post("/accounts/login/", {"username": "olga", "password": "olga-pw-123"})
    assert locked.status_code != 302  # the right password no longer gets in
    assert client.get(f"/studio/{study.slug}/").status_code == 302  # still to the login page


def test_dashboard_planning_draft_and_history_pages_after_round_1(round1, organizer, alice, bob):
    from tests.workspace_helpers import close_and_aggregate

    submit(alice, round1, agree=4)
    submit(bob, round1, agree=5)
    close_and_aggregate(round1)
    client = _client(organizer)
    slug = round1.study.slug
    dashboard = client.get(f"/studio/{slug}/?round=1").content.decode()
    # agree: 4 and 5 -> 100 % agree, IQR 0.5: consensus under the default rule.
    assert 'data-agree="1" data-disagree="0" data-none="0"' in dashboard and "<svg" in dashboard
    plan = client.get(f"/studio/{slug}/rounds/").content.decode()
    assert "Plan round 2 from round 1" in plan
    agree = round1.study.items.get(code="agree")
    assert f'value="{agree.pk}" id="inc-{agree.pk}">' in plan  # consensus: not ticked
    prob = round1.study.items.get(code="prob")
    response = client.post(f"/studio/{slug}/rounds/plan/", {"include": [agree.pk, prob.pk]})
    assert response.status_code == 302 and response["Location"].endswith("/rounds/2/")
    client.post(f"/studio/{slug}/rounds/2/items/reword/", {
        "item": "agree", "code": "agree-r2", "text_en": "New words", "text_ru": "Новые слова"})
    draft = client.get(f"/studio/{slug}/rounds/2/").content.decode()
    assert "Round 2: agree-r2, reworded, derived from item agree of round 1" in draft
    history = client.get(f"/studio/{slug}/build/item/agree/history/").content.decode()
    assert "agree-r2 in round 2 (reworded)" in history
    client.post(f"/studio/{slug}/rounds/2/reminders/", {"hours": "72, 24"})
    rounds = client.get(f"/studio/{slug}/rounds/").content.decode()
    assert "72 hours before closing" in rounds and "24 hours before closing" in rounds
    preview = client.get(f"/studio/{slug}/rounds/2/preview/").content.decode()
    assert "New words" in preview and 'name="a-agree-r2"' in preview and 'name="a-agree"' not in preview


def test_the_workspace_speaks_russian(study, draft, organizer):
    client = _client(organizer)
    client.cookies["django_language"] = "ru"
    html = client.get(f"/studio/{study.slug}/rounds/").content.decode()
    assert "Открыть (или запланировать) тур" in html and "Конструктор" in html
    assert "Журнал действий" not in html  # the audit log link is for owners only
    panel = client.get(f"/studio/{study.slug}/panel/").content.decode()
    assert "Пригласить всех, кто ещё не приглашён" in panel
