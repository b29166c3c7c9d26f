"""The audit log from the workspace: owners follow the link to it; nobody else sees the link."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from surveys.services.panel import member_add

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_on_the_site")]


@pytest.fixture
def _on_the_site():
    with override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"]):
        yield


def _client(user) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username,
                                                "password": f"{user.username}-pw-123"})
    assert response.status_code == 302, "the login failed"
    return client


def _audit_links(page) -> list[str]:
    return re.findall(r'href="([^"]*/audit/)"', page.content.decode())


@pytest.fixture
def owner(study):
    user = get_user_model().objects.create_user(username="wendy", password="wendy-pw-123")
    member_add(study=study, user=user, role="owner")
    return user


@pytest.mark.parametrize(("language", "heading"), [("en", "Audit log"), ("ru", "Журнал действий")])
def test_the_owner_opens_the_audit_log_from_the_link_on_the_dashboard(study, owner, language,
                                                                       heading):
    client = _client(owner)
    for page in (f"/studio/{study.slug}/", f"/studio/{study.slug}/panel/"):
        dashboard = client.get(page, HTTP_ACCEPT_LANGUAGE=language)
        assert dashboard.status_code == 200
        links = _audit_links(dashboard)
        assert len(links) == 1, page
    audit = client.get(links[0], HTTP_ACCEPT_LANGUAGE=language)
    assert audit.status_code == 200
    body = audit.content.decode()
    assert f"<h1>{heading}</h1>" in body and "study_created" in body


def test_organizers_and_analysts_see_no_audit_link_and_get_the_platforms_404(
        study, organizer, analyst):
    for user in (organizer, analyst):
        client = _client(user)
        assert _audit_links(client.get(f"/studio/{study.slug}/")) == []
        refused = client.get(f"/studio/{study.slug}/audit/", HTTP_ACCEPT_LANGUAGE="ru")
        assert refused.status_code == 404 and "Страница не найдена" in refused.content.decode()


def test_a_non_member_gets_404_on_the_audit_log(study, outsider):
    refused = _client(outsider).get(f"/studio/{study.slug}/audit/")
    assert refused.status_code == 404 and "Page not found" in refused.content.decode()
    assert study.title not in refused.content.decode()
