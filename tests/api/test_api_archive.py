"""export_study / import_study: a complete archive, and a round trip that leaves every row equal."""

import gzip
import json

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from api.services.archive import SPECS, study_export_archive
from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich_study(study, owner, organizer, analyst, alice, bob, settings,
               django_capture_on_commit_callbacks):
    """Every kind of row: two rounds, a chunked aggregation, drafts, submits, revisions,
    expertise, rationales, open texts, a withdrawn expert and the audit trail."""
    from surveys.services import responses as revisions
    from surveys.services.panel import expert_create, expert_issue_token, expertise_save
    from surveys.services.responses import ItemAnswer
    from surveys.services.rounds import round_close, round_create, round_open
    from workspace.services.panel import expert_withdraw

    settings.AGGREGATION_CHUNK_ANSWERS = 3  # a chunked run, so chunk rows exist too
    # Answer before the group: the first rated answers are kept as given before the feedback.
    type(study).objects.filter(pk=study.pk).update(answer_before_feedback=True)
    study.refresh_from_db()
    carl = expert_create(study=study, name="Carl", email="carl@example.org", group_code="WE")
    expert_issue_token(expert=alice)
    themes = dict(study.themes.values_list("code", "pk"))
    expertise_save(expert=alice, levels={themes["one"]: 4, themes["two"]: 2})
    round_1 = round_open(round_=round_create(study=study))
    full = {"agree": ItemAnswer(values={"": 4}, rationale="=SUM(A1)"),
            "dims": ItemAnswer(values={"desirability": 5, "feasibility": 2}),
            "prob": ItemAnswer(values={"": 12.5}), "year": ItemAnswer(no_opinion=True),
            "rank": ItemAnswer(values={"a": 2, "b": 1, "c": 3}),
            "open": ItemAnswer(text="Ещё «текст»\\nна две строки")}
    for expert in (alice, bob):
        revisions.response_submit(expert=expert, round_=round_1, answers=full)
    revisions.response_submit(expert=alice, round_=round_1,
                              answers={"agree": ItemAnswer(values={"": 2}, rationale="Revised")})
    revisions.response_save_draft(expert=carl, round_=round_1,
                                  answers={"agree": ItemAnswer(values={"": 1})})
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round_1, actor=organizer)
    round_open(round_=round_create(study=study, actor=organizer))
    expert_withdraw(expert=carl, actor=organizer)
    # The arguments a Real-Time run publishes (this study is classic: one made by hand).
    from surveys.feedback import arguments_read
    from surveys.models import LiveArguments
    LiveArguments.objects.create(run=round_1.aggregation_runs.get(),
                                 arguments={str(k): v for k, v in arguments_read(round_1).items()})
    _survey_rows(study, alice)
    return study


def _survey_rows(study, alice) -> None:
    """A consent text, a collector with two respondents (no email), a Delphi expert's consent."""
    from surveys.models import Collector, ConsentText
    from surveys.services.fielding import entry_start, expert_consent

    ConsentText.objects.create(study=study, version="v1", text_en="Consent.", text_ru="Согласие.")
    collector = Collector.objects.create(study=study, code="open", group=study.groups.first(),
                                         quota=10)
    for key in ("browser-one", "browser-two"):
        entry_start(collector=collector, browser_key=key, external_id=key, language="en")
    expert_consent(expert=alice, version="v1", agree=True)


def counts(study) -> dict[str, int]:
    archive = study_export_archive(study=study)
    return {label: len(rows) for label, rows in archive["tables"].items()}


def purge(study) -> None:
    """Remove every row of the study, answers first (nothing cascades into them)."""
    for label, path, _key in reversed(SPECS):
        apps.get_model(label).objects.filter(**{path: study.pk}).delete()


def test_the_archive_holds_every_kind_of_row(rich_study):
    got = counts(rich_study)
    assert all(got[label.lower()] > 0 for label, _p, _k in SPECS), got
    assert got["surveys.aggregationchunk"] >= 2 and got["surveys.responserevision"] == 3


def test_a_round_trip_leaves_every_row_equal(rich_study, tmp_path):
    path = tmp_path / "small.json"
    call_command("export_study", "--study", "small", "--format", "backup", "-o", str(path))
    before = json.loads(path.read_text(encoding="utf-8"))
    purge(rich_study)
    assert not apps.get_model("surveys.Study").objects.filter(slug="small").exists()
    path.write_bytes(gzip.compress(path.read_bytes()))  # a gzipped archive reads the same
    call_command("import_study", str(path))
    restored = apps.get_model("surveys.Study").objects.get(slug="small")
    after = study_export_archive(study=restored)
    for label in before["tables"]:
        assert after["tables"][label] == before["tables"][label], label
    assert after == before


def test_a_restored_study_works(rich_study, tmp_path, api):
    from surveys.models import Expert

    path = tmp_path / "small.json"
    call_command("export_study", "--study", "small", "--format", "backup", "-o", str(path))
    purge(rich_study)
    call_command("import_study", str(path))
    olga = apps.get_model("auth.User").objects.get(username="olga")
    report = api.get("/api/v1/studies/small/report/", **bearer(olga)).json()
    assert report["latest_aggregated_round"] == 1 and report["results"]
    alice = Expert.objects.get(study__slug="small", email="alice@example.org")
    assert alice.responses.get(round__number=1).revisions.count() == 2


def test_an_archive_from_before_revisions_moved_to_surveys_still_imports(rich_study, tmp_path):
    from surveys.models import Expert

    path = tmp_path / "small.json"
    call_command("export_study", "--study", "small", "--format", "backup", "-o", str(path))
    archive = json.loads(path.read_text(encoding="utf-8"))
    archive["tables"]["api.responserevision"] = archive["tables"].pop("surveys.responserevision")
    path.write_text(json.dumps(archive), encoding="utf-8")
    purge(rich_study)

    call_command("import_study", str(path))

    alice = Expert.objects.get(study__slug="small", email="alice@example.org")
    assert alice.responses.get(round__number=1).revisions.count() == 2


def test_an_import_under_another_slug_is_a_copy(rich_study, tmp_path):
    path = tmp_path / "small.json"
    call_command("export_study", "--study", "small", "--format", "backup", "-o", str(path))
    call_command("import_study", str(path), "--slug", "small-copy")
    copy = apps.get_model("surveys.Study").objects.get(slug="small-copy")
    original, copied = study_export_archive(study=rich_study), study_export_archive(study=copy)
    copied["tables"]["surveys.study"][0]["slug"] = "small"
    assert original["tables"]["surveys.expertlink"]
    original["tables"]["surveys.expertlink"] = []  # the copy does not take over the original's links
    # nor the open links of its collectors: new tokens
    tokens = [row.pop("token") for rows in (original, copied)
              for row in rows["tables"]["surveys.collector"]]
    assert len(set(tokens)) == len(tokens) == 2
    assert copied["tables"] == original["tables"]


def test_an_import_changes_nothing_when_it_cannot_finish(rich_study, tmp_path):
    path = tmp_path / "small.json"
    call_command("export_study", "--study", "small", "--format", "backup", "-o", str(path))
    with pytest.raises(CommandError, match="exists"):
        call_command("import_study", str(path))
    archive = json.loads(path.read_text())
    archive["tables"]["surveys.answer"][0]["item"] = ["no-such-item"]
    path.write_text(json.dumps(archive))
    before = apps.get_model("surveys.Study").objects.count()
    with pytest.raises(CommandError, match="inconsistent"):
        call_command("import_study", str(path), "--slug", "broken")
    assert apps.get_model("surveys.Study").objects.count() == before
    with pytest.raises(CommandError, match="agora-delphi-backup"):
        path.write_text(json.dumps({"format": "something else"}))
        call_command("import_study", str(path))


def test_members_without_an_account_get_one_without_a_password(rich_study, tmp_path):
    path = tmp_path / "small.json"
    call_command("export_study", "--study", "small", "--format", "backup", "-o", str(path))
    purge(rich_study)
    apps.get_model("surveys.AggregationRun").objects.update(requested_by=None)
    apps.get_model("auth.User").objects.filter(username="anna").delete()
    call_command("import_study", str(path))
    anna = apps.get_model("auth.User").objects.get(username="anna")
    assert not anna.has_usable_password() and anna.studymember_set.get().role == "analyst"
