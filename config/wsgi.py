"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
application = get_wsgi_application()
# Import every view now (pandas and scipy with them) rather than on the first request, which
# would otherwise take seconds; with gunicorn's preload_app this happens once, before the fork.
get_resolver().url_patterns  # noqa: B018 - evaluated for its side effect
