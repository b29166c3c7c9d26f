"""The Celery application; tasks are Django-aware so they can be enqueued on commit."""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("agora", task_cls="celery.contrib.django.task:DjangoTask")


app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _log_like_django(**_kwargs) -> None:
    """Workers and beat log through Django's LOGGING (JSON lines with the task id), whatever
    --loglevel says: a receiver here keeps Celery from installing handlers and levels of its own."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
