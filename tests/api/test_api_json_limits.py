"""Abusive JSON bodies get a JSON 4xx, never a 500 or an HTML page: nesting a thousand levels
deep answers 400 naming the limit; a body over DATA_UPLOAD_MAX_MEMORY_SIZE answers 413."""

import pytest

from tests.api.conftest import bearer, invitation

pytestmark = pytest.mark.django_db

DEEP_ARRAY = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


def _endpoints(organizer, alice):
    staff = bearer(organizer)
    return [("post", "/api/v1/tokens/", {}),  # with a session below: the token endpoint
            ("post", "/api/v1/studies/small/items/", staff),
            ("patch", "/api/v1/studies/small/", staff),
            ("put", "/api/v1/studies/small/rules/", staff),
            ("post", "/api/v1/study-imports/", staff),
            ("put", "/api/v1/me/response/", invitation(alice))]


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["arrays", "objects"])
def test_deeply_nested_json_gets_a_json_400_on_every_endpoint(api, organizer, round1, alice,
                                                               body):
    api.raise_request_exception = False
    api.force_login(organizer)
    for method, path, headers in _endpoints(organizer, alice):
        answer = getattr(api, method)(path, body, content_type="application/json", **headers)
        assert answer.status_code == 400, (path, answer.status_code)
        assert answer["Content-Type"] == "application/json"
        assert "nested more than 64 levels" in answer.json()["detail"], path


def test_ordinary_nesting_and_brackets_inside_strings_are_fine(api, organizer):
    from api.parsers import MAX_DEPTH, too_deep

    assert not too_deep('{"a": [[[{"b": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}]]]}')
    assert not too_deep('"\\"[[[[" ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert too_deep("[" * (MAX_DEPTH + 1))
    api.force_login(organizer)
    made = api.post("/api/v1/tokens/", {"name": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                                                "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}, format="json")
    assert made.status_code == 201


def test_an_over_size_body_gets_a_json_413(api, organizer, round1, alice, settings):
    api.raise_request_exception = False
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    padding = "x" * limit
    asked = [("/api/v1/studies/small/items/", bearer(organizer), {"code": padding}),
             ("/api/v1/me/response/", invitation(alice), {"answers": {}, "note": padding})]
    for path, headers, body in asked:
        answer = api.put(path, body, format="json", **headers) if "me" in path else api.post(
            path, body, format="json", **headers)
        assert answer.status_code == 413, path
        assert answer["Content-Type"] == "application/json"
        assert str(limit) in answer.json()["detail"]
    api.force_login(organizer)
    for path in ("/api/v1/tokens/", "/api/v1/study-imports/"):
        answer = api.post(path, {"name": padding, "content": padding}, format="json")
        assert answer.status_code == 413, path
        assert answer["Content-Type"] == "application/json"


def test_a_body_just_under_the_limit_is_read(api, organizer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    api.force_login(organizer)
    answer = api.post("/api/v1/tokens/", {"name": "n" * 100, "padding": "p" * 800}, format="json")
    assert answer.status_code == 201
