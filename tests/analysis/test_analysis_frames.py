"""The long answer format: validation, normalization and file reading."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import LONG_COLUMNS, read_long, validate_long
from analysis import frames as frames_module


def _answers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "expert": ["alice", "bob", "carol"],
            "round": [1, 1, 1],
            "item": ["q1", "q1", "q1"],
            "value": [4, 5, np.nan],
        }
    )


def test_long_columns_list_required_then_optional_columns():
    assert LONG_COLUMNS == ("expert", "round", "item", "value", "dimension", "group")


def test_missing_dimension_and_group_are_added_as_empty_strings():
    frame = validate_long(_answers())
    assert list(frame["dimension"]) == ["", "", ""]
    assert list(frame["group"]) == ["", "", ""]


def test_validation_returns_a_copy_and_leaves_the_input_alone():
    original = _answers()
    validate_long(original)
    assert "dimension" not in original.columns


def test_values_are_coerced_to_float_and_blank_means_no_opinion():
    answers = _answers().assign(value=["4", " ", "2.0"])
    frame = validate_long(answers)
    assert frame["value"].dtype == "float64"
    assert frame["value"].iloc[0] == 4.0
    assert np.isnan(frame["value"].iloc[1])
    assert frame["value"].iloc[2] == 2.0


def test_missing_required_column_is_named_in_the_error():
    with pytest.raises(ValueError, match="missing required column.*value"):
        validate_long(_answers().drop(columns="value"))


def test_non_numeric_value_is_named_in_the_error():
    answers = _answers().assign(value=["4", "agree", "2"])
    with pytest.raises(ValueError, match="column 'value' must be numeric.*agree"):
        validate_long(answers)


def test_fractional_round_is_rejected():
    answers = _answers().assign(round=[1, 1.5, 1])
    with pytest.raises(ValueError, match="column 'round'"):
        validate_long(answers)


def test_missing_expert_is_rejected():
    answers = _answers().assign(expert=["alice", None, "carol"])
    with pytest.raises(ValueError, match="column 'expert'"):
        validate_long(answers)


def test_two_answers_to_the_same_question_are_rejected():
    answers = _answers().assign(expert=["alice", "alice", "carol"])
    with pytest.raises(ValueError, match="one answer per expert"):
        validate_long(answers)


def test_csv_keeps_codes_as_text_and_reads_blank_values_as_no_opinion(tmp_path: Path):
    path = tmp_path / "answers.csv"
    lines = [
        "expert,round,item,dimension,group,value",
        "007,1,NA,,clinicians,4",
        "008,1,NA,,,",
    ]
    path.write_text("\n".join(lines) + "\n")
    frame = read_long(path)
    assert list(frame["expert"]) == ["007", "008"]
    assert list(frame["item"]) == ["NA", "NA"]
    assert list(frame["group"]) == ["clinicians", ""]
    assert frame["value"].iloc[0] == 4.0
    assert np.isnan(frame["value"].iloc[1])


def test_parquet_without_pyarrow_gives_a_clear_error(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(frames_module, "_has_pyarrow", lambda: False)
    with pytest.raises(ValueError, match="needs pyarrow"):
        read_long(tmp_path / "answers.parquet")


@pytest.mark.skipif(not frames_module._has_pyarrow(), reason="pyarrow is not installed")
def test_parquet_round_trip(tmp_path: Path):
    path = tmp_path / "answers.parquet"
    _answers().to_parquet(path)
    frame = read_long(path)
    assert list(frame["expert"]) == ["alice", "bob", "carol"]


def test_other_file_types_are_rejected(tmp_path: Path):
    with pytest.raises(ValueError, match=r"\.csv, \.xlsx or \.parquet"):
        read_long(tmp_path / "answers.ods")
