"""A respondent's way through a survey's open link: consent (versioned), screening, the paged
questionnaire, completion with its redirect, dedupe by external id and by browser, resume on the
same device, anonymous mode, and the organizer's fielding table."""

import pytest
from django.test import Client

from surveys.models import Answer, ConsentText, Entry, Expert, Response
from surveys.selectors_fielding import fielding_table
from surveys.services.fielding import redirect_with_id
from tests.surveys.fielding_helpers import PAGES, collector, survey_load, walk

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey():
    return survey_load()


def test_a_respondent_walks_through_and_is_sent_back_with_their_id(survey):
    c = collector(survey)
    done = walk(Client(), c.token, "abc-123")
    assert done.status_code == 302
    assert done["Location"] == "https://panel.example.org/done?study=7&pid=abc-123"
    entry = Entry.objects.get(collector=c)
    assert entry.status == Entry.Status.COMPLETED and entry.external_id == "abc-123"
    assert entry.consent_version == "v1" and entry.consented_at is not None
    assert entry.screening == {"role": "expert"} and entry.completed_at is not None
    response = Response.objects.get(expert=entry.expert)
    assert response.status == Response.Status.SUBMITTED
    # 1 + 2 + 1 answers on page 1, 1 + 3 + 1 on page 2: nine rows, one response
    assert Answer.objects.filter(response=response).count() == 9
    assert entry.expert.group.code == "RU" and entry.expert.email == ""


def test_the_redirect_carries_the_id_and_nothing_else():
    url = redirect_with_id("https://p.example.org/c?x=1&pid=old#f", "pid", "a b&c=d")
    assert url == "https://p.example.org/c?x=1&pid=a+b%26c%3Dd#f"
    assert redirect_with_id("https://p.example.org/c", "pid", "") == "https://p.example.org/c"


def test_an_ineligible_respondent_is_thanked_counted_and_redirected_with_the_id_only(survey):
    c = collector(survey)
    out = walk(Client(), c.token, "p9", role="other")
    assert out.status_code == 302 and out["Location"] == "https://panel.example.org/out?pid=p9"
    entry = Entry.objects.get(collector=c)
    assert entry.status == Entry.Status.SCREENED_OUT and entry.started_at is None
    assert str(entry.expert_id) not in out["Location"].replace("p9", "")
    # without a redirect: a thank-you page
    us = collector(survey, "us-open")
    page = walk(Client(), us.token, role="other")
    assert page.status_code == 200 and b"another" in page.content


def test_a_screening_without_an_answer_is_asked_again(survey):
    client, c = Client(), collector(survey)
    client.get(f"/s/{c.token}/")
    client.post(f"/s/{c.token}/consent/", {"choice": "agree", "version": "v1"})
    again = client.post(f"/s/{c.token}/screening/", {"s-role": "nonsense"})
    assert again.status_code == 400
    assert Entry.objects.get(collector=c).status == Entry.Status.SCREENING


def test_consent_versions_new_respondents_see_the_newest_and_each_entry_keeps_its_own(survey):
    c = collector(survey)
    first = Client()
    first.get(f"/s/{c.token}/?pid=one")
    assert b"We keep your answers" in first.get(f"/s/{c.token}/").content
    ConsentText.objects.create(study=survey, version="v2", text_en="Version two text.",
                               text_ru="Текст второй версии.")
    second = Client()
    page = second.get(f"/s/{c.token}/?pid=two")
    assert b"Version two text." in page.content
    assert second.post(f"/s/{c.token}/consent/", {"choice": "agree", "version": "v2"}).status_code == 302
    assert first.post(f"/s/{c.token}/consent/", {"choice": "agree", "version": "v1"}).status_code == 302
    versions = dict(Entry.objects.values_list("external_id", "consent_version"))
    assert versions == {"one": "v1", "two": "v2"}
    # an unknown version records nothing
    third = Client()
    third.get(f"/s/{c.token}/?pid=three")
    assert third.post(f"/s/{c.token}/consent/", {"choice": "agree", "version": "v9"}).status_code == 409
    assert Entry.objects.get(external_id="three").status == Entry.Status.CONSENT


def test_declining_ends_politely_and_is_counted(survey):
    client, c = Client(), collector(survey)
    client.get(f"/s/{c.token}/?pid=no")
    answer = client.post(f"/s/{c.token}/consent/", {"choice": "decline", "version": "v1"},
                         follow=True)
    assert answer.status_code == 200 and b"chose not to take part" in answer.content
    entry = Entry.objects.get(external_id="no")
    assert entry.status == Entry.Status.DECLINED and entry.declined_at is not None
    assert client.get(f"/s/{c.token}/page/1/", follow=True).redirect_chain[-1][0] == f"/s/{c.token}/"
    assert fielding_table(survey)[0]["declined"] == 1


def test_one_entry_per_external_id_and_per_browser(survey):
    c = collector(survey)
    walk(Client(), c.token, "dup")
    other_browser = Client().get(f"/s/{c.token}/?pid=dup")
    assert other_browser.status_code == 409
    same_browser = Client()
    walk(same_browser, c.token, "first")
    again = same_browser.get(f"/s/{c.token}/?pid=second")  # a new id, the same browser
    assert again.status_code == 200 and b"Your answers are recorded" in again.content
    assert Entry.objects.filter(collector=c).count() == 2
    assert sorted(Entry.objects.values_list("external_id", flat=True)) == ["dup", "first"]


def test_a_respondent_resumes_on_the_same_device_at_the_first_unfinished_page(survey):
    client, c = Client(), collector(survey)
    walk(client, c.token, "r1", pages={1: PAGES[1]}, finish=False)
    resumed = client.get(f"/s/{c.token}/")
    assert resumed.status_code == 302 and resumed["Location"] == f"/s/{c.token}/page/2/"
    back = client.get(f"/s/{c.token}/page/1/")
    assert b'value="4" checked' in back.content  # the saved answer, shown again
    assert client.get(f"/s/{c.token}/page/2/").status_code == 200
    # another device does not find the entry (and the id is taken)
    assert Client().get(f"/s/{c.token}/?pid=r1").status_code == 409


def test_changing_language_on_a_page_keeps_what_was_chosen_there(survey):
    """The language switch submits the page's form: its answers are saved (as with Back, the
    page is not passed), and the same page comes back in the chosen language."""
    client, c = Client(), collector(survey)
    walk(client, c.token, "lang", pages={}, finish=False)
    page = client.get(f"/s/{c.token}/page/1/")
    assert b'form="survey-page" name="action" value="language"' in page.content
    switched = client.post(f"/s/{c.token}/page/1/", {
        **PAGES[1], "version": page.context["version"], "action": "language", "language": "ru"})
    assert switched.status_code == 302 and switched["Location"] == f"/s/{c.token}/page/1/"
    assert switched.cookies["django_language"].value == "ru"
    again = client.get(f"/s/{c.token}/page/1/")
    assert b'value="4" checked' in again.content and "Страница 1 из 2" in again.content.decode()
    entry = Entry.objects.get(external_id="lang")
    assert (entry.pages_done, entry.expert.language) == (0, "ru")  # saved, not passed
    assert client.get(f"/s/{c.token}/page/2/").status_code == 302  # still not reachable


def test_pages_cannot_be_skipped_and_foreign_items_are_refused(survey):
    client, c = Client(), collector(survey)
    walk(client, c.token, "s1", pages={}, finish=False)
    skip = client.get(f"/s/{c.token}/page/2/")
    assert skip.status_code == 302 and skip["Location"] == f"/s/{c.token}/"
    wrong = client.post(f"/s/{c.token}/page/1/", {"a-year": "2030", "version": "0"})
    assert wrong.status_code == 400 and not Answer.objects.exists()
    bad = client.post(f"/s/{c.token}/page/1/", {"a-agree": "9", "version": "0"})
    assert bad.status_code == 400 and not Answer.objects.exists()


def test_bad_tokens_404_and_closed_collectors_say_so(survey):
    assert Client().get("/s/not-a-real-token-at-all/").status_code == 404
    assert Client().get("/s/<script>/").status_code == 404
    c = collector(survey)
    assert Client().get(f"/s/{c.token}/?pid=%3Cscript%3E").status_code == 400
    survey.rounds.update(status="closed")
    closed = Client().get(f"/s/{c.token}/")
    assert closed.status_code == 410 and b"closed" in closed.content


def test_anonymous_mode_stores_no_name_or_email():
    study = survey_load("anon", anonymous=True)
    walk(Client(), collector(study).token, "zz")
    expert = Expert.objects.get(study=study)
    assert (expert.name, expert.email) == ("", "")
    named = survey_load("named")
    walk(Client(), collector(named).token, "zz")
    assert Expert.objects.get(study=named).email == ""


def test_flags_speeders_straight_lining_and_honeypot(survey):
    c = collector(survey)
    c.speeder_seconds = 3600
    c.save()
    client = Client()
    walk(client, c.token, "fast", pages={1: {**PAGES[1], "website": "spam"}, 2: PAGES[2]})
    entry = Entry.objects.get(external_id="fast")
    assert entry.status == Entry.Status.COMPLETED
    assert entry.flags["honeypot"] is True and "speeder" in entry.flags
    assert "straight_lining" not in entry.flags  # 4 rated values of 3 different kinds
    row = fielding_table(survey)[0]
    assert (row["completed"], row["flagged"], row["quota"], row["fill_pct"]) == (1, 1, 5, 20.0)


def test_straight_lining_needs_five_equal_rated_answers():
    from surveys.models import Item
    from surveys.services.fielding import _straight_lined
    from surveys.services.responses import ItemAnswer

    items = [Item(code=f"i{n}", kind="agreement") for n in range(5)]
    same = {f"i{n}": ItemAnswer(values={"": 3.0}) for n in range(5)}
    assert _straight_lined(items, same)
    assert not _straight_lined(items[:4], same)
    assert not _straight_lined(items, same | {"i0": ItemAnswer(values={"": 4.0})})


def test_a_full_quota_refuses_completion_and_new_respondents():
    study = survey_load("full", quota=1)
    c = collector(study)
    late = Client()
    walk(late, c.token, "late", pages={1: PAGES[1]}, finish=False)
    walk(Client(), c.token, "first")
    version = late.get(f"/s/{c.token}/page/2/").context["version"]
    refused = late.post(f"/s/{c.token}/page/2/", {**PAGES[2], "version": version,
                                                  "action": "finish"})
    assert refused.status_code == 302 and refused["Location"] == "https://panel.example.org/out?pid=late"
    assert Entry.objects.get(external_id="late").status == Entry.Status.QUOTA_FULL
    newcomer = Client()
    door = newcomer.get(f"/s/{c.token}/?pid=new")
    assert door.status_code == 302 and door["Location"].endswith("/out?pid=new")
    assert Entry.objects.filter(collector=c, status="completed").count() == 1
    assert Response.objects.filter(expert__study=study, status="submitted").count() == 1
    # Turned away at the link: no entry, only a count, once per browser (a reload is not a
    # second arrival); another browser counts again. Both ways are "quota full" and arrivals.
    assert not Entry.objects.filter(external_id="new").exists()
    assert newcomer.get(f"/s/{c.token}/?pid=new").status_code == 302
    c.screenout_redirect = ""
    c.save(update_fields=["screenout_redirect"])
    page = Client().get(f"/s/{c.token}/")
    assert page.status_code == 200 and b"This survey is full" in page.content
    assert page.cookies["agora_full"]["path"] == f"/s/{c.token}/"
    row = fielding_table(study)[0]
    assert (row["quota_full"], row["entries"], row["completed"]) == (3, 4, 1)  # late + 2 at the link


def test_a_survey_page_shows_nobody_else_s_answers_and_needs_no_script(survey):
    """No feedback, no arguments, no autosave: the page is the items and one form."""
    from surveys.services.responses import ItemAnswer, response_submit

    other = Expert.objects.create(study=survey, name="", email="", group=survey.groups.first())
    response_submit(expert=other, round_=survey.rounds.get(), answers={
        "agree": ItemAnswer(values={"": 1}, rationale="A secret reason")})
    client, c = Client(), collector(survey)
    walk(client, c.token, "look", pages={}, finish=False)
    for language in ("en", "ru"):
        client.cookies["django_language"] = language
        page = client.get(f"/s/{c.token}/page/1/").content.decode()
        assert "A secret reason" not in page and "hx-post" not in page and "<script" not in page
        assert "rationales" not in page and "feedback" not in page
    assert "not shown to other respondents" not in page  # the Russian label
    assert "другим респондентам не показывается" in page


def test_wrong_survey_links_are_counted_and_limited_but_a_valid_one_opens(survey, settings):
    client = Client()
    codes = [client.get(f"/s/wrong-token-number-{n:04d}/").status_code
             for n in range(settings.TOKEN_RATE_LIMIT + 1)]
    assert codes == [404] * settings.TOKEN_RATE_LIMIT + [429]
    assert client.get(f"/s/{collector(survey).token}/").status_code == 200


def test_a_survey_is_aggregated_like_any_round_counting_completed_respondents_only(survey):
    from surveys.models import Aggregate
    from surveys.services.aggregation import round_aggregate
    from surveys.services.rounds import round_close

    c = collector(survey)
    walk(Client(), c.token, "one")
    walk(Client(), c.token, "two", pages={1: {**PAGES[1], "a-agree": "2"}, 2: PAGES[2]})
    walk(Client(), c.token, "three", pages={1: PAGES[1]}, finish=False)  # a draft: not counted
    round_ = survey.rounds.get()
    round_close(round_=round_)
    round_aggregate(round_id=round_.pk)
    agree = Aggregate.objects.get(round=round_, item__code="agree", dimension="", group="")
    assert (agree.n, agree.median) == (2, 3.0)  # answers 4 and 2: the median is 3
