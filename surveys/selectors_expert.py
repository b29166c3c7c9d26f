"""Reads of the expert's own round through the API (api/views/me.py): their saved answers and
expertise, and the study's theme codes their input names."""

from surveys.models import Expert, Response, Round, Study


def expert_response(expert: Expert, round_: Round | None) -> Response | None:
    """The expert's response to the round, if they have saved anything in it."""
    if round_ is None:
        return None
    return Response.objects.filter(expert=expert, round=round_).first()


def expertise_levels(expert: Expert) -> dict[str, int]:
    """The expert's self-rated expertise, by theme code."""
    return dict(expert.expertise.values_list("theme__code", "level"))


def theme_ids(study: Study) -> dict[str, int]:
    """The study's theme ids by code."""
    return dict(study.themes.values_list("code", "pk"))


def _blank() -> dict:
    return {"values": {}, "no_opinion": False, "rationale": "", "text": ""}


def saved_answers(response: Response | None) -> dict[str, dict]:
    """The response's answers by item code: values by dimension, no opinion, text, rationale."""
    out: dict[str, dict] = {}
    if response is None:
        return out
    for answer in response.answers.select_related("item"):
        entry = out.setdefault(answer.item.code, _blank())
        entry["no_opinion"] |= answer.no_opinion
        entry["text"] = entry["text"] or answer.text
        if not answer.no_opinion and answer.value is not None:
            entry["values"][answer.dimension] = answer.value
    for rationale in response.rationales.select_related("item"):
        out.setdefault(rationale.item.code, _blank())["rationale"] = rationale.text
    return out
