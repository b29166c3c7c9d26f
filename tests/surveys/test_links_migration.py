"""Upgrading keeps every link that worked: an expert's single token becomes their first link."""

import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("surveys", "0007_verdicts")


def _migrate(target=None):
    """Migrate to the target (default: every app's latest) and return the models as they were."""
    executor = MigrationExecutor(connection)
    targets = [target] if target else executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def test_a_link_issued_before_the_upgrade_still_opens_after_it(study):
    old = _migrate(BEFORE)
    try:
        group = old.get_model("surveys", "StakeholderGroup").objects.get(study_id=study.pk, code="RU")
        token = "a-link-mailed-before-the-upgrade"
        old.get_model("surveys", "Expert").objects.create(
            study_id=study.pk, group=group, name="Alice", email="alice@example.org",
            token_hash=hashlib.sha256(token.encode()).hexdigest())
    finally:
        new = _migrate()
    assert new.get_model("surveys", "ExpertLink").objects.count() == 1
    assert Client().get(f"/e/{token}/").status_code == 302
