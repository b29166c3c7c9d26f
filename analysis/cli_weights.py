"""`python -m analysis weights` and `python -m analysis crosstab`: survey weights to declared
population margins (analysis.weights) and weighted estimates per item and category
(analysis.crosstab).

Registered by analysis.cli.build_parser; imports nothing heavy until a command runs (samplics,
which the weights need, takes about a second to import).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.cli_input import InputError, one_line

if TYPE_CHECKING:
    import pandas as pd

WEIGHTS_FIELDS = ["method", "n", "flagged_excluded", "weight_sum", "n_eff", "deff", "weight_min",
                  "weight_max", "weight_ratio", "trim", "trimmed", "max_margin_error", "margins"]
CROSSTAB_FIELDS = ["round", "item", "by", "category", "flagged_excluded", "n", "weighted_n",
                   "n_eff", "deff", "pct_agree", "pct_agree_ci_low", "pct_agree_ci_high",
                   "pct_agree_se_taylor", "mean", "mean_ci_low", "mean_ci_high", "mean_se_taylor",
                   "median", "distribution"]


def add_weight_commands(sub: Any, common: argparse.ArgumentParser,
                        rounds: argparse.ArgumentParser) -> None:
    """The `weights` and `crosstab` subcommands, on the CLI's common options."""
    from analysis.cli import _add_scale

    weights = sub.add_parser("weights", parents=[common, rounds],
                             help="survey weights to population margins (post-stratification, raking)")
    _add_weighting(weights, required=True)
    weights.add_argument("--out", metavar="WEIGHTS.csv",
                         help="write each respondent's weight here (columns expert, weight)")
    weights.set_defaults(run=weights_command)
    crosstab = sub.add_parser("crosstab", parents=[common, rounds],
                              help="weighted %% agree, mean, median per item and category, "
                              "with 95 %% intervals")
    crosstab.add_argument("--by", help="the respondent column to break down by (country, group...)")
    crosstab.add_argument("--weights", metavar="WEIGHTS.csv|COLUMN",
                          help="respondent weights: a file written by `weights --out`, or a column of DATA")
    _add_weighting(crosstab, required=False)
    crosstab.add_argument("--agree-min", type=float, default=None,
                          help="lowest agreeing point (the top boxes: 4 on 1-5)")
    _add_scale(crosstab)
    crosstab.set_defaults(run=crosstab_command)


def _add_weighting(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--margins", metavar="MARGINS.csv", required=required,
                        help="population shares: columns variable, category, share[, source]")
    parser.add_argument("--trim", type=parse_trim, default=None, metavar="LOW,HIGH",
                        help="bound the weights, in units of the mean weight (e.g. 0.3,3)")
    parser.add_argument("--include-flagged", action="store_true",
                        help="keep the respondents whose 'flagged' column is true")


def parse_trim(text: str) -> tuple[float, float]:
    """'0.3,3' -> (0.3, 3.0): LOW <= 1 <= HIGH, LOW > 0."""
    low, sep, high = text.partition(",")
    try:
        bounds = (float(low), float(high))
    except ValueError:
        bounds = (0.0, 0.0)
    if not sep or not 0 < bounds[0] <= 1 <= bounds[1]:
        raise argparse.ArgumentTypeError(
            f"--trim is LOW,HIGH in units of the mean weight with 0 < LOW <= 1 <= HIGH (e.g. "
            f"0.3,3); got {text!r}")
    return bounds


def read_margins(path_text: str) -> pd.DataFrame:
    """The validated margins of a CSV file (analysis.weights.validate_margins)."""
    import pandas as pd

    from analysis.weights import validate_margins

    path = Path(path_text)
    if not path.is_file():
        raise InputError(f"--margins {path_text}: no such file")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        return validate_margins(raw)
    except UnicodeDecodeError:
        raise InputError(f"--margins {path_text}: the file is not UTF-8 text; save it as UTF-8") from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"--margins {path_text}: {one_line(exc)}") from None


def _select(frame: pd.DataFrame, args: argparse.Namespace) -> pd.DataFrame:
    from analysis.cli import _select_rounds

    return _select_rounds(frame, args.round)


def _weighting(frame: pd.DataFrame, args: argparse.Namespace) -> Any:
    """analysis.weights.weigh on the data's respondents; its warnings join the command's."""
    from analysis.weights import margin_columns, respondents, weigh

    margins = read_margins(args.margins)
    try:
        people = respondents(frame, margin_columns(margins))
        result = weigh(people, margins, trim=args.trim, include_flagged=args.include_flagged)
    except ValueError as exc:
        raise InputError(f"{args.data}: {one_line(exc)}") from None
    args.warnings += result.warnings
    return result


def weights_command(frame: pd.DataFrame, args: argparse.Namespace) -> tuple[list[str], pd.DataFrame]:
    import pandas as pd

    result = _weighting(_select(frame, args), args)
    if args.out:
        table = result.weights.rename("weight").rename_axis("expert").reset_index()
        try:
            table.to_csv(args.out, index=False)
        except OSError as exc:
            raise InputError(f"--out {args.out}: {one_line(exc)}") from None
    return WEIGHTS_FIELDS, pd.DataFrame([result.diagnostics])


def crosstab_command(frame: pd.DataFrame, args: argparse.Namespace) -> tuple[list[str], pd.DataFrame]:
    from analysis.cli import item_label
    from analysis.crosstab import weighted_crosstab

    part = _select(frame, args)
    if args.by is not None and args.by not in part.columns:
        raise InputError(f"{args.data}: --by {args.by}: the data has no such column")
    part = part.assign(_weight=_row_weights(part, args))
    out = weighted_crosstab(part, by=args.by, weight="_weight", scale_min=args.scale_min,
                            scale_max=args.scale_max, agree_min=args.agree_min,
                            include_flagged=args.include_flagged)
    out["item"] = item_label(out)
    return CROSSTAB_FIELDS, out


def _row_weights(frame: pd.DataFrame, args: argparse.Namespace) -> Any:
    """Each answer's respondent weight: from --weights (a file or a column), from --margins,
    or 1."""
    import pandas as pd

    expert = frame["expert"].astype(str)
    if args.weights and args.margins:
        raise InputError("give --weights or --margins, not both")
    if args.margins:
        return expert.map(_weighting(frame, args).weights).to_numpy()
    if args.trim is not None:
        raise InputError("--trim needs --margins (weights read with --weights are used as they are)")
    if not args.weights:
        return 1.0
    if Path(args.weights).is_file():
        try:
            table = pd.read_csv(args.weights, dtype={"expert": str}, keep_default_na=False,
                                na_values={"weight": [""]})
        except (ValueError, pd.errors.ParserError) as exc:
            raise InputError(f"--weights {args.weights}: {one_line(exc)}") from None
        if not {"expert", "weight"} <= set(table.columns):
            raise InputError(f"--weights {args.weights}: the file needs the columns expert, weight")
        if table["expert"].duplicated().any():
            raise InputError(f"--weights {args.weights}: respondent "
                             f"{table['expert'][table['expert'].duplicated()].iloc[0]!r} is given twice")
        weights = pd.to_numeric(table["weight"], errors="coerce")
        return expert.map(pd.Series(weights.to_numpy(), index=table["expert"])).to_numpy()
    if args.weights in frame.columns:
        return pd.to_numeric(frame[args.weights], errors="coerce").to_numpy()
    raise InputError(f"--weights {args.weights}: no such file, nor a column of {args.data}")
