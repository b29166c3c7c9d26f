"""Reading the CLI's data file: the encoding, messages that name the likely cause, warnings.

Kept apart from the commands so `python -m analysis` imports only what a command needs.
"""

from __future__ import annotations

import argparse
import codecs
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.frames import REQUIRED_COLUMNS, TRUSTED, read_long, shown

# UTF-8 (with a BOM when the file starts with one), else Windows-1251.
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "cp1251": "Windows-1251"}
CODE_COLUMNS: tuple[str, ...] = ("expert", "item", "dimension", "group")


class InputError(Exception):
    """Input the command cannot work on; the message is one line for the user."""


def load(path_text: str, kinds: str | None, notes: list[str]) -> pd.DataFrame:
    """The validated long frame of a .csv, .xlsx or .parquet file, marked as validated so the
    statistics do not check it again; `notes` gets the encoding used when it is not UTF-8."""
    path = Path(path_text)
    if not path.is_file():
        raise InputError(f"{path_text}: no such file")
    encoding = "utf-8"
    if path.suffix.lower() == ".csv":
        with path.open("rb") as file:
            if file.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8:
                encoding = "utf-8-sig"
    try:
        try:
            frame = read_long(path, encoding=encoding, categories=True)
        except UnicodeDecodeError:
            # Not UTF-8 (found only when decoding: no second pass over good files).
            encoding = "cp1251"
            frame = read_long(path, encoding=encoding, categories=True)
    except UnicodeDecodeError:
        raise InputError(f"{path_text}: the file is neither UTF-8 nor Windows-1251 text; "
                         "save it as UTF-8") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path_text}: the file is empty") from None
    except (ValueError, OSError) as exc:  # pandas, pyarrow and our validation all raise these
        raise InputError(f"{path_text}: {one_line(exc)}{_hint(path, encoding, exc)}") from None
    if encoding != "utf-8":
        notes.append(f"{path_text}: read as {ENCODING_NAMES[encoding]}")
    frame.attrs[TRUSTED] = True  # read_long validated it: row subsets keep the mark
    if kinds:
        if "kind" not in frame.columns:
            raise InputError(f"{path_text}: --kind needs a 'kind' column")
        frame = frame.loc[frame["kind"].isin(kinds.split(","))]
    if frame.empty:
        raise InputError(f"{path_text}: no answers to analyse")
    return frame


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _hint(path: Path, encoding: str, exc: BaseException) -> str:
    """The likely cause of a missing column: another delimiter, or the header's case or spaces."""
    if "missing required column" not in str(exc) or path.suffix.lower() != ".csv":
        return ""
    with path.open(encoding=encoding) as file:
        header = file.readline().rstrip("\r\n")
    for delimiter, name in ((";", "semicolons"), ("\t", "tabs")):
        if delimiter in header and "," not in header:
            return f"; the file seems to be separated by {name}: save it comma-separated"
    names = {column.strip().lower(): column for column in header.split(",")}
    near = [f"'{names[c]}' for '{c}'" for c in REQUIRED_COLUMNS if c in names and names[c] != c]
    if near:
        return ("; column names are lower-case without spaces: the header has "
                + ", ".join(near))
    return ""


def code_warnings(frame: pd.DataFrame) -> list[str]:
    """Empty expert or item codes, and codes that differ only in spaces or case (looked for
    among the distinct codes, not the rows)."""
    out = []
    for column in CODE_COLUMNS:
        if _plainly_distinct(frame[column], empty_ok=column not in ("expert", "item")):
            continue
        codes, counts = _distinct(frame[column])
        normal = codes.str.strip().str.casefold()
        if column in ("expert", "item") and normal.eq("").any():
            out.append(f"{int(counts[normal.eq('')].sum())} row(s) have an empty {column} code")
        clash = normal.duplicated(keep=False) & normal.ne("")
        if clash.any():
            first = sorted(codes[normal.eq(normal[clash].iloc[0])])
            out.append(f"{column} codes {', '.join(map(shown, first))} differ only in spaces or "
                       "case and are counted apart")
    return out


def _plainly_distinct(column: pd.Series, *, empty_ok: bool) -> bool:
    """Whether a categorical's categories (every code it may hold) are distinct after
    trimming and case-folding, and (unless `empty_ok`) none is empty: then there is nothing
    to warn about and no need to count a million rows."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return False
    normal = pd.Series(column.cat.categories, dtype=object).astype(str).str.strip().str.casefold()
    return not normal.duplicated().any() and (empty_ok or not normal.eq("").any())


def _distinct(column: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(the distinct codes of a column, how many rows hold each), from a categorical's codes
    without turning a million rows into Python strings."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        if len(codes) and codes.min() < 0:  # (missing codes: none after validation)
            codes = codes[codes >= 0]
        counts = np.bincount(codes, minlength=len(column.cat.categories))
        used = counts > 0
        return (pd.Series(column.cat.categories[used], dtype=object).astype(str),
                pd.Series(counts[used]))
    sizes = column.astype(str).value_counts(sort=False)
    return pd.Series(sizes.index, dtype=object), pd.Series(sizes.to_numpy())


def scale_warning(values: pd.Series, low: float, high: float) -> list[str]:
    """A warning when some values are not integer points of the declared scale."""
    array = values.to_numpy(dtype="float64")
    array = array[~np.isnan(array)]
    bad = array[(array < low) | (array > high) | (array != np.round(array))]
    if not len(bad):
        return []
    return [f"{len(bad)} value(s) are off the {low:g}-{high:g} scale (e.g. {shown(bad[0])}); "
            "declare the scale with --scale"]


def parse_scale(text: str) -> tuple[int, int] | str:
    """'1-5' -> (1, 5); 'continuous' stays as it is."""
    if text == "continuous":
        return text
    low, sep, high = text.partition("-")
    if not sep or not low.strip().isdigit() or not high.strip().isdigit() or int(low) >= int(high):
        raise argparse.ArgumentTypeError(f"--scale is LOW-HIGH (e.g. 1-5) or 'continuous'; got {text!r}")
    return int(low), int(high)
