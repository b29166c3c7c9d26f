"""The attacker's test of the panel's arguments: an expert who collects everything they are
shown (the page, its htmx fragments, the arguments pages and the expert API) learns no internal
id of an expert or a round, and cannot recover the order the rationales were stored in (the
order of first saves, which would line up one author's arguments across items)."""

import random
import re

import pytest
from django.core.management.color import no_style
from django.db import connection
from django.test import Client

from surveys.models import Expert, Item, Round, StakeholderGroup, Study
from surveys.services.panel import expert_create, expert_issue_token
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import small_study_data

pytestmark = pytest.mark.django_db

AUTHORS = 8
ITEMS = 30


def _distinctive_ids() -> None:
    """Make the next expert and round ids long numbers no page would show by chance."""
    pad = Study.objects.create(slug="padding", title_en="Padding")
    group = StakeholderGroup.objects.create(study=pad, code="PAD", name_en="Pad")
    Expert.objects.create(pk=7_340_001, study=pad, name="pad", email="pad@example.org",
                          group=group)
    Round.objects.create(pk=8_620_001, study=pad, number=1)
    with connection.cursor() as cursor:  # PostgreSQL's sequences follow (SQLite's already do)
        for sql in connection.ops.sequence_reset_sql(no_style(), [Expert, Round]):
            cursor.execute(sql)


def _round_two(capture):
    """Round 1 of thirty items answered by eight experts, each with an argument on every item,
    saved in the same order (author 0 first) on every item; round 2 is open."""
    _distinctive_ids()
    data = small_study_data("order")
    text = {"en": "A proposition", "ru": "Утверждение"}
    data["themes"] = [{"code": "t", "title": {"en": "T", "ru": "Т"}, "items": [
        {"code": f"i{k:02d}", "kind": "agreement", "text": text} for k in range(ITEMS)]}]
    study = study_load(data=data)
    round1 = round_open(round_=round_create(study=study))
    authors = [expert_create(study=study, name=f"A{k}", email=f"a{k}@example.org",
                             group_code=("RU", "US", "WE")[k % 3]) for k in range(AUTHORS)]
    for k, author in enumerate(authors):
        with capture(execute=True):
            response_submit(expert=author, round_=round1, answers={
                f"i{i:02d}": ItemAnswer(values={"": 1 + (k + i) % 5},
                                        rationale=f"Author {k} on i{i:02d}")
                for i in range(ITEMS)})
    with capture(execute=True):
        round_close(round_=round1)
    round2 = round_open(round_=round_create(study=study))
    reader = expert_create(study=study, name="Reader", email="reader@example.org",
                           group_code="RU")
    return study, round1, round2, reader


def _everything_seen(reader) -> tuple[list[str], dict[str, list[int]]]:
    """Every body the reader receives, and per item the authors of the arguments in the order
    the reader is shown them (the authors are known to the test, not to the reader)."""
    token = expert_issue_token(expert=reader)
    page, api = Client(), Client()
    bodies = [page.get(f"/e/{token}/").content.decode(), page.get("/q/").content.decode()]
    shown: dict[str, list[int]] = {}
    for i in range(ITEMS):
        fragment = page.get(f"/q/arguments/i{i:02d}/", HTTP_HX_REQUEST="true").content.decode()
        bodies += [fragment, page.get(f"/q/arguments/i{i:02d}/").content.decode()]
        shown[f"i{i:02d}"] = [int(k) for k in re.findall(r"Author (\d) on", fragment)]
    bodies.append(page.post("/q/autosave/", {"a-i00": "3", "a-i00.why": "", "version": "0"},
                            HTTP_HX_REQUEST="true").content.decode())
    me = api.get("/api/v1/me/", HTTP_X_INVITATION_TOKEN=token)
    bodies += [me.content.decode(), api.get("/api/v1/me/response/revisions/",
                                            HTTP_X_INVITATION_TOKEN=token).content.decode()]
    for item in me.json()["items"]:  # the API shows the page's order
        authors = [int(re.match(r"Author (\d)", r["text"])[1]) for r in item["rationales"]]
        assert authors == shown[item["code"]]
    return bodies, shown


def _kendall_tau(order: list[int]) -> float:
    """Kendall's tau between an order of authors and the storage order (0, 1, 2, ...)."""
    pairs = [(a, b) for i, a in enumerate(order) for b in order[i + 1:]]
    return sum(1 if a < b else -1 for a, b in pairs) / len(pairs)


def _undo_the_old_shuffle(shown: list[int], expert_id: int, round_id: int, item_id: int):
    """What an attacker did to the order random.Random(f"{expert}-{round}-{item}") gave."""
    positions = list(range(len(shown)))
    random.Random(f"{expert_id}-{round_id}-{item_id}").shuffle(positions)  # noqa: S311
    recovered = [0] * len(shown)
    for place, original in enumerate(positions):
        recovered[original] = shown[place]
    return recovered


def test_no_expert_or_round_id_reaches_the_expert(django_capture_on_commit_callbacks):
    study, round1, round2, reader = _round_two(django_capture_on_commit_callbacks)

    bodies, _shown = _everything_seen(reader)

    ids = {str(pk) for pk in Expert.objects.filter(study=study).values_list("pk", flat=True)}
    ids |= {str(round1.pk), str(round2.pk)}
    assert min(int(pk) for pk in ids) > 7_000_000  # the ids are distinctive
    leaked = {pk for pk in ids for body in bodies if pk in body}
    assert leaked == set()
    assert all("data-store-key" not in body or re.search(
        r'data-store-key="agora-[0-9a-f]{24}"', body) for body in bodies)


def test_the_shown_order_tells_nothing_about_the_storage_order(
        django_capture_on_commit_callbacks):
    study, _round1, round2, reader = _round_two(django_capture_on_commit_callbacks)
    items = dict(Item.objects.filter(study=study).values_list("code", "pk"))

    _bodies, shown = _everything_seen(reader)
    _again, shown_again = _everything_seen(reader)

    assert shown == shown_again  # the same order on every visit
    assert all(sorted(order) == list(range(AUTHORS)) for order in shown.values())
    as_shown = [_kendall_tau(order) for order in shown.values()]
    # Even given the true ids, the old formula does not undo the order.
    undone = [_kendall_tau(_undo_the_old_shuffle(order, reader.pk, round2.pk, items[code]))
              for code, order in shown.items()]
    # Over thirty items of eight arguments a chance order gives a mean tau within +-0.06 (sd);
    # the storage order would give 1.
    assert abs(sum(as_shown) / ITEMS) < 0.25
    assert abs(sum(undone) / ITEMS) < 0.25
    # Nor does any item's order line up with the storage order by more than chance allows.
    assert sum(tau == 1 for tau in as_shown + undone) <= 1
