"""The OpenAPI schema and its Swagger UI, served from the platform itself (no CDN).

Swagger UI's scripts come from drf-spectacular-sidecar's static files and its setup from a
separate script URL (the "split" view); our template drops the page's inline <style>. So the
page runs under the site's own Content-Security-Policy, without 'unsafe-inline'.
"""

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny


class SchemaView(SpectacularAPIView):
    """The schema is public: it describes paths, never data."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


class DocsView(SpectacularSwaggerSplitView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    url_name = "api-schema"
    template_name = "api/swagger_ui.html"
