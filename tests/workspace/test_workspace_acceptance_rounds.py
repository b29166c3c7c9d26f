"""Acceptance of planning the next round through the pages (#4): round 1's open answers on the
draft, then split, merge and add, each shown with its provenance on the draft and the item's
history."""

import pytest
from django.test import Client

from surveys.models import Item, Round
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_create
from tests.workspace_helpers import close_and_aggregate, make_experts, register_rules
from workspace.models import ItemOrigin
from workspace.services import builder
from workspace.services.rounds import round_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def aggregated1(study, organizer):
    """Round 1: 'agree' and 'agree2' split the panel (no consensus), two open answers."""
    register_rules(study, organizer, definition="combined", agree_pct=75, iqr_max=1)
    builder.item_save(study=study, theme=study.themes.get(code="one"), actor=organizer,
                      data={"code": "agree2", "kind": "agreement",
                            "text": {"en": "Second", "ru": "Второе"}})
    round_ = round_start(round_=round_create(study=study, items=list(study.items.filter(
        code__in=["agree", "agree2", "dims", "open"]))), actor=organizer)
    experts = make_experts(study, [("P1", "RU", "en"), ("P2", "US", "en"), ("P3", "WE", "en")])
    for expert, value, idea in zip(experts, [1, 3, 5], ["Ask about radars", "", "Ask about cost"],
                                   strict=True):
        response_submit(expert=expert, round_=round_, answers={
            "agree": ItemAnswer(values={"": value}), "agree2": ItemAnswer(values={"": value}),
            "dims": ItemAnswer(values={"desirability": value, "feasibility": value}),
            "open": ItemAnswer(text=idea)})
    return close_and_aggregate(round_)


def _client(user) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": user.username,
                                            "password": f"{user.username}-pw-123"}).status_code == 302
    return client


def test_split_merge_and_add_through_the_draft_page_show_where_each_item_comes_from(
        aggregated1, study, organizer):
    client = _client(organizer)
    codes = {c: study.items.get(code=c).pk for c in ("agree", "agree2", "dims")}
    plan = client.post(f"/studio/{study.slug}/rounds/plan/", {"include": list(codes.values())})
    assert plan["Location"].endswith("/rounds/2/")
    page = client.get(f"/studio/{study.slug}/rounds/2/").content.decode()
    assert "Ask about radars" in page and "Ask about cost" in page  # round 1's open answers

    base = f"/studio/{study.slug}/rounds/2/items"
    client.post(f"{base}/split/", {"item": "dims", "p1-code": "dims-a", "p1-text_en": "Part A",
                                    "p1-text_ru": "Часть А", "p2-code": "dims-b",
                                    "p2-text_en": "Part B", "p2-text_ru": "Часть Б"})
    client.post(f"{base}/merge/", {"items": ["agree", "agree2"], "code": "agree-m",
                                    "text_en": "Both", "text_ru": "Оба"})
    client.post(f"/studio/{study.slug}/build/item/", {
        "theme": "one", "code": "radars", "kind": "agreement", "text_en": "Radars matter",
        "text_ru": "Радары важны", "source_paragraph": "", "source_anchor": "", "dimensions": [],
        "min": "", "max": "", "unit_en": "", "unit_ru": "", "options": ""})
    assert Item.objects.filter(study=study, code="radars").exists(), "the builder saved nothing"
    client.post(f"{base}/add/", {"item": "radars", "source": "open", "note": "from P1's idea"})

    round2 = Round.objects.get(study=study, number=2)
    assert sorted(round2.items.values_list("code", flat=True)) == [
        "agree-m", "dims-a", "dims-b", "radars"]
    draft = client.get(f"/studio/{study.slug}/rounds/2/").content.decode()
    for line in ("Round 2: dims-a, split, derived from item dims of round 1",
                 "Round 2: dims-b, split, derived from item dims of round 1",
                 "Round 2: agree-m, merged, derived from item agree of round 1",
                 "Round 2: agree-m, merged, derived from item agree2 of round 1",
                 "Round 2: radars, added, derived from item open of round 1 · from P1&#x27;s idea"):
        assert line in draft, line
    history = client.get(f"/studio/{study.slug}/build/item/dims/history/").content.decode()
    assert "dims-a in round 2 (split)" in history and "dims-b in round 2 (split)" in history
    assert ItemOrigin.objects.filter(round=round2, relation="merged").count() == 2
    assert study.items.get(code="dims").text_en == "English text"  # the asked item is untouched
