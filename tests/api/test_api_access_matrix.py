"""The access matrix, generated from the OpenAPI schema: every path and method, for every kind of
caller, with the ids of another study's objects. Nothing answers anything but 404 or 401."""

import json
import re

import pytest

from tests.api.conftest import bearer, invitation
from tests.conftest import _staff, small_study_data

pytestmark = pytest.mark.django_db
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def schema(api):
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def operations(schema) -> list[tuple[str, str]]:
    ops = [(path, method) for path, item in schema["paths"].items() for method in METHODS
           if method in item]
    assert len(ops) >= 30, "the schema lost its operations"
    return ops


PK_KINDS = ("tokens", "members", "experts", "messages", "reminders")
CODE_KINDS = ("groups", "themes", "collectors")


def fill(path: str, ids: dict) -> str:
    """The path with every {parameter} replaced by the given ids (pk and code depend on the
    resource: the last collection named before the parameter)."""
    def value(match: re.Match) -> str:
        name, before = match.group(1), path[:match.start()]
        if name in ("pk", "id"):
            kind = max(PK_KINDS, key=lambda k: before.rfind(f"/{k}/"))
            return str(ids[f"pk_{kind}"])
        if name == "code":
            kind = max(CODE_KINDS, key=lambda k: before.rfind(f"/{k}/"))
            if before.rfind(f"/{kind}/") > before.rfind("/items/"):
                return str(ids.get(f"code_{kind}", ids["code"]))
        return str(ids[name])

    return re.sub(r"\{(\w+)\}", value, path)


def foreign_ids(foreign) -> dict:
    bert_token = foreign["owner"].api_tokens.first()
    return {"slug": foreign["study"].slug, "code": foreign["item"], "number": foreign["round"].number,
            "fmt": "csv", "pk_experts": foreign["expert"].pk, "pk_members": foreign["member"].pk,
            "pk_tokens": bert_token.pk, "pk_messages": foreign["message"].pk,
            "pk_reminders": foreign["reminder"].pk, "code_groups": foreign["group"],
            "code_themes": foreign["theme"], "code_collectors": foreign["collector"]}


@pytest.fixture
def callers(study, round1, owner, organizer, analyst, alice, foreign):
    """Everyone who is not the foreign study's: its roles in study "small", an expert of it, the
    organizer of a third study, and an anonymous visitor; plus the foreign owner's own token."""
    from surveys.services.studies import study_load

    third = study_load(data=small_study_data(slug="third"))
    # A collector row on the foreign study, so its collector URLs have an object to find.
    from surveys.models import Collector, StakeholderGroup

    group = StakeholderGroup.objects.get(study=foreign["study"], code=foreign["group"])
    foreign["collector"] = Collector.objects.create(study=foreign["study"], code="f-link",
                                                    group=group).code
    foreign["owner_headers"] = bearer(foreign["owner"])
    return {
        "owner": bearer(owner), "organizer": bearer(organizer), "analyst": bearer(analyst),
        "expert": invitation(alice), "third-study organizer": bearer(_staff(third, "tess", "owner")),
        "anonymous": {},
    }


def call(api, method: str, url: str, headers: dict):
    body = {} if method in ("post", "put", "patch") else None
    return getattr(api, method)(url, body, format="json", **headers)


def test_the_matrix_covers_the_read_only_protocol(schema):
    ops = operations(schema)
    assert ("/api/v1/studies/{slug}/protocol/", "get") in ops
    assert not {m for p, m in ops if p == "/api/v1/studies/{slug}/protocol/"} - {"get"}


def test_no_caller_reaches_another_studys_objects(api, schema, callers, foreign):
    ids = foreign_ids(foreign)
    marks = {foreign["study"].slug, "Foreign study", "Carol", "carol@example.org", "f-agree"}
    leaks = []
    for path, method in operations(schema):
        if path.startswith("/api/v1/me/"):
            continue  # no ids there: see test_the_expert_endpoints_reach_only_the_callers_own_response
        has_ids = "{" in path
        for who, headers in callers.items():
            response = call(api, method, fill(path, ids), headers)
            allowed = {401} if who in ("anonymous", "expert") else {404} if has_ids else None
            text = response.content.decode("utf-8", "replace")
            if allowed is not None and response.status_code not in allowed:
                leaks.append(f"{who} {method.upper()} {path}: {response.status_code}")
            elif any(mark in text for mark in marks):
                leaks.append(f"{who} {method.upper()} {path}: the body names the foreign study")
    assert leaks == []


def test_the_foreign_owner_reaches_the_same_urls(api, schema, callers, foreign):
    """The matrix's control: with the owner's own token the same ids are found, so a 404 above
    means 'not yours', not a wrong URL."""
    ids = foreign_ids(foreign)
    for path, method in operations(schema):
        if method != "get" or path.startswith("/api/v1/me/"):
            continue
        response = call(api, "get", fill(path, ids), foreign["owner_headers"])
        assert response.status_code == 200, (path, response.status_code, response.content[:200])


def test_ids_of_another_study_are_not_found_under_ones_own(api, schema, callers, foreign):
    ids = {**foreign_ids(foreign), "slug": "small"}
    wrong = []
    for path, method in operations(schema):
        if "{slug}" not in path or not re.search(r"\{(code|number|pk|id)\}", path):
            continue
        for who in ("owner", "organizer", "analyst"):
            response = call(api, method, fill(path, ids), callers[who])
            # 403 only where the role may not write that resource at all (refused first).
            read_only = who == "analyst" or (who == "organizer" and "/members/" in path)
            expected = {403, 404} if read_only and method != "get" else {404}
            if response.status_code not in expected:
                wrong.append(f"{who} {method.upper()} {path}: {response.status_code}")
    assert wrong == []


def test_the_expert_endpoints_reach_only_the_callers_own_response(api, schema, callers, alice, bob,
                                                                  round1):
    from surveys.services.responses import ItemAnswer, response_submit

    response_submit(expert=bob, round_=round1,
                    answers={"agree": ItemAnswer(values={"": 2}, rationale="Bob's own reason")})
    me_paths = [p for p, m in operations(schema) if p.startswith("/api/v1/me/") and m == "get"]
    assert me_paths
    for path in me_paths:
        mine = api.get(path, **callers["expert"])
        assert mine.status_code == 200
        assert "Bob" not in mine.content.decode() and "bob@example.org" not in mine.content.decode()
        for who in ("owner", "organizer", "analyst", "anonymous"):
            assert api.get(path, **callers[who]).status_code == 401, (who, path)


def test_analysts_read_but_never_write(api, schema, callers):
    ids = {"slug": "small", "code": "agree", "number": 1, "fmt": "csv", **dict.fromkeys(
        [f"pk_{kind}" for kind in PK_KINDS], 0)}
    for path, method in operations(schema):
        if "{slug}" not in path or method == "get" or "{id}" in path or "{pk}" in path:
            continue
        response = call(api, method, fill(path, ids), callers["analyst"])
        assert response.status_code == 403, (method, path, response.status_code)
        assert response.json()["detail"]


def test_only_owners_manage_members(api, callers, analyst):
    member = analyst.studymember_set.get()
    for who in ("organizer", "analyst"):
        assert api.post("/api/v1/studies/small/members/", {"username": "oscar", "role": "analyst"},
                        format="json", **callers[who]).status_code == 403
        assert api.delete(f"/api/v1/studies/small/members/{member.pk}/",
                          **callers[who]).status_code == 403
    assert api.delete(f"/api/v1/studies/small/members/{member.pk}/",
                      **callers["owner"]).status_code == 204


def test_a_non_member_gets_404_on_every_path_of_a_study_it_could_guess(api, schema, callers):
    """The third study's organizer and study "small": as unknown as a slug that does not exist."""
    ids = {"slug": "small", "code": "agree", "number": 1, "fmt": "csv", **dict.fromkeys(
        [f"pk_{kind}" for kind in PK_KINDS], 1)}
    for path, method in operations(schema):
        if "{slug}" not in path:
            continue
        known = call(api, method, fill(path, ids), callers["third-study organizer"])
        unknown = call(api, method, fill(path, {**ids, "slug": "no-such-study"}),
                       callers["third-study organizer"])
        assert known.status_code == unknown.status_code == 404
        assert known.content == unknown.content


def test_no_study_role_opens_the_django_admin(client, study, organizer, analyst):
    """The admin knows no study roles, locks or audit: only the operator's superuser gets in,
    and no study model is registered there even for them."""
    owner = _staff(study, "oona", "owner")
    for user in (owner, organizer, analyst):
        user.is_staff = True  # even a staff flag set by hand opens nothing
        user.save(update_fields=["is_staff"])
        client.force_login(user)
        for path in ("/admin/", "/admin/surveys/expert/", "/admin/surveys/auditevent/"):
            assert client.get(path).status_code in (302, 404), (user.username, path)
        client.logout()
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.create_superuser("root", "root@example.org", "root-pw-123")
    client.force_login(root)
    assert client.get("/admin/").status_code == 200
    for model in ("expert", "auditevent", "study", "aggregate"):
        assert client.get(f"/admin/surveys/{model}/").status_code == 404, model
