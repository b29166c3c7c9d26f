"""The site's icon comes from the platform itself (no CDN), at the addresses browsers ask for."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("path", "content_type", "starts"), [
    ("/favicon.ico", "image/x-icon", b"\x00\x00\x01\x00"),
    ("/favicon.svg", "image/svg+xml", b"<svg"),
])
def test_the_favicon_is_served_by_the_platform(client, path, content_type, starts):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert b"".join(response.streaming_content).startswith(starts)
    assert "max-age" in response["Cache-Control"]


def test_every_page_names_the_svg_icon(client):
    assert b'rel="icon" href="/static/surveys/favicon.svg"' in client.get("/accounts/login/").content
