"""Loading a study from its YAML file: the shipped essay study, idempotence, and bad files."""

import copy
import re
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from surveys.errors import StudyFileError
from surveys.models import AuditEvent, Item, StakeholderGroup, Study, Theme
from surveys.services.studies import study_file_check, study_file_read, study_load
from tests.conftest import ROOT, essay_paragraphs, small_study_data

STUDY_FILE = ROOT / "surveys" / "studies" / "trenin_2011.yaml"


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count()
            for model in (Study, StakeholderGroup, Theme, Item, AuditEvent)}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'"))


def _shipped_items() -> list[dict]:
    data = yaml.safe_load(STUDY_FILE.read_text(encoding="utf-8"))
    return [item for theme in data["themes"] for item in theme["items"]]


def _write(tmp_path: Path, data: dict | str, name: str = "study.yaml") -> Path:
    path = tmp_path / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def _many_problems(slug: str = "small") -> dict:
    """A study file with six problems, each in a known place."""
    data = copy.deepcopy(small_study_data(slug))
    one, two = data["themes"][0]["items"], data["themes"][1]["items"]
    one[0]["text"] = {"en": "English only"}        # themes[0].items[0].text.ru
    one[0]["leaning"]["XX"] = 3                    # themes[0].items[0].leaning
    one[1]["kind"] = "slider"                      # themes[0].items[1].kind
    two[0]["min"], two[0]["max"] = 2100, 2011      # themes[1].items[0].max
    two[1]["options"] = two[1]["options"][:1]      # themes[1].items[1].options
    two[2]["code"] = "agree"                       # themes[1].items[2].code
    return data


EXPECTED_LOCATIONS = [
    "themes[0].items[0].text.ru", "themes[0].items[0].leaning", "themes[0].items[1].kind",
    "themes[1].items[0].max", "themes[1].items[1].options", "themes[1].items[2].code",
]


# The shipped essay study ----------------------------------------------------------------


@pytest.mark.django_db
def test_shipped_essay_study_loads_with_every_kind_of_item():
    study = study_load(data=study_file_read(STUDY_FILE))

    kinds = list(study.items.values_list("kind", flat=True))
    assert study.themes.count() >= 8
    assert kinds.count(Item.Kind.AGREEMENT) >= 30
    assert kinds.count(Item.Kind.RANKING) == 1
    assert kinds.count(Item.Kind.PROBABILITY) >= 1
    assert kinds.count(Item.Kind.YEAR) >= 1
    assert kinds.count(Item.Kind.DIMENSIONS) >= 3
    for item in study.items.all():
        assert item.text_en.strip() and item.text_ru.strip(), item.code
        assert item.source_paragraph and item.source_anchor.strip(), item.code


def test_every_anchor_appears_verbatim_in_its_essay_paragraph():
    paragraphs = essay_paragraphs()
    for item in _shipped_items():
        source = item["source"]
        assert 1 <= source["paragraph"] <= len(paragraphs), item["code"]
        assert source["anchor"] in paragraphs[source["paragraph"] - 1], (
            f"{item['code']}: {source['anchor']!r} is not in paragraph {source['paragraph']}")


def _copied_runs(text: str, essay_runs: set[tuple[str, ...]]) -> list[str]:
    """The runs of 12 consecutive words of text that also occur in the essay."""
    words = _words(text)
    return [" ".join(words[k:k + 12]) for k in range(len(words) - 11)
            if tuple(words[k:k + 12]) in essay_runs]


def _essay_runs() -> set[tuple[str, ...]]:
    essay = _words(" ".join(essay_paragraphs()))
    return {tuple(essay[k:k + 12]) for k in range(len(essay) - 11)}


def test_no_proposition_copies_twelve_words_in_a_row_from_the_essay():
    runs = _essay_runs()
    for item in _shipped_items():
        copied = _copied_runs(item["text"]["en"], runs)
        assert not copied, f"{item['code']} copies the essay: {copied[0]!r}"


def test_the_copy_check_notices_a_sentence_lifted_from_the_essay():
    # Guards the check above: essay words inside a proposition of our own must be caught,
    # typographic apostrophes and case notwithstanding.
    lifted = " ".join(essay_paragraphs()[15].split()[:14]).upper()
    assert _copied_runs(f"We hold that {lifted}, and more.", _essay_runs())
    assert not _copied_runs("Russia and the United States should build missile defense "
                            "together within ten years, said nobody in particular.", _essay_runs())


@pytest.mark.django_db
def test_loading_a_study_twice_changes_nothing():
    data = study_file_read(STUDY_FILE)
    first = study_load(data=data)
    counts = {k: v for k, v in _counts().items() if k != "AuditEvent"}
    ids = sorted(Item.objects.values_list("pk", "code")), sorted(Theme.objects.values_list("pk"))

    second = study_load(data=data)

    assert second.pk == first.pk
    assert {k: v for k, v in _counts().items() if k != "AuditEvent"} == counts
    assert (sorted(Item.objects.values_list("pk", "code")),
            sorted(Theme.objects.values_list("pk"))) == ids
    assert AuditEvent.objects.filter(study=first).values_list("action", flat=True)[0] == (
        "study_updated")


# Malformed files ------------------------------------------------------------------------


def test_broken_yaml_is_reported_with_its_line(tmp_path):
    path = _write(tmp_path, "version: 1\nslug: broken\ntitle: {en: 'unclosed\n  ru: x\n")

    with pytest.raises(StudyFileError) as caught:
        study_file_read(path)

    assert len(caught.value.problems) == 1
    assert re.search(r"line \d+, column \d+: not valid YAML", caught.value.problems[0])


def test_a_missing_file_is_a_clear_problem_not_a_crash(tmp_path):
    with pytest.raises(StudyFileError) as caught:
        study_file_read(tmp_path / "absent.yaml")

    assert "cannot be read" in caught.value.problems[0]


@pytest.mark.django_db
def test_a_file_with_several_problems_lists_every_one_with_its_location(tmp_path):
    before = _counts()

    with pytest.raises(StudyFileError) as caught:
        study_load(data=study_file_read(_write(tmp_path, _many_problems())))

    problems = caught.value.problems
    for location in EXPECTED_LOCATIONS:
        assert any(p.startswith(location + ":") for p in problems), (location, problems)
    assert len(problems) == len(EXPECTED_LOCATIONS), problems
    assert "duplicate item code 'agree'" in " ".join(problems)
    assert _counts() == before


@pytest.mark.django_db
def test_a_bad_file_leaves_an_existing_study_untouched(study, tmp_path):
    bad = _many_problems(slug=study.slug)
    bad["title"]["en"] = "A new title the bad file must not bring in"
    bad["themes"][0]["items"][2]["text"] = {"en": "Changed text", "ru": "Изменено"}
    before = _counts()

    with pytest.raises(StudyFileError):
        study_load(data=bad)

    assert _counts() == before
    study.refresh_from_db()
    assert study.title_en == "Small study"
    assert Item.objects.get(study=study, code="prob").text_en == "English text"


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path):
    with pytest.raises(StudyFileError) as caught:
        study_file_read(_write(tmp_path, "- just\n- a list\n"))

    assert caught.value.problems == ["(top): expected a mapping"]


# The load_study command -----------------------------------------------------------------


@pytest.mark.django_db
def test_load_study_command_prints_the_counts():
    out = StringIO()

    call_command("load_study", str(STUDY_FILE), stdout=out)

    study = Study.objects.get(slug="trenin-2011-euromd")
    assert (f"Loaded study 'trenin-2011-euromd': {study.themes.count()} themes, "
            f"{study.items.count()} items.") in out.getvalue()


@pytest.mark.django_db
def test_load_study_command_lists_every_problem_of_a_bad_file(tmp_path):
    path = _write(tmp_path, _many_problems())
    before = _counts()

    with pytest.raises(CommandError) as caught:
        call_command("load_study", str(path), stdout=StringIO())

    message = str(caught.value)
    assert "nothing was changed" in message
    for location in EXPECTED_LOCATIONS:
        assert f"  - {location}:" in message, location
    assert _counts() == before


def test_an_answered_item_cannot_change_its_kind_but_may_be_reworded(round1, alice):
    from surveys.services.responses import ItemAnswer, response_save_draft

    response_save_draft(expert=alice, round_=round1, answers={"agree": ItemAnswer(values={"": 4})})
    data = small_study_data()
    data["themes"][0]["items"][0]["text"]["en"] = "Reworded proposition"
    study_load(data=data)
    assert Item.objects.get(study=round1.study, code="agree").text_en == "Reworded proposition"

    data["themes"][0]["items"][0]["kind"] = "probability"
    with pytest.raises(StudyFileError) as caught:
        study_load(data=data)
    assert caught.value.problems == [
        "themes[0].items[0]: item 'agree' already has answers; its kind, dimensions and options "
        "cannot change (add a new item)"]
    assert Item.objects.get(study=round1.study, code="agree").kind == "agreement"


# The frame and the second edition's item keys -------------------------------------------


def _edition_data() -> dict:
    data = small_study_data("framed")
    data["as_of"] = "2026-12-01"
    data["timeline"] = [{"date": "2019-08-02", "text": {"en": "The INF Treaty ends.",
                                                        "ru": "Договор о РСМД прекращает действие."}},
                        {"date": "2018-02", "text": {"en": "Month only.", "ru": "Только месяц."}}]
    one, two = data["themes"][0]["items"], data["themes"][1]["items"]
    one[0].update(hindsight=True, help={"en": "Help", "ru": "Справка"},
                  spread={"RU": 0.6, "US": 0.8},
                  arguments={"low": [{"en": "No.", "ru": "Нет."}], "high": [{"en": "Yes.", "ru": "Да."}]})
    one[2]["resolution"] = {"date": "2030-12-31", "criteria": {"en": "Signed.", "ru": "Подписано."}}
    two[0]["never"] = {"en": "Not by 2100, or never", "ru": "Не к 2100 году или никогда"}
    two[1]["arguments"] = {"a": [{"en": "A first.", "ru": "Сначала А."}]}
    return data


@pytest.mark.django_db
def test_the_frame_and_the_edition_keys_are_stored():
    study = study_load(data=_edition_data())

    assert str(study.as_of) == "2026-12-01"
    assert [e["date"] for e in study.timeline] == ["2019-08-02", "2018-02"]
    agree, prob, year = (Item.objects.get(study=study, code=c) for c in ("agree", "prob", "year"))
    assert agree.hindsight and agree.help_ru == "Справка" and agree.spread == {"RU": 0.6, "US": 0.8}
    assert agree.arguments["high"] == [{"en": "Yes.", "ru": "Да."}]
    assert str(prob.resolves_on) == "2030-12-31" and prob.resolution_ru == "Подписано."
    assert year.never_en == "Not by 2100, or never"


def test_bad_edition_keys_are_each_reported_with_their_location():
    data = _edition_data()
    one, two = data["themes"][0]["items"], data["themes"][1]["items"]
    data["timeline"][1]["date"] = "2018-13"
    one[0]["hindsight"] = "yes"
    one[0]["spread"] = {"RU": -1}
    one[0]["arguments"] = {"middle": [{"en": "x", "ru": "y"}]}
    one[1]["never"] = {"en": "Never", "ru": "Никогда"}
    one[2]["resolution"]["date"] = "2026-06-30"
    two[1]["arguments"] = {"a": [{"en": "English only"}]}

    problems = study_file_check(data)

    assert sorted(p.split(":")[0] for p in problems) == sorted([
        "timeline[1].date", "themes[0].items[0].hindsight", "themes[0].items[0].spread",
        "themes[0].items[0].arguments", "themes[0].items[1].never",
        "themes[0].items[2].resolution.date", "themes[1].items[1].arguments.a[0].text.ru"])
    assert any("after the study's as_of date (2026-12-01)" in p for p in problems)
