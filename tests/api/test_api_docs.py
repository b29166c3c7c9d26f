"""The OpenAPI schema and the Swagger UI page: complete, served by the platform, under the CSP."""

import json
import os
from pathlib import Path

import pytest

from tests.conftest import ROOT, need_service

CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.django_db
def test_every_operation_documents_its_answers_and_errors(client):
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    assert schema["info"]["title"] == "Agora Delphi API"
    assert set(schema["components"]["securitySchemes"]) >= {"apiToken", "invitationToken"}
    for path, item in schema["paths"].items():
        assert path.startswith("/api/v1/")
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = set(operation["responses"])
            assert {"401", "404"} <= codes, (method, path)
            assert any(c.startswith("2") for c in codes), (method, path)
            if method in {"post", "put", "patch"}:
                assert "400" in codes, (method, path)
            if "requestBody" in operation:
                assert list(operation["requestBody"]["content"]) == ["application/json"]
            if "{slug}" in path:  # who may call it, from the view's own role check
                assert set(operation["x-roles"]) <= {"owner", "organizer", "analyst"}, path
                assert "Study roles: " in operation["description"], path


@pytest.mark.django_db
def test_the_docs_page_loads_swagger_ui_from_the_platform_itself(client):
    page = client.get("/api/docs/")
    html = page.content.decode()
    assert page.status_code == 200 and "swagger-ui-bundle.js" in html
    assert "http://" not in html and "https://" not in html  # no CDN
    assert "<style" not in html and "<script>" not in html  # nothing inline
    assert "unsafe-inline" not in page["Content-Security-Policy"]
    bundle = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert client.get("/api/docs/", {"script": ""})["Content-Type"] == "application/javascript"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_swagger_ui_renders_every_operation_in_chromium_without_a_csp_violation(live_server):
    need_service(CHROMIUM.exists(), "Debian's chromium (/usr/bin/chromium)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox",
                                                                             "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            messages = []
            page.on("console", lambda m: messages.append(m.text))
            page.goto(f"{live_server.url}/api/docs/")
            page.wait_for_selector(".opblock", timeout=20_000)
            operations = page.locator(".opblock").count()
            page.screenshot(path=str(ROOT / "test-artifacts" / "api-docs.png"))
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    assert operations >= 30
    assert [m for m in messages if "Content Security Policy" in m] == []
