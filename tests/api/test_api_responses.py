"""An expert's own response through the API: drafts with versions, idempotent submits,
revisions that keep the history, and nothing changing after the round closes."""

import pytest

from tests.api.conftest import invitation

pytestmark = pytest.mark.django_db
ME, SAVE, SUBMIT, HISTORY = ("/api/v1/me/", "/api/v1/me/response/", "/api/v1/me/response/submit/",
                             "/api/v1/me/response/revisions/")


@pytest.fixture
def as_alice(round1, alice):
    return invitation(alice)


def answers(value: int, why: str = "", version: int = 0) -> dict:
    """A payload as a client sends it: with the version it last read (0 before the first save)."""
    return {"answers": {"agree": {"values": {"": value}, "rationale": why}}, "version": version}


def test_an_expert_saves_a_draft_and_reads_it_back(api, as_alice):
    saved = api.put(SAVE, {**answers(4, "Because."), "expertise": {"one": 5}}, format="json",
                    **as_alice)
    assert saved.status_code == 200
    body = api.get(ME, **as_alice).json()
    assert body["response"]["status"] == "draft" and body["response"]["version"] == 1
    assert body["response"]["answers"]["agree"] == {"values": {"": 4.0}, "no_opinion": False,
                                                    "rationale": "Because.", "text": ""}
    assert body["expertise"] == {"one": 5}


def test_a_stale_draft_gets_409_and_changes_nothing(api, as_alice):
    api.put(SAVE, {**answers(4), "version": 0}, format="json", **as_alice)
    stale = api.put(SAVE, {**answers(1), "version": 0}, format="json", **as_alice)
    assert stale.status_code == 409
    assert "changed elsewhere" in stale.json()["detail"]
    assert api.get(ME, **as_alice).json()["response"]["answers"]["agree"]["values"] == {"": 4.0}


def test_errors_name_each_field(api, as_alice):
    bad = api.put(SAVE, {"answers": {"agree": {"values": {"": 9}}, "nope": {"values": {"": 1}}},
                         "version": 0}, format="json", **as_alice)
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"agree", "nope"}
    assert "1 to 5" in bad.json()["errors"]["agree"][0]
    typed = api.put(SAVE, {"answers": {"agree": {"values": {"": "four"}}}, "version": -1},
                    format="json", **as_alice)
    fields = typed.json()["errors"]
    assert typed.status_code == 400 and "version" in fields
    assert any(field.startswith("answers.agree") for field in fields), fields


def test_a_submit_replayed_with_its_key_returns_the_same_result_once(api, as_alice, alice):
    from surveys.models import ResponseRevision

    first = api.post(SUBMIT, answers(4), format="json", HTTP_IDEMPOTENCY_KEY="k-1", **as_alice)
    again = api.post(SUBMIT, answers(4), format="json", HTTP_IDEMPOTENCY_KEY="k-1", **as_alice)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert (first["Idempotent-Replayed"], again["Idempotent-Replayed"]) == ("false", "true")
    assert ResponseRevision.objects.filter(response__expert=alice).count() == 1
    assert alice.responses.get().version == 1


def test_the_same_key_with_other_answers_gets_409(api, as_alice, alice):
    api.post(SUBMIT, answers(4), format="json", HTTP_IDEMPOTENCY_KEY="k-1", **as_alice)
    other = api.post(SUBMIT, answers(2), format="json", HTTP_IDEMPOTENCY_KEY="k-1", **as_alice)
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]
    assert alice.responses.get().answers.get().value == 4


def test_a_submit_needs_a_key(api, as_alice, alice):
    missing = api.post(SUBMIT, answers(4), format="json", **as_alice)
    assert missing.status_code == 400 and "Idempotency-Key" in missing.json()["errors"]
    assert not alice.responses.exists()


def test_a_failed_submit_keeps_nothing_and_its_key_can_be_sent_again(api, as_alice):
    bad = api.post(SUBMIT, answers(9), format="json", HTTP_IDEMPOTENCY_KEY="k-1", **as_alice)
    assert bad.status_code == 400
    good = api.post(SUBMIT, answers(5), format="json", HTTP_IDEMPOTENCY_KEY="k-1", **as_alice)
    assert good.status_code == 200 and good["Idempotent-Replayed"] == "false"


def test_keys_are_per_expert(api, as_alice, bob):
    api.post(SUBMIT, answers(4), format="json", HTTP_IDEMPOTENCY_KEY="shared", **as_alice)
    theirs = api.post(SUBMIT, answers(2), format="json", HTTP_IDEMPOTENCY_KEY="shared",
                      **invitation(bob))
    assert theirs.status_code == 200 and theirs["Idempotent-Replayed"] == "false"


def test_a_revised_submit_keeps_every_earlier_revision(api, as_alice):
    api.post(SUBMIT, answers(4, "First thought."), format="json", HTTP_IDEMPOTENCY_KEY="a",
             **as_alice)
    api.put(SAVE, answers(3, "Second thought.", version=1), format="json", **as_alice)
    api.post(SUBMIT, answers(2, "Third thought.", version=2), format="json", HTTP_IDEMPOTENCY_KEY="b",
             **as_alice)
    history = api.get(HISTORY, **as_alice).json()
    assert [r["number"] for r in history] == [1, 2, 3]
    assert [r["answers"][0]["value"] for r in history] == [4, 3, 2]
    assert [r["rationales"][0]["text"] for r in history] == ["First thought.", "Second thought.",
                                                             "Third thought."]
    assert [r["version"] for r in history] == [1, 2, 3]


def test_drafts_before_the_first_submit_are_not_revisions(api, as_alice):
    api.put(SAVE, answers(3), format="json", **as_alice)
    api.put(SAVE, answers(4, version=1), format="json", **as_alice)
    assert api.get(HISTORY, **as_alice).json() == []


def test_nothing_changes_after_the_round_closes(api, as_alice, alice, round1):
    from surveys.services.rounds import round_close

    api.post(SUBMIT, answers(4), format="json", HTTP_IDEMPOTENCY_KEY="a", **as_alice)
    round_close(round_=round1)
    late = api.post(SUBMIT, answers(1, version=1), format="json", HTTP_IDEMPOTENCY_KEY="b",
                    **as_alice)
    draft = api.put(SAVE, answers(1, version=1), format="json", **as_alice)
    assert late.status_code == draft.status_code == 409
    assert "closed" in late.json()["detail"]
    assert alice.responses.get().answers.get().value == 4
    assert len(api.get(HISTORY, **as_alice).json()) == 1


def test_the_expert_pages_keep_the_history_too(client, alice, round1):
    """The questionnaire page submits through the same revision-keeping service."""
    from surveys.models import ResponseRevision
    from surveys.services.panel import expert_issue_token

    client.get(f"/e/{expert_issue_token(expert=alice)}/")
    for version, value in enumerate((4, 2)):
        client.post("/q/", {"action": "submit", "confirm": "1", "a-agree": str(value),
                            "version": str(version)})
    revisions = ResponseRevision.objects.filter(response__expert=alice).order_by("number")
    assert [r.answers[0]["value"] for r in revisions] == [4, 2]


def test_feedback_waits_for_the_answer_when_the_study_says_so(api, foreign):
    from api.views.me import me_payload

    carol = foreign["expert"]
    study = foreign["study"]
    assert next(i for i in me_payload(carol)["items"] if i["code"] == "f-agree")["feedback"]
    study.answer_before_feedback = True
    study.save(update_fields=["answer_before_feedback"])
    carol.refresh_from_db()
    assert next(i for i in me_payload(carol)["items"] if i["code"] == "f-agree")["feedback"] == []


def test_an_expert_reads_texts_and_errors_in_their_language(api, round1, bob):
    headers = invitation(bob)  # Bob reads Russian
    assert api.get(ME, **headers).json()["items"][0]["text"] == "Русский текст"
    bad = api.put(SAVE, answers(9), format="json", **headers)
    assert bad.json()["detail"] == "Некоторые ответы нужно исправить."
    assert "от 1 до 5" in bad.json()["errors"]["agree"][0]
