"""The platform's own error pages: styled, translated, without detail; JSON under /api/."""

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings
from django.utils import translation

from surveys.views.errors import server_error

pytestmark = pytest.mark.django_db
ON_THE_SITE = override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"])
WITH_FAILING_VIEWS = override_settings(DEBUG=False, ROOT_URLCONF="tests.surveys.error_urls")


def _is_platform_page(response, status: int) -> str:
    body = response.content.decode()
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert "/static/surveys/site.css" in body and "Agora Delphi" in body
    assert "<script" not in body and "style=" not in body and "<style" not in body  # strict CSP
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "secret detail" not in body and "Traceback" not in body
    return body


@ON_THE_SITE
def test_a_missing_page_is_the_platforms_404_in_english():
    body = _is_platform_page(Client().get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="en"), 404)
    assert "Page not found" in body and '<html lang="en">' in body
    assert "The requested resource was not found on this server" not in body


@ON_THE_SITE
def test_a_missing_page_is_in_russian_by_accept_language_or_the_language_cookie():
    body = _is_platform_page(Client().get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="ru"), 404)
    assert "Страница не найдена" in body and '<html lang="ru">' in body
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    body = _is_platform_page(client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="en"), 404)
    assert "Страница не найдена" in body


@ON_THE_SITE
def test_the_api_still_answers_json_404():
    response = Client().get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": {}}


@WITH_FAILING_VIEWS
def test_a_failing_view_gets_the_platforms_500_without_detail():
    client = Client(raise_request_exception=False)
    body = _is_platform_page(client.get("/boom/", HTTP_ACCEPT_LANGUAGE="en"), 500)
    assert "Server error" in body
    body = _is_platform_page(client.get("/boom/", HTTP_ACCEPT_LANGUAGE="ru"), 500)
    assert "Ошибка сервера" in body


@WITH_FAILING_VIEWS
def test_a_failing_api_view_answers_json_500_and_a_plain_404_under_the_api_json_too():
    response = Client(raise_request_exception=False).get("/api/boom/")
    assert response.status_code == 500 and response.json() == {"detail": "Server error.", "errors": {}}
    missing = Client().get("/api/missing/", HTTP_ACCEPT_LANGUAGE="ru")
    assert missing.status_code == 404 and missing.json() == {"detail": "Не найдено.", "errors": {}}


@WITH_FAILING_VIEWS
def test_a_refusal_gets_the_platforms_403_and_a_bad_request_the_400():
    body = _is_platform_page(Client().get("/forbidden/", HTTP_ACCEPT_LANGUAGE="ru"), 403)
    assert "Доступ запрещён" in body
    body = _is_platform_page(Client().get("/suspicious/"), 400)
    assert "Bad request" in body


@ON_THE_SITE
def test_a_refused_form_gets_the_platforms_403_without_the_csrf_explanation():
    client = Client(enforce_csrf_checks=True)
    body = _is_platform_page(client.post("/accounts/login/", {"username": "x", "password": "y"}), 403)
    assert "This form has expired" in body and "CSRF" not in body


@pytest.mark.django_db(databases=[])  # any query would raise
def test_the_500_page_renders_without_a_database_or_a_request_context():
    request = RequestFactory().get("/anything/")
    with translation.override("ru"):
        response = server_error(request)
    assert response.status_code == 500 and "Ошибка сервера" in response.content.decode()


@ON_THE_SITE
def test_a_locked_out_staff_login_gets_the_platforms_429(organizer):
    client = Client()
    wrong = {"username": "olga", "password": "not-her-password"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", wrong)
    response = client.post("/accounts/login/", wrong, HTTP_ACCEPT_LANGUAGE="ru")
    body = _is_platform_page(response, 429)
    assert "Слишком много попыток" in body and response["Retry-After"]


@ON_THE_SITE
def test_too_many_wrong_invitation_links_get_the_platforms_429(study):
    client = Client()
    codes = [client.get(f"/e/wrong-{n}/").status_code for n in range(settings.TOKEN_RATE_LIMIT + 1)]
    assert codes[-1] == 429
    body = _is_platform_page(client.get("/e/wrong/", HTTP_ACCEPT_LANGUAGE="ru"), 429)
    assert "Слишком много попыток" in body
    _is_platform_page(client.get("/e/wrong/"), 429)


@ON_THE_SITE
def test_a_request_for_another_host_gets_the_platforms_400():
    body = _is_platform_page(Client().get("/", HTTP_HOST="evil.example"), 400)
    assert "Bad request" in body and "evil.example" not in body
