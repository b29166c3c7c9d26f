from django.contrib import admin
from django.urls import include, path

from api.urls import account_urlpatterns
from ops import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("livez", health.livez, name="livez"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("account/", include(account_urlpatterns)),
    path("studio/", include("workspace.urls")),
    path("", include("surveys.urls")),
]
