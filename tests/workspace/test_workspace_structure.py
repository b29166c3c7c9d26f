"""The study's frame: title and description, renaming and deleting groups and themes, and the
staff's roles. Deletes are refused while anything depends on them; every change is audited."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from surveys.errors import ServiceError
from surveys.models import Answer, AuditEvent, Expert, StakeholderGroup, StudyMember, Theme
from surveys.services.panel import expertise_save, member_add
from surveys.services.rounds import round_create, round_open
from tests.workspace_helpers import english, submit  # noqa: F401 - english is a fixture
from workspace.services import builder, members, structure

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _event(study, action):
    return AuditEvent.objects.filter(study=study, action=action).latest("pk")


def _client(user) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username,
                                                "password": f"{user.username}-pw-123"})
    assert response.status_code == 302, "the login failed"
    return client


@pytest.fixture
def owner(study):
    user = get_user_model().objects.create_user(username="wendy", password="wendy-pw-123")
    member_add(study=study, user=user, role="owner")
    return user


def test_the_title_and_description_change_in_both_languages_and_are_audited(study, organizer):
    structure.study_update(study=study, actor=organizer, title_en=" Energy 2040 ",
                           title_ru="Энергетика 2040", description_en="Why and how.",
                           description_ru="Зачем и как.")
    study.refresh_from_db()
    assert (study.title_en, study.title_ru, study.description_ru) == (
        "Energy 2040", "Энергетика 2040", "Зачем и как.")
    event = _event(study, "study_updated")
    assert event.actor == organizer
    assert event.detail["before"]["title_en"] == "Small study"
    assert event.detail["after"]["description_en"] == "Why and how."
    with pytest.raises(ServiceError) as error:
        structure.study_update(study=study, actor=organizer, title_en="x", title_ru=" ")
    assert set(error.value.field_errors) == {"title_ru"}
    assert study.__class__.objects.get(pk=study.pk).title_en == "Energy 2040"


def test_a_group_is_renamed_but_keeps_its_code(study, organizer):
    group = study.groups.get(code="WE")
    structure.group_rename(group=group, name_en="Europe (West)", name_ru="Европа (Запад)",
                           actor=organizer)
    group.refresh_from_db()
    assert (group.code, group.name_en, group.name_ru) == ("WE", "Europe (West)", "Европа (Запад)")
    event = _event(study, "group_renamed")
    assert event.detail == {"code": "WE",
                            "before": {"name_en": "Western Europe", "name_ru": "Западная Европа"},
                            "after": {"name_en": "Europe (West)", "name_ru": "Европа (Запад)"}}
    with pytest.raises(ServiceError, match="English and Russian"):
        structure.group_rename(group=group, name_en="", name_ru="x", actor=organizer)


def test_a_group_with_experts_is_never_deleted_and_an_empty_one_is(study, alice, organizer):
    submit(alice, round_open(round_=round_create(study=study)), agree=4)
    with pytest.raises(ServiceError, match="1 expert"):
        structure.group_delete(group=study.groups.get(code="RU"), actor=organizer)
    assert Expert.objects.filter(pk=alice.pk).exists() and Answer.objects.count() == 1
    structure.group_delete(group=study.groups.get(code="WE"), actor=organizer)
    assert list(study.groups.values_list("code", flat=True)) == ["RU", "US"]
    event = _event(study, "group_deleted")
    assert event.actor == organizer and event.detail["before"]["code"] == "WE"
    assert event.detail["leanings_dropped"] == ["agree"]  # 'agree' leaned {RU, US, WE}
    assert set(study.items.get(code="agree").leaning) == {"RU", "US"}


def test_a_withdrawn_expert_still_keeps_the_group(study, bob, organizer):
    from workspace.services.panel import expert_withdraw

    expert_withdraw(expert=bob, actor=organizer)
    with pytest.raises(ServiceError, match="never deleted"):
        structure.group_delete(group=bob.group, actor=organizer)


def test_a_theme_is_retitled_and_deleted_only_without_items_or_expertise(study, alice, organizer):
    one = study.themes.get(code="one")
    structure.theme_rename(theme=one, title_en="Threats", title_ru="Угрозы", actor=organizer)
    assert _event(study, "theme_renamed").detail["before"]["title_en"] == "Theme one"
    with pytest.raises(ServiceError, match="3 item"):
        structure.theme_delete(theme=one, actor=organizer)
    spare = builder.theme_save(study=study, code="spare", title_en="Spare", title_ru="Запас",
                               actor=organizer)
    expertise_save(expert=alice, levels={spare.pk: 4})
    with pytest.raises(ServiceError, match="expertise"):
        structure.theme_delete(theme=spare, actor=organizer)
    empty = builder.theme_save(study=study, code="empty", title_en="Empty", title_ru="Пусто",
                               actor=organizer)
    structure.theme_delete(theme=empty, actor=organizer)
    assert not Theme.objects.filter(pk=empty.pk).exists()
    assert _event(study, "theme_deleted").detail["before"]["code"] == "empty"


def test_owners_give_roles_by_username_and_the_last_owner_stays(study, organizer, owner):
    anna = get_user_model().objects.create_user(username="anna2", password="anna2-pw-123")
    member = members.member_grant(study=study, username="anna2", role="analyst", actor=owner)
    assert member.role == "analyst"
    assert _event(study, "member_added").detail == {"user": "anna2", "before": {},
                                                   "after": {"role": "analyst"}}
    members.member_grant(study=study, username="anna2", role="organizer", actor=owner)
    assert _event(study, "member_role_changed").detail["before"] == {"role": "analyst"}
    with pytest.raises(ServiceError, match="no active staff user"):
        members.member_grant(study=study, username="nobody", role="analyst", actor=owner)
    with pytest.raises(ServiceError, match="at least one owner"):
        members.member_revoke(member=StudyMember.objects.get(study=study, user=owner), actor=owner)
    with pytest.raises(ServiceError, match="at least one owner"):
        members.member_grant(study=study, username="wendy", role="analyst", actor=owner)
    members.member_grant(study=study, username="anna2", role="owner", actor=owner)
    members.member_revoke(member=StudyMember.objects.get(study=study, user=owner), actor=owner)
    assert list(study.members.filter(role="owner").values_list("user", flat=True)) == [anna.pk]
    assert _event(study, "member_removed").detail == {"user": "wendy", "before": {"role": "owner"},
                                                     "after": {}}


def test_the_builder_pages_rename_and_refuse_to_delete_with_a_clear_message(
        study, alice, organizer):
    client = _client(organizer)
    base = f"/studio/{study.slug}/build"
    page = client.get(f"{base}/").content.decode()
    assert f'action="{base}/group/RU/rename/"' in page and f'action="{base}/theme/two/delete/"' in page
    client.post(f"{base}/group/RU/rename/", {"rename-name_en": "Russia (RF)",
                                             "rename-name_ru": "Россия (РФ)"})
    assert StakeholderGroup.objects.get(study=study, code="RU").name_en == "Russia (RF)"
    client.post(f"{base}/theme/two/rename/", {"rename-title_en": "Second", "rename-title_ru": "Вторая"})
    assert Theme.objects.get(study=study, code="two").title_ru == "Вторая"
    blank = client.post(f"{base}/theme/two/rename/", {"rename-title_en": "x"}, follow=True)
    assert "The theme needs titles in both languages." in blank.content.decode()
    refused = client.post(f"{base}/group/RU/delete/", follow=True).content.decode()
    assert "The group RU has 1 expert(s), whose answers are never deleted; it stays." in refused
    refused = client.post(f"{base}/theme/two/delete/", follow=True).content.decode()
    assert "The theme two has 3 item(s)" in refused
    client.post(f"{base}/study/", {"study-title_en": "New", "study-title_ru": "Новое",
                                   "study-description_en": "", "study-description_ru": ""})
    assert study.__class__.objects.get(pk=study.pk).title_ru == "Новое"
    assert client.post(f"{base}/group/XX/delete/").status_code == 404


def test_the_staff_page_is_for_owners_to_change_and_organizers_to_read(
        study, organizer, owner, analyst):
    url = f"/studio/{study.slug}/team/"
    read = _client(organizer).get(url).content.decode()
    assert 'data-user="olga"' in read and "Add a member" not in read
    assert _client(organizer).post(url, {"username": "anna", "role": "owner"}).status_code == 404
    assert _client(analyst).get(url).status_code == 404
    client = _client(owner)
    assert client.post(url, {"username": "anna", "role": "organizer"}).status_code == 302
    assert StudyMember.objects.get(study=study, user=analyst).role == "organizer"
    refused = client.post(url, {"username": "ghost", "role": "analyst"})
    assert refused.status_code == 400 and "no active staff user" in refused.content.decode()
    mine = StudyMember.objects.get(study=study, user=owner)
    page = client.post(f"{url}{mine.pk}/remove/", follow=True).content.decode()
    assert "at least one owner" in page and StudyMember.objects.filter(pk=mine.pk).exists()
    olga = StudyMember.objects.get(study=study, user=organizer)
    client.post(f"{url}{olga.pk}/remove/")
    assert not StudyMember.objects.filter(pk=olga.pk).exists()
    assert _client(organizer).get(f"/studio/{study.slug}/").status_code == 404


def test_the_builder_and_staff_pages_speak_russian(study, owner, settings):
    client = _client(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    builder_page = client.get(f"/studio/{study.slug}/build/").content.decode()
    assert "Переименовать или удалить" in builder_page and "Удалить тему two" in builder_page
    assert "Сотрудники исследования" in client.get(f"/studio/{study.slug}/team/").content.decode()
    refused = client.post(f"/studio/{study.slug}/build/theme/one/delete/", follow=True)
    assert "В теме one пунктов: 3" in refused.content.decode()


def test_an_owner_who_hands_over_and_becomes_analyst_lands_on_the_dashboard(
        study, owner, organizer):
    client = _client(owner)
    url = f"/studio/{study.slug}/team/"
    client.post(url, {"username": "olga", "role": "owner"})
    response = client.post(url, {"username": "wendy", "role": "analyst"})
    assert response.status_code == 302 and response["Location"] == f"/studio/{study.slug}/"
    assert client.get(response["Location"]).status_code == 200  # analysts read the dashboard
    assert client.get(url).status_code == 404
