"""What an autosave and a page view cost: only the posted item is read and rendered, and the
panel's feedback of a closed round is read once per process, round and language."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from surveys.models import Answer
from surveys.services.aggregation import aggregation_request
from surveys.services.panel import expert_create, expert_issue_token
from surveys.services.responses import ItemAnswer, response_save_draft, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import small_study_data

pytestmark = pytest.mark.django_db


def _study_in_round_two(slug: str, n_items: int, capture):
    """A study of n agreement items whose round 1 three experts answered (1, 2, 3, with a
    reason each); round 2 is open. Returns the study and the three experts."""
    data = small_study_data(slug)
    text = {"en": "A proposition", "ru": "Утверждение"}
    data["themes"] = [{"code": f"t{t}", "title": {"en": "T", "ru": "Т"}, "items": [
        {"code": f"i{t}-{k}", "kind": "agreement", "text": text} for k in range(n_items // 2)]}
        for t in range(2)]
    study = study_load(data=data)
    round_ = round_open(round_=round_create(study=study))
    panel = [expert_create(study=study, name=f"E{k}", email=f"e{k}@example.org", group_code=g,
                           language="en") for k, g in enumerate(["RU", "US", "WE"])]
    for k, expert in enumerate(panel):
        response_submit(expert=expert, round_=round_, answers={
            item.code: ItemAnswer(values={"": 1 + k}, rationale=f"Why {k}")
            for item in study.items.all()})
    with capture(execute=True):
        round_close(round_=round_)
    round_open(round_=round_create(study=study))
    return study, panel


def _signed_in(expert) -> Client:
    client = Client()
    client.get(f"/e/{expert_issue_token(expert=expert)}/")
    return client


def _autosave(client: Client, code: str, value: str, version: int = 0):
    return client.post("/q/autosave/", {f"a-{code}": value, f"a-{code}.why": "", "version":
                                        str(version)}, HTTP_HX_REQUEST="true")


def _page_queries(slug: str, n_items: int, capture) -> int:
    """Queries to render round 2 of a study of n agreement items for an expert with a draft."""
    study, panel = _study_in_round_two(slug, n_items, capture)
    response_save_draft(expert=panel[0], round_=study.rounds.get(number=2), answers={
        item.code: ItemAnswer(values={"": 3}) for item in study.items.all()})
    client = _signed_in(panel[0])
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/q/").content.decode()
    assert html.count('class="feedback"') == n_items
    assert html.count("2 arguments from the panel") == n_items
    assert html.count(" checked>") == n_items  # the draft's answers
    return len(queries)


def test_the_questionnaires_queries_do_not_grow_with_its_items(django_capture_on_commit_callbacks):
    small = _page_queries("q10", 10, django_capture_on_commit_callbacks)
    large = _page_queries("q100", 100, django_capture_on_commit_callbacks)

    assert small == large


def _autosave_queries(slug: str, n_items: int, capture) -> tuple[int, str]:
    study, panel = _study_in_round_two(slug, n_items, capture)
    client = _signed_in(panel[0])
    with CaptureQueriesContext(connection) as queries:
        response = _autosave(client, "i0-0", "4")
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_an_autosave_reads_and_renders_only_the_posted_item(django_capture_on_commit_callbacks):
    small, small_html = _autosave_queries("s10", 10, django_capture_on_commit_callbacks)
    large, large_html = _autosave_queries("s100", 100, django_capture_on_commit_callbacks)

    assert small == large
    # The posted item's feedback (median of 1 2 3 is 2) and the progress of all 100 items.
    assert 'id="fb-i0-0-_"' in large_html and "median 2" in large_html
    assert "Answered 1 of 100" in large_html
    assert len(re.findall(r'id="fb-', large_html)) == 1
    assert "Why 1" not in large_html  # the panel's arguments stay on the page, not re-sent
    assert len(large_html) < 20_000


def test_an_autosave_stores_the_posted_item_and_keeps_the_others(
        django_capture_on_commit_callbacks):
    study, panel = _study_in_round_two("keep", 4, django_capture_on_commit_callbacks)
    client = _signed_in(panel[0])

    assert _autosave(client, "i0-0", "4", 0).status_code == 200
    assert _autosave(client, "i1-1", "5", 1).status_code == 200
    stale = _autosave(client, "i0-0", "1", 1)

    assert stale.status_code == 409 and "changed elsewhere" in stale.content.decode()
    assert set(Answer.objects.filter(response__expert=panel[0], response__round__number=2)
               .values_list("item__code", "value")) == {("i0-0", 4.0), ("i1-1", 5.0)}


def _reads_of_the_panel(client: Client, path: str = "/q/") -> tuple[int, str]:
    """Queries that read other experts' answers or arguments while opening the page."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    panel_reads = [q for q in queries if '"surveys_rationale"' in q["sql"]
                   and "submitted" in q["sql"]]
    return len(panel_reads), response.content.decode()


def test_the_panels_feedback_is_read_once_per_round_and_language(
        django_capture_on_commit_callbacks):
    study, panel = _study_in_round_two("once", 4, django_capture_on_commit_callbacks)
    first, second = _signed_in(panel[0]), _signed_in(panel[1])

    reads, html = _reads_of_the_panel(first, "/q/arguments/i0-0/")
    reads_page, _html = _reads_of_the_panel(second)
    reads_again, html_second = _reads_of_the_panel(second, "/q/arguments/i0-0/")
    second.post("/q/language/", {"language": "ru", "next": "/q/"})
    reads_in_russian, html_ru = _reads_of_the_panel(second, "/q/arguments/i0-0/")

    assert (reads, reads_page, reads_again, reads_in_russian) == (1, 0, 0, 1)
    # Each expert still sees the others' arguments, never their own, in their language.
    assert "Why 1" in html and "Why 2" in html and "Why 0" not in html
    assert "Why 0" in html_second and "Why 1" not in html_second
    assert "Strongly disagree (1)" in html_second and "Полное несогласие (1)" in html_ru


def test_a_new_aggregation_of_the_round_shows_at_once(django_capture_on_commit_callbacks):
    study, panel = _study_in_round_two("again", 4, django_capture_on_commit_callbacks)
    client = _signed_in(panel[0])
    assert "n = 3 · median 2" in _reads_of_the_panel(client)[1]
    # A late correction: the third expert's answers are dropped, and the round aggregated again.
    round1 = study.rounds.get(number=1)
    Answer.objects.filter(response__round=round1, response__expert=panel[2]).delete()
    with django_capture_on_commit_callbacks(execute=True):
        aggregation_request(round_=round1)

    reads, html = _reads_of_the_panel(client)

    assert reads == 1 and "n = 2 · median 1.5" in html


def test_feedback_charts_keep_decimal_points_in_russian(django_capture_on_commit_callbacks):
    study, panel = _study_in_round_two("points", 2, django_capture_on_commit_callbacks)
    client = _signed_in(panel[0])
    client.post("/q/language/", {"language": "ru", "next": "/q/"})

    html = client.get("/q/").content.decode()

    # Quartiles 1.5 and 2.5 put the band at x = 4 + (1.5 - 0.5) * 38.4 = 42.4.
    assert '<rect class="iqr" x="42.4" y="0" width="38.4" height="48"></rect>' in html
    assert not re.search(r'(x|y|width|height)="\d+,\d', html)
    assert "IQR 1,50–2,50" in html  # while the text uses the Russian decimal comma
    translation.activate("en")


def test_the_arguments_load_on_demand_and_work_without_javascript(
        django_capture_on_commit_callbacks):
    study, panel = _study_in_round_two("lazy", 40, django_capture_on_commit_callbacks)
    client = _signed_in(panel[0])

    html = client.get("/q/").content.decode()
    fragment = client.get("/q/arguments/i1-3/", HTTP_HX_REQUEST="true").content.decode()
    page = client.get("/q/arguments/i1-3/").content.decode()

    assert "Why 1" not in html and html.count("2 arguments from the panel") == 40
    assert fragment.startswith("<ul>") and "Why 1" in fragment and "Why 2" in fragment
    assert "Why 0" not in fragment and "<html" not in fragment
    assert '<a href="/q/#item-i1-3">' in page and "Why 2" in page
    assert client.get("/q/arguments/nope/").status_code == 404
    assert Client().get("/q/arguments/i1-3/").status_code == 403


def test_arguments_stay_hidden_until_answered_when_the_study_asks(
        django_capture_on_commit_callbacks):
    study, panel = _study_in_round_two("gated", 2, django_capture_on_commit_callbacks)
    study.answer_before_feedback = True
    study.save()
    client = _signed_in(panel[0])

    hidden = client.get("/q/arguments/i0-0/")
    _autosave(client, "i0-0", "3")
    shown = client.get("/q/arguments/i0-0/")

    assert hidden.status_code == 404 and "Why 1" not in hidden.content.decode()
    assert shown.status_code == 200 and "Why 1" in shown.content.decode()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_feedback_figures_read_as_the_floatformat_filter_showed_them(language):
    from django.template.defaultfilters import floatformat

    from surveys.questionnaire import _number

    values = [0.0, 1.0, 3.5, 3.125, 2.675, 4.25, 62.5, 0.005, 99.995, 1234.5, 3.333333]
    with translation.override(language):
        assert [_number(v) for v in values] == [floatformat(v, -2) for v in values]
        assert [_number(v, 0) for v in values] == [floatformat(v, 0) for v in values]
    assert _number(None) == ""
