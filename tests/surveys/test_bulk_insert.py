"""Rows inserted by COPY on PostgreSQL (answers, rationales, snapshots) read back exactly as
saved, and a broken constraint raises Django's IntegrityError, as bulk_create's would."""

import pytest
from django.db import IntegrityError, transaction

from surveys.models import Answer, Rationale
from surveys.services.bulk import rows_insert
from surveys.services.responses import ItemAnswer, response_save_draft
from tests.conftest import need_service, on_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

TRICKY = "Ключевой «довод»: \\N, a backslash \\ and a tab\there,\nand a new line"


@pytest.fixture
def draft(alice, round1):
    need_service(on_postgres(), "PostgreSQL")
    return response_save_draft(expert=alice, round_=round1, answers={
        "agree": ItemAnswer(values={"": 4}, rationale=TRICKY)})


def test_text_with_copys_special_characters_reads_back_as_saved(draft, round1):
    item = round1.study.items.get(code="open")

    rows_insert(Rationale, [Rationale(response=draft, item=item, text=TRICKY)])

    assert Rationale.objects.get(response=draft, item=item).text == TRICKY
    assert Rationale.objects.get(response=draft, item__code="agree").text == TRICKY  # via a save
    answer = Answer.objects.get(response=draft, item__code="agree")
    assert (answer.value, answer.dimension, answer.no_opinion, answer.text) == (4.0, "", False, "")


def test_a_duplicate_raises_djangos_integrity_error(draft):
    answer = Answer.objects.get(response=draft, item__code="agree")

    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert(Answer, [Answer(response=draft, item=answer.item, dimension="", value=1.0)])

    assert Answer.objects.get(response=draft, item__code="agree").value == 4.0
