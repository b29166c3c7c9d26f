"""The Django admin is the operator's: superusers only, no study data, and audit rows that nobody
adds, changes or deletes there or through the API."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from surveys.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser(username="root", password="root-pw-123456")


def test_a_staff_user_with_every_permission_who_is_not_a_superuser_gets_no_admin_page(
        client, study, alice):
    staff = get_user_model().objects.create_user(username="stan", password="stan-pw-123",
                                                 is_staff=True)
    staff.user_permissions.set(Permission.objects.all())
    client.force_login(staff)
    for path in ["/admin/", "/admin/auth/user/", "/admin/surveys/expert/?q=alice",
                 f"/admin/surveys/study/{study.pk}/change/", "/admin/surveys/auditevent/"]:
        answer = client.get(path)
        assert answer.status_code in (302, 404), path
        if answer.status_code == 302:
            assert answer["Location"].startswith("/admin/login/"), path
        assert b"alice@example.org" not in answer.content


def test_the_demo_organizer_is_not_staff_and_has_no_model_permissions():
    from workspace.services.demo import demo_staff

    for user in demo_staff().values():
        user.refresh_from_db()
        assert not user.is_staff and not user.is_superuser
        assert not user.user_permissions.exists() and not user.get_all_permissions()


def test_the_superusers_admin_shows_no_study_data(client, root, study, alice, organizer):
    AuditEvent.objects.create(study=study, actor=organizer, action="test", detail={"x": 1})
    client.force_login(root)
    index = client.get("/admin/")
    assert index.status_code == 200
    assert b"/admin/auth/user/" in index.content
    assert b"/admin/surveys/" not in index.content
    for path in ["/admin/surveys/expert/", "/admin/surveys/study/", "/admin/surveys/item/",
                 "/admin/surveys/round/", "/admin/surveys/aggregate/"]:
        assert client.get(path).status_code == 404, path


def test_audit_rows_have_no_add_change_or_delete_in_the_admin_even_for_a_superuser(
        client, root, study, organizer):
    event = AuditEvent.objects.create(study=study, actor=organizer, action="test", detail={})
    client.force_login(root)
    for path in ["/admin/surveys/auditevent/add/", f"/admin/surveys/auditevent/{event.pk}/change/",
                 f"/admin/surveys/auditevent/{event.pk}/delete/"]:
        assert client.get(path).status_code == 404, path
        assert client.post(path, {"action": "forged", "post": "yes"}).status_code == 404, path
    event.refresh_from_db()
    assert event.action == "test" and not AuditEvent.objects.filter(action="forged").exists()

