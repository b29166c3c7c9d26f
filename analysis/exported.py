"""A study's export as the notebooks read it: the answers in the long format and the rules the
study registered, so that a notebook judges consensus and stability as the platform did.

Where the rules are found (`registered_rules`):

- a JSON archive (Exports > JSON): the study definition's ``consensus`` block;
- a study file (JSON): its top-level ``consensus`` block;
- an XLSX export: its "Rule fields" sheet (or a "Rules" sheet) holding the registered fields
  as rows of (field, value), for example ``agree_pct | 75``;

and nowhere else (a CSV or Parquet export carries only the answers). The block holds the
fields an organizer registers: definition, direction, agree_pct, iqr_max, stability,
stability_p, stability_pct (see workspace.models.ConsensusRule).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.frames import RATED_KINDS, read_long, trusted_long, validate_long

# Stated defaults, used only when the export carries no registered rule: the platform's own
# defaults for a new study (75 % in the top boxes and an IQR of at most 1; Wilcoxon p > 0.05).
DEFAULT_RULES: dict[str, Any] = {
    "definition": "combined", "direction": "either", "agree_pct": 75.0, "iqr_max": 1.0,
    "stability": "wilcoxon", "stability_p": 0.05, "stability_pct": 15.0,
}
REGISTERED_FIELDS: tuple[str, ...] = tuple(DEFAULT_RULES)


def read_answers(path: str | Path) -> pd.DataFrame:
    """The answers of a long .csv or .parquet file, or of a JSON archive's ``answers``,
    validated once (the frame is marked trusted, so later calls do not check it again)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        archive = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(archive, dict) or not isinstance(archive.get("answers"), list):
            raise ValueError(f"{path.name} holds no 'answers' list (is it a JSON archive?)")
        frame = validate_long(pd.DataFrame(archive["answers"]))
    else:
        frame = read_long(path)
    return trusted_long(frame, check=False)


def rated(frame: pd.DataFrame, kinds: str = ",".join(RATED_KINDS)) -> pd.DataFrame:
    """The rows of the given kinds (comma-separated) when the frame has a `kind` column, with
    a `label` column: the item, or item/dimension."""
    if kinds and "kind" in frame.columns:
        kept = frame["kind"].isin(kinds.split(","))
        if not kept.all():  # (a copy of a million rows is worth skipping)
            frame = frame.loc[kept]
    label = frame["item"].copy()
    with_dimension = frame["dimension"].ne("")
    if with_dimension.any():  # (joined only where there is a dimension)
        label[with_dimension] = (frame.loc[with_dimension, "item"] + "/"
                                 + frame.loc[with_dimension, "dimension"])
    return frame.assign(label=label)


def registered_rules(path: str | Path) -> dict[str, Any] | None:
    """The registered rule fields found in an export (see the module doc), or None."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        block = (data.get("study") or {}).get("consensus") if "study" in data else data.get(
            "consensus")
        return _fields(block) if isinstance(block, dict) else None
    if suffix == ".xlsx":
        return _fields(_xlsx_rules(path))
    return None


def rules_or_default(*paths: str | Path) -> tuple[dict[str, Any], str]:
    """The rules registered in the first of `paths` that carries them, with where they came
    from; the stated DEFAULT_RULES (and a sentence saying so) when none does."""
    for path in paths:
        if path and Path(path).exists():
            found = registered_rules(path)
            if found:
                return {**DEFAULT_RULES, **found}, f"registered rule read from {Path(path).name}"
    return dict(DEFAULT_RULES), ("no registered rule in the export: the stated default is used "
                                 "(75 % in the top boxes and IQR <= 1; Wilcoxon p > 0.05)")


def consensus_rule(rules: dict[str, Any]) -> dict[str, Any]:
    """The registered fields as an analysis.consensus rule mapping: the one translation, which
    the platform's ConsensusRule.as_dict uses too."""
    agree = {"kind": "agree_pct", "min": float(rules["agree_pct"])}
    iqr = {"kind": "iqr", "max": float(rules["iqr_max"])}
    specs: dict[str, dict[str, Any]] = {
        "agreement": agree, "iqr": iqr, "combined": {"kind": "all", "rules": [agree, iqr]},
        "rand_ucla": {"kind": "rand_ucla"}}
    return {**specs[rules["definition"]], "direction": rules["direction"]}


def stability_rule(rules: dict[str, Any]) -> dict[str, Any]:
    """The registered stability fields as an analysis.stability rule mapping."""
    if rules["stability"] == "wilcoxon":
        return {"kind": "wilcoxon", "p_above": float(rules["stability_p"])}
    return {"kind": "distribution", "change_below_pct": float(rules["stability_pct"])}


def describe(rules: dict[str, Any]) -> str:
    """The rules in one line, for a notebook to print above its verdicts."""
    consensus = {"agreement": "{agree_pct:g} % in the boxes", "iqr": "IQR <= {iqr_max:g}",
                 "combined": "{agree_pct:g} % in the boxes and IQR <= {iqr_max:g}",
                 "rand_ucla": "RAND/UCLA (no disagreement)"}[rules["definition"]]
    stable = ("Wilcoxon p > {stability_p:g}" if rules["stability"] == "wilcoxon"
              else "distribution moves < {stability_pct:g} %")
    numbers = {k: float(rules[k]) for k in ("agree_pct", "iqr_max", "stability_p", "stability_pct")}
    return (f"consensus: {consensus.format(**numbers)} (direction {rules['direction']}); "
            f"stability: {stable.format(**numbers)}")


def _fields(block: Any) -> dict[str, Any] | None:
    if not isinstance(block, dict):
        return None
    found = {k: block[k] for k in REGISTERED_FIELDS if block.get(k) not in (None, "")}
    return found or None


def _xlsx_rules(path: Path) -> dict[str, Any] | None:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = next((name for name in ("Rule fields", "Rules") if name in book.sheetnames), None)
        if sheet is None:
            return None
        rows = book[sheet].iter_rows(values_only=True)
        return {str(row[0]).strip(): row[1] for row in rows
                if len(row) >= 2 and row[0] is not None and str(row[0]).strip() in REGISTERED_FIELDS}
    finally:
        book.close()
