"""The long answer format every function of `analysis` takes, and its validation.

One row per answer:

- ``expert`` (str): pseudonymous expert id.
- ``round`` (int): round number.
- ``item`` (str): item code.
- ``value`` (float): the answer; NaN means "no opinion" (the row is kept and counted as
  no-opinion, but excluded from n and from every statistic).
- ``dimension`` (str, optional): "" when the item has one dimension; for ranking items the
  option code, with ``value`` the rank given to it.
- ``group`` (str, optional): stakeholder group; "" when the expert has none.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.typing import SeriesGroupBy

REQUIRED_COLUMNS: tuple[str, ...] = ("expert", "round", "item", "value")
OPTIONAL_COLUMNS: tuple[str, ...] = ("dimension", "group")
LONG_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# The item kinds answered on a rating scale (the `kind` column): agreement and Policy-Delphi
# dimensions. Consensus verdicts and stability apply to these only.
RATED_KINDS: tuple[str, ...] = ("agreement", "dimensions")
ANSWER_KEY: tuple[str, ...] = ("expert", "round", "item", "dimension")

# Only the value column may spell "no opinion"; an item or expert literally called "NA"
# must survive a CSV round trip.
_NO_OPINION_STRINGS = ["", "NA", "N/A", "NaN", "nan", "null"]


# Set in DataFrame.attrs by `trusted_long`; pandas carries attrs to row subsets of the frame.
TRUSTED = "analysis.trusted_long"


def validate_long(frame: pd.DataFrame, *, categories: bool = False) -> pd.DataFrame:
    """Return a normalized copy of a long frame, or raise ValueError naming the bad column.

    A frame returned by `trusted_long` (or a row subset of one) is returned as it is. With
    `categories` the text columns that are categorical stay so (with text categories), which
    makes the checks and every groupby on them several times faster on large files.
    """
    if frame.attrs.get(TRUSTED) is True:
        return frame
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"long frame is missing required column(s): {', '.join(missing)}")
    out = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    for column in ("expert", "item"):
        if out[column].isna().any():
            raise ValueError(f"column '{column}' has missing values")
        out[column] = _text(out[column], categories)
    for column in OPTIONAL_COLUMNS:
        out[column] = _text(out[column].fillna("") if not _categorical(out[column]) else
                            _filled(out[column]), categories) if column in out.columns else ""
    out["round"] = _integer_round(out["round"])
    out["value"] = _numeric_value(out["value"])
    _reject_duplicates(out)
    return out


def _categorical(column: pd.Series) -> bool:
    return isinstance(column.dtype, pd.CategoricalDtype)


def _filled(column: pd.Series) -> pd.Series:
    """A categorical column with its missing values as the category ""."""
    if not column.isna().any():
        return column
    if "" not in column.cat.categories:
        column = column.cat.add_categories([""])
    return column.fillna("")


def _text(column: pd.Series, categories: bool) -> pd.Series:
    if categories and _categorical(column):
        # Text categories in sorted order: groups come out sorted, as with text columns.
        names = column.cat.categories
        if not pd.api.types.is_string_dtype(names.dtype):
            column = column.cat.rename_categories(names.astype(str))
        if column.cat.categories.is_monotonic_increasing:
            return column
        return column.cat.reorder_categories(sorted(column.cat.categories))
    return column.astype(str)


def trusted_long(frame: pd.DataFrame, *, check: bool = True) -> pd.DataFrame:
    """Validate once and mark the result, so the functions called on it skip re-validating.

    For callers that run many statistics over one large frame (the platform's aggregation).
    With check=False only the columns are checked: for frames whose source already
    guarantees the format (the platform's database: unique answers, numeric values, text or
    categorical keys). Treat the result as read-only: a changed column is not checked again.
    """
    if check:
        out = validate_long(frame)
    else:
        missing = [column for column in LONG_COLUMNS if column not in frame.columns]
        if missing:
            raise ValueError(f"long frame is missing column(s): {', '.join(missing)}")
        out = frame.copy(deep=False)
    out.attrs[TRUSTED] = True
    return out


def read_long(
    path: str | os.PathLike[str], *, encoding: str = "utf-8", categories: bool = False
) -> pd.DataFrame:
    """Read a long-format .csv, .xlsx or .parquet file and return it validated (with
    `categories`, a CSV's text columns read as categorical: see `validate_long`)."""
    path = Path(path)
    suffix = path.suffix.lower()
    text = "category" if categories else str
    text_columns = {column: text for column in ("expert", "item", *OPTIONAL_COLUMNS)}
    if suffix == ".csv" and _has_pyarrow():
        frame = _read_csv_arrow(path, encoding, categories)
    elif suffix == ".csv":
        frame = pd.read_csv(
            path,
            dtype=text_columns,
            encoding=encoding,
            keep_default_na=False,
            na_values={"value": _NO_OPINION_STRINGS},
        )
    elif suffix == ".xlsx":
        frame = pd.read_excel(path, dtype=dict.fromkeys(text_columns, str), keep_default_na=False,
                              na_values={"value": _NO_OPINION_STRINGS}, engine="openpyxl")
    elif suffix == ".parquet":
        if not _has_pyarrow():
            raise ValueError(
                f"cannot read {path.name}: reading .parquet needs pyarrow, which is not "
                "installed (install pyarrow or export the answers as .csv)"
            )
        frame = pd.read_parquet(path)
    else:
        raise ValueError(f"cannot read {path.name}: expected a .csv, .xlsx or .parquet file")
    return validate_long(frame, categories=categories)


def _read_csv_arrow(path: Path, encoding: str, categories: bool) -> pd.DataFrame:
    """A CSV read by pyarrow, text columns as text or (with `categories`) as categories: as
    fast as a plain `pd.read_csv`, where pandas' own read of text columns is about twice as
    slow and of categories two to three times. The same reading rules as `read_long`'s pandas
    path: codes are kept as written, only `value` spells no opinion.

    pyarrow's threads (its default): on an idle 2-core machine the 2 M-row benchmark's
    commands take 1.15 s against 1.23 s with one thread (bench/analysis_cli.py, 2026-12-04),
    and with one core kept busy by another process they still do no worse than one thread."""
    import pyarrow as pa
    from pyarrow import csv

    if path.stat().st_size == 0:
        raise pd.errors.EmptyDataError("No columns to parse from file")
    text_columns = ("expert", "item", *OPTIONAL_COLUMNS)
    text = pa.dictionary(pa.int32(), pa.string()) if categories else pa.string()
    options = csv.ConvertOptions(column_types=dict.fromkeys(text_columns, text),
                                 strings_can_be_null=False, null_values=_NO_OPINION_STRINGS)
    # The C library's allocator: pyarrow's default (mimalloc) spends a fifth of a second
    # more in the kernel on a 2 M-row file, and holds more memory.
    pool = pa.system_memory_pool()
    try:
        table = csv.read_csv(path, read_options=csv.ReadOptions(encoding=encoding,
                                                                use_threads=True),
                             convert_options=options, memory_pool=pool)
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            raise pd.errors.EmptyDataError("No columns to parse from file") from None
        # (a value that is not a number, say): pandas reads it and names the bad value
        return pd.read_csv(path, dtype="category" if categories else str, encoding=encoding,
                           keep_default_na=False, na_values={"value": _NO_OPINION_STRINGS})
    return table.to_pandas(memory_pool=pool)


def group_keys(frame: pd.DataFrame, by: Sequence[str]) -> list[str]:
    """Return `by` as a list after checking that every key is a column of `frame`."""
    keys = list(by)
    if not keys:
        raise ValueError("by must name at least one column")
    unknown = [key for key in keys if key not in frame.columns]
    if unknown:
        raise ValueError(f"by names column(s) not in the frame: {', '.join(unknown)}")
    return keys


def group_numbers(frame: pd.DataFrame, keys: Sequence[str], grouped) -> np.ndarray:
    """`grouped.ngroup()` (of `frame.groupby(keys, sort=True)`) as an integer array.

    On categorical keys pandas numbers the observed groups with a dense rank, which sorts a
    million rows; the same numbers come from the categories' codes in one pass (groups sort
    by the categories' order, and only the observed ones are numbered). Other keys ask pandas.
    """
    ids = _category_numbers(frame, keys)
    return grouped.ngroup().to_numpy() if ids is None else ids


def group_index(frame: pd.DataFrame, keys: Sequence[str]) -> tuple[pd.Index, np.ndarray]:
    """(the observed keys in sorted order, as `frame.groupby(keys, sort=True).size().index`;
    each row's group number, as `group_numbers`), without grouping when the keys are
    categorical."""
    keys = list(keys)
    ids = _category_numbers(frame, keys)
    if ids is None or not len(ids):
        grouped = frame.groupby(keys, sort=True)
        return grouped.size().index, grouped.ngroup().to_numpy()
    first = np.empty(int(ids.max()) + 1, dtype=np.int64)
    first[ids[::-1]] = np.arange(len(ids) - 1, -1, -1)  # each group's first row
    part = frame[keys].iloc[first]
    if len(keys) == 1:
        return pd.Index(part[keys[0]], name=keys[0]), ids
    return pd.MultiIndex.from_frame(part), ids


def numbered_groupby(values: np.ndarray, ids: np.ndarray, groups: int) -> SeriesGroupBy:
    """`pd.Series(values).groupby(ids, sort=True)` for rows already numbered 0 .. groups - 1
    (as `group_index` numbers them), reindexed to every number: a number no row has is a
    group without answers (NaN). The numbers become a categorical's codes, which pandas takes
    as they are instead of hashing a million keys again; the aggregations are pandas' own,
    over the same rows in the same order, so they give the same numbers to the last bit."""
    key = pd.Categorical.from_codes(ids, categories=pd.RangeIndex(groups))
    return pd.Series(values).groupby(key, observed=False, sort=True)


def _category_numbers(frame: pd.DataFrame, keys: Sequence[str]) -> np.ndarray | None:
    """The group numbers from the categories' codes (an integer key, such as the round, is
    factorized in sorted order); None unless every key is categorical or integer."""
    parts = [_key_codes(frame[key]) for key in keys]
    if not len(frame) or any(part is None for part in parts):
        return None
    codes_and_sizes = [part for part in parts if part is not None]
    if float(np.prod([size for _, size in codes_and_sizes], dtype=float)) > 2**40:
        return None
    combined = np.zeros(len(frame), dtype=np.int64)
    for codes, size in codes_and_sizes:
        if (codes < 0).any():  # a missing key: pandas leaves the row out of every group
            return None
        combined *= size
        combined += codes
    observed = np.bincount(combined) > 0
    if observed.all():  # (every combination answered: the numbers are the groups' already)
        return combined
    return (np.cumsum(observed) - 1)[combined]


def _key_codes(column: pd.Series) -> tuple[np.ndarray, int] | None:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy().astype(np.int64), len(column.cat.categories)
    if pd.api.types.is_integer_dtype(column.dtype):
        return _integer_codes(column)
    return None


def _integer_codes(column: pd.Series) -> tuple[np.ndarray, int]:
    """`pd.factorize(column, sort=True)` of an integer column (codes, number of values): by a
    lookup table when the values span a small range (rounds), without hashing every row."""
    values = column.to_numpy()
    if len(values) and not isinstance(column.dtype, pd.CategoricalDtype) and values.dtype.kind in "iu":
        low, high = int(values.min()), int(values.max())
        if high - low < 1_000_000:
            offset = (values - low).astype(np.int64)
            present = np.zeros(high - low + 1, dtype=bool)
            present[offset] = True
            if present.all():  # (every value between the lowest and the highest: rounds)
                return offset, len(present)
            return (np.cumsum(present) - 1)[offset], int(present.sum())
    codes, uniques = pd.factorize(column, sort=True)
    return codes.astype(np.int64), max(len(uniques), 1)


def require_scale(values: pd.Series, scale_min: int, scale_max: int) -> None:
    """Raise ValueError unless every non-missing value is an integer point of the scale."""
    if scale_min >= scale_max:
        raise ValueError(f"scale_min ({scale_min}) must be below scale_max ({scale_max})")
    array = np.asarray(values, dtype="float64")
    bad = ((array < scale_min) | (array > scale_max) | (array != np.round(array))) & ~np.isnan(array)
    if bad.any():
        raise ValueError(
            f"column 'value' must hold integers from {scale_min} to {scale_max}; "
            f"found {shown(array[bad][0])}"
        )


def shown(value: object) -> str:
    """A value as a message shows it: 1.5 and 'x ', never np.float64(1.5)."""
    plain = value.item() if isinstance(value, np.generic) else value
    return repr(plain) if isinstance(plain, str) else str(plain)


def _has_pyarrow() -> bool:
    return importlib.util.find_spec("pyarrow") is not None


def _integer_round(rounds: pd.Series) -> pd.Series:
    if pd.api.types.is_integer_dtype(rounds.dtype) and not isinstance(rounds.dtype,
                                                                      pd.CategoricalDtype):
        return rounds.astype("int64")
    numeric = pd.to_numeric(rounds, errors="coerce")
    bad = numeric.isna() | (numeric != numeric.round())
    if bad.any():
        raise ValueError(
            f"column 'round' must hold whole numbers; found {shown(rounds[bad].iloc[0])}")
    return numeric.astype("int64")


def _numeric_value(values: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(values.dtype) and not isinstance(values.dtype,
                                                                     pd.CategoricalDtype):
        numeric = values.astype("float64")  # (a float column: only infinities are wrong)
        bad = np.isinf(numeric)
        if bad.any():
            raise ValueError("column 'value' must be numeric (NaN for no opinion); "
                             f"found {shown(values[bad].iloc[0])}")
        return numeric
    # A blank string is how spreadsheets and form exports spell "no opinion".
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        values = values.where(values.astype(str).str.strip() != "", np.nan)
    numeric = pd.to_numeric(values, errors="coerce").astype("float64")
    bad = (numeric.isna() & values.notna()) | np.isinf(numeric)
    if bad.any():
        raise ValueError(
            f"column 'value' must be numeric (NaN for no opinion); found {shown(values[bad].iloc[0])}"
        )
    return numeric


def _reject_duplicates(frame: pd.DataFrame) -> None:
    # Two answers to the same question would be double-counted in n and break rankings.
    keys = list(ANSWER_KEY)
    numbered = _answer_numbers(frame)
    if numbered is None:
        duplicated = frame.duplicated(subset=keys, keep=False)
    else:  # one integer per answer: counted instead of hashing four columns of a million rows
        combined, size = numbered
        if (combined[1:] > combined[:-1]).all():  # rows in order (an export's): all distinct
            return
        if size <= 8 * len(frame) + 1_000_000:
            duplicated = pd.Series(np.bincount(combined, minlength=size)[combined] > 1,
                                   index=frame.index)
        else:
            duplicated = pd.Series(combined, index=frame.index).duplicated(keep=False)
    if duplicated.any():
        row = frame.loc[duplicated, keys].iloc[0]
        first = ", ".join(f"{key} {shown(value)}" for key, value in row.items())
        raise ValueError(
            "one answer per expert, round, item and dimension is allowed; "
            f"found duplicates such as {first}"
        )


def _answer_numbers(frame: pd.DataFrame) -> tuple[np.ndarray, int] | None:
    """(one integer per (round, expert, item, dimension), their range) when the text keys are
    categorical: increasing down a file sorted by round, expert and item (as exports are)."""
    text = [frame[key] for key in ("expert", "item", "dimension")]
    if not all(_categorical(column) for column in text):
        return None
    rounds, round_count = _integer_codes(frame["round"])
    sizes = [round_count] + [len(c.cat.categories) for c in text]
    if float(np.prod(sizes, dtype=float)) > 2**62:
        return None
    combined = rounds
    for codes, size in zip([c.cat.codes.to_numpy() for c in text], sizes[1:], strict=True):
        combined = combined * size + codes
    return combined, int(np.prod(sizes, dtype=float))
