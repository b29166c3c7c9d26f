"""Every page and action of the organizer's workspace has its operation in the API schema: a new
workspace URL without one (or an operation that disappears) fails here."""

import json

import pytest

from workspace.urls import urlpatterns

P = "/api/v1/studies/{slug}/"
R = P + "rounds/{number}/"
# workspace URL name -> the API operations that do the same (method, path in the schema).
PARITY = {
    "home": [("get", "/api/v1/studies/"), ("post", "/api/v1/new-studies/")],
    "import_new": [("post", "/api/v1/study-imports/")],
    "dashboard": [("get", P + "dashboard/")],
    "live": [("get", P + "dashboard/")],
    "rules": [("get", P + "rules/"), ("put", P + "rules/")],
    "audit": [("get", P + "audit/")],
    "fielding": [("get", P + "fielding/"), ("get", P + "fielding/dashboard/")],
    "collectors": [("get", P + "collectors/"), ("post", P + "collectors/")],
    "collector_edit": [("get", P + "collectors/{code}/"), ("put", P + "collectors/{code}/")],
    "collector_state": [("post", P + "collectors/{code}/close/"),
                        ("post", P + "collectors/{code}/reopen/")],
    "protocol": [("get", P + "protocol/")],
    "protocol_download": [("get", P + "protocol/")],
    "builder": [("get", P), ("get", P + "groups/"), ("get", P + "themes/"), ("get", P + "items/")],
    "snapshot": [("post", P + "snapshots/"), ("get", P + "snapshots/")],
    "team": [("get", P + "members/"), ("post", P + "members/"),
             ("patch", P + "members/{id}/")],
    "member_remove": [("delete", P + "members/{id}/")],
    "study_edit": [("patch", P)],
    "study_min_cell": [("patch", P)],
    "group_save": [("post", P + "groups/")],
    "group_rename": [("patch", P + "groups/{code}/")],
    "group_delete": [("delete", P + "groups/{code}/")],
    "theme_save": [("post", P + "themes/")],
    "theme_rename": [("patch", P + "themes/{code}/")],
    "theme_delete": [("delete", P + "themes/{code}/")],
    "item_new": [("post", P + "items/")],
    "item_edit": [("get", P + "items/{code}/"), ("put", P + "items/{code}/")],
    "item_delete": [("delete", P + "items/{code}/")],
    "item_lineage": [("get", P + "items/{code}/history/")],
    "export": [("get", P + "study-file/"), ("get", P + "item-list/")],
    "import_into": [("post", P + "study-file/"), ("post", P + "item-list/")],
    "panel": [("get", P + "experts/"), ("post", P + "experts/"), ("get", P + "messages/")],
    "panel_upload": [("post", P + "experts/import/")],
    "invite": [("post", P + "invitations/")],
    "remind": [("post", R + "remind/")],
    "retry": [("post", P + "messages/{id}/retry/")],
    "withdraw": [("post", P + "experts/{id}/withdraw/")],
    "erase": [("post", P + "experts/{id}/erase/")],
    "revoke": [("delete", P + "experts/{id}/invitation/")],
    "link_lifetime": [("patch", P)],
    "outbox": [("get", P + "outbox/")],
    "rounds": [("get", P + "rounds/"), ("get", P + "rounds/plan/")],
    "round_first": [("post", P + "rounds/")],
    "round_plan": [("post", P + "rounds/plan/")],
    "round_draft": [("get", R + "items/"), ("get", R + "open-answers/")],
    "preview": [("get", R + "preview/")],
    "round_action": [("post", R + "open/"), ("post", R + "extend/"), ("post", R + "close/"),
                     ("post", R + "reopen/"), ("post", R + "reminders/"),
                     ("delete", R + "reminders/{id}/")],
    "draft_edit": [("post", R + "items/{code}/reword/"), ("post", R + "items/{code}/split/"),
                   ("post", R + "merge/"), ("post", R + "items/"),
                   ("delete", R + "items/{code}/")],
}


@pytest.mark.django_db
def test_every_workspace_page_and_action_has_its_api_operation(client):
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    names = {pattern.name for pattern in urlpatterns}
    assert names - set(PARITY) == set(), "workspace URLs without an API operation"
    missing = [(name, method, path) for name, operations in PARITY.items()
               for method, path in operations if method not in schema["paths"].get(path, {})]
    assert missing == []
