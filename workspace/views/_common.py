"""What every workspace view shares: running a service and showing its message."""

import secrets

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from surveys.errors import ServiceError, StudyFileError


def run(request, service, /, **kwargs):
    """Call the service; on a ServiceError show its message (and problems) and return None."""
    try:
        return service(**kwargs)
    except StudyFileError as exc:
        messages.error(request, exc.message + ": " + "; ".join(exc.problems))
    except ServiceError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.field_errors.items())
        messages.error(request, exc.message + (f" ({details})" if details else ""))
    return None


def back(name: str, *args, anchor: str = ""):
    return redirect(reverse(name, args=args) + (f"#{anchor}" if anchor else ""))


def nonce() -> str:
    """A one-time key a form carries, so a double click or a replayed post acts only once."""
    return secrets.token_urlsafe(16)


def confirmation(request, *, study, title: str, lines: list[str], button: str, back_to: str):
    """The page that asks before an irreversible action, unless the form says it was asked
    (confirm=1: the page's own form, or the dialog confirm.js shows). The same fields go back."""
    if request.POST.get("confirm") == "1":
        return None
    fields = [(k, v) for k, values in request.POST.lists() for v in values
              if k not in {"csrfmiddlewaretoken", "confirm"}]
    return render(request, "workspace/confirm.html", {
        "study": study, "title": title, "lines": lines, "button": button, "fields": fields,
        "action": request.path, "back": back_to})
