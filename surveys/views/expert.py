"""The expert's pages: the invitation link, the questionnaire, and the language choice."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from surveys.errors import ServiceError
from surveys.forms import parse_answers, parse_expertise
from surveys.models import Expert, Round
from surveys.questionnaire import questionnaire
from surveys.selectors import round_current, round_items
from surveys.services.panel import expert_for_token, expert_set_language
from surveys.services.responses import questionnaire_save

SESSION_KEY = "expert_id"


def _with_language(response: HttpResponse, language: str) -> HttpResponse:
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language,
                        max_age=settings.LANGUAGE_COOKIE_AGE, samesite="Lax")
    return response


def _session_expert(request: HttpRequest) -> Expert | None:
    expert_id = request.session.get(SESSION_KEY)
    if expert_id is None:
        return None
    return (Expert.objects.select_related("study", "group")
            .filter(pk=expert_id, withdrawn_at__isnull=True).first())


@never_cache
def expert_entry(request: HttpRequest, token: str) -> HttpResponse:
    """Exchange the personal link's token for a session, then drop it from the address."""
    expert = expert_for_token(token)
    if expert is None:
        return render(request, "surveys/expert_message.html", {
            "title": _("This link is not valid"),
            "message": _("The invitation link is wrong, expired or was replaced by a newer one. "
                         "Please use the latest link the organizers sent you."),
        }, status=404)
    request.session.cycle_key()
    request.session[SESSION_KEY] = expert.pk
    translation.activate(expert.language)
    return _with_language(redirect("questionnaire"), expert.language)


def _page(request, expert, round_, *, errors=None, message="", status=200):
    response = round_.responses.filter(expert=expert).first() if round_ else None
    is_open = round_ is not None and round_.status == Round.Status.OPEN and (
        round_.closes_at is None or round_.closes_at > timezone.now())
    views = questionnaire(expert, round_) if round_ else []
    errors = errors or {}
    for view in views:
        view.error = errors.get(view.item.code, "")
        for part in view.parts:
            part.error = errors.get(f"{view.item.code}.{part.key}", "")
    themes, current = [], None
    for view in views:
        if current is None or current["theme"] != view.item.theme:
            current = {"theme": view.item.theme, "items": [],
                       "expertise": errors.get(f"x-{view.item.theme_id}", "")}
            themes.append(current)
        current["items"].append(view)
    levels = dict(expert.expertise.values_list("theme_id", "level"))
    for section in themes:
        section["level"] = levels.get(section["theme"].pk)
    answered = sum(1 for v in views if v.answered)
    # Errors no item on the page can show (an unknown item field) go to the top of the form.
    codes = {v.item.code for v in views}
    stray = [m for k, m in errors.items()
             if k != "__all__" and not k.startswith("x-") and k.partition(".")[0] not in codes]
    form_error = " ".join([str(errors.get("__all__", "")), *map(str, stray)]).strip()
    return render(request, "surveys/questionnaire.html", {
        "expert": expert, "study": expert.study, "round": round_, "response": response,
        "themes": themes, "is_open": is_open, "answered": answered, "total": len(views),
        "unanswered": [v for v in views if not v.answered],
        "form_error": form_error, "message": message, "levels": range(1, 6),
        "ask_expertise": round_ is not None and round_.number == 1,
    }, status=status)


@never_cache
def questionnaire_page(request: HttpRequest) -> HttpResponse:
    """Show the current round's questionnaire; a POST saves a draft or submits."""
    expert = _session_expert(request)
    if expert is None:
        return render(request, "surveys/expert_message.html", {
            "title": _("Please open your personal link"),
            "message": _("Your session has ended or you have not opened your invitation yet. "
                         "Open the personal link from your invitation to continue; nothing you "
                         "saved is lost."),
        }, status=403)
    round_ = round_current(expert.study)
    if request.method != "POST":
        message = _("Your answers are saved.") if request.GET.get("saved") else ""
        if request.GET.get("submitted"):
            message = _("Thank you: your answers are submitted. You may revise them until the "
                        "round closes.")
        return _page(request, expert, round_, message=message)
    if round_ is None:
        return _page(request, expert, round_, status=409,
                     errors={"__all__": _("There is no round to answer.")})
    items = round_items(round_)
    answers, errors = parse_answers(request.POST, items)
    levels, expertise_errors = parse_expertise(request.POST, list(expert.study.themes.all()))
    errors |= expertise_errors
    version = request.POST.get("version", "")
    submit = request.POST.get("action") == "submit"
    if not errors:
        try:
            questionnaire_save(expert=expert, round_=round_, answers=answers, expertise=levels,
                               submit=submit,
                               expected_version=int(version) if version.isdigit() else None)
        except ServiceError as exc:
            errors = {"__all__": exc.message, **exc.field_errors}
            return _page(request, expert, round_, errors=errors, status=exc.status)
        return redirect(reverse("questionnaire") + ("?submitted=1" if submit else "?saved=1"))
    errors["__all__"] = _("Some answers need correcting; nothing was saved yet.")
    return _page(request, expert, round_, errors=errors, status=400)


@require_POST
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
    translation.activate(language)
    return _with_language(redirect(target), language)
