from django.contrib import admin
from django.urls import include, path

from api.urls import account_urlpatterns
from ops import health
from surveys.views.icons import favicon

# The platform's own error pages in the site's look and the visitor's language; JSON under /api/.
handler400 = "surveys.views.errors.bad_request"
handler403 = "surveys.views.errors.permission_denied"
handler404 = "surveys.views.errors.page_not_found"
handler500 = "surveys.views.errors.server_error"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("livez", health.livez, name="livez"),
    path("favicon.ico", favicon, {"name": "favicon.ico"}, name="favicon"),
    path("favicon.svg", favicon, {"name": "favicon.svg"}, name="favicon_svg"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("account/", include(account_urlpatterns)),
    path("studio/", include("workspace.urls")),
    path("", include("surveys.urls")),
]
