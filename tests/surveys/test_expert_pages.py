"""The expert's pages (link, questionnaire, language) and the staff study overview, over HTTP."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from surveys.models import Answer, Expert, ExpertiseRating, Response
from surveys.services.panel import expert_create, expert_issue_token
from surveys.services.responses import ItemAnswer, response_save_draft, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import small_study_data

pytestmark = pytest.mark.django_db


ITEMS = ["agree", "dims", "prob", "year", "rank", "open"]
FULL = {"a-agree": "4", "a-agree.why": "Both sides gain", "a-dims.desirability": "5",
        "a-dims.feasibility": "2", "a-prob": "37.5", "a-year": "2030", "a-rank.a": "2",
        "a-rank.b": "3", "a-rank.c": "1", "a-open.text": "Joint exercises", "version": "0",
        "action": "save"}


def enter(client: Client, expert: Expert):
    """Open the expert's personal link in this client."""
    return client.get(f"/e/{expert_issue_token(expert=expert)}/")


def page(client: Client) -> str:
    response = client.get("/q/")
    assert response.status_code == 200
    return response.content.decode()


def stored(expert) -> set[tuple]:
    return set(Answer.objects.filter(response__expert=expert).values_list(
        "item__code", "dimension", "value", "text"))


def close(round_, capture):
    with capture(execute=True):
        round_close(round_=round_)


@pytest.fixture
def alice_in(client, round1, alice):
    """Alice has opened her link; the client carries her session."""
    enter(client, alice)
    return client


# The link and the session ----------------------------------------------------------------


def test_an_expert_link_becomes_a_session_and_leaves_the_address(client, round1, alice):
    token = expert_issue_token(expert=alice)

    response = client.get(f"/e/{token}/")

    assert response.status_code == 302 and response["Location"] == "/q/"
    assert token not in response["Location"]
    assert response["Referrer-Policy"] == "no-referrer"
    questionnaire = client.get("/q/")
    assert questionnaire["Referrer-Policy"] == "no-referrer"
    html = questionnaire.content.decode()
    for code in ITEMS:
        assert f'id="item-{code}"' in html
    assert token not in html


@pytest.mark.parametrize("token", ["wrong-token", "x" * 500, "%00"])
def test_a_wrong_link_gets_404_with_a_clear_message(client, round1, alice, token):
    expert_issue_token(expert=alice)

    response = client.get(f"/e/{token}/")

    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()


def test_a_withdrawn_experts_link_stops_working(client, round1, alice):
    token = expert_issue_token(expert=alice)
    Expert.objects.filter(pk=alice.pk).update(withdrawn_at=timezone.now())

    assert client.get(f"/e/{token}/").status_code == 404


def test_the_questionnaire_without_a_session_gets_403_with_a_message(client, round1):
    for method in (client.get, client.post):
        response = method("/q/")
        assert response.status_code == 403
        assert "Please open your personal link" in response.content.decode()


# Saving and submitting -------------------------------------------------------------------


def test_saving_a_draft_shows_the_saved_values(alice_in, alice, round1, study):
    theme = study.themes.get(code="one")

    response = alice_in.post("/q/", {**FULL, f"x-{theme.pk}": "4"})

    assert response.status_code == 302 and response["Location"] == "/q/?saved=1"
    html = alice_in.get(response["Location"]).content.decode()
    assert "Your answers are saved." in html
    assert 'name="a-agree" value="4" checked' in html
    assert 'name="a-dims.feasibility" value="2" checked' in html
    assert 'name="a-prob" min="0" max="100" step="any" value="37.5"' in html
    assert 'value="2030"' in html
    rank_a = re.search(r'name="a-rank\.a">(.*?)</select>', html, re.S).group(1)
    assert '<option value="2" selected>' in rank_a
    assert ">Both sides gain</textarea>" in html and ">Joint exercises</textarea>" in html
    assert f'name="x-{theme.pk}" value="4" checked' in html
    assert 'id="version-field" value="1"' in html
    response = Response.objects.get(expert=alice, round=round1)
    assert (response.status, response.version) == (Response.Status.DRAFT, 1)
    assert ExpertiseRating.objects.get(expert=alice, theme=theme).level == 4


def test_submitting_marks_the_response_submitted(alice_in, alice, round1):
    alice_in.post("/q/", FULL)

    response = alice_in.post("/q/", {"a-agree": "5", "version": "1", "action": "submit"})

    assert response["Location"] == "/q/?submitted=1"
    saved = Response.objects.get(expert=alice, round=round1)
    assert saved.status == Response.Status.SUBMITTED and saved.version == 2
    html = alice_in.get("/q/?submitted=1").content.decode()
    assert "your answers are submitted" in html and "Submit revised answers" in html


@pytest.mark.parametrize(("field", "value", "message"), [
    ("a-prob", "abc", "Enter a number."),
    ("a-prob", "1e400", "Enter a number."),
    ("a-agree", "7", "Enter a value from 1 to 5."),
    ("a-year", "2030.5", "Enter a whole number."),
    ("a-rank.a", "3", "Give each option a different place from 1 to 3."),
    ("a-nope", "3", "Item nope is not part of this round."),
    ("a-agree.bogus", "3", "Unknown part(s) of this item: bogus."),
    ("x-1", "9", ""),
])
def test_bad_input_gets_400_with_its_message_and_loses_nothing(
        alice_in, alice, study, field, value, message):
    alice_in.post("/q/", FULL)
    before = stored(alice)
    if field == "x-1":
        field, message = f"x-{study.themes.first().pk}", "Rate your expertise from 1 to 5."

    response = alice_in.post("/q/", {**FULL, "version": "1", "a-open.text": "Changed",
                                     field: value})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert stored(alice) == before
    assert Response.objects.get(expert=alice).version == 1


def test_a_stale_version_gets_409_and_changes_nothing(alice_in, alice):
    alice_in.post("/q/", FULL)
    before = stored(alice)

    response = alice_in.post("/q/", {**FULL, "a-agree": "1", "version": "0"})

    assert response.status_code == 409
    assert "changed elsewhere" in response.content.decode()
    assert stored(alice) == before


def test_a_submit_after_the_round_closed_gets_409(alice_in, alice, round1,
                                                    django_capture_on_commit_callbacks):
    alice_in.post("/q/", FULL)
    close(round1, django_capture_on_commit_callbacks)

    response = alice_in.post("/q/", {**FULL, "a-agree": "1", "version": "1", "action": "submit"})

    assert response.status_code == 409
    assert "This round is closed" in response.content.decode()
    assert ("agree", "", 4.0, "") in stored(alice)
    assert "read-only copy of your answers" in page(alice_in)


# Feedback from round 2 -------------------------------------------------------------------


def test_round_two_shows_the_panels_feedback_anonymously(
        client, study, round1, alice, bob, django_capture_on_commit_callbacks):
    carol = expert_create(study=study, name="Carolina", email="carolina@example.org",
                          group_code="WE")
    dave = expert_create(study=study, name="Davidson", email="davidson@example.org",
                         group_code="US")
    for expert, value, why in [(alice, 2, "Alice's own doubt"), (bob, 4, "Bob's reason"),
                               (carol, 4, "Carolina's reason"), (dave, 5, "")]:
        response_submit(expert=expert, round_=round1, answers={
            "agree": ItemAnswer(values={"": value}, rationale=why)})
    close(round1, django_capture_on_commit_callbacks)
    round_open(round_=round_create(study=study))
    enter(client, alice)

    html = page(client)
    arguments = client.get("/q/arguments/agree/").content.decode()

    # Sorted 2 4 4 5: median 4; q1 at 0.75 -> 2 + 0.75*2 = 3.5; q3 at 2.25 -> 4 + 0.25*1 = 4.25.
    # Quartiles 3.5 and 4.25 read to the nearest half: 4.25 is no answer anybody could give.
    assert "n = 4 · median 4 · middle half 3.5–4.5 · 75\u00a0% agree (4-5)" in html
    assert "2 arguments from the panel" in html and 'href="/q/arguments/agree/"' in html
    assert "Bob&#x27;s reason" in arguments and "Carolina&#x27;s reason" in arguments
    assert "Alice&#x27;s own doubt" not in arguments
    for name in ("Bob", "bob@example.org", "Carolina", "carolina@", "Davidson", "davidson@"):
        assert name not in html
        assert name not in arguments.replace("Bob&#x27;s", "").replace("Carolina&#x27;s", "")
    assert "Your previous answer: <strong>Disagree (2)</strong>" in html
    assert "outside the middle half of the panel" in html


# Language --------------------------------------------------------------------------------


def test_a_russian_experts_link_shows_the_page_in_russian(client, round1, bob):
    enter(client, bob)

    html = page(client)

    assert '<html lang="ru">' in html
    assert "Русский текст" in html and "Малое исследование" in html


def test_choosing_a_language_switches_and_is_remembered(client, round1, bob):
    enter(client, bob)

    response = client.post("/q/language/", {"language": "en", "next": "https://evil.example/"})

    assert response.status_code == 302 and response["Location"] == "/q/"
    assert Expert.objects.get(pk=bob.pk).language == "en"
    assert '<html lang="en">' in page(client)
    other = Client()
    enter(other, Expert.objects.get(pk=bob.pk))
    assert '<html lang="en">' in page(other)


# Escaping --------------------------------------------------------------------------------


def test_organizer_text_and_rationales_are_escaped(client, django_capture_on_commit_callbacks):
    data = small_study_data("xss")
    data["themes"][0]["items"][0]["text"] = {"en": "<script>alert(1)</script>", "ru": "<b>x</b>"}
    data["min_cell"] = 1  # one rationale is enough to check its escaping
    study = study_load(data=data)
    round_ = round_open(round_=round_create(study=study))
    mallory = expert_create(study=study, name="M", email="m@example.org", group_code="US")
    victim = expert_create(study=study, name="V", email="v@example.org", group_code="RU")
    response_submit(expert=mallory, round_=round_, answers={"agree": ItemAnswer(
        values={"": 3}, rationale='<img src=x onerror="alert(2)">')})
    close(round_, django_capture_on_commit_callbacks)
    round_open(round_=round_create(study=study))
    enter(client, victim)

    html = page(client) + client.get("/q/arguments/agree/").content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html
    assert "<script>alert(1)" not in html and "<img src=x" not in html


# Staff pages -----------------------------------------------------------------------------


def test_an_analyst_sees_response_rates_by_group(client, round1, analyst, alice, bob):
    response_submit(expert=alice, round_=round1, answers={"agree": ItemAnswer(values={"": 3})})
    response_save_draft(expert=bob, round_=round1, answers={"agree": ItemAnswer(values={"": 3})})
    client.login(username="anna", password="anna-pw-123")

    response = client.get("/studies/small/")

    assert response.status_code == 200
    rates = {r["group"].code if r["group"] else "": (r["panel"], r["started"], r["submitted"],
                                                      r["rate"]) for r in response.context["rates"]}
    assert rates == {"RU": (1, 1, 1, 100.0), "US": (1, 1, 0, 0.0), "WE": (0, 0, 0, None),
                     "": (2, 2, 1, 50.0)}
    html = response.content.decode()
    assert "<td>Russia</td><td>1</td><td>1</td><td>1</td><td>100.0</td>" in html
    assert "<td>United States</td><td>1</td><td>1</td><td>0</td><td>0.0</td>" in html
    assert "<td>Western Europe</td><td>0</td><td>0</td><td>0</td><td>-</td>" in html


def test_an_outsider_gets_404_not_403_on_a_study(client, study, outsider):
    client.login(username="oscar", password="oscar-pw-123")

    assert client.get("/studies/small/").status_code == 404
    assert client.get("/studies/no-such-study/").status_code == 404


def test_an_organizer_of_one_study_gets_404_on_another(client, study, organizer):
    study_load(data=small_study_data("other"))
    client.login(username="olga", password="olga-pw-123")

    assert client.get("/studies/small/").status_code == 200
    assert client.get("/studies/other/").status_code == 404


def test_anonymous_users_are_sent_to_the_login(client, study):
    response = client.get("/studies/small/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/studies/small/"
