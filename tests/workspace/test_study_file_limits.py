"""A study file is untrusted input: an alias bomb and a study far over the size limits are
refused within a second, with a short error list and nothing written, at every door (the
workspace's import page, POST /api/v1/study-imports/, `manage.py load_study`)."""

import time
import tracemalloc
from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from surveys.models import Study
from surveys.studyfile import MAX_OPTIONS, MAX_PROBLEMS, MAX_TEXT
from tests.api.conftest import bearer
from tests.conftest import small_study_data
from tests.workspace_helpers import english  # noqa: F401 - a fixture
from workspace.services import transfer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def alias_bomb() -> bytes:
    """12 KB of YAML whose aliases expand to a million values (the attack's went to 10^8)."""
    lines = ["version: 1", "slug: bomb", "title: {en: Bomb, ru: Bomb}",
             "stakeholder_groups: [{code: RU, name: {en: R, ru: R}}]",
             'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 10)}]" for k in range(1, 7)]
    # The checker's message quotes a bad value: here, all million of them (the attack's 167 MB).
    lines.append("themes: [{code: t, title: {en: T, ru: T}, items: [{code: x, kind: numeric, "
                 "text: {en: X, ru: X}, min: *a6, max: 1}]}]")
    text = "\n".join(lines) + "\n"
    return (text + "#" * (12_000 - len(text)) + "\n").encode()


def huge_study(items: int = 25_000) -> bytes:
    """A well-formed study file of 1.8 MB with 25,000 items: each one valid, far too many."""
    head = ("version: 1\nslug: huge\ntitle: {en: Huge, ru: Huge}\nstakeholder_groups:\n"
            "- {code: RU, name: {en: R, ru: R}}\nthemes:\n- code: t\n  title: {en: T, ru: T}\n"
            "  items:\n")
    body = "".join(f"  - {{code: i{k}, kind: agreement, text: {{en: Item {k}, ru: Item {k}}}}}\n"
                   for k in range(items))
    return (head + body).encode()


def timed(call):
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def traced(call):
    """The call's result, its seconds and its peak of memory (tracing slows the call down)."""
    tracemalloc.start()
    try:
        result, seconds = timed(call)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, seconds, peak


@pytest.mark.parametrize("make", [alias_bomb, huge_study], ids=["alias-bomb", "25000-items"])
def test_the_api_refuses_a_hostile_study_file_quickly_with_a_short_list(organizer, make):
    content, headers, api = make().decode(), bearer(organizer), APIClient()
    api.get("/api/v1/studies/", **headers)  # a running server has loaded its code already
    answer, seconds = timed(lambda: api.post(
        "/api/v1/study-imports/", {"content": content, "apply": True}, format="json",
        **headers))
    assert answer.status_code == 400, answer.content[:300]
    assert len(answer.content) < 20_000
    problems = answer.json()["errors"]["study_file"]
    assert 1 <= len(problems) <= MAX_PROBLEMS + 1
    assert seconds < 1, f"{seconds:.2f} s"
    assert not Study.objects.filter(slug__in=["bomb", "huge"]).exists()


@pytest.mark.parametrize("make", [alias_bomb, huge_study], ids=["alias-bomb", "25000-items"])
def test_the_import_page_refuses_a_hostile_study_file_quickly_on_its_own_page(client, organizer,
                                                                             make):
    client.force_login(organizer)
    client.get("/studio/")  # a running server has loaded its code already
    page, seconds = timed(lambda: client.post("/studio/import/", {
        "content": make().decode(), "confirm": "1"}))
    assert page.status_code == 400 and len(page.content) < 50_000
    assert "nothing was changed" in page.content.decode()
    assert page.content.decode().count("<li><code>") <= MAX_PROBLEMS + 1
    assert seconds < 1, f"{seconds:.2f} s"
    assert not Study.objects.filter(slug__in=["bomb", "huge"]).exists()


@pytest.mark.parametrize("make", [alias_bomb, huge_study], ids=["alias-bomb", "25000-items"])
def test_load_study_refuses_a_hostile_study_file_quickly(tmp_path, organizer, make):
    path = tmp_path / "study.yaml"
    path.write_bytes(make())
    started = time.perf_counter()
    with pytest.raises(CommandError) as refused:
        call_command("load_study", str(path), actor=organizer.username, stdout=StringIO())
    assert time.perf_counter() - started < 1
    assert str(refused.value).count("\n  - ") <= MAX_PROBLEMS + 1
    assert len(str(refused.value)) < 20_000
    assert not Study.objects.filter(slug__in=["bomb", "huge"]).exists()


@pytest.mark.parametrize("make", [alias_bomb, huge_study], ids=["alias-bomb", "25000-items"])
def test_the_check_stays_small_in_time_and_memory(make):
    content = make()
    report, _seconds, peak = traced(lambda: transfer.study_yaml_check(content=content))
    assert report.problems and len(report.problems) <= MAX_PROBLEMS + 1
    assert sum(map(len, report.problems)) < 20_000
    assert peak < 20_000_000, f"{peak / 1e6:.1f} MB"


def test_the_alias_bomb_is_refused_at_the_alias_that_goes_over_the_bound():
    report = transfer.study_yaml_check(content=alias_bomb())
    assert report.problems == ["line 10, column 15: more than 300,000 values, aliases (*) "
                               "expanded; a study file holds at most 1,000 items"]


def test_a_few_anchors_within_the_bound_still_load():
    """PyYAML's own dump writes an anchor for a text used twice; such a file is welcome."""
    data = small_study_data("anchored")
    text = data["themes"][0]["items"][0]["text"]
    data["themes"][0]["items"][1]["text"] = text
    content = yaml.safe_dump(data, allow_unicode=True)
    assert "&id" in content
    assert transfer.study_yaml_check(content=content.encode()).problems == []


def test_an_alias_standing_for_a_long_list_is_counted_as_that_list():
    head = huge_study(0).decode().replace("  items:\n", "  items: *many\n")
    listing = "many: &many\n" + "".join(
        f"- {{code: i{k}, kind: agreement, text: {{en: I, ru: I}}}}\n" for k in range(1_500))
    report = transfer.study_yaml_check(content=(listing + head).encode())
    assert report.problems == ["themes: more than 1,000 items in the study (the limit)"]


def test_the_huge_study_is_refused_for_its_item_count():
    report = transfer.study_yaml_check(content=huge_study())
    assert report.problems == ["themes: more than 1,000 items in the study (the limit)"]


def test_1000_items_are_within_the_limit_and_1001_are_not():
    assert transfer.study_yaml_check(content=huge_study(1_000)).problems == []
    assert transfer.study_yaml_check(content=huge_study(1_001)).problems == [
        "themes: more than 1,000 items in the study (the limit)"]


def test_too_many_options_and_too_long_texts_are_named_with_their_place():
    data = small_study_data("limits")
    rank = data["themes"][1]["items"][1]
    rank["options"] = [{"code": f"o{k}", "text": {"en": "O", "ru": "O"}}
                       for k in range(MAX_OPTIONS + 1)]
    report = transfer.study_yaml_check(content=yaml.safe_dump(data).encode())
    assert report.problems == ["themes[1].items[1].options: more than 20 options (the limit)"]
    data = small_study_data("limits")
    data["themes"][0]["items"][0]["text"]["en"] = "x" * (MAX_TEXT + 1)
    report = transfer.study_yaml_check(content=yaml.safe_dump(data, width=10**6).encode())
    assert len(report.problems) == 1 and "the limit is 5,000" in report.problems[0]


def test_a_long_error_list_is_cut_to_50_with_a_count_of_the_rest():
    data = small_study_data("many-problems")
    data["themes"][0]["items"] = [{"code": f"i{k}", "kind": "nonsense", "text": {"en": "a",
                                                                                "ru": "b"}}
                                  for k in range(120)]
    report = transfer.study_yaml_check(content=yaml.safe_dump(data).encode())
    assert len(report.problems) == MAX_PROBLEMS + 1
    assert report.problems[-1] == "… and 70 more problems"


def test_a_clean_study_file_still_loads():
    content = yaml.safe_dump(small_study_data("clean"), allow_unicode=True).encode()
    assert transfer.study_yaml_check(content=content).problems == []


def test_the_study_endpoints_refuse_a_study_over_the_limits_before_writing_it_out(organizer):
    data = yaml.safe_load(huge_study(5_000))
    headers, api = bearer(organizer), APIClient()
    api.get("/api/v1/studies/", **headers)
    answer, seconds = timed(lambda: api.post("/api/v1/studies/", data, format="json", **headers))
    assert answer.status_code == 400
    assert answer.json()["errors"]["study_file"] == [
        "themes: more than 1,000 items in the study (the limit)"]
    assert seconds < 1, f"{seconds:.2f} s"
    assert not Study.objects.filter(slug="huge").exists()


def test_deep_nesting_is_refused_before_it_is_built():
    report = transfer.study_yaml_check(content=b"[" * 20 + b"]" * 20)
    assert report.problems == ["line 1, column 13: nested deeper than a study file can be"]
    deeper = transfer.study_yaml_check(content=b"[" * 5_000 + b"]" * 5_000)  # libyaml's own stop
    assert deeper.problems == [
        "line 1, column 1001: not valid YAML (exceeded maximum nesting depth)"]
