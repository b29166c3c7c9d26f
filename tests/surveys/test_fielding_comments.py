"""A respondent's comment on an item (stored as the answer's reason) is shown again when they
come back to the page, and a page saved again keeps it exactly as the box holds it; a rating
chosen together with "No opinion" is refused on that item, and nothing of the page is saved."""

import pytest
from django.test import Client

from surveys.models import Answer, Entry, Rationale, Response
from tests.surveys.fielding_helpers import PAGES, collector, survey_load, walk

pytestmark = pytest.mark.django_db

COMMENT = "Only if the data are shared <both> ways & verified"


def _page(client: Client, token: str, number: int = 1):
    return client.get(f"/s/{token}/page/{number}/")


def _post(client: Client, token: str, fields: dict, action: str = "next", number: int = 1):
    version = _page(client, token, number).context["version"]
    return client.post(f"/s/{token}/page/{number}/",
                       {**fields, "version": version, "action": action})


def _comments(token: str) -> dict[str, str]:
    entry = Entry.objects.get(collector__token=token)
    return dict(Rationale.objects.filter(response__expert=entry.expert).values_list(
        "item__code", "text"))


def _shown(page, code: str) -> str:
    view = next(v for v in page.context["views"] if v.item.code == code)
    return view.rationale


@pytest.fixture
def started():
    client, c = Client(), collector(survey_load())
    walk(client, c.token, "alice", pages={}, finish=False)
    return client, c.token


def test_a_comment_is_shown_again_after_next_and_back(started):
    client, token = started
    _post(client, token, {**PAGES[1], "a-agree.why": COMMENT, "a-prob.why": "Sure"})
    back = client.post(f"/s/{token}/page/2/", {"version": _page(client, token, 2).context[
        "version"], "action": "back"})
    assert back.status_code == 302 and back["Location"].endswith("/page/1/")
    page = _page(client, token)
    assert _shown(page, "agree") == COMMENT and _shown(page, "prob") == "Sure"
    html = page.content.decode()
    assert ('name="a-agree.why" rows="2" maxlength="5000">Only if the data are shared '
            "&lt;both&gt; ways &amp; verified</textarea>") in html


def test_saving_the_page_again_with_the_shown_comment_keeps_it(started):
    client, token = started
    _post(client, token, {**PAGES[1], "a-agree.why": COMMENT})
    shown = _shown(_page(client, token), "agree")
    _post(client, token, {**PAGES[1], "a-agree": "2", "a-agree.why": shown})
    assert _comments(token) == {"agree": COMMENT}
    assert _shown(_page(client, token), "agree") == COMMENT


def test_a_changed_comment_is_saved_and_a_cleared_one_is_gone(started):
    client, token = started
    _post(client, token, {**PAGES[1], "a-agree.why": COMMENT})
    _post(client, token, {**PAGES[1], "a-agree.why": "Changed my mind"})
    assert _comments(token) == {"agree": "Changed my mind"}
    _post(client, token, {**PAGES[1], "a-agree.why": ""})
    assert _comments(token) == {}
    assert _shown(_page(client, token), "agree") == ""


def test_a_comment_without_a_rating_is_shown_again(started):
    client, token = started
    _post(client, token, {"a-dims.why": "Hard to say"})
    assert _shown(_page(client, token), "dims") == "Hard to say"


def test_a_rating_and_no_opinion_together_are_refused_and_nothing_is_saved(started):
    client, token = started
    posted = {**PAGES[1], "a-agree.none": "1", "a-agree.why": COMMENT}
    for language, message in (("en", "Choose a rating or “No opinion”, not both."),
                              ("ru", "Выберите оценку или «Нет мнения», но не то и другое.")):
        client.cookies["django_language"] = language
        answer = _post(client, token, posted)
        assert answer.status_code == 400
        html = answer.content.decode()
        assert html.count(message) == 1  # on the item, not elsewhere
        view = next(v for v in answer.context["views"] if v.item.code == "agree")
        assert view.error == message and view.no_opinion and view.rationale == COMMENT
        assert view.parts[0].value == 4  # the respondent's choices shown again
        assert 'value="4" checked' in html and 'name="a-agree.none" value="1" checked' in html
    entry = Entry.objects.get(collector__token=token)
    assert entry.pages_done == 0
    assert not Response.objects.filter(expert=entry.expert).exists()
    assert not Answer.objects.filter(response__expert=entry.expert).exists()


def test_no_opinion_alone_is_saved(started):
    client, token = started
    fields = {k: v for k, v in PAGES[1].items() if not k.startswith("a-agree")}
    answer = _post(client, token, {**fields, "a-agree.none": "1"})
    assert answer.status_code == 302
    assert Answer.objects.get(item__code="agree").no_opinion
