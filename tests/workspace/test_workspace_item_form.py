"""The item form: only the chosen kind's fields, plain error messages beside their fields in
English and Russian, decimals for numeric items, and a note on where a save takes effect."""

import re

import pytest
from django.conf import settings
from django.test import Client

from surveys.errors import StudyFileError
from surveys.models import Item
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_create, round_open
from workspace.forms import ItemForm
from workspace.services import builder

pytestmark = pytest.mark.django_db

BASE = {"theme": "one", "code": "new-1", "text_en": "A new item", "text_ru": "Новое"}


def _client(user, language: str = "en") -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": user.username,
                                            "password": f"{user.username}-pw-123"}).status_code == 302
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _shown(html: str) -> set[str]:
    """Names of the kind-specific fields the page shows (those not inside a hidden element)."""
    shown = set()
    for name in ("dimensions", "min", "max", "decimals", "unit_en", "unit_ru", "options"):
        block = re.search(r'<div data-kinds="[^"]*"( hidden)?[^>]*>(?:(?!</div>).)*name="' + name + '"',
                          html, re.S)
        section = html.rfind("<fieldset class=\"ws-kind\"", 0, block.start())
        section_hidden = html[section:html.index(">", section)].endswith("hidden")
        if not block[1] and not section_hidden:
            shown.add(name)
    return shown


@pytest.mark.parametrize(("kind", "fields"), [
    ("dimensions", {"dimensions"}),
    ("year", {"min", "max", "unit_en", "unit_ru"}),
    ("numeric", {"min", "max", "decimals", "unit_en", "unit_ru"}),
    ("ranking", {"options"}),
    ("agreement", set()), ("probability", set()), ("open", set()),
])
def test_the_item_form_shows_only_the_chosen_kinds_fields(study, organizer, kind, fields):
    item = study.items.filter(kind=kind).first()
    client = _client(organizer)
    if item is not None:  # the page of an existing item shows its kind's fields
        assert _shown(client.get(f"/studio/{study.slug}/build/item/{item.code}/").content.decode()
                      ) == fields
    # without JavaScript, "Show this kind's fields" posts the form back unsaved
    page = client.post(f"/studio/{study.slug}/build/item/", {**BASE, "kind": kind, "show_kind": "1"})
    html = page.content.decode()
    assert page.status_code == 200 and _shown(html) == fields
    assert 'value="new-1"' in html and "errorlist" not in html
    assert not study.items.filter(code="new-1").exists()
    assert ("This kind needs no further settings." in html.split("hidden>This kind")[0]) == (
        not fields)


def test_fields_of_another_kind_are_ignored_when_saving(study, organizer):
    form = ItemForm({**BASE, "kind": "agreement", "min": "1", "max": "5", "unit_en": "t",
                     "options": "a | A | А"}, themes=list(study.themes.all()))
    assert form.is_valid(), form.errors
    assert form.item_data() == {"code": "new-1", "kind": "agreement",
                                "text": {"en": "A new item", "ru": "Новое"}}


def test_errors_stand_beside_their_fields_in_plain_english(study, organizer):
    page = _client(organizer).post(f"/studio/{study.slug}/build/item/", {
        **BASE, "code": "agree", "kind": "numeric", "max": "10"})
    html = page.content.decode()
    assert page.status_code == 400
    assert "Nothing was saved: correct the fields marked below." in html
    assert "Another item of this study already has this code." in html
    assert "Required for this kind of item: enter a number." in html
    assert "expected a number" not in html and "<code>" not in html
    # each message is printed right after its own input
    assert re.search(r'name="min"[^>]*>\s*<ul class="errorlist"[^>]*><li>Required for this kind',
                     html), html


def test_errors_read_in_russian_for_a_russian_organizer(study, organizer):
    page = _client(organizer, "ru").post(f"/studio/{study.slug}/build/item/", {
        **BASE, "kind": "numeric", "min": "10", "max": "5"})
    html = page.content.decode()
    assert page.status_code == 400
    assert "Максимум должен быть больше минимума." in html
    assert "Ничего не сохранено" in html


def test_checker_problems_map_to_form_fields_in_plain_words(study, organizer):
    with pytest.raises(StudyFileError) as error:
        builder.item_save(study=study, theme=study.themes.get(code="one"), actor=organizer, data={
            "code": "Bad Code", "kind": "ranking", "text": {"en": "", "ru": "x"},
            "options": [{"code": "a", "text": {"en": "A", "ru": ""}}, {"code": "b",
                        "text": {"en": "B", "ru": "Б"}}]})
    assert builder.item_field_errors(error.value.problems) == {
        "code": ["Use lower-case letters, digits and dashes, e.g. energy-1."],
        "text_en": ["Write the text."],
        "options": ["Option 1: give its text in English and in Russian."]}


def test_a_numeric_item_with_one_decimal_place_takes_12_5(study, organizer, alice):
    page = _client(organizer).post(f"/studio/{study.slug}/build/item/", {
        **BASE, "kind": "numeric", "min": "0", "max": "100", "decimals": "1",
        "unit_en": "GW", "unit_ru": "ГВт"})
    assert page.status_code == 302
    item = study.items.get(code="new-1")
    assert (item.decimals, item.step(), builder.item_data(item)["decimals"]) == (1, "0.1", 1)
    round_ = round_open(round_=round_create(study=study))
    questionnaire_input = re.search(r'<input [^>]*name="a-new-1"[^>]*>', _questionnaire(alice))
    assert questionnaire_input and 'step="0.1"' in questionnaire_input[0]
    response = response_submit(expert=alice, round_=round_, answers={
        "new-1": ItemAnswer(values={"": 12.5})})
    assert response.answers.get(item=item).value == 12.5


def _questionnaire(expert) -> str:
    from surveys.services.panel import expert_issue_token

    client = Client()
    client.get(f"/e/{expert_issue_token(expert=expert)}/")
    return client.get("/q/").content.decode()


def test_whole_number_items_still_refuse_decimals(study, alice):
    from surveys.services.responses import _check_value

    numeric = Item(kind=Item.Kind.NUMERIC, min_value=0, max_value=100, decimals=1)
    assert _check_value(numeric, "", 12.5) is None
    assert _check_value(numeric, "", 12.25) == "Enter a number with at most 1 decimal place."
    assert _check_value(Item(kind=Item.Kind.NUMERIC, min_value=0, max_value=100), "", 12.5) == (
        "Enter a whole number.")
    assert _check_value(Item(kind=Item.Kind.YEAR, min_value=2000, max_value=2100), "", 2030.5)


def test_only_numeric_items_have_decimal_places_in_the_study_file(study, organizer):
    theme = study.themes.get(code="one")
    with pytest.raises(StudyFileError) as error:
        builder.item_save(study=study, theme=theme, actor=organizer, data={
            "code": "y", "kind": "year", "text": {"en": "x", "ru": "x"}, "min": 1, "max": 2,
            "decimals": 1})
    assert error.value.problems == ["item.decimals: only a numeric item has decimal places"]


def test_the_note_says_where_a_new_item_takes_effect(study, organizer):
    client = _client(organizer)
    url = f"/studio/{study.slug}/build/item/"
    assert "Round 1 asks every item of the study" in client.get(url).content.decode()
    round_ = round_create(study=study)
    assert "joins round 1, which is still a draft" in client.get(url).content.decode()
    round_open(round_=round_)
    assert ("A new item appears from the next round" in client.get(url).content.decode())
    assert "Новый пункт появится со следующего тура" in _client(
        organizer, "ru").get(url).content.decode()


def test_decimal_places_travel_in_the_item_list_and_the_study_file(study, organizer):
    from workspace.services import transfer

    builder.item_save(study=study, theme=study.themes.get(code="two"), actor=organizer, data={
        "code": "share", "kind": "numeric", "text": {"en": "Share", "ru": "Доля"}, "min": 0,
        "max": 100, "decimals": 2})
    content = transfer.items_export_csv(study)
    study.items.filter(code="share").update(decimals=0)
    report = transfer.items_csv_import(study=study, content=content.encode(), actor=organizer)
    assert report.problems == [] and study.items.get(code="share").decimals == 2
    assert "decimals: 2" in transfer.study_export_yaml(study)


def test_a_badly_written_option_line_is_named_in_plain_words(study):
    themes = list(study.themes.all())
    form = ItemForm({**BASE, "kind": "ranking", "options": "a | A | А\nb - B - Б"}, themes=themes)
    assert form.errors["options"] == [
        "Line 2: write each option as code | English | Russian, e.g. a | Option A | Вариант А."]
    # the options of a kind that has none are ignored, however they are written
    assert ItemForm({**BASE, "kind": "open", "options": "b - B"}, themes=themes).is_valid()
