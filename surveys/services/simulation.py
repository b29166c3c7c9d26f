"""A synthetic panel for demos, tests and benchmarks: reproducible with a seed.

Each stakeholder group leans its own way on each item (the study file's `leaning`); every
expert adds a personal offset and noise, and from round 2 moves part of the way toward the
panel's previous median, as Delphi panels do. The simulation only chooses the values: they
are stored by the response services, as an expert's pages store them (a draft save, then the
submit), so the response's times are the real times of those calls.
"""

import numpy as np

from surveys.models import Aggregate, Answer, Expert, Item, Response, Round, Study
from surveys.selectors import round_previous
from surveys.services.panel import expert_create
from surveys.services.responses import ItemAnswer, questionnaire_save, response_save_draft

SIM_DOMAIN = "panel.invalid"
RATIONALES = {
    "low": ["The costs and the mistrust on both sides outweigh the gains.",
            "Past attempts at this failed for reasons that have not gone away."],
    "mid": ["It depends on decisions in Washington and Moscow that are still open.",
            "Plausible in principle, but the political conditions are missing."],
    "high": ["The strategic logic is sound and both sides would gain.",
             "Recent practice already points in this direction."],
}
# How far one simulated answer strays from its starting point, by kind (else a fraction of a
# 1-5 scale; numeric items use a twentieth of their range).
SPREAD: dict[str, float] = {Item.Kind.PROBABILITY: 12.0, Item.Kind.YEAR: 4.0}


def sim_experts(*, study: Study, n: int, actor=None) -> list[Expert]:
    """The study's first n synthetic experts, created round-robin over its groups if missing."""
    groups = list(study.groups.all())
    existing = {e.email: e for e in study.experts.filter(email__endswith="@" + SIM_DOMAIN)}
    experts = []
    for k in range(n):
        email = f"sim-{k + 1:04d}@{SIM_DOMAIN}"
        expert = existing.get(email) or expert_create(
            study=study, name=f"Simulated expert {k + 1:04d}", email=email,
            group_code=groups[k % len(groups)].code, language=("en", "ru")[k % 2], actor=actor,
        )
        experts.append(expert)
    return experts


def _leaning(item: Item, group: str, key: str, default: float) -> float:
    lean = item.leaning.get(group, default)
    if isinstance(lean, dict):
        return float(lean.get(key, default))
    return float(lean) if not isinstance(lean, list) else default


def _bounds(item: Item) -> tuple[float, float]:
    """The range of an item the simulation gives values to (every kind but open text)."""
    bounds = item.bounds()
    if bounds is None:
        raise ValueError(f"{item.code} takes no value")
    return bounds


def _value(item: Item, key: str, start: float, previous: float | None,
           median: float | None, rng: np.random.Generator) -> float:
    low, high = _bounds(item)
    spread = SPREAD.get(item.kind, 0.45)
    if item.kind == Item.Kind.NUMERIC:
        spread = (high - low) / 20
    centre = start if previous is None else previous
    if previous is not None and median is not None:
        centre = previous + 0.5 * (median - previous)
        spread /= 2
    value = round(float(np.clip(centre + rng.normal(0, spread), low, high)))
    return float(value)


def _ranking(item: Item, group: str, rng: np.random.Generator) -> dict[str, float | None]:
    codes = [o["code"] for o in item.options]
    order = item.leaning.get(group) if isinstance(item.leaning.get(group), list) else codes
    order = [c for c in order if c in codes] + [c for c in codes if c not in order]
    for _ in range(2):  # two random neighbour swaps: personal taste within the group's view
        k = int(rng.integers(0, len(order) - 1))
        if rng.random() < 0.5:
            order[k], order[k + 1] = order[k + 1], order[k]
    return {code: float(order.index(code) + 1) for code in codes}


def _rationale(item: Item, values: dict, rng: np.random.Generator) -> str:
    if rng.random() > 0.3 or not values:
        return ""
    low, high = _bounds(item)
    share = (np.mean(list(values.values())) - low) / ((high - low) or 1)
    band = "low" if share < 0.4 else "high" if share > 0.6 else "mid"
    return str(rng.choice(RATIONALES[band]))


def _answers(expert: Expert, items: list[Item], history: dict, medians: dict,
             rng: np.random.Generator) -> dict[str, ItemAnswer]:
    group = expert.group.code
    answers = {}
    for item in items:
        if item.kind == Item.Kind.OPEN:
            if rng.random() < 0.3:
                answers[item.code] = ItemAnswer(text="A joint early-warning exercise programme.")
            continue
        if rng.random() < 0.04:
            answers[item.code] = ItemAnswer(no_opinion=True)
            continue
        if item.kind == Item.Kind.RANKING:
            values = _ranking(item, group, rng)
        else:
            low, high = _bounds(item)
            values = {}
            for key in item.answer_keys():
                start = _leaning(item, group, key, (low + high) / 2) + rng.normal(0, 0.5)
                values[key] = _value(item, key, start, history.get((item.pk, key)),
                                     medians.get((item.pk, key)), rng)
        answers[item.code] = ItemAnswer(values=values, rationale=_rationale(item, values, rng))
    return answers


def _answer(*, expert: Expert, round_: Round, items: list[Item], answers: dict[str, ItemAnswer],
            expertise: dict[int, int]) -> None:
    """Save the first half of the answers as a draft, then the rest with the submit."""
    codes = list(answers)
    first = {code: answers[code] for code in codes[:len(codes) // 2]}
    rest = {code: answers[code] for code in codes[len(codes) // 2:]}
    response = response_save_draft(expert=expert, round_=round_, answers=first, items=items)
    questionnaire_save(expert=expert, round_=round_, answers=rest, expertise=expertise,
                       submit=True, items=items, expected_version=response.version,
                       response=response)


def panel_simulate(*, round_: Round, n: int, seed: int = 1, actor=None) -> int:
    """Have n synthetic experts answer and submit the open round; returns how many submitted now."""
    study = round_.study
    experts = sim_experts(study=study, n=n, actor=actor)
    items = list(round_.items.all())
    themes = list(study.themes.all())
    previous = round_previous(round_)
    medians = {(a.item_id, a.dimension): a.median for a in Aggregate.objects.filter(
        round=previous, group="")}
    done = set(Response.objects.filter(round=round_, status=Response.Status.SUBMITTED)
               .values_list("expert_id", flat=True))
    submitted = 0
    for index, expert in enumerate(experts):
        if expert.pk in done:
            continue
        rng = np.random.default_rng([seed, round_.number, index])
        history = {(a.item_id, a.dimension): a.value for a in Answer.objects.filter(
            response__expert=expert, response__round=previous,
            value__isnull=False)}
        expertise = {t.pk: int(rng.integers(1, 6)) for t in themes} if round_.number == 1 else {}
        _answer(expert=expert, round_=round_, items=items, expertise=expertise,
                answers=_answers(expert, items, history, medians, rng))
        submitted += 1
    return submitted
