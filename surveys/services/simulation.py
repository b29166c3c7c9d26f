"""A synthetic panel for demos, tests and benchmarks that behaves like a real one, reproducibly.

Round 1: each expert starts from their stakeholder group's expected position (the item's
`leaning`) plus a draw with the group's `spread` and a small personal offset. From round 2 the
experts who submitted the previous round come back, less a few who drop out (and who do not
return); each revises an item with some probability, moving part of the way toward the previous
round's panel median, and otherwise keeps the answer. Rationales are drawn, in the expert's
language, from the item's `arguments` for the side the answer is on, each at most once per item
and round. The simulation only chooses the values: they are stored by the response services, as
an expert's pages store them (a draft save, then the submit).
"""

from dataclasses import dataclass

import numpy as np

from surveys.models import Aggregate, Answer, Expert, Item, Rationale, Response, Round, Study
from surveys.selectors import round_previous
from surveys.services.panel import expert_create
from surveys.services.responses import ItemAnswer, questionnaire_save, response_save_draft

SIM_DOMAIN = "panel.invalid"
DROPOUT = 0.09  # share of the previous round's experts who do not submit the next one
NO_OPINION = 0.03  # share of first answers that are "no opinion"
WRITES = 0.3  # share of answers that come with a rationale (and of open items answered)
OFFSET = 0.35  # an expert's personal lean across items, in units of the kind's default spread
# The chance to revise an item in round 2, 3, ... (later rounds: the last figure).
REVISE = (0.35, 0.2, 0.12)
# The spread of starting positions when the study gives none for a group (1-5 scales: 0.8).
SPREAD: dict[str, float] = {Item.Kind.PROBABILITY: 12.0, Item.Kind.YEAR: 5.0}
STEP: dict[str, float] = {Item.Kind.PROBABILITY: 5.0}  # forecasters answer in fives; everything else in ones
# For a study without arguments: a few generic rationales, so no item repeats one either.
GENERIC = {
    "low": [
        {"en": "The costs and the mistrust on both sides outweigh the gains.",
         "ru": "Издержки и взаимное недоверие перевешивают возможную выгоду."},
        {"en": "Past attempts at this failed for reasons that have not gone away.",
         "ru": "Прежние попытки провалились по причинам, которые никуда не делись."},
        {"en": "Nothing in the governments' recent conduct points this way.",
         "ru": "Ничто в недавних действиях правительств на это не указывает."},
    ],
    "high": [
        {"en": "The strategic logic is sound and both sides would gain.",
         "ru": "Стратегическая логика здесь верна, и выиграли бы обе стороны."},
        {"en": "Recent practice already points in this direction.",
         "ru": "Недавняя практика уже указывает в эту сторону."},
        {"en": "The military establishments have long argued for this.",
         "ru": "Военные ведомства давно выступают за это."},
    ],
    "first": [
        {"en": "This option serves Moscow's interests at the lowest cost.",
         "ru": "Этот вариант отвечает интересам Москвы с наименьшими издержками."},
        {"en": "This is where the current policy is already heading.",
         "ru": "К этому уже ведёт нынешняя политика."},
        {"en": "The alternatives depend on partners who are not available.",
         "ru": "Другие варианты зависят от партнёров, которых нет."},
    ],
    "answers": [
        {"en": "A joint early-warning exercise programme.",
         "ru": "Программа совместных учений по раннему предупреждению."},
        {"en": "Regular talks between the military staffs.",
         "ru": "Регулярные переговоры между военными штабами."},
        {"en": "Mutual limits on exercises near the borders.",
         "ru": "Взаимные ограничения на учения вблизи границ."},
    ],
}


def sim_experts(*, study: Study, n: int, actor=None) -> list[Expert]:
    """The study's first n synthetic experts, created round-robin over its groups if missing."""
    groups = list(study.groups.all())
    existing = {e.email: e for e in study.experts.filter(email__endswith="@" + SIM_DOMAIN)}
    experts = []
    for k in range(n):
        email = f"sim-{k + 1:04d}@{SIM_DOMAIN}"
        expert = existing.get(email) or expert_create(
            study=study, name=f"Simulated expert {k + 1:04d}", email=email,
            group_code=groups[k % len(groups)].code, language=_language(groups[k % len(groups)].code, k),
            actor=actor,
        )
        experts.append(expert)
    return experts


def _language(group: str, k: int) -> str:
    """Who reads in which language: the Russian group in Russian, Central and Eastern Europe
    half and half, everyone else in English (a study without these groups alternates)."""
    if group == "RU":
        return "ru"
    if group in {"US", "WE", "OTHER"}:
        return "en"
    return ("en", "ru")[(k // 5) % 2]


def _bounds(item: Item) -> tuple[float, float]:
    """The range of an item the simulation gives values to (every kind but open text)."""
    bounds = item.bounds()
    if bounds is None:
        raise ValueError(f"{item.code} takes no value")
    return bounds


def _default_spread(item: Item) -> float:
    if item.kind == Item.Kind.NUMERIC:
        low, high = _bounds(item)
        return (high - low) / 8
    return SPREAD.get(item.kind, 0.8)


def _fit(item: Item, value: float) -> float:
    """The value clipped to the item's range and rounded to the step experts answer in."""
    low, high = _bounds(item)
    step = STEP.get(item.kind, 1.0)
    return float(np.clip(step * round(value / step), low, high))


def _start(item: Item, group: str, key: str, offset: float, rng: np.random.Generator) -> float:
    """A first-round value: the group's leaning, the group's spread, the expert's own lean."""
    low, high = _bounds(item)
    lean = item.leaning.get(group)
    if isinstance(lean, dict):
        lean = lean.get(key)
    centre = float(lean) if isinstance(lean, int | float) else (low + high) / 2
    spread = float(item.spread.get(group) or _default_spread(item))
    return _fit(item, centre + rng.normal(0, spread) + offset * _default_spread(item))


def _revise(item: Item, previous: float, median: float | None, rng: np.random.Generator) -> float:
    """Part of the way toward the panel median: at least one step, never past it."""
    if median is None:
        return previous
    step = STEP.get(item.kind, 1.0)
    value = _fit(item, previous + rng.uniform(0.3, 0.7) * (median - previous))
    if value == previous and abs(median - previous) >= step:
        value = _fit(item, previous + step * np.sign(median - previous))
    return value


def _ranking(item: Item, group: str, rng: np.random.Generator) -> dict[str, float | None]:
    codes = [o["code"] for o in item.options]
    lean = item.leaning.get(group)
    order = [c for c in lean if c in codes] if isinstance(lean, list) else list(codes)
    order += [c for c in codes if c not in order]
    for _ in range(2):  # two random neighbour swaps: personal taste within the group's view
        k = int(rng.integers(0, len(order) - 1))
        if rng.random() < 0.5:
            order[k], order[k + 1] = order[k + 1], order[k]
    return {code: float(order.index(code) + 1) for code in order}


def _rerank(previous: dict[str, float], medians: dict[str, float]) -> dict[str, float | None]:
    """One step toward the panel's order: swap the first neighbours the panel ranks the other way."""
    order = sorted(previous, key=lambda code: previous[code])
    for k in range(len(order) - 1):
        a, b = order[k], order[k + 1]
        if medians.get(b, 0) < medians.get(a, 0):
            order[k], order[k + 1] = b, a
            break
    return {code: float(order.index(code) + 1) for code in order}


def _side(item: Item, values: dict[str, float | None]) -> str:
    """The argument key an answer draws from: low/high by where it sits on the scale (nothing
    in the middle band); the option ranked first; a later year is the low ("later") side."""
    if item.kind == Item.Kind.RANKING:
        first = min(values, key=lambda code: values[code] or 0)
        return first if item.arguments else "first"
    low, high = _bounds(item)
    value = values.get("desirability", values.get(""))
    if value is None:
        value = float(np.mean([v for v in values.values() if v is not None]))
    share = (value - low) / ((high - low) or 1)
    if item.kind == Item.Kind.YEAR:
        share = 1 - share
    return "low" if share < 0.4 else "high" if share > 0.6 else ""


class _Bank:
    """The arguments of one round: each sentence is given at most once per item."""

    def __init__(self, used: dict[int, set[str]]):
        self.used = used

    def draw(self, item: Item, key: str, language: str, rng: np.random.Generator) -> str:
        bank = (item.arguments or GENERIC).get(key, []) if key else []
        used = self.used.setdefault(item.pk, set())
        left = [a for a in bank if not used & set(a.values())]
        if not left:
            return ""
        argument = left[int(rng.integers(0, len(left)))]
        used.update(argument.values())
        return str(argument.get(language) or argument["en"])


@dataclass
class _Context:
    """What one expert answers a round from: their previous answers and the panel's medians."""

    history: dict[int, dict[str, float]]
    no_opinion: set[int]  # the items the expert had no opinion on last round
    medians: dict[int, dict[str, float]]
    bank: _Bank
    revise: float  # the chance to revise an item this round
    offset: float  # the expert's personal lean


def _answer_item(item: Item, expert: Expert, ctx: _Context,
                 rng: np.random.Generator) -> ItemAnswer | None:
    """The expert's answer to one item this round, or None for an open item left blank."""
    if item.kind == Item.Kind.OPEN:
        text = ctx.bank.draw(item, "answers", expert.language, rng) if rng.random() < WRITES else ""
        return ItemAnswer(text=text) if text else None
    previous = ctx.history.get(item.pk)
    if item.pk in ctx.no_opinion or (previous is None and rng.random() < NO_OPINION):
        return ItemAnswer(no_opinion=True)
    medians = ctx.medians.get(item.pk, {})
    revise = previous is not None and rng.random() < ctx.revise
    values: dict[str, float | None]
    if item.kind == Item.Kind.RANKING:
        if previous is None or set(previous) != set(item.answer_keys()):
            values = _ranking(item, expert.group.code, rng)
        else:
            values = _rerank(previous, medians) if revise else dict(previous)
    else:
        previous = previous or {}
        values = {}
        for key in item.answer_keys():
            if key not in previous:
                values[key] = _start(item, expert.group.code, key, ctx.offset, rng)
            else:
                values[key] = (_revise(item, previous[key], medians.get(key), rng) if revise
                               else previous[key])
    rationale = ""
    if rng.random() < WRITES:
        rationale = ctx.bank.draw(item, _side(item, values), expert.language, rng)
    return ItemAnswer(values=values, rationale=rationale)


def _history(expert: Expert, previous: Round | None) -> tuple[dict[int, dict[str, float]], set[int]]:
    """The expert's submitted answers to the previous round: the values per item, and the
    items they had no opinion on."""
    history: dict[int, dict[str, float]] = {}
    no_opinion: set[int] = set()
    rows = Answer.objects.filter(response__expert=expert, response__round=previous,
                                 response__status=Response.Status.SUBMITTED)
    for item_id, key, value, none in rows.values_list(
            "item_id", "dimension", "value", "no_opinion"):
        if none:
            no_opinion.add(item_id)
        elif value is not None:
            history.setdefault(item_id, {})[key] = value
    return history, no_opinion


def _save(*, expert: Expert, round_: Round, items: list[Item], answers: dict[str, ItemAnswer],
          expertise: dict[int, int]) -> None:
    """Save the first half of the answers as a draft, then the rest with the submit."""
    codes = list(answers)
    first = {code: answers[code] for code in codes[:len(codes) // 2]}
    rest = {code: answers[code] for code in codes[len(codes) // 2:]}
    response = response_save_draft(expert=expert, round_=round_, answers=first, items=items)
    questionnaire_save(expert=expert, round_=round_, answers=rest, expertise=expertise,
                       submit=True, items=items, expected_version=response.version,
                       response=response)


def panel_simulate(*, round_: Round, n: int, seed: int = 1, dropout: float = DROPOUT,
                   actor=None) -> int:
    """Have the first n synthetic experts answer and submit the open round (from round 2 only
    those who submitted the previous one, less the share `dropout`); returns how many
    submitted now."""
    study = round_.study
    experts = sim_experts(study=study, n=n, actor=actor)
    items = list(round_.items.all())
    themes = list(study.themes.all())
    previous = round_previous(round_)
    stayed = set(Response.objects.filter(round=previous, status=Response.Status.SUBMITTED)
                 .values_list("expert_id", flat=True))
    medians: dict[int, dict[str, float]] = {}
    for a in Aggregate.objects.filter(round=previous, group=""):
        if a.median is not None:
            medians.setdefault(a.item_id, {})[a.dimension] = a.median
    done = set(Response.objects.filter(round=round_, status=Response.Status.SUBMITTED)
               .values_list("expert_id", flat=True))
    used: dict[int, set[str]] = {}
    for item_id, text in Rationale.objects.filter(response__round=round_).values_list(
            "item_id", "text"):
        used.setdefault(item_id, set()).add(text)
    for item_id, text in Answer.objects.filter(response__round=round_).exclude(
            text="").values_list("item_id", "text"):
        used.setdefault(item_id, set()).add(text)
    bank = _Bank(used)
    revise = REVISE[min(round_.number - 2, len(REVISE) - 1)] if previous else 0.0
    submitted = 0
    for index, expert in enumerate(experts):
        rng = np.random.default_rng([seed, round_.number, index])
        leaves = previous is not None and (expert.pk not in stayed or rng.random() < dropout)
        if expert.pk in done or leaves or expert.withdrawn_at is not None:
            continue
        history, no_opinion = _history(expert, previous)
        ctx = _Context(history=history, no_opinion=no_opinion, medians=medians, bank=bank,
                       revise=revise,
                       offset=float(np.random.default_rng([seed, index]).normal(0, OFFSET)))
        answers = {}
        for item in items:
            answer = _answer_item(item, expert, ctx, rng)
            if answer is not None:
                answers[item.code] = answer
        expertise = {t.pk: int(rng.integers(1, 6)) for t in themes} if round_.number == 1 else {}
        _save(expert=expert, round_=round_, items=items, answers=answers, expertise=expertise)
        submitted += 1
    return submitted
