"""A Real-Time study: the questionnaire shows the panel's current statistics, no rounds apart."""

import pytest
from django.test import Client

from surveys.services.panel import expert_create, expert_issue_token
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import small_study_data

pytestmark = pytest.mark.django_db


def test_a_realtime_expert_sees_the_current_panel_figures_and_their_own_answer(
    django_capture_on_commit_callbacks,
):
    data = small_study_data("live") | {"mode": "realtime"}
    study = study_load(data=data)
    round_ = round_open(round_=round_create(study=study))
    experts = [expert_create(study=study, name=n, email=f"{n}@example.org", group_code=g)
               for n, g in (("ann", "RU"), ("ben", "US"), ("cat", "WE"))]
    for expert, value in zip(experts, (2, 4, 5), strict=True):
        with django_capture_on_commit_callbacks(execute=True):
            response_submit(expert=expert, round_=round_, answers={
                "agree": ItemAnswer(values={"": value}, rationale=f"because {value}")})
    client = Client()
    client.get(f"/e/{expert_issue_token(expert=experts[0])}/")
    html = client.get("/q/").content.decode()
    # n = 3, median of 2, 4, 5 = 4; Ann's own answer 2 is outside the IQR 3-4.5.
    assert "n = 3" in html and "median 4" in html
    assert "Disagree (2)" in html
    arguments = client.get("/q/arguments/agree/").content.decode()
    assert "because 4" in arguments and "because 5" in arguments
    assert "because 2" not in arguments  # Ann's own reasoning is not among the panel's
    assert html.count("because 2") == 1  # only in her own reasoning box
    assert "The panel now" in html
    assert "ann@example.org" not in html and "ben@example.org" not in html
