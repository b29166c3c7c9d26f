"""Checks of a shipped study file against its source essay, shared by the tests and by whoever
writes a study: anchors verbatim in the cited body paragraph, no run of copied words, the
simulated panel's arguments, forecasts that resolve, ranking options that are distinct."""

import datetime as dt
import re

ARGUMENTS_PER_POSITION = 3
COPY_RUN = 8  # no English proposition shares this many consecutive words with the essay


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'"))


def body_paragraphs(paragraphs: list[str], first: str) -> list[str]:
    """The essay's body paragraphs (the one starting with `first` is paragraph 1)."""
    starts = [k for k, p in enumerate(paragraphs) if p.startswith(first)]
    assert len(starts) == 1, f"no single paragraph starts with {first!r}"
    return paragraphs[starts[0]:]


def items_of(data: dict) -> list[dict]:
    return [item for theme in data["themes"] for item in theme["items"]]


def anchor_problems(items: list[dict], paragraphs: list[str]) -> list[str]:
    problems = []
    for item in items:
        source = item.get("source") or {}
        number, anchor = source.get("paragraph"), source.get("anchor", "")
        if not isinstance(number, int) or not 1 <= number <= len(paragraphs):
            problems.append(f"{item['code']}: paragraph {number!r} is not 1-{len(paragraphs)}")
        elif not anchor.strip() or anchor not in paragraphs[number - 1]:
            problems.append(f"{item['code']}: {anchor!r} is not verbatim in paragraph {number}")
    return problems


def essay_runs(paragraphs: list[str], n: int = COPY_RUN) -> set[tuple[str, ...]]:
    essay = words(" ".join(paragraphs))
    return {tuple(essay[k:k + n]) for k in range(len(essay) - n + 1)}


def copied_runs(text: str, runs: set[tuple[str, ...]], allowed: tuple[str, ...] = (),
                n: int = COPY_RUN) -> list[str]:
    """The runs of n consecutive words of text that also occur in the essay, except those
    inside an allowed set phrase."""
    found = words(text)
    phrases = [" ".join(words(p)) for p in allowed]
    out = []
    for k in range(len(found) - n + 1):
        run = " ".join(found[k:k + n])
        if tuple(found[k:k + n]) in runs and not any(run in p for p in phrases):
            out.append(run)
    return out


def copy_problems(items: list[dict], paragraphs: list[str], allowed: tuple[str, ...] = ()) -> list[str]:
    runs = essay_runs(paragraphs)
    problems = []
    for item in items:
        texts = [item["text"]["en"]] + [o["text"]["en"] for o in item.get("options") or []]
        for text in texts:
            copied = copied_runs(text, runs, allowed)
            if copied:
                problems.append(f"{item['code']}: copies the essay: {copied[0]!r}")
    return problems


def argument_problems(items: list[dict]) -> list[str]:
    problems = []
    for item in items:
        arguments = item.get("arguments") or {}
        if item["kind"] == "ranking":
            keys = [o["code"] for o in item["options"]]
        elif item["kind"] == "open":
            keys = ["answers"]
        else:
            keys = ["low", "high"]
        seen: set[str] = set()
        for key in keys:
            texts = arguments.get(key) or []
            if len(texts) < ARGUMENTS_PER_POSITION:
                problems.append(f"{item['code']}: {len(texts)} arguments for {key!r}, "
                                f"expected {ARGUMENTS_PER_POSITION} or more")
            for text in texts:
                for lang in ("en", "ru"):
                    sentence = " ".join(str(text.get(lang, "")).split())
                    if not sentence:
                        problems.append(f"{item['code']}: an argument for {key!r} has no {lang}")
                    elif sentence in seen:
                        problems.append(f"{item['code']}: argument repeated: {sentence[:60]!r}")
                    seen.add(sentence)
    return problems


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def forecast_problems(items: list[dict], as_of) -> list[str]:
    problems = []
    start = _as_date(as_of)
    for item in items:
        if item["kind"] not in {"probability", "year"}:
            continue
        resolution = item.get("resolution") or {}
        criteria = resolution.get("criteria") or {}
        if not resolution.get("date") or _as_date(resolution["date"]) <= start:
            problems.append(f"{item['code']}: resolution date must come after {start}")
        if not (str(criteria.get("en", "")).strip() and str(criteria.get("ru", "")).strip()):
            problems.append(f"{item['code']}: resolution criteria needed in en and ru")
        if item["kind"] == "year" and not item.get("never"):
            problems.append(f"{item['code']}: a year forecast needs a 'never' answer")
    return problems


def ranking_problems(items: list[dict]) -> list[str]:
    problems = []
    for item in items:
        if item["kind"] != "ranking":
            continue
        options = item["options"]
        for key in ("code",):
            values = [o[key] for o in options]
            if len(set(values)) != len(values):
                problems.append(f"{item['code']}: option codes repeat")
        for lang in ("en", "ru"):
            values = [o["text"][lang].strip().lower() for o in options]
            if len(set(values)) != len(values):
                problems.append(f"{item['code']}: option texts repeat in {lang}")
    return problems


def help_problems(items: list[dict]) -> list[str]:
    """Policy-Delphi items say what importance means; forecasts define their event."""
    return [f"{item['code']}: needs help in en and ru" for item in items
            if item["kind"] in {"dimensions", "probability", "year"}
            and not all(str((item.get("help") or {}).get(lang, "")).strip() for lang in ("en", "ru"))]
