"""The floors of bench/load.py --floors: the cheapest requests of each kind the expert's steps
must at least make, served by the same gunicorn as the real pages (not a test, not deployed).

    session   GET: the session is read (the expert's identity), nothing else
    write     GET: the session is read and the expert's round-1 response row is updated once,
              committed (one durable write: the least an autosave or a submit does)

Served in front of the platform's URLs through bench/floor_settings.py.
"""

from django.db import connection
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.cache import never_cache


@never_cache
def session(request):
    return HttpResponse(f"{request.session.get('expert_id')}\n", content_type="text/plain")


@never_cache
def write(request):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE surveys_response SET updated_at = now() WHERE expert_id = %s AND "
                       "round_id = (SELECT min(id) FROM surveys_round)", [request.session["expert_id"]])
        return HttpResponse(f"{cursor.rowcount}\n", content_type="text/plain")


urlpatterns = [
    path("floor/session/", session),
    path("floor/write/", write),
    path("", include("config.urls")),
]
