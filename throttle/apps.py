from django.apps import AppConfig


class ThrottleConfig(AppConfig):
    """Per-client limits on wrong tokens, kept in the cache; no models (its page and its
    Russian strings make it an app)."""

    name = "throttle"
    label = "throttle"
