"""What an expert sees of the second edition's keys: the study's frame and timeline, the
"In hindsight" mark, help texts, a forecast's resolution, and a year item's "never" answer,
stored without JavaScript and with the autosave, and read back as its label in the feedback
and the report."""

import pytest
from django.test import Client

from surveys.models import Answer, Response
from surveys.services.panel import expert_create, expert_issue_token
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from surveys.values import figure_text, value_label
from tests.edition_helpers import NEVER, edition_study_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def edition(study):
    """The small study, loaded again with the second edition's keys."""
    return study_load(data=edition_study_data())


@pytest.fixture
def alice_in(client, edition, round1, alice):
    client.get(f"/e/{expert_issue_token(expert=alice)}/")
    return client


def page(client: Client) -> str:
    response = client.get("/q/")
    assert response.status_code == 200
    return response.content.decode()


def year_of(expert) -> float | None:
    return Answer.objects.get(response__expert=expert, item__code="year").value


def test_the_page_states_the_frame_and_the_timeline_in_the_experts_language(
        alice_in, client, bob):
    html = page(client)
    assert ("Propositions refer to the situation as of Dec. 1, 2026 unless marked "
            "“In hindsight”.") in html
    assert '<details class="timeline">' in html and "<summary>Timeline of events</summary>" in html
    assert '<time datetime="2019-08-02">Aug. 2, 2019</time> <span>The INF Treaty ends</span>' in html
    assert '<time datetime="2014-03">March 2014</time>' in html
    russian = Client()  # Bob reads in Russian
    russian.get(f"/e/{expert_issue_token(expert=bob)}/")
    html = page(russian)
    assert "1 декабря 2026" in html and "«В ретроспективе»" in html
    assert "Прекращение действия Договора о РСМД" in html and "Хронология событий" in html


def test_items_show_the_hindsight_mark_their_help_and_a_forecasts_resolution(alice_in, client):
    html = page(client)
    agree = html[html.index('id="item-agree"'):html.index('id="item-dims"')]
    assert '<span class="badge hindsight" title="Judge a claim made in the source' in agree
    assert ('In hindsight<span class="sr-only">: Judge a claim made in the source in the light '
            "of what has happened since.</span>") in agree
    assert '<p class="help" id="help-agree">Judge the 2011 claim.</p>' in agree
    assert 'data-item="agree" aria-describedby="help-agree"' in agree
    assert "Resolves on" not in agree
    prob = html[html.index('id="item-prob"'):html.index('id="item-year"')]
    assert "badge" not in prob and '<p class="help" id="help-prob">The event: a signed' in prob
    assert ('<details class="resolution"><summary>Resolves on Dec. 31, 2030</summary>'
            "<p>Resolves YES if a treaty is signed by then.</p></details>") in prob


def test_never_is_stored_as_the_maximum_without_javascript_and_shows_checked(
        alice_in, client, alice):
    html = page(client)
    assert 'name="a-year.never" value="1" data-never-for="f-a-year">' in html
    assert f"> {NEVER['en']}</label>" in html
    # The year box is labelled with its years and offers those before the "never" maximum.
    assert '<label for="f-a-year">Year (2011-2099)</label>' in html
    assert 'name="a-year" min="2011" max="2099"' in html
    response = client.post("/q/", {"a-year": "", "a-year.never": "1", "version": "0",
                                   "action": "save"})
    assert response.status_code == 302 and year_of(alice) == 2100
    html = page(client)
    assert 'data-never-for="f-a-year" checked>' in html
    assert 'name="a-year" min="2011" max="2099" step="1" value="">' in html
    # A year posted with "never" ticked: "never" wins; a year alone is a year.
    client.post("/q/", {"a-year": "2040", "a-year.never": "1", "version": "1", "action": "save"})
    assert year_of(alice) == 2100
    client.post("/q/", {"a-year": "2040", "version": "2", "action": "save"})
    assert year_of(alice) == 2040
    assert 'data-never-for="f-a-year">' in page(client)


def test_a_never_label_with_braces_renders_as_text(alice_in, client, edition):
    edition.items.filter(code="year").update(never_en="Not by {2100} <or> never")
    assert "> Not by {2100} &lt;or&gt; never</label>" in page(client)


def test_never_autosaves_and_years_are_checked_as_before(alice_in, client, alice):
    response = client.post("/q/autosave/", {"a-year": "", "a-year.never": "1", "version": "0"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and year_of(alice) == 2100
    response = client.post("/q/autosave/", {"a-year": "2101", "version": "1"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and year_of(alice) == 2100
    # An item without "never" takes no "never" field as one.
    response = client.post("/q/autosave/", {"a-prob.never": "1", "version": "1"},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 400


def test_the_never_value_reads_as_its_label_in_the_feedback_and_the_report(
        client, edition, round1, alice, bob, django_capture_on_commit_callbacks, organizer):
    year = edition.items.get(code="year")
    assert figure_text(year, 2100.0) == NEVER["en"] and figure_text(year, 2040.5) == "2041"
    assert value_label(year, "", 2100.0) == NEVER["en"] and value_label(year, "", 2040) == "2040"
    prob = edition.items.get(code="prob")
    assert figure_text(prob, 100.0) == "100\u00a0%"
    carl = expert_create(study=edition, name="Carl", email="carl@example.org", group_code="WE")
    for expert, value in [(alice, 2100), (bob, 2100), (carl, 2050)]:
        response_submit(expert=expert, round_=round1, answers={"year": ItemAnswer(values={"": value})})
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round1)
    round_open(round_=round_create(study=edition))
    client.get(f"/e/{expert_issue_token(expert=alice)}/")
    html = page(client)
    assert f"n = 3 · median year {NEVER['en']} · middle half 2075–{NEVER['en']}" in html
    assert f"Your previous answer: <strong>{NEVER['en']}</strong>" in html
    assert Response.objects.filter(round=round1).count() == 3
    staff = Client()
    staff.force_login(organizer)
    report = staff.get(f"/studies/{edition.slug}/").content.decode()
    assert f"<td>{NEVER['en']}</td>" in report


def test_the_organizers_preview_shows_the_frame_and_the_marks(edition, round1, organizer):
    staff = Client()
    staff.force_login(organizer)
    html = staff.get(f"/studio/{edition.slug}/rounds/1/preview/").content.decode()
    assert "as of Dec. 1, 2026" in html and "Timeline of events" in html
    assert "In hindsight<span" in html and 'name="a-year.never"' in html
