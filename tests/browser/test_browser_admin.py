"""The operator's admin in Debian's Chromium: a superuser's save goes through the CSRF check
(the admin's pages carry the same-origin referrer meta the platform's own pages carry)."""

import re

import pytest
from django.contrib.auth import get_user_model

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_superuser_signs_in_to_the_admin_and_saves_a_user(browser, live_server):  # noqa: F811
    users = get_user_model().objects
    users.create_superuser(username="root", password="root-pw-123456")
    olga = users.create_user(username="olga", password="olga-pw-123")
    page = browser.new_context().new_page()
    page.goto(f"{live_server.url}/admin/")
    page.fill("[name='username']", "root")
    page.fill("[name='password']", "root-pw-123456")
    page.click("[type='submit']")
    page.wait_for_url(re.compile(r"/admin/$"))
    page.goto(f"{live_server.url}/admin/auth/user/{olga.pk}/change/")
    page.fill("[name='first_name']", "Olga")
    page.click("[name='_save']")
    page.wait_for_url(re.compile(r"/admin/auth/user/$"))
    assert "was changed successfully" in page.content()
    olga.refresh_from_db()
    assert olga.first_name == "Olga"
