"""A small attitude survey (the small study's items in survey mode) with a consent text, one
screening question and two collectors, and a respondent's walk through it with a test client."""

from django.test import Client

from surveys.models import Collector, Study
from surveys.services.rounds import round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import small_study_data

PAGES = {  # the answers posted on each page (one theme each)
    1: {"a-agree": "4", "a-dims.desirability": "3", "a-dims.feasibility": "2", "a-prob": "40"},
    2: {"a-year": "2030", "a-rank.a": "1", "a-rank.b": "2", "a-rank.c": "3",
        "a-open.text": "A comment"},
}
CONSENT_V1 = {"version": "v1", "text": {"en": "We keep your answers for research.",
                                        "ru": "Мы храним ваши ответы для исследования."}}


def survey_data(slug: str = "poll", *, quota: int | None = 5, **extra) -> dict:
    data = small_study_data(slug)
    data |= {
        "mode": "survey",
        "consent": [CONSENT_V1],
        "screening": [{"code": "role", "text": {"en": "Your work?", "ru": "Ваша работа?"},
                       "options": [{"code": "expert", "text": {"en": "Expert", "ru": "Эксперт"}},
                                   {"code": "other", "text": {"en": "Other", "ru": "Другое"}}],
                       "eligible": ["expert"]}],
        "collectors": [
            {"code": "ru-panel", "group": "RU", "country": "Russia", "quota": quota,
             "complete_redirect": "https://panel.example.org/done?study=7",
             "screenout_redirect": "https://panel.example.org/out", "id_param": "pid"},
            {"code": "us-open", "group": "US", "country": "United States"},
        ],
    }
    return data | extra


def survey_load(slug: str = "poll", **kwargs) -> Study:
    study = study_load(data=survey_data(slug, **kwargs))
    round_open(round_=round_create(study=study))
    return study


def collector(study: Study, code: str = "ru-panel") -> Collector:
    return Collector.objects.get(study=study, code=code)


def walk(client: Client, token: str, pid: str = "", *, finish: bool = True,
         role: str = "expert", pages: dict | None = None):
    """Open the link, consent, pass the screening and answer every page; returns the last
    response (the completion's redirect, or where the walk stopped)."""
    base = f"/s/{token}/"
    answer = client.get(base + (f"?pid={pid}" if pid else ""))
    if answer.status_code != 200:
        return answer
    client.post(base + "consent/", {"choice": "agree", "version": "v1"})
    answer = client.post(base + "screening/", {"s-role": role})
    if role != "expert":
        return answer
    pages = PAGES if pages is None else pages
    for number in sorted(pages):
        version = client.get(base + f"page/{number}/").context["version"]
        last = number == max(pages)
        action = "finish" if last and finish else "next"
        answer = client.post(base + f"page/{number}/",
                             {**pages[number], "version": version, "action": action})
    return answer
