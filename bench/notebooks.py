"""Time each analysis notebook on the 2 M-row long file (10,000 experts x 100 items x 2 rounds).

    .venv/bin/python bench/notebooks.py                       # builds the file, runs every notebook
    .venv/bin/python bench/notebooks.py --experts 1000 --notebooks convergence,stability

Builds a CSV in the export's long format (five groups, a 1-5 scale, a few "no opinion" answers,
rounds that drift toward the median) under a temporary folder, then executes each notebook with
papermill in a fresh kernel and prints its wall seconds (the whole run, kernel start included)
and the kernel's CPU seconds (what the notebook costs on an idle machine; the wall time grows with
the machine's load, printed too). Ends with ``slowest: NAME X s  rows: N`` (wall seconds).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ["attrition", "consensus", "convergence", "polarization", "stability", "trajectories"]
GROUPS = np.array(["ACADEMIA", "INDUSTRY", "NGO", "GOV", "OTHER"])


def build(path: Path, *, experts: int, items: int, rounds: int, seed: int = 19) -> int:
    """Write the long file and return its number of rows."""
    rng = np.random.default_rng(seed)
    names = np.array([f"P-{k:06d}" for k in range(experts)])
    groups = GROUPS[rng.integers(0, len(GROUPS), experts)]
    centre = rng.integers(2, 5, items)
    first = np.clip(centre[None, :] + rng.integers(-2, 3, (experts, items)), 1, 5).astype(float)
    frames, values = [], first
    for round_ in range(1, rounds + 1):
        if round_ > 1:  # some move one step toward the item's centre
            step = np.sign(centre[None, :] - values) * (rng.random(values.shape) < 0.3)
            values = values + step
        shown = values.copy()
        shown[rng.random(shown.shape) < 0.02] = np.nan  # no opinion
        frames.append(pd.DataFrame({
            "expert": np.repeat(names, items), "group": np.repeat(groups, items),
            "round": round_, "item": np.tile([f"item-{i:03d}" for i in range(items)], experts),
            "dimension": "", "kind": "agreement", "value": shown.ravel(),
            "no_opinion": np.isnan(shown.ravel()).astype(int)}))
    frame = pd.concat(frames, ignore_index=True)
    frame.to_csv(path, index=False)
    return len(frame)


def run(name: str, data: Path, out: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the kernel) of one execution."""
    import papermill

    def children() -> float:  # the kernel is a child process, ended when the run ends
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    start, cpu = time.perf_counter(), children()
    papermill.execute_notebook(str(ROOT / "analysis" / "notebooks" / f"{name}.ipynb"),
                               str(out / f"{name}.out.ipynb"), parameters={"data": str(data)},
                               cwd=str(ROOT), kernel_name="python3", progress_bar=False)
    return time.perf_counter() - start, children() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experts", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--notebooks", default=",".join(NOTEBOOKS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        data = out / "long.csv"
        start = time.perf_counter()
        rows = build(data, experts=args.experts, items=args.items, rounds=args.rounds)
        print(f"built {data.name}: {rows} rows in {time.perf_counter() - start:.1f} s", flush=True)
        times = {}
        for name in args.notebooks.split(","):
            times[name], cpu = run(name, data, out)
            load = os.getloadavg()[0]
            print(f"{name:14s} {times[name]:6.1f} s wall  {cpu:5.1f} s kernel CPU  load {load:.1f}",
                  flush=True)
    slowest = max(times, key=times.__getitem__)
    print(f"slowest: {slowest} {times[slowest]:.1f} s  rows: {rows}")


if __name__ == "__main__":
    sys.exit(main())
