from django.contrib import admin
from django.urls import include, path

from surveys.views import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("livez", health.livez, name="livez"),
    path("admin/", admin.site.urls),
    path("", include("surveys.urls")),
]
