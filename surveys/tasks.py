"""Celery tasks: thin, idempotent, and given ids only."""

from celery import shared_task
from django.db import OperationalError

from surveys.services.aggregation import round_aggregate


@shared_task(acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def aggregate_round(round_id: int) -> int:
    """Aggregate a closed round; safe to run twice or after a crash."""
    return round_aggregate(round_id=round_id)
