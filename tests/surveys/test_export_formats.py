"""Exports that open cleanly in SPSS, R and Excel: measure levels and labels in the .sav (English
and Russian), the open texts beside the CSV and Parquet tables, the XLSX's Rules sheet, frozen
headers and widths, and a web archive that import_study reads back."""

import io
import json

import pandas as pd
import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from surveys.exports import export_bytes, export_texts, study_archive
from surveys.models import Answer, Expert, Rationale, Study
from surveys.pseudonyms import expert_pseudonym
from surveys.services.panel import expertise_save
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_close


@pytest.fixture
def answered(study, round1, alice, bob, django_capture_on_commit_callbacks):
    """Round 1 answered by Alice (RU) and Bob (US), with open texts and rationales; closed."""
    response_submit(expert=alice, round_=round1, answers={
        "agree": ItemAnswer(values={"": 2}, rationale="Because."),
        "dims": ItemAnswer(values={"desirability": 5, "feasibility": 1}),
        "prob": ItemAnswer(values={"": 35.5}),
        "open": ItemAnswer(text="An open answer."),
    })
    response_submit(expert=bob, round_=round1, answers={
        "agree": ItemAnswer(no_opinion=True), "year": ItemAnswer(values={"": 2040}),
        "rank": ItemAnswer(values={"a": 2, "b": 1, "c": 3}, rationale="Plain words."),
    })
    expertise_save(expert=alice, levels={study.themes.get(code="one").pk: 4})
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round1)
    return study


def read_sav(study, fmt, tmp_path):
    import pyreadstat

    path = tmp_path / f"{fmt}.sav"
    path.write_bytes(export_bytes(study, fmt))
    return pyreadstat.read_sav(str(path), user_missing=True)


def test_the_sav_file_declares_measure_levels_and_integer_formats(answered, tmp_path):
    _back, meta = read_sav(answered, "sav", tmp_path)
    assert meta.variable_measure == {
        "expert": "nominal", "group": "nominal", "r1_agree": "ordinal",
        "r1_dims_desirability": "ordinal", "r1_dims_feasibility": "ordinal", "r1_prob": "scale",
        "r1_year": "scale", "r1_rank_a": "ordinal", "r1_rank_b": "ordinal", "r1_rank_c": "ordinal"}
    formats = meta.original_variable_types
    assert formats["r1_agree"] == "F2.0" and formats["r1_rank_a"] == "F2.0"
    assert formats["r1_year"] == "F4.0" and formats["r1_prob"] == "F8.2"


def test_every_coded_sav_variable_has_value_labels(answered, tmp_path):
    _back, meta = read_sav(answered, "sav", tmp_path)
    labels = meta.variable_value_labels
    assert labels["group"] == {"RU": "Russia", "US": "United States", "WE": "Western Europe"}
    assert labels["r1_agree"][1.0] == "Strongly disagree" and labels["r1_agree"][-9.0] == "No opinion"
    assert labels["r1_rank_a"] == {1.0: "1 (first)", 2.0: "2", 3.0: "3 (last)", -9.0: "No opinion"}


def test_ranking_variables_are_labelled_with_the_option_texts(answered, tmp_path):
    _back, meta = read_sav(answered, "sav", tmp_path)
    assert meta.column_names_to_labels["r1_rank_b"] == (
        "Round 1, rank/b: English text (rank of: Option B)")
    assert meta.column_names_to_labels["group"] == "Stakeholder group"


def test_the_russian_sav_file_is_labelled_in_russian(answered, tmp_path):
    back, meta = read_sav(answered, "sav-ru", tmp_path)
    labels = meta.column_names_to_labels
    assert labels["r1_agree"] == "Тур 1, agree: Русский текст"
    assert labels["r1_rank_b"] == "Тур 1, rank/b: Русский текст (место варианта: Вариант Б)"
    assert labels["group"] == "Группа заинтересованных сторон"
    values = meta.variable_value_labels
    assert values["group"]["RU"] == "Россия"
    assert values["r1_agree"][5.0] == "Полное согласие" and values["r1_agree"][-9.0] == "Нет мнения"
    assert values["r1_rank_a"][1.0] == "1 (первое место)"
    assert meta.variable_measure["r1_agree"] == "ordinal"
    english, _meta = read_sav(answered, "sav", tmp_path)
    pd.testing.assert_frame_equal(back, english)  # the same data, other labels


def test_the_export_command_writes_a_sav_file_in_the_language_asked(answered, tmp_path):
    import pyreadstat

    path = tmp_path / "ru.sav"
    call_command("export_study", study=answered.slug, format="sav", language="ru", output=str(path))
    _back, meta = pyreadstat.read_sav(str(path))
    assert meta.column_names_to_labels["r1_agree"] == "Тур 1, agree: Русский текст"


@pytest.mark.parametrize("fmt", ["texts-csv", "texts-parquet"])
def test_the_open_texts_have_a_csv_and_a_parquet_table(answered, alice, bob, fmt):
    data = export_bytes(answered, fmt)
    texts = (pd.read_csv(io.BytesIO(data), keep_default_na=False, dtype={"group": str})
             if fmt == "texts-csv" else pd.read_parquet(io.BytesIO(data)))
    p_alice = expert_pseudonym(study_id=answered.pk, expert_id=alice.pk)
    p_bob = expert_pseudonym(study_id=answered.pk, expert_id=bob.pk)
    assert set(zip(texts["expert"], texts["item"], texts["type"], texts["text"], strict=True)) == {
        (p_alice, "open", "answer", "An open answer."), (p_alice, "agree", "rationale", "Because."),
        (p_bob, "rank", "rationale", "Plain words.")}
    assert list(texts.columns) == list(export_texts(answered).columns)
    # The long table beside it keeps its columns, for the scripts that read it.
    header = export_bytes(answered, "csv").decode().splitlines()[0]
    assert header == ("expert,group,round,item,dimension,kind,value,no_opinion,rationale,"
                      "pre_feedback_value")


def test_the_xlsx_has_a_rules_sheet_frozen_headers_and_column_widths(answered):
    book = load_workbook(io.BytesIO(export_bytes(answered, "xlsx")))
    rules = [list(r) for r in book["Rules"].iter_rows(values_only=True)]
    assert rules[0] == ["part", "revision", "date", "rule", "reason"]
    assert rules[1][:2] == ["not registered: the defaults in force", 0]
    assert "75" in rules[1][3]  # the default consensus rule, as a sentence
    assert "Rule fields" not in book.sheetnames  # nothing registered: no fields to read
    assert book["Round 1"].freeze_panes == "C2"
    assert book["Codebook"].freeze_panes == "A2" and book["Texts"].freeze_panes == "A2"
    widths = book["Codebook"].column_dimensions
    assert widths["A"].width >= len("dims/desirability") and widths["F"].width <= 60


def test_the_xlsx_rules_sheet_holds_the_registered_revision(answered, organizer, tmp_path):
    from analysis.exported import rules_or_default
    from workspace.services.rules import rule_register

    rule_register(study=answered, actor=organizer, reason="The panel asked for a stricter threshold.",
                  agree_pct=80, iqr_max=1)
    book = load_workbook(io.BytesIO(export_bytes(answered, "xlsx")))
    rules = [list(r) for r in book["Rules"].iter_rows(values_only=True)]
    assert rules[1][0] == "registered rule" and rules[1][1] >= 1
    assert any("80" in str(r[3]) for r in rules[1:])
    assert book["Rules"].freeze_panes == "A2"
    assert book["Rules"].column_dimensions["D"].width > len("rule")
    # The same rule as (field, value) rows, which the notebooks read: the verdicts they judge
    # are under the study's rule, not a default.
    fields = dict(list(r) for r in book["Rule fields"].iter_rows(min_row=2, values_only=True))
    assert fields["agree_pct"] == 80 and fields["iqr_max"] == 1
    path = tmp_path / "study.xlsx"
    path.write_bytes(export_bytes(answered, "xlsx"))
    rules_read, where = rules_or_default(path)
    assert rules_read["agree_pct"] == 80 and where == "registered rule read from study.xlsx"


def counts(study: Study) -> dict:
    archive = study_archive(study)
    return {key: len(archive[key]) for key in
            ("rounds", "experts", "expertise", "answers", "texts", "aggregates")}


def test_the_web_archive_imports_with_import_study_and_round_trips(answered, client, analyst,
                                                                   tmp_path):
    client.force_login(analyst)
    response = client.get(f"/studies/{answered.slug}/export/json/")
    path = tmp_path / "archive.json"
    path.write_bytes(response.content)
    out = io.StringIO()
    call_command("import_study", str(path), slug="copy", stdout=out)
    assert "Imported study 'copy'." in out.getvalue()
    copy = Study.objects.get(slug="copy")
    assert counts(copy) == counts(answered)
    assert copy.items.count() == answered.items.count()
    # Experts are their pseudonyms: no name, no reachable address.
    assert set(Expert.objects.filter(study=copy).values_list("name", flat=True)) == {
        e["expert"] for e in json.loads(response.content)["experts"]}
    assert all(e.endswith("@pseudonym.invalid")
               for e in Expert.objects.filter(study=copy).values_list("email", flat=True))
    assert Answer.objects.filter(response__round__study=copy).exclude(text="").count() == 1
    assert Rationale.objects.filter(response__round__study=copy).count() == 2
    again = study_archive(copy)
    original = study_archive(answered)

    def values(archive):
        return sorted((a["round"], a["item"], a["dimension"], a["group"], a["value"] or -1,
                       a["no_opinion"]) for a in archive["answers"])

    assert values(again) == values(original)
    assert again["study"]["themes"] == original["study"]["themes"]


def test_an_archive_imports_only_once_under_a_slug(answered, tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "archive.json"
    path.write_bytes(export_bytes(answered, "json"))
    with pytest.raises(CommandError, match="exists"):
        call_command("import_study", str(path))


def test_an_inconsistent_archive_imports_nothing(answered, tmp_path):
    from django.core.management.base import CommandError

    archive = json.loads(export_bytes(answered, "json"))
    archive["experts"] = archive["experts"][1:]  # answers of an expert the archive lacks
    path = tmp_path / "archive.json"
    path.write_text(json.dumps(archive))
    with pytest.raises(CommandError, match="inconsistent"):
        call_command("import_study", str(path), slug="broken")
    assert not Study.objects.filter(slug="broken").exists()
