"""Exports: every format read back equals what was written, under pseudonyms, formulas inert."""

import io
import json
import math
import re

import pandas as pd
import pytest
from openpyxl import load_workbook

from surveys.exports import (
    export_bytes,
    export_long,
    neutralize_frame,
    study_archive,
)
from surveys.models import Round
from surveys.pseudonyms import expert_pseudonym
from surveys.reports.office import NO_OPINION_TEXT, workbook_rows
from surveys.reports.spss import sav_frame
from surveys.services.panel import expert_create, expertise_save
from surveys.services.responses import ItemAnswer, response_save_draft, response_submit
from surveys.services.rounds import round_close
from surveys.services.studies import study_file_check, study_load
from tests.conftest import small_study_data

FORMULA = '=HYPERLINK("http://evil.invalid","click")'


@pytest.fixture
def answered(study, round1, alice, bob, django_capture_on_commit_callbacks):
    """Round 1 answered by Alice (RU) and Bob (US), with a formula in a rationale; closed."""
    carol = expert_create(study=study, name="Carol", email="carol@example.org", group_code="WE")
    response_submit(expert=alice, round_=round1, answers={
        "agree": ItemAnswer(values={"": 2}, rationale=FORMULA),
        "dims": ItemAnswer(values={"desirability": 5, "feasibility": 1}),
        "prob": ItemAnswer(values={"": 35.5}),
        "open": ItemAnswer(text="@SUM(A1:A9)"),
    })
    response_submit(expert=bob, round_=round1, answers={
        "agree": ItemAnswer(no_opinion=True), "year": ItemAnswer(values={"": 2040}),
        "rank": ItemAnswer(values={"a": 2, "b": 1, "c": 3}, rationale="Plain words."),
    })
    response_save_draft(expert=carol, round_=round1, answers={"agree": ItemAnswer(values={"": 5})})
    expertise_save(expert=alice, levels={study.themes.get(code="one").pk: 4})
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round1)
    return study


def names(study, *experts):
    return [expert_pseudonym(study_id=study.pk, expert_id=e.pk) for e in experts]


def test_pseudonyms_are_stable_keyed_and_per_study(study, alice, settings):
    first = expert_pseudonym(study_id=study.pk, expert_id=alice.pk)
    assert re.fullmatch(r"P-[0-9a-f]{10}", first)
    assert expert_pseudonym(study_id=study.pk, expert_id=alice.pk) == first
    assert expert_pseudonym(study_id=study.pk + 1, expert_id=alice.pk) != first
    settings.PSEUDONYM_KEY = "another-key-" + "y" * 40
    assert expert_pseudonym(study_id=study.pk, expert_id=alice.pk) != first


def test_the_long_export_holds_the_answers_under_pseudonyms(answered, alice, bob):
    long = export_long(answered)
    p_alice, p_bob = names(answered, alice, bob)
    assert set(long["expert"]) == {p_alice, p_bob}  # Carol's draft is not exported
    agree = long.loc[long["item"] == "agree"].set_index("expert")
    assert agree.loc[p_alice, "value"] == 2 and agree.loc[p_alice, "group"] == "RU"
    assert math.isnan(agree.loc[p_bob, "value"]) and agree.loc[p_bob, "no_opinion"] == 1
    assert agree.loc[p_alice, "rationale"] == FORMULA
    dims = long.loc[long["item"] == "dims"]
    assert list(zip(dims["dimension"], dims["value"], strict=True)) == [
        ("desirability", 5), ("feasibility", 1)]
    rank = long.loc[long["item"] == "rank"]
    assert dict(zip(rank["dimension"], rank["value"], strict=True)) == {"a": 2, "b": 1, "c": 3}
    assert "open" not in set(long["item"])  # open text goes to the texts table
    assert list(long["item"].drop_duplicates()) == ["agree", "dims", "prob", "year", "rank"]


@pytest.mark.parametrize("fmt", ["csv", "texts-csv", "xlsx", "parquet", "texts-parquet", "sav",
                                 "sav-ru", "json"])
def test_no_export_contains_a_name_an_email_or_an_expert_id(answered, alice, bob, fmt):
    data = export_bytes(answered, fmt)
    for secret in (b"Alice", b"alice@example.org", b"Bob", b"bob@example.org", b"Carol"):
        assert secret not in data
    if fmt in {"csv", "texts-csv", "json"}:
        text = data.decode()
        assert f"E{alice.pk}," not in text and f'"E{alice.pk}"' not in text
        assert names(answered, alice)[0] in text


def test_csv_reads_back_equal_with_formulas_neutralized(answered):
    data = export_bytes(answered, "csv")
    back = pd.read_csv(io.BytesIO(data), keep_default_na=False,
                       na_values={"value": [""], "pre_feedback_value": [""]},
                       dtype={"dimension": str, "group": str, "rationale": str})
    expected = neutralize_frame(export_long(answered))
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    assert ("'" + FORMULA) in set(back["rationale"])
    assert not back["rationale"].str.startswith(("=", "+", "-", "@")).any()


def test_neutralizing_covers_headers_and_every_dangerous_first_character():
    frame = pd.DataFrame({"=cmd": ["=1+1", "+1", "-1", "@A1", "\tx", "\rx", "ok", "a=b"]})
    out = neutralize_frame(frame)
    assert list(out.columns) == ["'=cmd"]
    assert list(out["'=cmd"]) == ["'=1+1", "'+1", "'-1", "'@A1", "'\tx", "'\rx", "ok", "a=b"]


def test_xlsx_has_a_sheet_per_round_and_a_codebook_and_reads_back_equal(answered, alice, bob):
    book = load_workbook(io.BytesIO(export_bytes(answered, "xlsx")))
    written = workbook_rows(answered)
    assert book.sheetnames == ["Round 1", "Codebook", "Texts", "Rules", "Participation",
                               "Verdicts"]
    for title, rows in written.items():
        assert [list(r) for r in book[title].iter_rows(values_only=True)] == rows
    header, *body = written["Round 1"]
    assert header[:2] == ["expert", "group"]
    assert header[2:] == ["agree", "dims/desirability", "dims/feasibility", "prob", "year",
                          "rank/a", "rank/b", "rank/c"]
    by_expert = {row[0]: row for row in body}
    p_alice, p_bob = names(answered, alice, bob)
    assert by_expert[p_alice][2:5] == [2, 5, 1] and by_expert[p_alice][6] is None
    assert by_expert[p_bob][2] == NO_OPINION_TEXT
    texts = {(r[0], r[4]): r[5] for r in written["Texts"][1:]}
    assert texts[(p_alice, "answer")] == "'@SUM(A1:A9)"
    assert texts[(p_alice, "rationale")] == "'" + FORMULA
    # No cell anywhere is a live formula.
    assert all(cell.data_type != "f" for sheet in book for row in sheet.iter_rows() for cell in row)
    codebook = {row[0]: row for row in written["Codebook"][1:]}
    assert codebook["agree"][-1].startswith("1 = Strongly disagree; ")
    assert codebook["prob"][-1] == "0 to 100 %; no opinion"
    assert codebook["rank/a"][-1] == "rank 1 (first) to 3; no opinion"


def test_organizer_text_starting_with_a_formula_is_inert_in_the_codebook(db):
    data = small_study_data("formula")
    data["themes"][0]["items"][0]["text"]["en"] = "=1+2"
    study = study_load(data=data)
    from surveys.services.rounds import round_create, round_open

    round_ = round_open(round_=round_create(study=study))
    expert = expert_create(study=study, name="Dan", email="dan@example.org", group_code="RU")
    response_submit(expert=expert, round_=round_, answers={"agree": ItemAnswer(values={"": 3})})
    codebook = workbook_rows(study)["Codebook"]
    assert codebook[1][5] == "'=1+2"


def test_parquet_reads_back_equal(answered):
    back = pd.read_parquet(io.BytesIO(export_bytes(answered, "parquet")))
    pd.testing.assert_frame_equal(back, export_long(answered), check_dtype=False)
    assert back["value"].dtype == "float64"


def test_sav_reads_back_equal_with_labels_and_no_opinion_as_user_missing(answered, alice, bob, tmp_path):
    import pyreadstat

    path = tmp_path / "export.sav"
    path.write_bytes(export_bytes(answered, "sav"))
    back, meta = pyreadstat.read_sav(str(path), user_missing=True)
    table, labels, value_labels, missing = sav_frame(answered)
    # SPSS stores doubles: compare numbers as float and text as str.
    pd.testing.assert_frame_equal(back.astype({"expert": str, "group": str}), table, check_dtype=False)
    assert list(back.columns) == ["expert", "group", "r1_agree", "r1_dims_desirability",
                                  "r1_dims_feasibility", "r1_prob", "r1_year", "r1_rank_a",
                                  "r1_rank_b", "r1_rank_c"]
    assert meta.column_names_to_labels == labels
    assert meta.column_names_to_labels["r1_agree"] == "Round 1, agree: English text"
    assert meta.variable_value_labels == value_labels
    assert meta.variable_value_labels["r1_agree"][5.0] == "Strongly agree"
    assert meta.variable_value_labels["r1_dims_feasibility"][1.0] == "Definitely infeasible"
    assert meta.missing_ranges["r1_agree"] == [{"lo": -9.0, "hi": -9.0}]
    row = back.set_index("expert").loc[names(answered, bob)[0]]
    assert row["r1_agree"] == -9 and row["r1_year"] == 2040 and math.isnan(row["r1_prob"])


def test_json_archive_reads_back_equal_and_its_definition_loads_again(answered, alice):
    data = json.loads(export_bytes(answered, "json"))
    expected = study_archive(answered)
    assert {k: v for k, v in data.items() if k != "exported_at"} == {
        k: v for k, v in expected.items() if k != "exported_at"}
    assert data["format"] == "agora-delphi-archive"
    assert study_file_check(data["study"]) == []
    assert [r["number"] for r in data["rounds"]] == [1]
    assert data["rounds"][0]["status"] == Round.Status.AGGREGATED
    p_alice = names(answered, alice)[0]
    assert {"expert": p_alice, "theme": "one", "level": 4} in data["expertise"]
    panel = next(a for a in data["aggregates"] if (a["item"], a["group"]) == ("agree", ""))
    # One valid answer (Alice's 2) and one no-opinion (Bob).
    assert (panel["n"], panel["no_opinion"], panel["median"]) == (1, 1, 2)
    copy = dict(data["study"], slug="formula-copy")
    assert study_load(data=copy).items.count() == 6


def test_export_pages_serve_members_and_hide_the_study_from_others(client, answered, analyst, outsider):
    client.force_login(analyst)
    response = client.get(f"/studies/{answered.slug}/export/xlsx/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(f'attachment; filename="{answered.slug}-')
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client.get(f"/studies/{answered.slug}/export/exe/").status_code == 404
    client.force_login(outsider)
    assert client.get(f"/studies/{answered.slug}/export/csv/").status_code == 404
    assert client.get("/studies/no-such-study/export/csv/").status_code == 404


def test_the_export_command_writes_the_long_csv(answered, tmp_path):
    from django.core.management import call_command

    path = tmp_path / "study.csv"
    call_command("export_study", study=answered.slug, format="csv", output=str(path))
    assert path.read_bytes() == export_bytes(answered, "csv")
