"""What an autosave and a page view cost: only the posted item is read and rendered, the
panel's feedback of a closed round is read once per process, round and language, and the
round's items once per process until they change. The queries of each request are counted
exactly (a transaction's BEGIN and COMMIT, or a test's SAVEPOINT and RELEASE, count as two)."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from surveys.models import Answer, Item, Theme
from surveys.services.aggregation import aggregation_request
from surveys.services.panel import expert_create, expert_issue_token
from surveys.services.responses import ItemAnswer, response_save_draft, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import small_study_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _session_in_the_database(settings):
    """The counts below include reading the session from the database, as the embedded default
    does; with Redis as the cache it is read from there, one query less (tests/test_sessions.py)."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"


def _study_in_round_two(slug: str, n_items: int, capture):
    """A study of n agreement items whose round 1 three experts answered (1, 2, 3, with a
    reason each); round 2 is open. Returns the study and the three experts."""
    data = small_study_data(slug)
    text = {"en": "A proposition", "ru": "Утверждение"}
    data["themes"] = [{"code": f"t{t}", "title": {"en": "T", "ru": "Т"}, "items": [
        {"code": f"i{t}-{k}", "kind": "agreement", "text": text} for k in range(n_items // 2)]}
        for t in range(2)]
    data["min_cell"] = 1  # these tests measure costs; tests/surveys/test_feedback_cells.py cells
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


def _page_queries(slug: str, n_items: int, capture) -> tuple[int, int]:
    """Queries to render round 2 of a study of n agreement items for an expert with a draft:
    the first time in this process, and again."""
    study, panel = _study_in_round_two(slug, n_items, capture)
    response_save_draft(expert=panel[0], round_=study.rounds.get(number=2), answers={
        item.code: ItemAnswer(values={"": 3}) for item in study.items.all()})
    client = _signed_in(panel[0])
    with CaptureQueriesContext(connection) as first:
        client.get("/q/")
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/q/").content.decode()
    assert html.count('class="feedback"') == n_items
    assert html.count("2 arguments from the panel") == n_items
    assert html.count(" checked>") == n_items  # the draft's answers
    return len(first), len(queries)


def test_the_questionnaires_queries_do_not_grow_with_its_items(django_capture_on_commit_callbacks):
    small = _page_queries("q10", 10, django_capture_on_commit_callbacks)
    large = _page_queries("q100", 100, django_capture_on_commit_callbacks)

    # The session; the expert, study, round, response and cache keys; both rounds' answers;
    # the reasons.
    assert small[1] == large[1] == 4
    # The first page of the round in this process also reads the round's items and the
    # previous round's figures and arguments.
    assert small[0] == large[0] == 10


def _autosave_queries(slug: str, n_items: int, capture) -> tuple[int, int, str]:
    """Queries of an expert's first autosave in round 2 and of the next one, and its HTML."""
    study, panel = _study_in_round_two(slug, n_items, capture)
    client = _signed_in(panel[0])
    client.get("/q/")  # the expert opens the page first (and the process reads the round)
    with CaptureQueriesContext(connection) as first:
        assert _autosave(client, "i1-0", "4").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = _autosave(client, "i0-0", "4", version=1)
    assert response.status_code == 200
    return len(first), len(queries), response.content.decode()


def test_an_autosave_reads_and_renders_only_the_posted_item(django_capture_on_commit_callbacks):
    small_first, small, small_html = _autosave_queries("s10", 10, django_capture_on_commit_callbacks)
    large_first, large, large_html = _autosave_queries("s100", 100,
                                                       django_capture_on_commit_callbacks)

    # The session; the expert, study, round, response and cache keys; in one transaction the
    # version checked and raised, the item's answer and reason deleted, its answer stored; the
    # answers of both rounds for the progress and the feedback.
    assert small == large == 9
    # The first save reads the expert and the round apart and creates the response (with
    # a savepoint of its own: a concurrent request may have created it).
    assert small_first == large_first == 16
    # The posted item's feedback (median of 1 2 3 is 2) and the progress of all 100 items.
    assert 'id="fb-i0-0-_"' in large_html and "median 2" in large_html
    assert "Answered 2 of 100" in large_html  # i1-0 and i0-0
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

    # Quartiles 1.5 and 2.5 put the band at x = 100 * (0.5 + 0.125 * 4) / 5 = 20, 20 wide.
    assert '<rect class="iqr" x="20" y="0" width="20" height="40"></rect>' in html
    assert not re.search(r'(x|y|width|height)="\d+,\d', html)
    # while the text is in Russian, with the Russian decimal comma
    assert "медиана 2 · средняя половина 1,5–2,5" in html
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


def test_a_submit_costs_the_same_queries_for_10_items_or_100(django_capture_on_commit_callbacks):
    def submit_queries(slug: str, n_items: int) -> int:
        study, panel = _study_in_round_two(slug, n_items, django_capture_on_commit_callbacks)
        client = _signed_in(panel[0])
        client.get("/q/")
        _autosave(client, "i0-0", "2")  # the draft the expert submits
        data = {"action": "submit", "version": "1"} | {
            f"a-{item.code}": "3" for item in study.items.all()} | {"a-i0-0.why": "Because."}
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/q/", data)
        assert response.status_code == 302 and "submitted=1" in response["Location"]
        return len(queries)

    # The session; the expert, round and response; in one transaction the version checked and
    # raised with the status, the items' answers and reasons deleted and stored, the revision
    # (reading both back).
    assert submit_queries("u10", 10) == submit_queries("u100", 100) == 12


def _item_reads(client: Client, path: str = "/q/") -> tuple[int, str]:
    """Queries that read the round's items while opening the page, and the page."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    reads = [q for q in queries if q["sql"].startswith('SELECT "surveys_item"."id"')]
    return len(reads), response.content.decode()


def test_the_rounds_items_are_read_once_per_process_until_they_change(
        django_capture_on_commit_callbacks):
    study, panel = _study_in_round_two("items", 4, django_capture_on_commit_callbacks)
    client = _signed_in(panel[0])
    first, _html = _item_reads(client)
    again, _html = _item_reads(client)

    item = Item.objects.get(study=study, code="i0-1")
    item.text_en = "A corrected proposition"
    item.save()  # as the admin and the study loader save it
    after_edit, html = _item_reads(client)

    # The first page also reads the previous round's items, for the panel's arguments.
    assert (first, again, after_edit) == (2, 0, 1)
    assert html.count("</span> A corrected proposition</legend>") == 1
    assert html.count("</span> A proposition</legend>") == 3
    autosave = _autosave(client, "i0-0", "").content.decode()
    assert "1.2: A corrected proposition" in autosave  # the progress box's list (numbers)


def test_a_renamed_theme_and_a_changed_round_show_at_once(django_capture_on_commit_callbacks):
    from workspace.services.structure import theme_rename

    study, panel = _study_in_round_two("theme", 4, django_capture_on_commit_callbacks)
    client = _signed_in(panel[0])
    assert "1. T</h2>" in client.get("/q/").content.decode()

    theme_rename(theme=Theme.objects.get(study=study, code="t0"), title_en="Missile defence",
                 title_ru="ПРО", actor=None)
    renamed = client.get("/q/").content.decode()
    round_two = study.rounds.get(number=2)
    round_two.items.remove(Item.objects.get(study=study, code="i1-1"))
    without = client.get("/q/").content.decode()
    round_two.items.add(Item.objects.get(study=study, code="i1-1"))
    back = client.get("/q/").content.decode()

    assert "1. Missile defence</h2>" in renamed
    assert 'id="item-i1-1"' not in without and "Answered 0 of 3" in without
    assert 'id="item-i1-1"' in back and "Answered 0 of 4" in back


def test_the_items_are_built_in_the_experts_language(django_capture_on_commit_callbacks):
    study, panel = _study_in_round_two("lang", 2, django_capture_on_commit_callbacks)
    client = _signed_in(panel[0])

    english = client.get("/q/").content.decode()
    client.post("/q/language/", {"language": "ru", "next": "/q/"})
    russian = client.get("/q/").content.decode()
    autosave = _autosave(client, "i0-0", "4").content.decode()
    client.post("/q/language/", {"language": "en", "next": "/q/"})
    english_again = client.get("/q/").content.decode()

    assert english.count("A proposition</legend>") == 2 and "Strongly disagree</span>" in english
    assert "Утверждение" in russian and "A proposition" not in russian
    assert "Полное несогласие</span>" in russian and "Ваш предыдущий ответ" in russian
    assert "Предыдущий тур" in autosave and "Ваш предыдущий ответ" in autosave
    assert english_again.count("A proposition</legend>") == 2 and "Утверждение" not in english_again
    assert "Your previous answer" in english_again and "Ваш" not in english_again
    translation.activate("en")


def test_item_texts_labels_and_sources_are_escaped(django_capture_on_commit_callbacks):
    data = small_study_data("escape")
    agree, _dims, prob = data["themes"][0]["items"]
    agree["source"] = {"paragraph": 3, "anchor": '"Quoted" <em>words</em> & more'}
    rank = data["themes"][1]["items"][1]
    rank["options"][0]["text"] = {"en": "<i>A</i> & B", "ru": "<i>А</i>"}
    data["themes"][1]["items"][0] = {"code": "num", "kind": "numeric", "min": 0, "max": 10,
                                     "unit": {"en": "<b>km</b>", "ru": "км"},
                                     "text": {"en": "How far?", "ru": "Как далеко?"}}
    study = study_load(data=data)
    round_open(round_=round_create(study=study))
    expert = expert_create(study=study, name="E", email="e@example.org", group_code="RU")

    html = _signed_in(expert).get("/q/").content.decode()

    assert "“&quot;Quoted&quot; &lt;em&gt;words&lt;/em&gt; &amp; more…”" in html
    assert 'data-label="&lt;i&gt;A&lt;/i&gt; &amp; B"' in html
    assert "&lt;b&gt;km&lt;/b&gt; (0-10)</label>" in html
    assert "<em>words" not in html and "<i>A</i>" not in html and "<b>km" not in html
