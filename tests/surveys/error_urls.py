"""A test-only URLconf: the site's own, plus views that fail, to see the error pages."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as site


def _raises(exc):
    def view(request):
        raise exc

    return view


urlpatterns = [
    path("boom/", _raises(RuntimeError("secret detail: db password")), name="boom"),
    path("api/boom/", _raises(RuntimeError("secret detail: db password")), name="api-boom"),
    path("api/missing/", _raises(Http404("secret detail: no such study")), name="api-missing"),
    path("forbidden/", _raises(PermissionDenied("secret detail: role check")), name="forbidden"),
    path("suspicious/", _raises(SuspiciousOperation("secret detail: header")), name="suspicious"),
    *site,
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
