"""Round 2 in Chromium: keeping one or all previous answers, changing a kept answer, the
ranking's previous order, the probability slider empty until set with the previous answer
marked, no item codes, and times in the expert's own zone (UTC, named, without JavaScript)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from surveys.models import Answer, Round
from surveys.services.aggregation import round_aggregate
from surveys.services.panel import expert_create
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from tests.browser import test_browser_expert as shared
from tests.conftest import small_study_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

enter = shared.enter


def saved_value(expert, code, dimension=""):
    """The expert's saved value in the study's open round (None if there is none)."""
    answer = Answer.objects.filter(response__expert=expert, response__round__status="open",
                                   item__code=code, dimension=dimension).first()
    return None if answer is None else answer.value


@pytest.fixture
def round2():
    """A study whose item codes ("zq-…") cannot be mistaken for words, in round 2; Alice
    answered three items in round 1."""
    data = small_study_data("carry")
    for theme in data["themes"]:
        for item in theme["items"]:
            item["code"] = f"zq-{item['code']}"
    study = study_load(data=data)
    type(study).objects.filter(pk=study.pk).update(min_cell=1)
    round1 = round_open(round_=round_create(study=study))
    alice = expert_create(study=study, name="Alice", email="alice@example.org", group_code="RU")
    response_submit(expert=alice, round_=round1, answers={
        "zq-agree": ItemAnswer(values={"": 2}), "zq-prob": ItemAnswer(values={"": 34}),
        "zq-rank": ItemAnswer(values={"a": 2, "b": 3, "c": 1})})
    round_close(round_=round1)
    round_aggregate(round_id=round1.pk)
    round2 = round_open(round_=round_create(study=study))
    Round.objects.filter(pk=round2.pk).update(closes_at=timezone.now() + timedelta(days=3))
    return round2, alice


def autosaved(page, code: str):
    """Wait for the autosave of the item the block's action changes (the database is read
    after it: the live server's in-memory database is not polled while it writes)."""
    return page.expect_response(
        lambda r: "/q/autosave/" in r.url and r.status == 200
        and f"a-{code}" in (r.request.post_data or ""), timeout=10000)


def test_keep_one_change_it_keep_all_and_the_ranking_starts_in_the_previous_order(
        browser, live_server, round2):
    _round, alice = round2
    context = browser.new_context(viewport={"width": 375, "height": 800},
                                  timezone_id="Europe/Moscow")
    page = context.new_page()
    enter(page, live_server, alice)
    # Nothing is filled in: the slider shows no thumb, says so, and marks the previous 34 %.
    slider = page.locator("#item-zq-prob input.slider")
    assert "unset" in slider.get_attribute("class")
    assert page.locator("#item-zq-prob .slider-empty").is_visible()
    assert page.locator("#item-zq-prob .was-mark").is_visible()
    assert "34 %" in page.locator("#item-zq-prob .was-label").inner_text()
    assert page.locator("#f-a-zq-prob").input_value() == ""
    assert page.locator("#item-zq-agree input:checked").count() == 0
    # The ranking shows the previous order, not yet an answer of this round.
    assert page.locator("#item-zq-rank .rank-text").all_inner_texts() == [
        "Option C", "Option A", "Option B"]
    assert saved_value(alice, "zq-rank", "a") is None
    # No item code anywhere an expert reads; the deadline is in Moscow time, named.
    assert "zq-" not in page.locator("body").inner_text()
    assert re.search(r"GMT\+3|MSK|Europe/Moscow", page.locator(".status time").inner_text())
    page.screenshot(path=str(shared.ARTIFACTS / "carry-forward-round2-375.png"), full_page=True)

    with autosaved(page, "zq-prob"):
        page.locator("#item-zq-prob button.keep").click()  # keep one
        assert page.locator("#f-a-zq-prob").input_value() == "34"
    assert saved_value(alice, "zq-prob") == 34
    assert "unset" not in slider.get_attribute("class")
    saved_at = page.locator("#item-zq-prob .save-state time")
    saved_at.wait_for()
    assert re.search(r"GMT\+3|MSK|Europe/Moscow", saved_at.inner_text())

    with autosaved(page, "zq-prob"):
        page.locator("#f-a-zq-prob").fill("50")  # change the kept answer
    assert saved_value(alice, "zq-prob") == 50

    with autosaved(page, "zq-rank"):
        page.locator("#item-zq-rank .rank-keep").click()  # confirm the previous order
    assert [saved_value(alice, "zq-rank", k) for k in "abc"] == [2, 3, 1]

    page.get_by_role("button", name="Keep all my previous answers").click()
    page.wait_for_url(re.compile(r"kept=1"))
    assert saved_value(alice, "zq-agree") == 2 and saved_value(alice, "zq-prob") == 50
    assert page.locator("#item-zq-agree input[value='2']").is_checked()
    assert page.locator("#f-a-zq-prob").input_value() == "50"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    arguments = page.context.new_page()
    arguments.goto(f"{live_server.url}/q/arguments/zq-agree/")
    assert "zq-" not in arguments.locator("body").inner_text()
    assert "zq-" not in arguments.title() and "zq-" not in page.title()
    context.close()


def test_keeping_an_answer_works_without_javascript_and_times_say_utc(browser, live_server,
                                                                      round2):
    _round, alice = round2
    context = browser.new_context(java_script_enabled=False, timezone_id="Europe/Moscow")
    page = context.new_page()
    enter(page, live_server, alice)
    assert page.locator(".status time").inner_text().endswith("UTC")
    page.locator("#item-zq-agree button.keep").click()
    page.wait_for_url(re.compile(r"kept=1"))
    assert saved_value(alice, "zq-agree") == 2
    assert page.locator("#item-zq-agree input[value='2']").is_checked()
    page.locator("#item-zq-agree input[value='5']").check()  # and change it
    page.get_by_role("button", name="Save draft", exact=True).last.click()
    page.wait_for_url(re.compile(r"saved=1"))
    assert saved_value(alice, "zq-agree") == 5
    context.close()


def test_the_carry_forward_choices_fit_a_phone_in_russian(browser, live_server, round2):
    _round, alice = round2
    type(alice).objects.filter(pk=alice.pk).update(language="ru")
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    enter(page, live_server, alice)
    assert page.get_by_role("button", name="Оставить все мои прошлые ответы").is_visible()
    assert page.locator("#item-zq-prob .was-label").inner_text().startswith("▲ ваш ответ в туре 1")
    widest = page.evaluate("""() => Math.max(...Array.from(
        document.querySelectorAll('.carry, .carry-all, .slider-box, .keep, .keep-all'))
        .map(e => e.getBoundingClientRect().right))""")
    assert widest <= 375 and page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(shared.ARTIFACTS / "carry-forward-round2-375-ru.png"), full_page=True)
    context.close()
