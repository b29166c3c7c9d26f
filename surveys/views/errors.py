"""The platform's own error pages (400, 403, 404, 429, 500), and JSON under /api/.

They say what happened and what to do next, never why in detail: no exception text, no path
beyond the one the visitor typed, nothing that tells a stranger whether a study exists. The
language is the one LocaleMiddleware chose (the language cookie, else Accept-Language).
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

PAGE = "errors/page.html"


def _api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _json(detail: str, status: int) -> JsonResponse:
    """The API's one error shape (api/errors.py), for errors raised before DRF answers."""
    return JsonResponse({"detail": detail, "errors": {}}, status=status)


def _page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if _api(request):
        # The words api.errors.not_found answers with, for the same 404 from a plain view.
        return _json(_("Not found.") if status == 404 else title, status)
    return render(request, PAGE, {"status": status, "title": title, "message": message},
                  status=status)


@requires_csrf_token  # the page carries the language form, which needs a token
def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return _page(request, 400, _("Bad request"),
                 _("The address or the form you sent could not be understood. Go back and try "
                   "again."))


@requires_csrf_token
def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return _page(request, 403, _("Access denied"),
                 _("You may not do this here. If you think you should, ask the study's owner."))


@requires_csrf_token
def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _page(request, 404, _("Page not found"),
                 _("There is nothing at this address, or it is not open to you. Check the link, "
                   "or start again from the home page."))


@requires_csrf_token
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form (an expired session, a page left open too long): the reason stays out."""
    return _page(request, 403, _("This form has expired"),
                 _("The page was open too long or you were signed out meanwhile. Reload the page "
                   "and send the form again."))


def too_many(request: HttpRequest, *, message: str, retry_after: int | None = None) -> HttpResponse:
    """429: a rate limit or a login lockout was reached."""
    response = _page(request, 429, _("Too many attempts"), message)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def login_lockout(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked-out staff login (AXES_LOCKOUT_CALLABLE)."""
    cool_off = settings.AXES_COOLOFF_TIME  # hours
    minutes = max(1, round(cool_off * 60)) if isinstance(cool_off, int | float) else None
    return too_many(request, retry_after=minutes * 60 if minutes else None, message=_(
        "Too many failed sign-ins for this account or from your connection. Wait a while and "
        "try again, or ask an administrator to unlock the account."))


def server_error(request: HttpRequest) -> HttpResponse:
    """500 without a database or context processors: a plain template rendered with no context."""
    if _api(request):
        return _json(_("Server error."), 500)
    return HttpResponse(loader.get_template("errors/500.html").render(), status=500)
