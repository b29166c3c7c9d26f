"""Benchmark of `python -m analysis` against a naive pandas read + groupby on the same file.

    .venv/bin/python bench/analysis_cli.py                       # 10,000 experts x 100 items x 2 rounds
    .venv/bin/python bench/analysis_cli.py --experts 1000 --items 20

Writes a long-format CSV (expert, group, round, item, dimension, value; 5-point answers with
2 % no opinion) into a temporary directory, then times, each in a fresh process as a user
would run it (so that interpreter start and imports count on both sides):

- the CLI's `items`, `stability --from 1 --to 2` and `groups`, output to /dev/null;
- naive: `python -c` that imports pandas, reads the CSV with `pd.read_csv` and computes
  count, median, mean and SD per round and item with one groupby.

Prints wall seconds and peak memory (max RSS of the child) of each and ends with
``cli/naive: X  peak MB: Y  rows: N`` (X the worst of the three ratios, Y the CLI's largest
peak). The runs are interleaved --repeat times; a ratio is the median over the repeats of
each CLI run's time over the naive run's beside it (the machine may be shared), a time the
median of its runs.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
NAIVE = (
    "import sys, pandas as pd; frame = pd.read_csv(sys.argv[1]); "
    "frame.groupby(['round', 'item'])['value'].agg(['count', 'median', 'mean', 'std'])"
    ".to_csv(sys.stdout)"
)
COMMANDS = {
    "items": ["items"],
    "stability": ["stability", "--from", "1", "--to", "2"],
    "groups": ["groups"],
}


def make_file(path: Path, experts: int, items: int) -> int:
    """A two-round panel as a long CSV; returns its number of rows."""
    rng = np.random.default_rng(19)
    groups = np.array(["RU", "US", "WE", "CEE", "OTHER"])
    expert = np.repeat(np.arange(experts), items)
    item = np.tile(np.arange(items), experts)
    frames = []
    for round_ in (1, 2):
        value = rng.integers(1, 6, size=len(expert)).astype("float64")
        value[rng.random(len(expert)) < 0.02] = np.nan
        frames.append(pd.DataFrame({
            "expert": pd.Series(expert).map("E{:05d}".format),
            "group": groups[expert % len(groups)],
            "round": round_,
            "item": pd.Series(item).map("item-{:03d}".format),
            "dimension": "",
            "value": value,
        }))
    frame = pd.concat(frames, ignore_index=True)
    frame.to_csv(path, index=False)
    return len(frame)


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, peak MB) of one child process."""
    start = time.perf_counter()
    pid = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL).pid
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(argv)} failed with status {status}")
    return wall, usage.ru_maxrss / 1024.0  # kilobytes on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experts", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "answers.csv"
        rows = make_file(path, args.experts, args.items)
        print(f"file: {rows} rows, {path.stat().st_size / 1e6:.0f} MB; "
              f"load average {os.getloadavg()[0]:.2f}")
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in ["naive", *COMMANDS]}
        for _ in range(args.repeat):  # interleaved, so that a burst of load hits every side
            runs["naive"].append(timed([sys.executable, "-c", NAIVE, str(path)]))
            for name, command in COMMANDS.items():
                runs[name].append(timed([sys.executable, "-m", "analysis", *command, str(path)]))
        naive = statistics.median(wall for wall, _ in runs["naive"])
        print(f"naive read + groupby: {naive:.2f} s  {max(mb for _, mb in runs['naive']):.0f} MB")
        ratios, peak = [], 0.0
        for name in COMMANDS:
            # The ratio of each run to the naive run beside it, then the median over repeats:
            # a burst of load from other processes moves both sides of a pair.
            ratio = statistics.median(cli[0] / plain[0]
                                      for cli, plain in zip(runs[name], runs["naive"], strict=True))
            wall, mb = statistics.median(w for w, _ in runs[name]), max(m for _, m in runs[name])
            ratios.append(ratio)
            peak = max(peak, mb)
            print(f"cli {name}: {wall:.2f} s  {mb:.0f} MB  ({ratio:.2f}x naive)")
    print(f"cli/naive: {max(ratios):.2f}  peak MB: {peak:.0f}  rows: {rows}")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
