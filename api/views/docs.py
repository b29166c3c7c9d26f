"""The OpenAPI schema and its Swagger UI, served from the platform itself (no CDN)."""

from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny


class SchemaView(SpectacularAPIView):
    """The schema is public: it describes paths, never data."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


# Swagger UI's own script comes from static files and its setup from a separate script URL (the
# "split" view), so the page needs no inline script; the one relaxation is Swagger UI's inline
# styles, on this page only.
@method_decorator(csp_update({"style-src": ["'unsafe-inline'"]}), name="dispatch")
class DocsView(SpectacularSwaggerSplitView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    url_name = "api-schema"
