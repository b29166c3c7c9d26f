"""Response history: every submit, and every later change of a submitted response, is kept.

These wrap surveys.services.responses: the expert pages and the API call them instead of the
plain saves, so a submitted response changes only by adding a revision, and only while its
round is open (the wrapped services refuse a closed round).
"""

from django.db import transaction
from django.utils import timezone

from api.models import ResponseRevision
from surveys.models import Expert, Response, Round
from surveys.services import responses as plain
from surveys.services.responses import ItemAnswer


def _snapshot(response: Response) -> ResponseRevision:
    answers = [
        {"item": item, "dimension": dimension, "value": value, "text": text, "no_opinion": no_opinion}
        for item, dimension, value, text, no_opinion in response.answers.order_by(
            "item__code", "dimension").values_list("item__code", "dimension", "value", "text",
                                                   "no_opinion")
    ]
    rationales = [{"item": item, "text": text} for item, text in response.rationales.order_by(
        "item__code").values_list("item__code", "text")]
    last = response.revisions.order_by("-number").values_list("number", flat=True).first() or 0
    return ResponseRevision.objects.create(
        response=response, number=last + 1, version=response.version, answers=answers,
        rationales=rationales, created_at=timezone.now())


def response_save_draft(
    *, expert: Expert, round_: Round, answers: dict[str, ItemAnswer],
    expected_version: int | None = None,
) -> Response:
    """Save answers as surveys' draft save does; a change to a submitted response is a revision."""
    with transaction.atomic():
        response = plain.response_save_draft(expert=expert, round_=round_, answers=answers,
                                             expected_version=expected_version)
        if response.status == Response.Status.SUBMITTED and answers:
            _snapshot(response)
    return response


def response_submit(
    *, expert: Expert, round_: Round, answers: dict[str, ItemAnswer] | None = None,
    expected_version: int | None = None,
) -> Response:
    """Submit (or revise a submitted response) and keep the result as a new revision."""
    with transaction.atomic():
        response = plain.response_submit(expert=expert, round_=round_, answers=answers,
                                         expected_version=expected_version)
        _snapshot(response)
    return response


def questionnaire_save(
    *, expert: Expert, round_: Round, answers: dict[str, ItemAnswer],
    expertise: dict[int, int] | None = None, submit: bool = False,
    expected_version: int | None = None,
) -> Response:
    """surveys.services.responses.questionnaire_save, keeping the response's history."""
    from surveys.services.panel import expertise_save

    with transaction.atomic():
        save = response_submit if submit else response_save_draft
        response = save(expert=expert, round_=round_, answers=answers,
                        expected_version=expected_version)
        if expertise:
            expertise_save(expert=expert, levels=expertise)
    return response


def response_revisions(response: Response):
    return ResponseRevision.objects.filter(response=response).order_by("number")
