"""`python -m analysis COMMAND DATA`: Delphi statistics on any long-format CSV, Excel or Parquet file.

Every command prints a JSON array of records (or CSV with --format csv). Bad input gets one
line on stderr and exit status 2; warnings go to stderr with exit status 0. Numbers are
printed at full precision, NaN is null. Each command imports only the statistics it needs.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import math
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

import numpy as np
import pandas as pd

from analysis.cli_input import InputError, code_warnings, load, one_line, parse_scale, scale_warning

ITEM_FIELDS = ["round", "item", "group", "n", "no_opinion", "median", "q1", "q3", "iqr", "mean",
               "sd", "cv", "pct_agree", "pct_disagree", "tastle_wierman"]
RAND_FIELDS = ["p30", "p70", "ipr", "iprcp", "ai", "ipras", "di"]
RULE_FIELDS = ["verdict", "item_verdict"]
AGREEMENT_FIELDS = ["round", "krippendorff_alpha", "fleiss_kappa", "n_experts", "n_items"]
RANKING_FIELDS = ["round", "item", "kendall_w", "chi2", "df", "p", "n_experts", "n_options"]
STABILITY_FIELDS = ["item", "data", "n_pairs", "wilcoxon_statistic", "wilcoxon_p", "pct_changed",
                    "iqr_change", "cv_change", "distribution_change", "stable"]
GROUP_FIELDS = ["item", "test", "statistic", "p", "n_groups", "n", "n_by_group", "p_holm", "p_bh"]
CONTINUOUS = "continuous"
# The platform's item kinds answered on a scale (the `kind` column of its export).
SCALE_KINDS = ("agreement", "dimensions")

Table = tuple[list[str], pd.DataFrame]
# What a command imports besides pandas: imported in a second thread while the file is read.
SLOW_IMPORTS = {"stability": "scipy.special", "groups": "scipy.special"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line instead of argparse's usage block: scripts read stderr too.
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def item_label(frame: pd.DataFrame) -> pd.Series:
    """The item code, or `item/dimension` for a Policy-Delphi dimension or a ranking option."""
    item, dimension = frame["item"].astype(str), frame["dimension"].astype(str)
    return item.where(dimension.eq(""), item + "/" + dimension)


def items_command(frame: pd.DataFrame, args: argparse.Namespace) -> Table:
    from analysis.descriptive import rand_ucla, rated_summary

    rounds = _select_rounds(frame, args.round)
    by = ["round", "item", "dimension"] + (["group"] if args.by_group else [])
    scale = {"scale_min": args.scale_min, "scale_max": args.scale_max}
    out = rated_summary(rounds, agree_min=args.agree_min, disagree_max=args.disagree_max,
                        by=by, **scale)
    fields = list(ITEM_FIELDS)
    if args.rand:
        if (args.scale_min, args.scale_max) != (1, 9):
            raise InputError("--rand needs the 9-point scale (--scale 1-9)")
        if rounds["value"].max() <= 5:
            args.warnings.append("--rand is defined on a 1-9 scale but no value is above 5: on "
                                 "5-point data every pct_agree (7-9) is 0")
        out = out.merge(rand_ucla(rounds, by=by).drop(columns="n"), on=by, how="left")
        fields += RAND_FIELDS
    if not args.by_group:
        out["group"] = ""
    if args.rule:
        out = _with_verdicts(out.assign(**scale), args.rule)
        fields += RULE_FIELDS
    out["item"] = item_label(out)
    return fields, out


def _with_verdicts(summary: pd.DataFrame, rule: dict[str, Any]) -> pd.DataFrame:
    """The rule's three-way verdict per row (each round and group is its own panel, as APMO
    needs), and each item's verdict over its dimensions (analysis.consensus, the platform's)."""
    from analysis.consensus import item_verdict, verdicts

    try:
        parts = [verdicts(part, rule) for _, part in summary.groupby(["round", "group"], sort=False)]
    except (ValueError, TypeError) as exc:
        raise InputError(f"--rule: {one_line(exc)}") from None
    out = summary.assign(verdict=pd.concat(parts).reindex(summary.index))
    per_item = out.groupby(["round", "item", "group"], sort=False)["verdict"]
    return out.assign(item_verdict=per_item.transform(lambda v: item_verdict(list(v))))


def agreement_command(frame: pd.DataFrame, args: argparse.Namespace) -> Table:
    from analysis.agreement import panel_agreement

    rounds = _select_rounds(frame, args.round)
    low, high = args.scale or (1, 5)
    args.warnings += scale_warning(rounds["value"], low, high)
    return AGREEMENT_FIELDS, panel_agreement(rounds, level=args.level)


def ranking_command(frame: pd.DataFrame, args: argparse.Namespace) -> Table:
    from analysis.ranking import kendall_w

    rounds = _select_rounds(frame, args.round)
    if args.across_items or rounds["dimension"].eq("").all():
        # Each expert ranks the round's items against each other: the items become the options.
        if args.scale or not args.across_items:
            args.warnings += scale_warning(rounds["value"], *(args.scale or (1, 5)))
        ranked = rounds.assign(dimension=item_label(rounds), item="")
    else:
        # Ranking items: each item's options (the dimension) are ranked; one W per item.
        ranked = rounds.loc[rounds["dimension"].ne("")]
        options = ranked.groupby(["round", "item"])["dimension"].transform("nunique")
        if ranked["value"].gt(options).any() or ranked["value"].lt(1).any():
            args.warnings.append("some ranks are below 1 or above the item's number of options")
    return RANKING_FIELDS, kendall_w(ranked, by=("round", "item"))


def stability_command(frame: pd.DataFrame, args: argparse.Namespace) -> Table:
    from analysis.stability import stability

    pair = _select_rounds(frame, [args.from_round, args.to_round])
    if args.scale is None:
        on_scale = _on_scale(pair, args)
    else:
        on_scale = pd.Series(args.scale != CONTINUOUS, index=pair.index)
    parts = []
    for scaled, rows in ((True, on_scale), (False, ~on_scale)):
        if not rows.any():
            continue
        part = pair if rows.all() else pair.loc[rows]
        low, high = (args.scale_min, args.scale_max) if scaled else (None, None)
        table = stability(part, from_round=args.from_round, to_round=args.to_round,
                          scale_min=low, scale_max=high)
        parts.append(table.assign(data=f"scale {low}-{high}" if scaled else CONTINUOUS))
    out = pd.concat(parts, ignore_index=True).sort_values(["item", "dimension"], kind="stable")
    out["item"] = item_label(out)
    return STABILITY_FIELDS, out


def _on_scale(frame: pd.DataFrame, args: argparse.Namespace) -> pd.Series:
    """Per answer: whether its item is rated on the scale, from the `kind` column when the file
    has one (a platform export), else from the values (every one an integer point of it)."""
    if "kind" in frame.columns:
        return frame["kind"].isin(SCALE_KINDS)
    from analysis.frames import group_index

    value = frame["value"].to_numpy()
    off = ~np.isnan(value) & ((value < args.scale_min) | (value > args.scale_max)
                              | (value != np.round(value)))
    if not off.any():  # (every answer on the scale: no need to find the items)
        return pd.Series(True, index=frame.index)
    _, key = group_index(frame, ["item", "dimension"])
    item_off = np.bincount(key, weights=off, minlength=int(key.max()) + 1) > 0
    return pd.Series(~item_off[key], index=frame.index)


def groups_command(frame: pd.DataFrame, args: argparse.Namespace) -> Table:
    from analysis.groups import group_differences
    from analysis.multiplicity import benjamini_hochberg, holm

    round_ = args.round[0] if args.round else _rounds(frame)[-1]
    _check_rounds(frame, [round_])
    in_round = frame["round"].to_numpy() == round_
    if not frame["group"].ne("").to_numpy()[in_round].any():
        raise InputError("no stakeholder groups: the file has no 'group' column or it is empty")
    out = group_differences(frame, round_=round_, sizes=True)
    # The family: every test of the round printed (a test that could not be computed is out).
    out["p_holm"], out["p_bh"] = holm(out["p"]), benjamini_hochberg(out["p"])
    out["item"] = item_label(out)
    return GROUP_FIELDS, out


def _select_rounds(frame: pd.DataFrame, rounds: Sequence[int] | None) -> pd.DataFrame:
    """The rows of these rounds (the frame itself when it holds no other round)."""
    present = _check_rounds(frame, rounds)
    if not rounds or set(present) <= set(rounds):
        return frame
    return frame.loc[frame["round"].isin(rounds)]


def _rounds(frame: pd.DataFrame) -> list[int]:
    """The rounds in the frame, in order (counted, not hashed: rounds are a few small numbers)."""
    rounds = frame["round"].to_numpy()
    low = int(rounds.min())
    if int(rounds.max()) - low > 10_000:
        return sorted(int(r) for r in np.unique(rounds))
    return [int(r) + low for r in np.flatnonzero(np.bincount(rounds - low))]


def _check_rounds(frame: pd.DataFrame, rounds: Sequence[int] | None) -> list[int]:
    """The rounds of the frame; an error naming them when one of `rounds` is not there."""
    present = _rounds(frame)
    for round_ in rounds or []:
        if round_ not in present:
            raise InputError(f"round {round_} is not in the data (rounds: "
                             f"{', '.join(map(str, present))})")
    return present


def _clean(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value  # full precision: json writes the shortest repr that reads back the same


def records(fields: list[str], table: pd.DataFrame) -> list[dict[str, Any]]:
    """The table's rows as plain dicts holding exactly `fields`, JSON-ready."""
    return [{field: _clean(row[field]) for field in fields}
            for row in table.to_dict(orient="records")]


def write(rows: list[dict[str, Any]], fields: list[str], fmt: str, out: TextIO) -> None:
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows({key: json.dumps(value) if isinstance(value, dict) else value
                          for key, value in row.items()} for row in rows)
        return
    body = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
    out.write(f"[\n{body}\n]\n" if rows else "[]\n")


def parse_rule(text: str) -> dict[str, Any]:
    """--rule: 'agree=75,iqr=1[,direction=agree]' (the study rule), a definition's name
    (agree_75, iqr_1, tastle_wierman_0.8, apmo, ...) or a JSON rule mapping."""
    from analysis.consensus import DEFINITIONS, study_rule

    if text.lstrip().startswith("{"):
        try:
            rule = json.loads(text)
        except json.JSONDecodeError as exc:
            raise argparse.ArgumentTypeError(f"--rule is not valid JSON: {exc.msg}") from None
        if not isinstance(rule, dict) or "kind" not in rule:
            raise argparse.ArgumentTypeError("a JSON --rule is a mapping with a 'kind'")
        return rule
    if text in DEFINITIONS:
        return DEFINITIONS[text]
    parts = dict(part.partition("=")[::2] for part in text.split(","))
    try:
        return study_rule(agree_pct=float(parts.pop("agree")), iqr_max=float(parts.pop("iqr")),
                          direction=parts.pop("direction", "either"))
    except (KeyError, ValueError):
        pass
    names = ", ".join(DEFINITIONS)
    raise argparse.ArgumentTypeError(
        f"--rule is agree=PCT,iqr=MAX[,direction=agree|disagree|either], one of {names}, "
        f"or a JSON rule; got {text!r}")


def _add_scale(parser: argparse.ArgumentParser, *, continuous: bool = False) -> None:
    parser.add_argument("--scale", type=parse_scale, default=None,
                        help="the answers' scale, LOW-HIGH (1-5; 1-9 with --rand)"
                        + (", or 'continuous'" if continuous else ""))
    parser.add_argument("--scale-min", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--scale-max", type=int, default=None, help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("data", metavar="DATA", help="long-format .csv, .xlsx or .parquet file")
    common.add_argument("--format", choices=["json", "csv"], default="json")
    common.add_argument("--kind", help="keep only rows whose 'kind' is one of these (comma-separated)")
    rounds = argparse.ArgumentParser(add_help=False)
    rounds.add_argument("--round", type=int, action="append", help="only this round (repeatable)")
    parser = _Parser(prog="python -m analysis", description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    items = sub.add_parser("items", parents=[common, rounds], help="per-item statistics per round")
    _add_scale(items)
    items.add_argument("--agree-min", type=float, default=None,
                       help="lowest agreeing point (4; 7 with --rand)")
    items.add_argument("--disagree-max", type=float, default=None,
                       help="highest disagreeing point (2; 3 with --rand)")
    items.add_argument("--by-group", action="store_true", help="one record per stakeholder group")
    items.add_argument("--rand", action="store_true", help="add RAND/UCLA figures (9-point scale)")
    items.add_argument("--rule", type=parse_rule, default=None,
                       help="add the consensus verdict under this rule, e.g. agree=75,iqr=1")
    items.set_defaults(run=items_command)
    agreement = sub.add_parser("agreement", parents=[common, rounds],
                               help="Krippendorff's alpha and Fleiss' kappa")
    agreement.add_argument("--level", choices=("nominal", "ordinal", "interval", "ratio"),
                           default="ordinal")
    _add_scale(agreement)
    agreement.set_defaults(run=agreement_command)
    ranking = sub.add_parser("ranking", parents=[common, rounds],
                             help="Kendall's W per ranking item")
    ranking.add_argument("--across-items", action="store_true",
                         help="one W per round over all its items and options")
    _add_scale(ranking)
    ranking.set_defaults(run=ranking_command)
    stab = sub.add_parser("stability", parents=[common], help="change between two rounds")
    stab.add_argument("--from", dest="from_round", type=int, required=True)
    stab.add_argument("--to", dest="to_round", type=int, required=True)
    _add_scale(stab, continuous=True)
    stab.set_defaults(run=stability_command)
    groups = sub.add_parser("groups", parents=[common, rounds], help="differences between groups")
    groups.set_defaults(run=groups_command)
    from analysis.cli_weights import add_weight_commands  # survey weights and crosstabs (#20)

    add_weight_commands(sub, common, rounds)
    from analysis.cli_gap import add_gap_command  # the expert-public gap (#20)

    add_gap_command(sub)
    return parser


def _import_aside(module: str | None) -> None:
    """Import `module` in another thread: reading the file leaves the interpreter free most of
    the time, and scipy.special takes a quarter of a second to import. A later import of it
    waits for this one to finish (Python's import lock)."""
    if module and module not in sys.modules:
        threading.Thread(target=importlib.import_module, args=(module,), name="import-aside").start()


def _apply_defaults(args: argparse.Namespace) -> None:
    from analysis.descriptive import boxes

    args.warnings = []
    if not hasattr(args, "scale"):
        return
    if args.scale == CONTINUOUS:
        if args.command != "stability":
            raise InputError(f"{args.command} needs a scale (--scale LOW-HIGH)")
        args.scale_min = args.scale_max = None
        return
    if args.scale is not None:
        args.scale_min, args.scale_max = args.scale
    elif args.scale_min is not None or args.scale_max is not None:
        args.scale = (args.scale_min or 1, args.scale_max or 5)
    rand = getattr(args, "rand", False)
    args.scale_min = 1 if args.scale_min is None else args.scale_min
    args.scale_max = (9 if rand else 5) if args.scale_max is None else args.scale_max
    top_min, bottom_max = boxes(args.scale_min, args.scale_max)
    for name, value in (("agree_min", top_min), ("disagree_max", bottom_max)):
        if getattr(args, name, value) is None:
            setattr(args, name, value)


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    """Run one command; returns the exit status (0, or 2 for input it cannot work on)."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    args = build_parser().parse_args(argv)
    run: Callable[[pd.DataFrame, argparse.Namespace], Table] = args.run
    prefix = f"python -m analysis {args.command}:"
    frame = None
    notes: list[str] = []
    try:
        _apply_defaults(args)
        _import_aside(SLOW_IMPORTS.get(args.command))
        frame = load(args.data, args.kind, notes)
        args.warnings += code_warnings(frame)
        fields, table = run(frame, args)
    except InputError as exc:
        stderr.write(f"{prefix} error: {exc}\n")
        return 2
    except ValueError as exc:  # the statistics refuse data they cannot describe (e.g. off-scale)
        hint = ("; the file mixes item kinds: choose some with --kind, e.g. --kind agreement,dimensions"
                if frame is not None and "kind" in frame.columns and not args.kind else "")
        stderr.write(f"{prefix} error: {args.data}: {one_line(exc)}{hint}\n")
        return 2
    for line in notes:
        stderr.write(f"{prefix} note: {line}\n")
    for line in args.warnings:
        stderr.write(f"{prefix} warning: {line}\n")
    write(records(fields, table), fields, args.format, stdout)
    return 0

