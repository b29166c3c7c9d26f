"""Audit rows are append-only through the API too: its owner reads the log, nobody writes it."""

import pytest

from surveys.models import AuditEvent
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


def test_the_audit_log_answers_405_to_every_write_even_for_its_owner(api, study, owner):
    event = AuditEvent.objects.create(study=study, actor=owner, action="test", detail={})
    headers = bearer(owner)
    url = f"/api/v1/studies/{study.slug}/audit/"
    assert api.get(url, **headers).status_code == 200
    for method in (api.post, api.put, api.patch, api.delete):
        assert method(url, {"action": "forged"}, format="json", **headers).status_code == 405
        assert method(f"{url}{event.pk}/", {}, format="json", **headers).status_code == 404
    event.refresh_from_db()
    assert event.action == "test" and not AuditEvent.objects.filter(action="forged").exists()
