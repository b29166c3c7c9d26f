"""`python -m analysis gap PANEL SURVEY`: the expert–public gap (analysis.gap), a Delphi panel's
final round beside a weighted attitude survey on the same propositions.

Registered by analysis.cli.build_parser. The CLI's main reads SURVEY as its DATA (the
subcommand stores it under `data`); PANEL is read here: a long .csv, .xlsx or .parquet file, or
a JSON archive, whose registered consensus rule (analysis.exported) is used when --rule is not
given. Imports nothing heavy until the command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.cli_input import InputError, one_line

if TYPE_CHECKING:
    import pandas as pd

GAP_FIELDS = ["item", "survey_item", "by", "category",
              "panel_round", "panel_n", "panel_median", "panel_q1", "panel_q3", "panel_iqr",
              "panel_pct_agree", "panel_pct_agree_ci_low", "panel_pct_agree_ci_high",
              "panel_verdict",
              "survey_round", "survey_n", "survey_weighted_n", "survey_n_eff", "survey_deff",
              "survey_median", "survey_pct_agree", "survey_pct_agree_ci_low",
              "survey_pct_agree_ci_high", "survey_distribution",
              "gap_pct_agree", "gap_ci_low", "gap_ci_high", "cliffs_delta", "effect",
              "direction"]
MAP_COLUMNS = ("panel_code", "survey_code")


def add_gap_command(sub: Any) -> None:
    """The `gap` subcommand."""
    from analysis.cli import _add_scale, parse_rule
    from analysis.cli_weights import _add_weighting

    gap = sub.add_parser("gap", help="the expert-public gap: a Delphi panel's final round beside "
                         "a weighted survey on the same items")
    gap.add_argument("panel", metavar="PANEL",
                     help="the Delphi study: long .csv, .xlsx or .parquet file, or JSON archive")
    gap.add_argument("data", metavar="SURVEY", help="the survey: long .csv, .xlsx or .parquet file")
    gap.add_argument("--format", choices=["json", "csv"], default="json")
    gap.add_argument("--kind", help="keep only rows whose 'kind' is one of these (comma-separated; "
                     "default agreement,dimensions when the files have a 'kind' column)")
    gap.add_argument("--by", help="the survey's respondent column to break down by (country...)")
    gap.add_argument("--weights", metavar="WEIGHTS.csv|COLUMN",
                     help="survey weights: a file written by `weights --out`, or a column of SURVEY")
    _add_weighting(gap, required=False)
    gap.add_argument("--rule", type=parse_rule, default=None,
                     help="the panel's consensus rule, e.g. agree=75,iqr=1 (default: the rule "
                     "registered in PANEL, else the stated default)")
    gap.add_argument("--map", metavar="MAP.csv",
                     help="item pairs to compare: columns panel_code, survey_code")
    _add_scale(gap)
    gap.set_defaults(run=gap_command)


def gap_command(survey: pd.DataFrame, args: argparse.Namespace) -> tuple[list[str], pd.DataFrame]:
    from analysis.cli_weights import _row_weights
    from analysis.frames import RATED_KINDS, require_scale
    from analysis.gap import expert_public_gap, last_round

    panel = _read_panel(args)
    if not args.kind:
        panel, survey = (_rated(frame, RATED_KINDS) for frame in (panel, survey))
    for name, frame in ((args.panel, panel), (args.data, survey)):
        if frame.empty:
            raise InputError(f"{name}: no rated answers (kinds {', '.join(RATED_KINDS)})")
        try:
            require_scale(frame["value"], args.scale_min, args.scale_max)
        except ValueError as exc:
            raise InputError(f"{name}: {one_line(exc)}; declare the scale with --scale") from None
    _, survey = last_round(survey)
    if args.by is not None and args.by not in survey.columns:
        raise InputError(f"{args.data}: --by {args.by}: the survey has no such column")
    survey = survey.assign(_weight=_row_weights(survey, args))
    pairs = _read_map(args.map, args) if args.map else None
    if pairs:
        _warn_unmatched(pairs, panel, survey, args)
    try:
        out = expert_public_gap(panel, survey, rule=_rule(args), by=args.by, weight="_weight",
                                pairs=pairs, scale_min=args.scale_min, scale_max=args.scale_max,
                                include_flagged=args.include_flagged)
    except (ValueError, TypeError) as exc:
        raise InputError(one_line(exc)) from None
    return GAP_FIELDS, out


def _read_panel(args: argparse.Namespace) -> pd.DataFrame:
    from analysis.cli_input import load

    path = Path(args.panel)
    if path.suffix.lower() != ".json":
        notes: list[str] = []
        frame = load(args.panel, args.kind, notes)
        args.warnings += notes
        return frame
    from analysis.exported import read_answers

    if not path.is_file():
        raise InputError(f"{args.panel}: no such file")
    try:
        frame = read_answers(path)
    except (ValueError, OSError) as exc:
        raise InputError(f"{args.panel}: {one_line(exc)}") from None
    if args.kind:
        if "kind" not in frame.columns:
            raise InputError(f"{args.panel}: --kind needs a 'kind' column")
        frame = frame.loc[frame["kind"].isin(args.kind.split(","))]
    return frame


def _rated(frame: pd.DataFrame, kinds: tuple[str, ...]) -> pd.DataFrame:
    return frame.loc[frame["kind"].isin(kinds)] if "kind" in frame.columns else frame


def _rule(args: argparse.Namespace) -> dict[str, Any]:
    """--rule, else the rule registered in PANEL, else the stated default (with a warning)."""
    if args.rule is not None:
        return args.rule
    from analysis.exported import consensus_rule, registered_rules, rules_or_default

    try:
        found = registered_rules(args.panel)
    except (ValueError, OSError, KeyError):
        found = None
    rules, _ = rules_or_default(args.panel if found else "")
    if not found:
        args.warnings.append(f"{args.panel} has no registered rule: the panel's verdicts use the "
                             "stated default (75 % in the top boxes and IQR <= 1, either "
                             "direction); give --rule to judge by another")
    try:
        return consensus_rule(rules)
    except (KeyError, ValueError) as exc:
        raise InputError(f"{args.panel}: the registered rule cannot be read ({one_line(exc)}); "
                         "give --rule") from None


def _read_map(path_text: str, args: argparse.Namespace) -> list[tuple[str, str]]:
    """The (panel code, survey code) pairs of the --map file; codes missing from either file
    are warned about (and not compared)."""
    import pandas as pd

    path = Path(path_text)
    if not path.is_file():
        raise InputError(f"--map {path_text}: no such file")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"--map {path_text}: the file is not UTF-8 text; save it as UTF-8") from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"--map {path_text}: {one_line(exc)}") from None
    if not set(MAP_COLUMNS) <= set(table.columns):
        raise InputError(f"--map {path_text}: the file needs the columns panel_code, survey_code")
    table = table.loc[:, list(MAP_COLUMNS)]
    for column in MAP_COLUMNS:
        twice = table[column].duplicated()
        if twice.any():
            raise InputError(f"--map {path_text}: {column} {table[column][twice].iloc[0]!r} is "
                             "given twice; each code is compared once")
    if table.empty:
        raise InputError(f"--map {path_text}: the file has no pairs")
    return list(table.itertuples(index=False, name=None))


def _warn_unmatched(pairs: list[tuple[str, str]], panel: pd.DataFrame, survey: pd.DataFrame,
                    args: argparse.Namespace) -> None:
    from analysis.gap import label, last_round

    _, final = last_round(panel)
    present = (set(label(final)), set(label(survey)))
    for side, name in enumerate((f"{args.panel}'s last round", args.data)):
        absent = [pair[side] for pair in pairs if pair[side] not in present[side]]
        if absent:
            args.warnings.append(f"--map: {', '.join(map(repr, absent))} not in {name}; "
                                 "not compared")
