"""Anonymity: nothing an analyst or an expert receives names another expert, gives their email
or a database id; analysts see stable per-study pseudonyms."""

import io
import json
import re

import pandas as pd
import pytest

from tests.api.conftest import bearer, invitation

pytestmark = pytest.mark.django_db
IDS = (7_300_001, 7_300_002, 7_300_003)  # distinctive ids: a leak cannot hide among other numbers
NAMES = ("Zelda Quorum", "Yannick Vortex", "Xenia Marlowe")


@pytest.fixture
def panel(study, django_capture_on_commit_callbacks):
    """Three experts who answered round 1 (now aggregated) and round 2 (open)."""
    from surveys.models import Expert
    from surveys.services.responses import ItemAnswer, response_submit
    from surveys.services.rounds import round_close, round_create, round_open

    groups = list(study.groups.all())
    experts = [Expert.objects.create(id=pk, study=study, name=name, email=f"x{pk}@example.org",
                                     group=groups[n]) for n, (pk, name) in enumerate(zip(IDS, NAMES,
                                                                                          strict=True))]
    round_1 = round_open(round_=round_create(study=study))
    for n, expert in enumerate(experts):
        response_submit(expert=expert, round_=round_1, answers={
            "agree": ItemAnswer(values={"": 2 + n}, rationale=f"Reason number {n}"),
            "open": ItemAnswer(text=f"Open text {n}")})
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round_1)
    round_2 = round_open(round_=round_create(study=study))
    response_submit(expert=experts[1], round_=round_2,
                    answers={"agree": ItemAnswer(values={"": 4}, rationale="Second round")})
    return experts


def secrets_of(experts) -> list[str]:
    return [mark for e in experts for mark in (e.name, e.email, str(e.pk))]


def export_text(fmt: str, content: bytes) -> str:
    """Everything a file export holds, as text."""
    if fmt in ("csv", "json"):
        return content.decode("utf-8")
    if fmt == "xlsx":
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content))
        return "\n".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True)
                         for v in row)
    if fmt == "parquet":
        return pd.read_parquet(io.BytesIO(content)).to_csv()
    import tempfile

    import pyreadstat

    with tempfile.NamedTemporaryFile(suffix=".sav") as handle:
        handle.write(content)
        handle.flush()
        frame, meta = pyreadstat.read_sav(handle.name)
    return frame.to_csv() + json.dumps(meta.column_names_to_labels, default=str)


def test_no_analyst_payload_or_export_names_an_expert(api, panel, analyst):
    from surveys.models import Collector, StakeholderGroup

    headers = bearer(analyst)
    schema = json.loads(api.get("/api/schema/", {"format": "json"}).content)
    group = StakeholderGroup.objects.get(study__slug="small", code="RU")
    Collector.objects.create(study=group.study, code="link", group=group)  # a link to read
    seen = []
    for path, item in schema["paths"].items():
        if "get" not in item or "{slug}" not in path:
            continue
        code = ("RU" if "/groups/" in path else "one" if "/themes/" in path
                else "link" if "/collectors/" in path else "agree")
        for fmt in ("csv", "json", "xlsx", "parquet", "sav") if "{fmt}" in path else ("",):
            for number in (1, 2) if "{number}" in path else (0,):
                url = re.sub(r"\{(\w+)\}", lambda m, f=fmt, n=number, c=code: str(
                    {"slug": "small", "code": c, "number": n, "fmt": f, "id": IDS[0],
                     "pk": IDS[0]}[m.group(1)]), path)
                response = api.get(url, **headers)
                if "{id}" in path or "{pk}" in path or "analyst" not in item["get"]["x-roles"]:
                    # analysts address no expert by id, nor read the send log or audit log
                    assert response.status_code == 404, url
                    continue
                assert response.status_code == 200, (url, response.status_code)
                seen.append(url)
                text = export_text(fmt, response.content) if fmt else response.content.decode()
                leaks = [mark for mark in secrets_of(panel) if mark in text]
                assert leaks == [], (url, leaks)
    assert len(seen) >= 15


def test_analysts_see_stable_pseudonyms_in_pseudonym_order(api, panel, analyst):
    from surveys.pseudonyms import expert_pseudonym

    headers = bearer(analyst)
    first = api.get("/api/v1/studies/small/experts/", **headers).json()["results"]
    again = api.get("/api/v1/studies/small/experts/", **headers).json()["results"]
    assert first == again
    names = [row["pseudonym"] for row in first]
    assert names == sorted(names)
    assert set(names) == {expert_pseudonym(study_id=e.study_id, expert_id=e.pk) for e in panel}
    assert all(set(row) == {"pseudonym", "group", "withdrawn"} for row in first)


def test_an_expert_sees_nothing_of_the_others(api, panel):
    me = panel[1]
    headers = invitation(me)
    others = secrets_of([e for e in panel if e != me])
    for url in ("/api/v1/me/", "/api/v1/me/response/revisions/"):
        text = api.get(url, **headers).content.decode()
        assert [mark for mark in others if mark in text] == [], url
    feedback = api.get("/api/v1/me/", **headers).json()["items"][0]["feedback"]
    assert feedback and feedback[0]["n"] == 3 and feedback[0]["own_previous"] == 3.0


def test_an_expert_reads_the_panels_rationales_marked_only_by_position(api, panel):
    """As on the questionnaire page: the others' rationales of round 1 with the answer each
    argues, one's own left out, in an order of one's own; no name, email or id comes with them."""
    headers = invitation(panel[1])
    first = api.get("/api/v1/me/", **headers).json()
    agree = next(item for item in first["items"] if item["code"] == "agree")
    assert sorted((r["position"], r["text"]) for r in agree["rationales"]) == [
        ("Agree (4)", "Reason number 2"), ("Disagree (2)", "Reason number 0")]
    assert all(set(r) == {"position", "text"} for r in agree["rationales"])
    again = api.get("/api/v1/me/", **headers).json()
    assert again["items"] == first["items"]  # the same order on every read
    others = secrets_of([e for e in panel if e != panel[1]])
    assert [mark for mark in others if mark in json.dumps(first)] == []
    without = next(item for item in first["items"] if item["code"] == "prob")
    assert without["rationales"] == [] and without["feedback"] == []  # nobody argued it


def test_rationales_wait_for_ones_own_answer_when_the_study_asks_it(api, panel, study):
    from surveys.models import Study

    Study.objects.filter(pk=study.pk).update(answer_before_feedback=True)
    headers = invitation(panel[0])  # has not answered round 2 yet
    agree = next(i for i in api.get("/api/v1/me/", **headers).json()["items"]
                 if i["code"] == "agree")
    assert agree["rationales"] == [] and agree["feedback"] == []
    api.put("/api/v1/me/response/", {"answers": {"agree": {"values": {"": 3}}}, "version": 0},
            format="json", **headers)
    agree = next(i for i in api.get("/api/v1/me/", **headers).json()["items"]
                 if i["code"] == "agree")
    assert sorted(r["text"] for r in agree["rationales"]) == ["Reason number 1",
                                                              "Reason number 2"]
    assert agree["feedback"][0]["n"] == 3


def test_organizers_do_see_who_is_on_their_panel(api, panel, organizer):
    text = api.get("/api/v1/studies/small/experts/", **bearer(organizer)).content.decode()
    assert all(name in text for name in NAMES)
