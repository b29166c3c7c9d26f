"""Carry forward from round 2 on: the expert keeps their previous answer to one item or to
all, through the response services (versions, 409), and can still change what they kept."""

import pytest
from django.test import Client

from surveys.errors import StaleVersion
from surveys.models import Answer, Rationale, Response
from surveys.services.aggregation import round_aggregate
from surveys.services.panel import expert_issue_token
from surveys.services.responses import (
    KEEP_ALL,
    ItemAnswer,
    response_keep_previous,
    response_save_draft,
    response_submit,
)
from surveys.services.rounds import round_close, round_create, round_open

pytestmark = pytest.mark.django_db

ROUND_ONE = {
    "agree": ItemAnswer(values={"": 4}, rationale="Round one's reason"),
    "dims": ItemAnswer(values={"desirability": 5, "feasibility": 2}),
    "prob": ItemAnswer(values={"": 34}),
    "year": ItemAnswer(no_opinion=True),
    "rank": ItemAnswer(values={"a": 2, "b": 3, "c": 1}),
    "open": ItemAnswer(text="Joint exercises."),
}


@pytest.fixture
def round2(round1, alice):
    response_submit(expert=alice, round_=round1, answers=ROUND_ONE)
    round_close(round_=round1)
    round_aggregate(round_id=round1.pk)
    return round_open(round_=round_create(study=round1.study))


def answers_in(expert, round_) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for code, key, value, text, none in Answer.objects.filter(
            response__expert=expert, response__round=round_).values_list(
            "item__code", "dimension", "value", "text", "no_opinion"):
        out.setdefault(code, {})[key] = "none" if none else (text or value)
    return out


def test_keeping_one_answer_saves_it_as_this_rounds_answer(round2, alice):
    response, kept = response_keep_previous(expert=alice, round_=round2, keep="dims")

    assert kept == ["dims"]
    assert answers_in(alice, round2) == {"dims": {"desirability": 5, "feasibility": 2}}
    assert response.version == 1 and response.status == Response.Status.DRAFT
    assert not Rationale.objects.filter(response=response).exists()  # the answer, not the reason


def test_nothing_is_carried_forward_without_the_experts_action(round2, alice):
    response_save_draft(expert=alice, round_=round2, answers={"agree": ItemAnswer(values={"": 1})})

    assert answers_in(alice, round2) == {"agree": {"": 1}}


def test_keeping_all_fills_only_the_items_not_answered_in_this_round(round2, alice):
    response_save_draft(expert=alice, round_=round2, answers={"agree": ItemAnswer(values={"": 1})})

    response, kept = response_keep_previous(expert=alice, round_=round2, keep=KEEP_ALL,
                                            expected_version=1)

    assert sorted(kept) == ["dims", "open", "prob", "rank", "year"]
    assert answers_in(alice, round2) == {
        "agree": {"": 1}, "dims": {"desirability": 5, "feasibility": 2}, "prob": {"": 34},
        "year": {"": "none"}, "rank": {"a": 2, "b": 3, "c": 1}, "open": {"": "Joint exercises."}}
    assert response.version == 2


def test_a_kept_answer_can_be_changed_like_any_other(round2, alice):
    response_keep_previous(expert=alice, round_=round2, keep="prob")

    response_save_draft(expert=alice, round_=round2, expected_version=1,
                        answers={"prob": ItemAnswer(values={"": 50})})

    assert answers_in(alice, round2) == {"prob": {"": 50}}


def test_keeping_a_ranking_keeps_its_order(round2, alice):
    response_keep_previous(expert=alice, round_=round2, keep="rank")

    places = answers_in(alice, round2)["rank"]
    assert sorted(places, key=places.get) == ["c", "a", "b"]


def test_keeping_with_a_stale_version_changes_nothing(round2, alice):
    response_save_draft(expert=alice, round_=round2, answers={"agree": ItemAnswer(values={"": 1})})

    with pytest.raises(StaleVersion):
        response_keep_previous(expert=alice, round_=round2, keep="prob", expected_version=0)

    assert answers_in(alice, round2) == {"agree": {"": 1}}


def test_keeping_keeps_the_reasoning_given_in_this_round(round2, alice):
    response_save_draft(expert=alice, round_=round2, answers={
        "prob": ItemAnswer(values={"": 80}, rationale="New evidence")})

    response, _kept = response_keep_previous(expert=alice, round_=round2, keep="prob")

    assert answers_in(alice, round2) == {"prob": {"": 34}}
    assert Rationale.objects.get(response=response).text == "New evidence"


def test_an_item_not_answered_before_has_nothing_to_keep(round2, bob):
    _response, kept = response_keep_previous(expert=bob, round_=round2, keep=KEEP_ALL)

    assert kept == [] and answers_in(bob, round2) == {}


# Over HTTP, without JavaScript: the page's keep buttons post the form ------------------------


@pytest.fixture
def alice_in(client, round2, alice):
    client.get(f"/e/{expert_issue_token(expert=alice)}/")
    return client


def test_the_page_offers_each_previous_answer_and_fills_nothing_in(alice_in: Client):
    html = alice_in.get("/q/").content.decode()

    assert "Your answer in round 1: <strong>Agree (4)</strong>" in html
    assert 'name="keep" value="rank"' in html and "1. Option C · 2. Option A · 3. Option B" in html
    assert "Keep all my previous answers" in html
    assert 'value="4" checked' not in html and 'value="34"' not in html.split("carry")[0]
    assert 'data-previous="1" data-option="c"' in html  # the ranking starts in that order
    assert ">stakes" not in html and '<span class="code">1.1</span>' in html  # numbers, not codes


def test_a_keep_button_saves_the_posted_form_and_the_kept_answer(alice_in: Client, round2, alice):
    response = alice_in.post("/q/", {"version": "0", "keep": "prob", "a-agree": "2",
                                     "a-prob": ""})

    assert response.status_code == 302 and response["Location"] == "/q/?kept=1#item-prob"
    assert answers_in(alice, round2) == {"agree": {"": 2}, "prob": {"": 34}}
    assert "1 answer from round 1 kept" in alice_in.get(response["Location"]).content.decode()


def test_keep_all_over_http_counts_what_it_kept(alice_in: Client, round2, alice):
    response = alice_in.post("/q/", {"version": "0", "keep_all": "1"})

    assert response["Location"] == "/q/?kept=6"
    assert len(answers_in(alice, round2)) == 6
    assert "Keep all my previous answers" not in alice_in.get("/q/").content.decode()


def test_the_submit_confirmation_links_to_the_unanswered_items_by_number(alice_in: Client):
    alice_in.post("/q/", {"version": "0", "a-agree": "2", "action": "submit"})

    html = alice_in.get("/q/?confirm=1").content.decode()
    confirm = html.split('id="submit-confirm"')[1].split("</div>\n</div>")[0]
    assert confirm.index("Submit now") < confirm.index("5 items are still unanswered")
    assert '<a href="#item-prob"><span class="sr-only">Item </span>1.3</a>' in confirm


def test_the_choices_read_in_russian(client: Client, round2, alice):
    type(alice).objects.filter(pk=alice.pk).update(language="ru")
    client.get(f"/e/{expert_issue_token(expert=alice)}/")

    html = client.get("/q/").content.decode()

    assert "Оставить все мои прошлые ответы" in html
    assert "Ваш ответ в туре 1:" in html
    assert "Оставить мой ответ из тура 1" in html
    assert "В туре 1 вы ответили на 6 пунктов" in html
