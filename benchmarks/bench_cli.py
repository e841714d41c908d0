"""How fast the light commands start: `avtbench --help`, `avtbench list` and `avtbench table`.

    python benchmarks/bench_cli.py [--runs 7] [--results DIR]

Runs each command several times, each in a fresh process as a user would (the `avtbench` console
script beside this Python), prints the median wall time beside its target and whether it is met, and
exits 1 when a target is missed. `table` reads DIR (default: a folder under the system's temporary
directory, kept for the next run), which it fills first, when empty, with a tiny grid: two methods on
one task, direction and three seeds, so that the table runs its paired significance test too.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

GRID = ["-m", "unaligned,oracle", "-t", "ave", "-d", "v2a", "-s", "0,1,2",
        "--set", "data.profile=tiny", "--set", "ave.epochs=2", "--device", "cpu", "-q"]
"""The grid a fresh results folder gets (tiny world, a few seconds)."""
MADE = ".bench_cli_grid"
"""Written into a results folder once the grid is in it: the folder is complete and reused."""


@dataclass(frozen=True)
class Target:
    label: str
    args: tuple[str, ...]
    limit_s: float


def avtbench() -> list[str]:
    """The console script a user runs, else the module."""
    script = Path(sys.executable).with_name("avtbench")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "avtbench.cli"]


def run(args: list[str], env: dict[str, str]) -> float:
    """Seconds one fresh process takes to run `avtbench args`; exits when it fails."""
    start = time.perf_counter()
    out = subprocess.run([*avtbench(), *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"failed: avtbench {' '.join(args)}\n{out.stderr[-2000:]}")
    return elapsed


def results_folder(folder: Path, env: dict[str, str]) -> Path:
    """`folder` holding the tiny grid's records, run into it first unless a previous run left them."""
    if (folder / MADE).is_file():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    print(f"running a tiny grid into {folder} (once) ...", flush=True)
    run(["run", *GRID, "--results", str(folder / "results"), "--cache", str(folder / "cache")], env)
    (folder / MADE).write_text("avtbench run " + " ".join(GRID) + "\n")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per command")
    parser.add_argument("--results", type=Path, default=Path(tempfile.gettempdir()) / "avtbench-bench-cli",
                        help="folder for the tiny grid's results and cache (made when empty, then reused)")
    args = parser.parse_args()
    env = dict(os.environ, COLUMNS="200")
    folder = results_folder(args.results, env)
    targets = [Target("--help", ("--help",), 0.3), Target("list", ("list",), 1.0),
               Target("table", ("table", "--results", str(folder / "results")), 0.3)]
    run(["--help"], env)  # one process first, so that no command pays for a cold file cache
    missed = 0
    print(f"{'command':<10} {'median':>8} {'target':>8}  runs  met")
    for target in targets:
        times = [run(list(target.args), env) for _ in range(args.runs)]
        median = statistics.median(times)
        met = median <= target.limit_s
        missed += not met
        print(f"{target.label:<10} {median:>7.3f}s {target.limit_s:>7.2f}s  {len(times):>4}  {'yes' if met else 'NO'}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
