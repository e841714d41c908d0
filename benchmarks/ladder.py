"""Check the synthetic world's method ladder on a results folder (issue 11, part 2).

    avtbench run -m unaligned,oracle,cca -t ave,retrieval -d a2v,v2a -s 0,1,2 --results R
    python benchmarks/ladder.py --results R [--profile default]

For AVE a2v/v2a (accuracy) and retrieval a2v/v2a (R@1) it prints each method's mean ± sample std
over seeds and checks:
- `unaligned` within two std of chance, the std being the larger of its seed std and the sampling
  std of a chance-level score on that test set (binomial: 100 sqrt(p (1 - p) / n) with p = 1/28,
  n = the AVE test clips; p = 1/N, n = N for R@1 over N retrieval clips), since a method whose
  seeds agree has a seed std near 0;
- `oracle` minus `cca` more than twice the larger of their seed stds.
Exit code 1 when a check fails, 2 when a needed cell is missing or a method has several configs.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
from collections import defaultdict
from pathlib import Path

from avtbench.store import ResultStore
from avtbench.synth.profiles import profile_sizes
from avtbench_plugins.datasets.ave.declaration import DATASET as AVE
from avtbench_plugins.datasets.retrieval.declaration import DATASET as RETRIEVAL

COLUMNS = (("ave", "a2v"), ("ave", "v2a"), ("retrieval", "a2v"), ("retrieval", "v2a"))
METHODS = ("unaligned", "cca", "oracle")


def scores(results: Path) -> dict[tuple[str, str, str], list[float]]:
    values: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for record in ResultStore(results).records():
        values[(record.method, record.task, record.direction)][record.column_hash].append(record.main_value)
    out = {}
    for key, columns in values.items():
        if len(columns) > 1 and key[0] in METHODS and key[1:] in COLUMNS:
            sys.exit(f"{'/'.join(key)} has {len(columns)} configurations in {results}; keep one per method")
        out[key] = next(iter(columns.values()))
    return out


def chance(task: str, profile: str) -> tuple[float, float]:
    """(chance score, its sampling std) in percent."""
    profile_sizes(profile)  # an unknown profile is an error
    if task == "ave":
        p, n = 1 / len(AVE.class_names), AVE.synthetic.sizes_for(profile).splits[2]
    else:
        n = RETRIEVAL.synthetic.sizes_for(profile).clips
        p = 1 / n
    return 100 * p, 100 * math.sqrt(p * (1 - p) / n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--profile", default="default")
    args = parser.parse_args()
    values = scores(args.results)
    failed = False
    print("| column | chance | " + " | ".join(METHODS) + " | unaligned ~ chance | oracle - cca > 2 std |")
    print("|---" * (len(METHODS) + 4) + "|")
    for task, direction in COLUMNS:
        stats = {}
        for method in METHODS:
            seeds = values.get((method, task, direction))
            if not seeds:
                sys.stderr.write(f"no {method} cells for {task} {direction} in {args.results}; run them first\n")
                sys.exit(2)
            stats[method] = (statistics.mean(seeds), statistics.stdev(seeds) if len(seeds) > 1 else 0.0, len(seeds))
        level, sampling = chance(task, args.profile)
        low_mean, low_std, _ = stats["unaligned"]
        near_chance = abs(low_mean - level) <= 2 * max(low_std, sampling)
        gap = stats["oracle"][0] - stats["cca"][0]
        wide = gap > 2 * max(stats["oracle"][1], stats["cca"][1])
        failed |= not (near_chance and wide)
        cells = " | ".join(f"{m:.1f} ± {s:.1f} ({n})" for m, s, n in stats.values())
        print(f"| {task} {direction} | {level:.1f} (± {sampling:.1f}) | {cells} | {'yes' if near_chance else 'NO'} | "
              f"{'yes' if wide else 'NO'} ({gap:.1f}) |")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
