"""`python -m analysis COMMAND DATA`: Delphi statistics on any long-format CSV or Parquet file.

Every command prints a JSON array of records (or CSV with --format csv). Bad input gets one
line on stderr and exit status 2; numbers are rounded to 6 significant digits, NaN is null.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

import pandas as pd

from analysis.agreement import LEVELS, panel_agreement
from analysis.descriptive import boxes, rand_ucla, rated_summary
from analysis.frames import read_long
from analysis.groups import group_differences
from analysis.ranking import kendall_w
from analysis.stability import stability

ITEM_FIELDS = ["round", "item", "group", "n", "median", "q1", "q3", "iqr", "mean", "sd", "cv",
               "pct_agree", "pct_disagree", "tastle_wierman"]
RAND_FIELDS = ["p30", "p70", "ipr", "iprcp", "ai", "ipras", "di"]
AGREEMENT_FIELDS = ["round", "krippendorff_alpha", "fleiss_kappa", "n_experts", "n_items"]
RANKING_FIELDS = ["round", "kendall_w", "chi2", "df", "p", "n_experts", "n_items"]
STABILITY_FIELDS = ["item", "n_pairs", "wilcoxon_statistic", "wilcoxon_p", "pct_changed",
                    "cv_change", "distribution_change"]
GROUP_FIELDS = ["item", "test", "statistic", "p", "n_groups"]
SIGNIFICANT_DIGITS = 6


class InputError(Exception):
    """Input the command cannot work on; the message is one line for the user."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line instead of argparse's usage block: scripts read stderr too.
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def item_label(frame: pd.DataFrame) -> pd.Series:
    """The item code, or `item/dimension` for a Policy-Delphi dimension or a ranking option."""
    return frame["item"].where(frame["dimension"].eq(""), frame["item"] + "/" + frame["dimension"])


def items_command(frame: pd.DataFrame, args: argparse.Namespace) -> tuple[list[str], pd.DataFrame]:
    rounds = _select_rounds(frame, args.round)
    by = ["round", "item", "dimension"] + (["group"] if args.by_group else [])
    scale = {"scale_min": args.scale_min, "scale_max": args.scale_max}
    out = rated_summary(rounds, agree_min=args.agree_min, disagree_max=args.disagree_max,
                        by=by, **scale)
    fields = list(ITEM_FIELDS)
    if args.rand:
        if (args.scale_min, args.scale_max) != (1, 9):
            raise InputError("--rand needs the 9-point scale (--scale-min 1 --scale-max 9)")
        out = out.merge(rand_ucla(rounds, by=by).drop(columns="n"), on=by, how="left")
        fields += RAND_FIELDS
    if not args.by_group:
        out["group"] = ""
    out["item"] = item_label(out)
    return fields, out


def agreement_command(frame: pd.DataFrame, args: argparse.Namespace) -> tuple[list[str], pd.DataFrame]:
    return AGREEMENT_FIELDS, panel_agreement(_select_rounds(frame, args.round), level=args.level)


def ranking_command(frame: pd.DataFrame, args: argparse.Namespace) -> tuple[list[str], pd.DataFrame]:
    # Each expert ranks the round's items against each other: the items become the options.
    rounds = _select_rounds(frame, args.round)
    ranked = rounds.assign(dimension=item_label(rounds), item="")
    out = kendall_w(ranked, by=("round",)).rename(columns={"n_options": "n_items"})
    return RANKING_FIELDS, out


def stability_command(frame: pd.DataFrame, args: argparse.Namespace) -> tuple[list[str], pd.DataFrame]:
    _select_rounds(frame, [args.from_round, args.to_round])
    out = stability(frame, from_round=args.from_round, to_round=args.to_round,
                    scale_min=args.scale_min, scale_max=args.scale_max)
    out["item"] = item_label(out)
    return STABILITY_FIELDS, out


def groups_command(frame: pd.DataFrame, args: argparse.Namespace) -> tuple[list[str], pd.DataFrame]:
    round_ = args.round[0] if args.round else int(frame["round"].max())
    _select_rounds(frame, [round_])
    if frame["group"].eq("").all():
        raise InputError("no stakeholder groups: the file has no 'group' column or it is empty")
    out = group_differences(frame, round_=round_)
    out["item"] = item_label(out)
    return GROUP_FIELDS, out


def _select_rounds(frame: pd.DataFrame, rounds: Sequence[int] | None) -> pd.DataFrame:
    present = sorted(int(r) for r in frame["round"].unique())
    for round_ in rounds or []:
        if round_ not in present:
            raise InputError(f"round {round_} is not in the data (rounds: "
                             f"{', '.join(map(str, present))})")
    return frame if not rounds else frame.loc[frame["round"].isin(rounds)]


def _load(path: str, kinds: str | None) -> pd.DataFrame:
    try:
        frame = read_long(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty") from None
    except (ValueError, OSError) as exc:  # pandas, pyarrow and our validation all raise these
        raise InputError(f"{path}: {_one_line(exc)}") from None
    if kinds:
        if "kind" not in frame.columns:
            raise InputError(f"{path}: --kind needs a 'kind' column")
        frame = frame.loc[frame["kind"].isin(kinds.split(","))]
    if frame.empty:
        raise InputError(f"{path}: no answers to analyse")
    return frame


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _clean(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float) or hasattr(value, "item"):
        number = value.item() if hasattr(value, "item") else value
        if isinstance(number, float):
            return None if math.isnan(number) else float(f"{number:.{SIGNIFICANT_DIGITS}g}")
        return number
    return value


def records(fields: list[str], table: pd.DataFrame) -> list[dict[str, Any]]:
    """The table's rows as plain dicts holding exactly `fields`, JSON-ready."""
    return [{field: _clean(row[field]) for field in fields}
            for row in table.to_dict(orient="records")]


def write(rows: list[dict[str, Any]], fields: list[str], fmt: str, out: TextIO) -> None:
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return
    body = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
    out.write(f"[\n{body}\n]\n" if rows else "[]\n")


def _add_scale(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale-min", type=int, default=None, help="lowest scale point (1)")
    parser.add_argument("--scale-max", type=int, default=None, help="highest scale point (5; 9 with --rand)")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("data", metavar="DATA", help="long-format .csv or .parquet file")
    common.add_argument("--format", choices=["json", "csv"], default="json")
    common.add_argument("--kind", help="keep only rows whose 'kind' is one of these (comma-separated)")
    rounds = argparse.ArgumentParser(add_help=False)
    rounds.add_argument("--round", type=int, action="append", help="only this round (repeatable)")
    parser = _Parser(prog="python -m analysis", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    items = sub.add_parser("items", parents=[common, rounds], help="per-item statistics per round")
    _add_scale(items)
    items.add_argument("--agree-min", type=float, default=None,
                       help="lowest agreeing point (4; 7 with --rand)")
    items.add_argument("--disagree-max", type=float, default=None,
                       help="highest disagreeing point (2; 3 with --rand)")
    items.add_argument("--by-group", action="store_true", help="one record per stakeholder group")
    items.add_argument("--rand", action="store_true", help="add RAND/UCLA figures (9-point scale)")
    items.set_defaults(run=items_command)
    agreement = sub.add_parser("agreement", parents=[common, rounds],
                               help="Krippendorff's alpha and Fleiss' kappa")
    agreement.add_argument("--level", choices=LEVELS, default="ordinal")
    agreement.set_defaults(run=agreement_command)
    ranking = sub.add_parser("ranking", parents=[common, rounds], help="Kendall's W over the items")
    ranking.set_defaults(run=ranking_command)
    stab = sub.add_parser("stability", parents=[common], help="change between two rounds")
    stab.add_argument("--from", dest="from_round", type=int, required=True)
    stab.add_argument("--to", dest="to_round", type=int, required=True)
    _add_scale(stab)
    stab.set_defaults(run=stability_command)
    groups = sub.add_parser("groups", parents=[common, rounds], help="differences between groups")
    groups.set_defaults(run=groups_command)
    return parser


def _apply_defaults(args: argparse.Namespace) -> None:
    rand = getattr(args, "rand", False)
    defaults: dict[str, float] = {"scale_min": 1, "scale_max": 9 if rand else 5}
    for name, value in defaults.items():
        if getattr(args, name, value) is None:
            setattr(args, name, value)
    if hasattr(args, "scale_min"):
        top_min, bottom_max = boxes(args.scale_min, args.scale_max)
        for name, value in (("agree_min", top_min), ("disagree_max", bottom_max)):
            if getattr(args, name, value) is None:
                setattr(args, name, value)


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    """Run one command; returns the exit status (0, or 2 for input it cannot work on)."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    _apply_defaults(args)
    run: Callable[[pd.DataFrame, argparse.Namespace], tuple[list[str], pd.DataFrame]] = args.run
    prefix = f"python -m analysis {args.command}: error:"
    try:
        frame = _load(args.data, args.kind)
        fields, table = run(frame, args)
    except InputError as exc:
        stderr.write(f"{prefix} {exc}\n")
        return 2
    except ValueError as exc:  # the statistics refuse data they cannot describe (e.g. off-scale)
        hint = ("; the file mixes item kinds: choose some with --kind, e.g. --kind agreement,dimensions"
                if "kind" in frame.columns and not args.kind else "")
        stderr.write(f"{prefix} {args.data}: {_one_line(exc)}{hint}\n")
        return 2
    write(records(fields, table), fields, args.format, stdout)
    return 0
