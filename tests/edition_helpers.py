"""The small study of tests/conftest.py with the second edition's keys: a frame (as_of, a
timeline), help texts, a hindsight item, forecasts that resolve, a year item's "never" answer,
and the simulated panel's spread and arguments."""

import datetime as dt

from tests.conftest import small_study_data

NEVER = {"en": "Not by 2100, or never", "ru": "Не ранее 2101 года или никогда"}


def _arguments(word: str) -> list[dict]:
    return [{"en": f"{word} argument {k}", "ru": f"{word} аргумент {k}"} for k in range(1, 4)]


def edition_study_data(slug: str = "small") -> dict:
    data = small_study_data(slug)
    data["as_of"] = dt.date(2026, 12, 1)
    data["source_first_paragraph"] = "At their meeting in Deauville"
    data["timeline"] = [
        {"date": "2014-03", "text": {"en": "Crimea annexed", "ru": "Присоединение Крыма"}},
        {"date": "2019-08-02", "text": {"en": "The INF Treaty ends",
                                        "ru": "Прекращение действия Договора о РСМД"}},
    ]
    items = {i["code"]: i for t in data["themes"] for i in t["items"]}
    items["agree"] |= {
        "hindsight": True,
        "help": {"en": "Judge the 2011 claim.", "ru": "Оцените утверждение 2011 года."},
        "spread": {"RU": 0.6, "US": 0.7, "WE": 0.8},
        "arguments": {"low": _arguments("Low"), "high": _arguments("High")},
    }
    items["prob"] |= {
        "help": {"en": "The event: a signed treaty.", "ru": "Событие: подписанный договор."},
        "resolution": {"date": dt.date(2030, 12, 31), "criteria": {
            "en": "Resolves YES if a treaty is signed by then.",
            "ru": "Да, если договор подписан к этой дате."}},
    }
    items["year"] |= {
        "never": NEVER,
        "resolution": {"date": dt.date(2100, 12, 31), "criteria": {
            "en": "The year the first site is operational.",
            "ru": "Год, когда первый объект введён в строй."}},
        "spread": {"RU": 5, "US": 4},
    }
    items["open"]["arguments"] = {"answers": [{"en": f"Answer {k}", "ru": f"Ответ {k}"}
                                              for k in range(1, 6)]}
    return data
