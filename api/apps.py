from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    """The public REST API, personal API tokens, idempotency keys and response revisions."""

    name = "api"
    label = "api"
    verbose_name = _("API and security")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from api import schema  # noqa: F401 - registers the OpenAPI extensions for our auth classes
