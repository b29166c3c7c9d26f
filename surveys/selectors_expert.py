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


def previous_answers(expert: Expert, round_: Round, items: list) -> dict[int, dict]:
    """The expert's answers in the round before this one to the given items, by item id:
    {"values": {dimension: number}, "no_opinion": bool, "text": str}. Empty in round 1 and in
    Real-Time studies (whose rounds do not follow one another)."""
    from surveys.models import Answer

    if round_.study.mode == Study.Mode.REALTIME or round_.number < 2 or not items:
        return {}
    rows = Answer.objects.filter(
        response__expert=expert, response__round__study_id=round_.study_id,
        response__round__number=round_.number - 1, item__in=items,
    ).values_list("item_id", "dimension", "value", "no_opinion", "text")
    out: dict[int, dict] = {}
    for item_id, dimension, value, no_opinion, text in rows:
        entry = out.setdefault(item_id, _blank())
        entry["no_opinion"] |= no_opinion
        entry["text"] = entry["text"] or text
        if not no_opinion and value is not None:
            entry["values"][dimension] = value
    return out
