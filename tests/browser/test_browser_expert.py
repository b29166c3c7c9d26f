"""The expert's questionnaire in Debian's Chromium: keyboard only, autosave, reloads, two tabs,
expired sessions, lost network, no JavaScript, feedback, accessibility, XSS and CSP."""

import json
import re

import pytest

from surveys.models import Answer, Item, Response
from surveys.services.aggregation import round_aggregate
from surveys.services.panel import expert_issue_token
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import ROOT, small_study_data

AXE = ROOT / "tests" / "vendor" / "axe-4.14.1.min.js"
ARTIFACTS = ROOT / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.dialogs = []
    context.on("page", lambda page: page.on(
        "dialog", lambda d: (context.dialogs.append(d.message), d.dismiss())))
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


def enter(page, live_server, expert) -> None:
    page.goto(f"{live_server.url}/e/{expert_issue_token(expert=expert)}/")
    assert page.url == f"{live_server.url}/q/", "the token must leave the address"


def saved_value(expert, code, dimension=""):
    answer = Answer.objects.filter(response__expert=expert, item__code=code,
                                   dimension=dimension).first()
    return None if answer is None else answer.value


def wait_saved(page, code: str) -> None:
    page.locator(f"#item-{code} .save-state .saved").wait_for(timeout=5000)


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches the selector, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"{selector} cannot be reached with the Tab key")


def test_expert_completes_round_one_by_keyboard_in_russian_including_the_ranking(
    page, live_server, round1, bob
):
    enter(page, live_server, bob)
    assert page.locator("html").get_attribute("lang") == "ru"
    themes = list(round1.study.themes.order_by("position"))
    for theme in themes:  # expertise 3 on each theme: Space picks 1, two right arrows make it 3
        tab_to(page, f"input[name='x-{theme.pk}']")
        page.keyboard.press("Space")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
    tab_to(page, "input[name='a-agree']")
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # 1 -> 4 "agree"
    for dim in ("desirability", "feasibility"):
        tab_to(page, f"input[name='a-dims.{dim}']")
        page.keyboard.press("Space")
        page.keyboard.press("ArrowRight")  # 2
    tab_to(page, "input[name='a-prob']")
    page.keyboard.type("35")
    tab_to(page, "input[name='a-year']")
    page.keyboard.type("2030")
    tab_to(page, "button[aria-label$='Вариант В'].rank-up")  # move option C to first place
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    tab_to(page, "textarea[name='a-open.text']")
    page.keyboard.type("Совместные учения")
    wait_saved(page, "open")
    page.screenshot(path=str(ARTIFACTS / "questionnaire-round1-ru-1280.png"), full_page=True)
    tab_to(page, "button[value='submit']")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"submitted=1"))
    response = Response.objects.get(expert=bob, round=round1)
    assert response.status == "submitted"
    assert saved_value(bob, "agree") == 4 and saved_value(bob, "dims", "feasibility") == 2
    assert (saved_value(bob, "prob"), saved_value(bob, "year")) == (35, 2030)
    assert [saved_value(bob, "rank", k) for k in "abc"] == [2, 3, 1]
    assert set(bob.expertise.values_list("level", flat=True)) == {3}
    focus_ring = page.evaluate(
        "() => { const b = document.querySelector('button'); b.focus();"
        " return getComputedStyle(b).outlineStyle; }")
    assert focus_ring != "none", "focus must be visible"


def test_autosave_keeps_every_answer_through_a_reload(page, live_server, round1, alice):
    enter(page, live_server, alice)
    page.locator("input[name='a-agree'][value='5']").check()
    wait_saved(page, "agree")
    assert saved_value(alice, "agree") == 5
    page.locator("input[name='a-prob']").fill("62.5")
    page.locator("textarea[name='a-prob.why']").fill("Ещё подумаю")
    wait_saved(page, "prob")
    page.get_by_role("button", name="Up: Option B").click()
    wait_saved(page, "rank")
    page.reload()
    assert page.locator("input[name='a-agree'][value='5']").is_checked()
    assert page.locator("input[name='a-prob']").input_value() == "62.5"
    assert page.locator("textarea[name='a-prob.why']").input_value() == "Ещё подумаю"
    assert page.locator(".rank-list li").all_inner_texts()[0].startswith("1.")
    assert "Option B" in page.locator(".rank-list li").first.inner_text()
    assert Response.objects.get(expert=alice).status == "draft"


def test_two_tabs_do_not_silently_overwrite_each_other(context, live_server, round1, alice):
    first, second = context.new_page(), context.new_page()
    enter(first, live_server, alice)
    second.goto(f"{live_server.url}/q/")
    first.locator("input[name='a-agree'][value='2']").check()
    wait_saved(first, "agree")
    second.locator("input[name='a-agree'][value='5']").check()
    conflict = second.locator("#item-agree .save-state .save-failed")
    conflict.wait_for(timeout=5000)
    assert "another tab" in conflict.inner_text()
    assert saved_value(alice, "agree") == 2


def test_an_expired_session_loses_nothing_typed(context, page, live_server, round1, alice):
    enter(page, live_server, alice)
    context.clear_cookies()  # the session has expired
    page.locator("textarea[name='a-agree.why']").fill("Typed after the session ended")
    page.locator("#item-agree .save-state.save-failed").wait_for(timeout=6000)
    assert not Response.objects.filter(expert=alice).exists()
    enter(page, live_server, alice)  # the expert opens their link again
    assert page.locator("textarea[name='a-agree.why']").input_value() == (
        "Typed after the session ended")
    wait_saved(page, "agree")
    assert alice.responses.get().rationales.get().text == "Typed after the session ended"


def test_a_lost_network_keeps_the_change_and_saves_it_when_back(context, page, live_server,
                                                                round1, alice):
    enter(page, live_server, alice)
    context.set_offline(True)
    page.locator("input[name='a-year']").fill("2040")
    page.locator("input[name='a-year']").press("Tab")
    page.locator("#item-year .save-state.save-failed").wait_for(timeout=6000)
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_saved(page, "year")
    assert saved_value(alice, "year") == 2040


def test_the_questionnaire_works_without_javascript(browser, live_server, round1, alice):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    enter(page, live_server, alice)
    page.locator("input[name='a-agree'][value='3']").check()
    for option, place in (("a", "3"), ("b", "1"), ("c", "2")):
        page.locator(f"select[name='a-rank.{option}']").select_option(place)
    page.get_by_role("button", name="Submit answers").click()
    page.wait_for_url(re.compile(r"confirm=1"))
    assert page.locator("#submit-confirm li").count() == len(Item.objects.filter(
        study=round1.study)) - 2  # everything but the agreement and the ranking is open
    page.get_by_role("button", name="Submit now").click()
    page.wait_for_url(re.compile(r"submitted=1"))
    assert Response.objects.get(expert=alice).status == "submitted"
    assert saved_value(alice, "agree") == 3
    context.close()


def _round_two(round1, alice, bob):
    # Two experts' feedback shown: these tests are about how it shows, not when (see
    # tests/surveys/test_feedback_cells.py for the smallest cell).
    type(round1.study).objects.filter(pk=round1.study_id).update(min_cell=1)
    response_submit(expert=alice, round_=round1, answers={"agree": ItemAnswer(
        values={"": 2}, rationale="<script>alert('rationale')</script>"),
        "prob": ItemAnswer(values={"": 20})})
    response_submit(expert=bob, round_=round1, answers={
        "agree": ItemAnswer(values={"": 5}), "prob": ItemAnswer(values={"": 60})})
    round_close(round_=round1)
    round_aggregate(round_id=round1.pk)
    return round_open(round_=round_create(study=round1.study))


def test_round_two_shows_feedback_with_the_own_previous_answer_marked(page, live_server,
                                                                      round1, alice, bob):
    _round_two(round1, alice, bob)
    page.set_viewport_size({"width": 375, "height": 800})
    enter(page, live_server, bob)
    feedback = page.locator("#item-agree .feedback")
    assert "n = 2" in feedback.inner_text()
    assert feedback.locator("rect.bar.own").count() == 1  # bob's 5
    assert page.locator("#item-prob .feedback line.own").count() == 1
    assert page.locator("#item-prob .feedback rect.iqr").count() == 1  # the quartile band
    from playwright.sync_api import expect

    page.locator("#item-agree summary").click()  # the arguments load when opened
    expect(page.locator("#item-agree .rationales li")).to_have_count(1)
    assert "<script>alert('rationale')</script>" in page.locator(
        "#item-agree .rationales").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(ARTIFACTS / "questionnaire-round2-375-ru.png"), full_page=True)
    assert page.context.dialogs == []


def test_answer_before_feedback_opens_the_feedback_once_answered(page, live_server, round1,
                                                                 alice, bob):
    round1.study.answer_before_feedback = True
    round1.study.save()
    _round_two(round1, alice, bob)
    enter(page, live_server, alice)
    assert page.locator("#item-agree .feedback").count() == 0
    assert page.locator("#item-agree .gated").is_visible()
    page.locator("input[name='a-agree'][value='3']").check()
    page.locator("#item-agree .feedback").wait_for(timeout=5000)
    assert page.locator("#item-prob .feedback").count() == 0


def test_no_serious_accessibility_violations(context, page, live_server, round1, alice, bob):
    _round_two(round1, alice, bob)
    enter(page, live_server, alice)
    page.evaluate(AXE.read_text())  # through the devtools protocol: the page's CSP stays on
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, n: v.nodes.length}));
    }""")
    serious = [v for v in result if v["impact"] in {"serious", "critical"}]
    (ARTIFACTS / "axe-questionnaire.json").write_text(json.dumps(result, indent=1))
    assert serious == []


def test_xss_payloads_never_run_and_the_csp_forbids_inline_code(context, page, live_server, db):
    data = small_study_data("xss")
    data["title"]["en"] = "<img src=x onerror=alert('title')>"
    data["themes"][0]["items"][0]["text"]["en"] = "<script>alert('item')</script><b>bold</b>"
    study = study_load(data=data)
    round_ = round_open(round_=round_create(study=study))
    from surveys.services.panel import expert_create

    mallory = expert_create(study=study, name="M", email="m@example.org", group_code="US")
    response = page.goto(f"{live_server.url}/e/{expert_issue_token(expert=mallory)}/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    page.locator("textarea[name='a-agree.why']").fill("<img src=y onerror=alert('why')>")
    wait_saved(page, "agree")
    page.reload()
    assert "<script>alert('item')</script>" in page.locator("#item-agree > legend").inner_text()
    page.wait_for_timeout(300)
    assert context.dialogs == []
    assert round_.responses.count() == 1
