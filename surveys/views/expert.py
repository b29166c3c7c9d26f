"""The expert's pages: the invitation link, the questionnaire, autosave and the language."""

import functools
import re
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from surveys.errors import ServiceError
from surveys.forms import parse_answers, parse_expertise, unanswered_after
from surveys.models import Expert
from surveys.questionnaire import UNREAD, item_view, questionnaire_context
from surveys.selectors import (
    answered_item_codes,
    expert_round_response,
    round_current,
    round_items_shared,
)
from surveys.services.fielding import expert_consent_needed
from surveys.services.panel import LinkStatus, expert_link_status, expert_set_language
from surveys.services.responses import KEEP_ALL, questionnaire_save, response_keep_previous
from surveys.unlinkable import store_key

SESSION_KEY = "expert_id"
# The expert's access generation when the session was opened: a revocation raises it, and the
# session ends at its next request.
GENERATION_KEY = "expert_generation"
ENDED_KEY = "expert_access_ended"
VERSION = re.compile(r"[0-9]{1,9}")  # ASCII digits only: str.isdigit() also accepts "²"


def _with_language(response: HttpResponse, language: str) -> HttpResponse:
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language,
                        max_age=settings.LANGUAGE_COOKIE_AGE, samesite="Lax",
                        secure=settings.LANGUAGE_COOKIE_SECURE)
    return response


class AccessEnded(Exception):
    """The session was opened with a link that has since been revoked (or its expert
    withdrawn); the session is flushed."""


def _checked(request: HttpRequest, expert: Expert | None) -> Expert | None:
    """The session's expert, unless their access was revoked after the session opened: then
    the session is flushed and AccessEnded raised."""
    if request.session.get(SESSION_KEY) is None:
        # The browser whose access ended keeps being told so (its first request after the
        # revocation may be an autosave that shows no page), until it opens a valid link.
        if request.session.get(ENDED_KEY):
            raise AccessEnded
        return None
    # Sessions opened before generations existed carry none: they count as generation 0.
    if expert is None or expert.access_generation != request.session.get(GENERATION_KEY, 0):
        request.session.flush()
        request.session[ENDED_KEY] = True
        raise AccessEnded
    return expert


def _session_expert(request: HttpRequest) -> Expert | None:
    expert_id = request.session.get(SESSION_KEY)
    if expert_id is None:
        return None
    return _checked(request, Expert.objects.select_related("study", "group")
                    .filter(pk=expert_id, withdrawn_at__isnull=True).first())


def _no_session(request: HttpRequest) -> HttpResponse:
    template = "surveys/_autosave.html" if request.htmx else "surveys/expert_message.html"
    return render(request, template, {
        "title": _("Please open your personal link"),
        "message": _("Your session has ended or you have not opened your invitation yet. "
                     "Open the personal link from your invitation to continue; nothing you "
                     "saved is lost."),
        "failed": True,
    }, status=403)


def _access_ended(request: HttpRequest) -> HttpResponse:
    template = "surveys/_autosave.html" if request.htmx else "surveys/expert_message.html"
    return render(request, template, {
        "title": _("Your link is no longer valid"),
        "message": _("The organizers have revoked the personal link this session was opened "
                     "with, or ended your participation. If you think this is a mistake, "
                     "please contact them."),
        "failed": True,
    }, status=403)


def expert_session(view):
    """Answer the access-ended page when the session's access was revoked."""
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except AccessEnded:
            return _access_ended(request)
    return wrapped


@never_cache
def expert_entry(request: HttpRequest, token: str) -> HttpResponse:
    """Exchange the personal link's token for a session, then drop it from the address."""
    status, expert, links_end = expert_link_status(token)
    if status == LinkStatus.EXPIRED and expert is not None:
        with translation.override(expert.language):  # the expert's language, known by the link
            return render(request, "surveys/expert_message.html", {
                "title": _("This link has expired"),
                "message": _("The study's rounds are over and its personal links have expired. "
                             "If you need access again, please contact the organizers."),
            }, status=410)
    if status != LinkStatus.VALID or expert is None:
        return render(request, "surveys/expert_message.html", {
            "title": _("This link is not valid"),
            "message": _("The invitation link is wrong or has been revoked. Please use a link "
                         "the organizers sent you, or ask them for a new one."),
        }, status=404)
    request.session.cycle_key()
    request.session.pop(ENDED_KEY, None)
    request.session[SESSION_KEY] = expert.pk
    request.session[GENERATION_KEY] = expert.access_generation
    if links_end is not None:  # the rounds are over: the session does not outlive the link
        request.session.set_expiry(min(links_end, timezone.now() + timedelta(
            seconds=settings.SESSION_COOKIE_AGE)))
    return _with_language(redirect("questionnaire"), expert.language)


def _session_round(request: HttpRequest):
    """The signed-in expert, the round they answer and their response to it (one query once
    the response exists); all None without a session."""
    expert_id = request.session.get(SESSION_KEY)
    if expert_id is None:
        _checked(request, None)  # says so if this browser's access has ended
        return None, None, None
    expert, round_, response = expert_round_response(expert_id)
    _checked(request, expert)
    return expert, round_, response


def _page(request, expert, round_, *, errors=None, message="", confirm=False, status=200,
          response=UNREAD):
    context = questionnaire_context(expert, round_, errors=errors, response=response)
    context |= {"expert": expert, "study": expert.study, "message": message,
                "store_key": store_key(expert, round_) if round_ is not None else "",
                "confirm": confirm and context["is_open"], "levels": range(1, 6)}
    return render(request, "surveys/questionnaire.html", context, status=status)


def _save(request, expert, round_, *, submit: bool, items, answers=None, response=None,
          keep: str = ""):
    """Parse the posted fields (unless parsed already) and call the service; returns (the
    response, 200), with `keep` (the codes kept, 200), or (a dict of errors, the status). A
    post without a valid version is refused before anything is read or saved: the "changed
    elsewhere" check cannot be skipped."""
    version = request.POST.get("version", "")
    if not VERSION.fullmatch(version):
        return {"__all__": _("This page's version is missing or not a number, so nothing was "
                             "saved. Reload the page and try again.")}, 400
    errors = {}
    if answers is None:
        answers, errors = parse_answers(request.POST, items)
    levels = {}
    if any(name.startswith("x-") for name in request.POST):
        levels, expertise_errors = parse_expertise(request.POST, list(expert.study.themes.all()))
        errors |= expertise_errors
    if errors:
        return errors, 400
    try:
        if keep:  # the previous round's answer(s) kept, with the rest of the posted form
            _response, kept = response_keep_previous(
                expert=expert, round_=round_, keep=keep, answers=answers,
                expected_version=int(version), items=items, response=response)
            return kept, 200
        response = questionnaire_save(
            expert=expert, round_=round_, answers=answers, expertise=levels, submit=submit,
            expected_version=int(version), items=items,
            response=response)
    except ServiceError as exc:
        return {"__all__": exc.message, **exc.field_errors}, exc.status
    return response, 200


def _keep_asked(request: HttpRequest, items) -> str:
    """The item whose previous answer the post keeps (a "keep" button's value), KEEP_ALL for
    every item, or "" (an unknown code keeps nothing)."""
    if request.POST.get("keep_all") == "1":
        return KEEP_ALL
    code = request.POST.get("keep", "")
    return code if any(item.code == code for item in items) else ""


@never_cache
@expert_session
def questionnaire_page(request: HttpRequest) -> HttpResponse:
    """Show the current round's questionnaire; a POST saves a draft or submits."""
    expert, round_, response = _session_round(request)
    if expert is None:
        return _no_session(request)
    if expert_consent_needed(expert):  # the study asks its experts' consent first
        return redirect("questionnaire_consent")
    if request.method != "POST":
        message = _("Your answers are saved.") if request.GET.get("saved") else ""
        kept = request.GET.get("kept", "")
        if VERSION.fullmatch(kept) and round_ is not None:
            message = ngettext(
                "%(n)s answer from round %(r)s kept. It counts as answered; you can still "
                "change it.", "%(n)s answers from round %(r)s kept. They count as answered; "
                "you can still change them.", int(kept)) % {"n": int(kept), "r": round_.number - 1}
        if request.GET.get("submitted"):
            message = _("Thank you: your answers are submitted. You may revise them until the "
                        "round closes.")
        return _page(request, expert, round_, message=message, response=response,
                     confirm=bool(request.GET.get("confirm")))
    if round_ is None:
        return _page(request, expert, round_, status=409,
                     errors={"__all__": _("There is no round to answer.")})
    items = round_items_shared(round_)
    keep = _keep_asked(request, items)
    submit = request.POST.get("action") == "submit" and not keep
    confirmed = request.POST.get("confirm") == "1"
    answers, errors = parse_answers(request.POST, items)
    if submit and not confirmed and not errors:
        # Nothing left unanswered: submit at once; otherwise save and ask to confirm. The
        # saved answers are read only if the posted ones leave something unanswered.
        confirmed = not unanswered_after(answers, set(), items) or not unanswered_after(
            answers, answered_item_codes(expert, round_), items)
    result, status = _save(request, expert, round_, submit=submit and confirmed, items=items,
                           answers=None if errors else answers, response=response, keep=keep)
    if status != 200:
        errors = result
        if status == 400 and "__all__" not in errors:
            errors["__all__"] = _("Some answers need correcting; nothing was saved yet.")
        return _page(request, expert, round_, errors=errors, status=status)
    if keep:
        where = f"#item-{keep}" if keep != KEEP_ALL else ""
        return redirect(reverse("questionnaire") + f"?kept={len(result)}{where}")
    if submit and not confirmed:
        # Saved as a draft; the expert now sees what is unanswered and confirms the submit.
        return redirect(reverse("questionnaire") + "?confirm=1#submit-confirm")
    return redirect(reverse("questionnaire") + ("?submitted=1" if submit else "?saved=1"))


@require_POST
@never_cache
@expert_session
def questionnaire_autosave(request: HttpRequest) -> HttpResponse:
    """Save the posted item(s) as a draft and answer with the small fragments htmx swaps in."""
    expert, round_, response = _session_round(request)
    if expert is None:
        return _no_session(request)
    if expert_consent_needed(expert):
        return redirect("questionnaire_consent")
    if round_ is None:
        return render(request, "surveys/_autosave.html", {
            "failed": True, "message": _("There is no round to answer.")}, status=409)
    # Only the posted items are read (the round's items are kept in this process), saved and
    # rendered: an autosave costs the same for a round of 5 items or 500.
    codes = {name[2:].partition(".")[0] for name in request.POST if name.startswith("a-")}
    items = [item for item in round_items_shared(round_) if item.code in codes]
    saved, status = _save(request, expert, round_, submit=False, items=items, response=response)
    if status == 200:
        return render(request, "surveys/_autosave.html", {
            "failed": False, "saved_at": timezone.now(),
            **questionnaire_context(expert, round_, codes=codes, response=saved)})
    errors = saved
    message = errors.pop("__all__", "") or _("Some answers need correcting.")
    return render(request, "surveys/_autosave.html", {
        "failed": True, "message": message, "details": [str(m) for m in errors.values()],
        "conflict": status == 409, **questionnaire_context(expert, round_, codes=codes)},
        status=status)


@never_cache
@expert_session
def questionnaire_arguments(request: HttpRequest, code: str) -> HttpResponse:
    """The panel's arguments on one item, loaded when the expert opens them (a fragment for
    htmx, a page of its own without JavaScript): a large panel's arguments would otherwise make
    every questionnaire page several hundred kilobytes."""
    expert = _session_expert(request)
    if expert is None:
        return _no_session(request)
    round_ = round_current(expert.study)
    view = item_view(expert, round_, code) if round_ is not None else None
    if view is None or not view.has_feedback:
        return render(request, "surveys/expert_message.html", {
            "title": _("Nothing to show"),
            "message": _("There are no arguments from the panel to show for this item (yet)."),
        }, status=404)
    template = "surveys/_arguments.html" if request.htmx else "surveys/arguments.html"
    return render(request, template, {"v": view, "study": expert.study, "round": round_})


@require_POST
@expert_session
def expert_language(request: HttpRequest) -> HttpResponse:
    """Remember the expert's language choice and return to where they were."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    expert = _session_expert(request)
    if expert is not None:
        expert_set_language(expert=expert, language=language)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("questionnaire") if expert else reverse("home")
    return _with_language(redirect(target), language)
