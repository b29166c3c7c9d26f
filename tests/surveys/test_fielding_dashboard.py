"""The Fielding dashboard: the completion-time bins worked by hand, the totals, and the API's
fielding/dashboard/ giving the very figures the page was drawn from; outsiders get 404."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from surveys.models import Entry
from surveys.selectors_fielding_times import time_bins
from surveys.services.panel import member_add
from tests.api.conftest import bearer
from tests.surveys.fielding_helpers import collector, survey_load, walk


def test_bins_of_a_few_known_times_worked_by_hand():
    # 12, 30, 31, 44, 95 s: the cut-off is the largest time (95 < 3 x Q3 = 132) and 95 / 5
    # gives 19 bins, fewer than 20, so the bins are 5 s wide: 0-5 ... 95-100, none open.
    times = time_bins([95, 31, 12, 44, 30], thresholds=[20, 0])
    assert (times["n"], times["median"], times["q1"], times["q3"]) == (5, 31, 30, 44)
    assert times["width"] == 5 and len(times["bins"]) == 20
    counts = {b["start"]: b["count"] for b in times["bins"] if b["count"]}
    assert counts == {10: 1, 30: 2, 40: 1, 95: 1}
    assert times["bins"][-1] == {"start": 95, "end": 100, "count": 1}
    assert times["thresholds"] == [20] and times["below_threshold"] == 1  # 0 means no flag


def test_a_long_tail_goes_into_one_open_last_bin():
    # Q1 = 100, median 100, Q3 = 200: beyond 3 x 200 = 600 s the tail is cut; 600 / 30 = 20
    # bins would be too many, so the bins are 60 s wide, 0-60 ... 600-..., the last one open.
    times = time_bins([100, 100, 100, 200, 200, 86_000])
    assert times["width"] == 60 and len(times["bins"]) == 11
    assert times["bins"][1]["count"] == 3 and times["bins"][3]["count"] == 2
    assert times["bins"][-1] == {"start": 600, "end": None, "count": 1}
    assert time_bins([]) == {"n": 0, "median": None, "q1": None, "q3": None, "width": None,
                             "thresholds": [], "below_threshold": 0, "bins": []}
    one = time_bins([42])["bins"]  # from 0: nine 5 s bins, the last one holds it
    assert len(one) == 9 and one[-1] == {"start": 40, "end": 45, "count": 1}


def _staff(study, name: str, role: str = "analyst"):
    user = get_user_model().objects.create_user(username=name, password="pw-123-long-enough")
    member_add(study=study, user=user, role=role)
    return user


@pytest.mark.django_db
def test_the_page_and_the_api_show_the_same_bins_and_totals():
    study = survey_load()
    ru, us = collector(study), collector(study, "us-open")
    ru.speeder_seconds = 150
    ru.save(update_fields=["speeder_seconds"])
    for pid in ("t1", "t2", "t3"):
        walk(Client(), ru.token, pid)
    walk(Client(), us.token, "u1")
    walk(Client(), us.token, "u2", role="other")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for pid, seconds in (("t1", 100), ("t2", 600), ("t3", 200), ("u1", 400)):
        Entry.objects.filter(external_id=pid).update(
            started_at=start, completed_at=start + dt.timedelta(seconds=seconds))
    reader = Client()
    reader.force_login(_staff(study, "ana"))
    page = reader.get(f"/studio/{study.slug}/fielding/")
    assert page.status_code == 200
    times, totals = page.context["times"], page.context["totals"]
    assert (times["n"], times["median"], times["thresholds"], times["below_threshold"]) == (
        4, 300, [150], 1)  # t1's 100 s is under ru-panel's 150; us-open has no threshold
    assert (totals["completed"], totals["started"], totals["screened_out"], totals["quota"]) == (
        4, 4, 1, None)  # us-open has no quota, so there is no total quota
    assert page.context["open"] is True and b'data-poll-seconds="10"' in page.content
    assert b"time-svg" in page.content and b"Completion times" in page.content
    api = Client().get(f"/api/v1/studies/{study.slug}/fielding/dashboard/",
                       **bearer(_staff(study, "api-reader")))
    assert api.status_code == 200
    data = api.json()
    assert data["times"] == times
    assert data["totals"] == totals
    assert [r["times"] for r in data["rows"]] == [r["times"] for r in page.context["rows"]]
    assert data["rows"][0]["full"] is False and data["rows"][0]["fill_pct"] == 60.0


@pytest.mark.django_db
def test_outsiders_get_404_from_the_page_and_the_api():
    study = survey_load()
    stranger = _staff(survey_load("other"), "eve", "owner")
    browser = Client()
    browser.force_login(stranger)
    assert browser.get(f"/studio/{study.slug}/fielding/").status_code == 404
    assert browser.get(f"/api/v1/studies/{study.slug}/fielding/dashboard/").status_code == 404
    assert Client().get(f"/api/v1/studies/{study.slug}/fielding/dashboard/",
                        **bearer(stranger)).status_code == 404
    assert Client().get(f"/api/v1/studies/{study.slug}/fielding/dashboard/").status_code in (
        401, 403)


@pytest.mark.django_db
def test_a_closed_survey_is_not_polled():
    from surveys.models import Round

    study = survey_load()
    Round.objects.filter(study=study).update(status=Round.Status.CLOSED)
    reader = Client()
    reader.force_login(_staff(study, "ana"))
    page = reader.get(f"/studio/{study.slug}/fielding/")
    assert page.context["open"] is False and b"data-poll-seconds" not in page.content
    assert b"Fielding is closed." in page.content
