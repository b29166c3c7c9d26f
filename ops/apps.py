from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: health checks for monitoring and load balancers; no models."""

    name = "ops"
    label = "ops"
