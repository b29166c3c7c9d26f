"""The research exports describe each item's second-edition metadata: an "In hindsight" item,
its help, a forecast's resolution (date and criteria, in English and Russian) and a year item's
"never" answer, so that an analyst can score forecasts once they resolve."""

import io
import json

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from surveys.exports import PARQUET_ITEMS_KEY, export_bytes, items_codebook, study_archive
from surveys.reports.office import CODEBOOK_COLUMNS
from surveys.services.panel import expert_create
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_close
from surveys.services.studies import study_file_check, study_load
from tests.edition_helpers import NEVER, edition_study_data

pytestmark = pytest.mark.django_db

CRITERIA = {"en": "Resolves YES if a treaty is signed by then.",
            "ru": "Да, если договор подписан к этой дате."}


@pytest.fixture
def answered(study, round1, alice, bob, django_capture_on_commit_callbacks):
    """The small study with the second edition's keys; round 1 answered by three experts,
    two of them "never" on the year item; closed."""
    study = study_load(data=edition_study_data())
    carol = expert_create(study=study, name="Carol", email="carol@example.org", group_code="WE")
    for expert, year in [(alice, 2100), (bob, 2050), (carol, 2100)]:
        response_submit(expert=expert, round_=round1, answers={
            "agree": ItemAnswer(values={"": 3}), "prob": ItemAnswer(values={"": 20}),
            "year": ItemAnswer(values={"": year})})
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round1)
    return study


def test_the_xlsx_codebook_has_the_items_metadata(answered):
    book = load_workbook(io.BytesIO(export_bytes(answered, "xlsx")))
    header, *rows = [list(r) for r in book["Codebook"].iter_rows(values_only=True)]
    assert header == CODEBOOK_COLUMNS
    codebook = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert codebook["agree"]["hindsight"] is True and codebook["prob"]["hindsight"] is False
    assert codebook["agree"]["help_ru"] == "Оцените утверждение 2011 года."
    prob = codebook["prob"]
    assert (prob["resolves_on"], prob["resolution_en"], prob["resolution_ru"]) == (
        "2030-12-31", CRITERIA["en"], CRITERIA["ru"])
    assert codebook["agree"]["resolves_on"] in ("", None)
    assert codebook["year"]["never_ru"] == NEVER["ru"]
    assert codebook["year"]["values"] == f"2011 to 2100; 2100 = {NEVER['en']}; no opinion"


def test_the_json_archive_holds_the_study_file_with_every_new_key(answered):
    archive = json.loads(export_bytes(answered, "json"))
    definition = archive["study"]
    assert definition["as_of"] == "2026-12-01" and len(definition["timeline"]) == 2
    items = {i["code"]: i for t in definition["themes"] for i in t["items"]}
    assert items["prob"]["resolution"] == {"date": "2030-12-31", "criteria": CRITERIA}
    assert items["agree"]["hindsight"] is True and items["year"]["never"] == NEVER
    assert len(items["agree"]["arguments"]["low"]) == 3
    # The archive's study loads back as a study file.
    assert study_file_check(study_archive(answered)["study"]) == []


def test_the_parquet_file_carries_the_items_codebook_in_its_metadata(answered):
    table = pq.read_table(io.BytesIO(export_bytes(answered, "parquet")))
    codebook = json.loads(table.schema.metadata[PARQUET_ITEMS_KEY])
    assert codebook == items_codebook(answered)
    prob = next(i for i in codebook if i["item"] == "prob")
    assert prob["resolves_on"] == "2030-12-31" and prob["resolution_ru"] == CRITERIA["ru"]
    assert table.to_pandas().shape[0] == 9  # the long frame is unchanged


def test_the_sav_file_labels_never_and_hindsight_and_notes_the_resolutions(answered, tmp_path):
    import pyreadstat

    path = tmp_path / "export.sav"
    path.write_bytes(export_bytes(answered, "sav"))
    _back, meta = pyreadstat.read_sav(str(path), user_missing=True)
    assert meta.variable_value_labels["r1_year"][2100.0] == NEVER["en"]
    assert meta.column_names_to_labels["r1_agree"] == "Round 1, agree: [In hindsight] English text"
    notes = "\n".join(meta.notes)
    assert f"prob: resolves on 2030-12-31: {CRITERIA['en']}" in notes
    assert "agree: help: Judge the 2011 claim." in notes
