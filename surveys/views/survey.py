"""A survey respondent's pages behind an open link /s/<token>/: consent, screening, one page per
theme ("Next" saves the page in one POST), and the end (a thank-you page or the panel
provider's redirect with the respondent's id).

The respondent has no session: a random browser key in a cookie finds their entry, so they
resume on the same device. Wrong tokens answer 404 and are counted (throttle.tokens).
"""

import re
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from surveys.errors import ServiceError
from surveys.forms import parse_answers
from surveys.models import Collector, Entry
from surveys.selectors_fielding import (
    UNREAD,
    collector_is_open,
    survey_page,
    survey_pages,
    survey_round_of_link,
)
from surveys.services.fielding import (
    collector_turn_away,
    consent_current,
    entry_consent,
    entry_of_browser,
    entry_page_save,
    entry_screen,
    entry_start,
    expert_consent,
    expert_consent_needed,
    quota_full,
    redirect_with_id,
    screening_parse,
)
from surveys.services.panel import expert_set_language
from surveys.views.expert import (
    VERSION,
    _no_session,
    _session_expert,
    _with_language,
    expert_session,
)

COOKIE = "agora_survey"
COOKIE_AGE = 180 * 24 * 3600
TURNED_AWAY = "agora_full"  # set, on the link's path, on a browser turned away (counted once)
EXTERNAL_ID = re.compile(r"[A-Za-z0-9_.:@~-]{1,100}")
BROWSER_KEY = re.compile(r"[A-Za-z0-9_-]{43}")
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
HONEYPOT = "website"


def _message(request, title: str, message: str, status: int = 200) -> HttpResponse:
    return render(request, "surveys/expert_message.html", {"title": title, "message": message},
                  status=status)


def _not_found(request) -> HttpResponse:
    return _message(request, _("This link is not valid"), _(
        "The survey link is wrong or no longer exists. Please use the link you were sent."),
        status=404)


def _collector(token: str) -> Collector | None:
    if not TOKEN.fullmatch(token):
        return None
    return Collector.objects.select_related("study").filter(token=token).first()


def _closed(request, state: str) -> HttpResponse:
    if state == "not_yet":
        return _message(request, _("This survey has not opened yet"), _(
            "Please come back later: the link will work once the survey opens."), status=403)
    return _message(request, _("This survey is closed"), _(
        "The survey no longer takes answers. Thank you for your interest."), status=410)


def _browser_key(request) -> str:
    key = request.COOKIES.get(COOKIE, "")
    return key if BROWSER_KEY.fullmatch(key) else ""


def _with_cookie(response: HttpResponse, key: str) -> HttpResponse:
    response.set_cookie(COOKIE, key, max_age=COOKIE_AGE, httponly=True, samesite="Lax",
                        secure=settings.SESSION_COOKIE_SECURE, path="/s/")
    return response


def _away(url: str, collector: Collector, external_id: str) -> HttpResponse | None:
    """The organizer's redirect with the respondent's external id (None when there is none)."""
    if not url:
        return None
    return HttpResponseRedirect(redirect_with_id(url, collector.id_param, external_id))


def _ended(request, collector: Collector, entry: Entry) -> HttpResponse:
    """The page (or redirect) for an entry that has ended."""
    status = Entry.Status
    if entry.status == status.COMPLETED:
        return _message(request, _("Thank you"), _(
            "Your answers are recorded. Thank you for taking part in this survey."))
    if entry.status == status.DECLINED:
        return _message(request, _("Thank you"), _(
            "You chose not to take part; nothing more will be asked. Thank you for your time."))
    if entry.status == status.SCREENED_OUT:
        return _message(request, _("Thank you"), _(
            "Thank you for your answers. This survey is looking for respondents of another "
            "profile, so it ends here for you."))
    return _message(request, _("This survey is full"), _(
        "Enough respondents of your group have already answered. Thank you for your time."))


def _route(request, collector: Collector, entry: Entry) -> HttpResponse:
    status = Entry.Status
    if entry.status == status.CONSENT:
        return _consent_page(request, collector, entry)
    if entry.status == status.SCREENING:
        return _screening_page(request, collector, {})
    if entry.status == status.ANSWERING:
        round_ = collector.round
        pages = len(survey_pages(round_)) if round_ is not None else 1
        return redirect("survey_page", token=collector.token,
                        number=min(entry.pages_done + 1, pages))
    return _ended(request, collector, entry)


def _consent_page(request, collector, entry, status: int = 200, error: str = "") -> HttpResponse:
    return render(request, "surveys/survey/consent.html", {
        "study": collector.study, "collector": collector, "consent": consent_current(
            collector.study), "error": error, "action": reverse(
            "survey_consent", args=[collector.token])}, status=status)


def _screening_page(request, collector, errors: dict, chosen=None, status=200) -> HttpResponse:
    language = (get_language() or "en")[:2]
    questions = [{"code": q["code"], "text": q["text"].get(language) or q["text"]["en"],
                  "error": errors.get(q["code"], ""),
                  "options": [{"code": o["code"], "text": o["text"].get(language) or
                               o["text"]["en"], "checked": (chosen or {}).get(q["code"]) ==
                               o["code"]} for o in q["options"]]}
                 for q in collector.study.screening]
    return render(request, "surveys/survey/screening.html", {
        "study": collector.study, "collector": collector, "questions": questions},
        status=status)


def _door(request, token: str):
    """The collector (or the page to answer instead) and this browser's entry, if any."""
    if not TOKEN.fullmatch(token):
        return None, None, _not_found(request)
    round_ = survey_round_of_link(token)  # the open round, read once per request
    # The entry comes with its collector: a returning respondent's request reads no other row.
    entry = entry_of_browser(token, _browser_key(request), round_)
    collector = entry.collector if entry is not None else _collector(token)
    if collector is None:
        return None, None, _not_found(request)
    if round_ is not None:
        round_.study = collector.study  # the same row, read once
    if entry is not None:
        entry.expert.study = collector.study
    collector.round = round_
    state = collector_is_open(collector, round_)
    if state != "open" and (entry is None or entry.status in {
            Entry.Status.CONSENT, Entry.Status.SCREENING, Entry.Status.ANSWERING}):
        return collector, entry, _closed(request, state)
    return collector, entry, None


@never_cache
def survey_entry(request: HttpRequest, token: str) -> HttpResponse:
    """The open link: find or make this browser's entry and show where it stands."""
    collector, entry, answer = _door(request, token)
    if answer is not None:
        return answer
    key = _browser_key(request) or secrets.token_urlsafe(32)
    if entry is None:
        external_id = request.GET.get(collector.id_param, "")
        if external_id and not EXTERNAL_ID.fullmatch(external_id):
            return _message(request, _("This link is not valid"), _(
                "The respondent id in the link is not valid. Please use the link you were "
                "sent."), status=400)
        if quota_full(collector):
            return _turned_away(request, collector, token, external_id)
        try:
            entry, taken = entry_start(collector=collector, browser_key=key,
                                       external_id=external_id,
                                       language=(get_language() or "en")[:2])
        except ServiceError as exc:
            return _message(request, _("Please try again"), exc.message, status=409)
        if taken:
            return _message(request, _("You have already taken part"), _(
                "This survey has already been started with your respondent id, on another "
                "device or browser. Each respondent answers once."), status=409)
    return _with_cookie(_route(request, collector, entry), key)


def _turned_away(request, collector: Collector, token: str, external_id: str) -> HttpResponse:
    """The quota is full: the screen-out redirect or a polite page, the arrival counted once
    per browser (a cookie on the link's path says it was)."""
    if TURNED_AWAY not in request.COOKIES:
        collector_turn_away(collector)
    answer = _away(collector.screenout_redirect, collector, external_id) or _message(
        request, _("This survey is full"), _(
            "Enough respondents of your group have already answered. Thank you for your time."))
    answer.set_cookie(TURNED_AWAY, "1", max_age=COOKIE_AGE, httponly=True, samesite="Lax",
                      secure=settings.SESSION_COOKIE_SECURE, path=f"/s/{token}/")
    return answer


def _entry_in(request, token: str, status: str):
    collector, entry, answer = _door(request, token)
    if answer is None and (entry is None or entry.status != status):
        answer = redirect("survey_entry", token=token) if collector else _not_found(request)
    return collector, entry, answer


@never_cache
def survey_consent(request: HttpRequest, token: str) -> HttpResponse:
    collector, entry, answer = _entry_in(request, token, Entry.Status.CONSENT)
    if answer is not None or request.method != "POST":
        return answer or redirect("survey_entry", token=token)
    choice = request.POST.get("choice", "")
    if choice not in {"agree", "decline"}:
        return _consent_page(request, collector, entry, 400, _("Please choose an answer."))
    try:
        entry = entry_consent(entry=entry, version=request.POST.get("version", ""),
                              agree=choice == "agree")
    except ServiceError as exc:
        return _consent_page(request, collector, entry, 409, exc.message)
    if entry.status == Entry.Status.ANSWERING:
        return redirect("survey_page", token=token, number=1)
    return redirect("survey_entry", token=token)


@never_cache
def survey_screening(request: HttpRequest, token: str) -> HttpResponse:
    collector, entry, answer = _entry_in(request, token, Entry.Status.SCREENING)
    if answer is not None or request.method != "POST":
        return answer or redirect("survey_entry", token=token)
    answers, errors = screening_parse(collector.study.screening, request.POST)
    if errors:
        return _screening_page(request, collector, errors, answers, status=400)
    try:
        entry = entry_screen(entry=entry, answers=answers)
    except ServiceError:
        return redirect("survey_entry", token=token)
    if entry.status == Entry.Status.SCREENED_OUT:
        return _away(collector.screenout_redirect, collector, entry.external_id) or _ended(
            request, collector, entry)
    return redirect("survey_page", token=token, number=1)


def _page(request, collector, entry, round_, number, *, errors=None, posted=None,
          status=200, version=None) -> HttpResponse:
    page = survey_page(entry.expert, round_, number, errors=errors, posted=posted,
                       response=getattr(entry, "response", UNREAD))
    form_error = " ".join(str(m) for k, m in (errors or {}).items()
                          if k == "__all__" or k.partition(".")[0] not in
                          {v.item.code for v in page.views})
    return render(request, "surveys/survey/page.html", {
        "study": collector.study, "collector": collector, "page": page, "views": page.views,
        "version": page.version if version is None else version,
        "form_error": form_error, "honeypot": HONEYPOT}, status=status)


@never_cache
def survey_page_view(request: HttpRequest, token: str, number: int) -> HttpResponse:
    """One theme's items; a POST saves them (Next, Back or Finish) in one transaction."""
    collector, entry, answer = _entry_in(request, token, Entry.Status.ANSWERING)
    if answer is not None:
        return answer
    round_ = collector.round
    pages = survey_pages(round_)
    if not 1 <= number <= min(entry.pages_done + 1, len(pages)):
        return redirect("survey_entry", token=token)
    if request.method != "POST":
        return _page(request, collector, entry, round_, number)
    action = request.POST.get("action", "next")
    version = request.POST.get("version", "")
    items = pages[number - 1]
    answers, errors = parse_answers(request.POST, items)
    if not VERSION.fullmatch(version):
        errors["__all__"] = _("This page's version is missing, so nothing was saved. Reload "
                              "the page and try again.")
    if errors:
        return _page(request, collector, entry, round_, number, errors=errors, posted=answers,
                     status=400)
    finish = action == "finish" and number == len(pages)
    try:
        entry = entry_page_save(
            entry=entry, round_=round_, page=number, advance=action not in {"back", "language"},
            page_items=items, answers=answers, version=int(version), finish=finish,
            honeypot=bool(request.POST.get(HONEYPOT, "").strip()))
    except ServiceError as exc:
        return _page(request, collector, entry, round_, number, posted=answers,
                     errors={"__all__": exc.message, **exc.field_errors}, status=exc.status)
    if finish:
        url = (collector.complete_redirect if entry.status == Entry.Status.COMPLETED
               else collector.screenout_redirect)
        return _away(url, collector, entry.external_id) or redirect("survey_entry", token=token)
    if action == "language":  # the page saved as it stands, shown again in the chosen language
        language = request.POST.get("language", "")
        language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        expert_set_language(expert=entry.expert, language=language)
        return _with_language(redirect("survey_page", token=token, number=number), language)
    target = max(1, number - 1) if action == "back" else min(number + 1, len(pages))
    return redirect("survey_page", token=token, number=target)


@never_cache
@expert_session
def questionnaire_consent(request: HttpRequest) -> HttpResponse:
    """A Delphi study's consent page, before its expert's first questionnaire."""
    expert = _session_expert(request)
    if expert is None:
        return _no_session(request)
    consent = consent_current(expert.study)
    if consent is None or not expert_consent_needed(expert):
        return redirect("questionnaire")
    context = {"study": expert.study, "consent": consent,
               "action": reverse("questionnaire_consent")}
    if request.method != "POST":
        return render(request, "surveys/survey/consent.html", context)
    choice = request.POST.get("choice", "")
    try:
        if choice not in {"agree", "decline"}:
            raise ServiceError(_("Please choose an answer."))
        expert_consent(expert=expert, version=request.POST.get("version", ""),
                       agree=choice == "agree")
    except ServiceError as exc:
        return render(request, "surveys/survey/consent.html", context | {"error": exc.message},
                      status=400)
    if choice == "agree":
        return redirect("questionnaire")
    return _message(request, _("Thank you"), _(
        "You chose not to take part; nothing more will be asked. If you change your mind, "
        "open your personal link again."))
