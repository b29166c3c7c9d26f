""""Answer before you see the group" holds: "no opinion" opens no feedback, the first rated
answer is kept as given before the feedback and reaches the export and the report; and a save
without a valid version is refused, never applied, on the expert pages and the expert API."""

import io

import pandas as pd
import pytest
from rest_framework.test import APIClient

from api.views.me import me_payload
from surveys.exports import export_bytes, export_long
from surveys.models import Answer, PreFeedbackAnswer, Response, Study
from surveys.reports.data import pre_feedback_changes
from surveys.reports.office import workbook_rows
from surveys.reports.spss import sav_frame
from surveys.services.panel import expert_create, expert_issue_token
from surveys.services.responses import ItemAnswer, response_save_draft, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from tests.api.conftest import invitation

pytestmark = pytest.mark.django_db


@pytest.fixture
def round2(study, alice, bob, django_capture_on_commit_callbacks):
    """Round 2 of a study that asks for an answer before the group's: three experts answered
    round 1, so its feedback has a cell big enough to show."""
    Study.objects.filter(pk=study.pk).update(answer_before_feedback=True)
    study.refresh_from_db()
    carl = expert_create(study=study, name="Carl", email="carl@example.org", group_code="WE")
    first = round_open(round_=round_create(study=study))
    for expert, value in ((alice, 2), (bob, 4), (carl, 5)):
        response_submit(expert=expert, round_=first, answers={
            "agree": ItemAnswer(values={"": value}, rationale=f"Reason {value}")})
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=first)
    return round_open(round_=round_create(study=study))


def feedback_of(expert, code: str = "agree") -> list:
    expert.refresh_from_db()
    return next(i for i in me_payload(expert)["items"] if i["code"] == code)["feedback"]


def test_no_opinion_does_not_open_the_feedback_a_rated_answer_does(round2, alice):
    assert feedback_of(alice) == []
    response_save_draft(expert=alice, round_=round2, expected_version=0,
                        answers={"agree": ItemAnswer(no_opinion=True)})
    assert feedback_of(alice) == []
    assert not PreFeedbackAnswer.objects.filter(response__round=round2).exists()
    response_save_draft(expert=alice, round_=round2, expected_version=1,
                        answers={"agree": ItemAnswer(values={"": 3})})
    assert feedback_of(alice)[0]["n"] == 3


def test_no_opinion_does_not_open_the_feedback_on_the_page(client, round2, alice):
    client.get(f"/e/{expert_issue_token(expert=alice)}/")
    saved = client.post("/q/autosave/", {"a-agree.none": "1", "version": "0"})
    assert saved.status_code == 200
    assert client.get("/q/arguments/agree/").status_code == 404
    client.post("/q/autosave/", {"a-agree": "3", "version": "1"})
    assert client.get("/q/arguments/agree/").status_code == 200


def test_the_first_rated_answer_survives_a_later_change_and_is_exported(round2, alice, study):
    response_save_draft(expert=alice, round_=round2, expected_version=0,
                        answers={"agree": ItemAnswer(no_opinion=True)})
    response_save_draft(expert=alice, round_=round2, expected_version=1,
                        answers={"agree": ItemAnswer(values={"": 4})})
    response_save_draft(expert=alice, round_=round2, expected_version=2,
                        answers={"agree": ItemAnswer(values={"": 2})})
    response_submit(expert=alice, round_=round2, expected_version=3,
                    answers={"agree": ItemAnswer(values={"": 1})})
    [kept] = PreFeedbackAnswer.objects.filter(response__round=round2)
    assert (kept.item.code, kept.dimension, kept.value) == ("agree", "", 4)
    assert Answer.objects.get(response__round=round2, item__code="agree").value == 1

    long = export_long(study)
    row = long.loc[long["round"].eq(2) & long["item"].eq("agree")].iloc[0]
    assert (row["value"], row["pre_feedback_value"]) == (1, 4)
    assert long.loc[long["round"].eq(1) & long["item"].eq("agree"), "pre_feedback_value"].notna(
    ).all()  # round 1 has no feedback, but its first answers are kept all the same
    csv = pd.read_csv(io.BytesIO(export_bytes(study, "csv")))
    parquet = pd.read_parquet(io.BytesIO(export_bytes(study, "parquet")))
    for frame in (csv, parquet):
        second = frame.loc[frame["round"].eq(2)]
        assert list(second[["value", "pre_feedback_value"]].itertuples(index=False)) == [(1, 4)]
    assert '"pre_feedback_value": 4.0' in export_bytes(study, "json").decode()
    assert [4, 1] in [row[-2:] for row in workbook_rows(study)["Pre-feedback"]]
    table, labels, _values, _missing = sav_frame(study)
    assert list(table["r2_agree_pre"].dropna()) == [4]
    assert sorted(table["r1_agree_pre"].dropna()) == [2, 4, 5]
    assert labels["r2_agree_pre"] == "Round 2, agree, before the feedback"
    assert pre_feedback_changes(round2) == {"changed": 1, "total": 1}


def test_the_report_says_how_many_answers_changed_after_the_feedback(client, round2, alice,
                                                                     bob, analyst):
    response_submit(expert=alice, round_=round2, expected_version=0,
                    answers={"agree": ItemAnswer(values={"": 4})})
    response_submit(expert=bob, round_=round2, expected_version=0,
                    answers={"agree": ItemAnswer(values={"": 3})})
    response_submit(expert=bob, round_=round2, expected_version=1,
                    answers={"agree": ItemAnswer(values={"": 5})})
    client.force_login(analyst)
    page = client.get(f"/studies/{round2.study.slug}/reports/{round2.number}/").content.decode()
    assert "1 of 2 answers changed after the feedback opened" in page


# Optimistic locking that cannot be skipped ---------------------------------------------------

@pytest.mark.parametrize("version", [None, "", "abc", "1.0", "²", "-1"])
def test_an_autosave_without_a_valid_version_is_refused_and_changes_nothing(
        client, round1, alice, version):
    client.get(f"/e/{expert_issue_token(expert=alice)}/")
    response_save_draft(expert=alice, round_=round1, expected_version=0,
                        answers={"agree": ItemAnswer(values={"": 4})})
    data = {"a-agree": "1"} | ({} if version is None else {"version": version})
    for path in ("/q/autosave/", "/q/"):
        refused = client.post(path, data)
        assert refused.status_code == 400
        assert "version is missing or not a number" in refused.content.decode()
    response = Response.objects.get(expert=alice)
    assert response.version == 1 and response.answers.get().value == 4


def test_a_submit_page_without_a_version_is_refused(client, round1, alice):
    client.get(f"/e/{expert_issue_token(expert=alice)}/")
    refused = client.post("/q/", {"a-agree": "4", "action": "submit", "confirm": "1"})
    assert refused.status_code == 400
    assert not Response.objects.filter(expert=alice).exists()


@pytest.mark.parametrize("version", [None, "abc", 1.5, "", -1])
def test_the_api_refuses_a_save_or_submit_without_a_valid_version(round1, alice, version):
    api, headers = APIClient(), invitation(alice)
    body = {"answers": {"agree": {"values": {"": 4}}}} | (
        {} if version is None else {"version": version})
    saved = api.put("/api/v1/me/response/", body, format="json", **headers)
    submitted = api.post("/api/v1/me/response/submit/", body, format="json",
                         HTTP_IDEMPOTENCY_KEY="k", **headers)
    assert saved.status_code == submitted.status_code == 400
    assert "version" in saved.json()["errors"] and "version" in submitted.json()["errors"]
    assert not Response.objects.filter(expert=alice).exists()


def test_the_first_save_of_a_round_carries_version_0(round1, alice):
    """The first save of a round carries version 0 (GET /me/ has no response yet)."""
    saved = APIClient().put("/api/v1/me/response/", {
        "answers": {"agree": {"values": {"": 4}}}, "version": 0}, format="json",
        **invitation(alice))
    assert saved.status_code == 200
