"""Time one cell cold (empty cache) and warm (cached checkpoint and embeddings), and the CLI start.

    python benchmarks/bench_cell.py --method unaligned --task avvp --direction v2a

Prints wall times and the toolkit's overhead share: the part of the wall time spent outside
pretraining, encoding and the task's own fit/eval (process start, imports, data reading, I/O).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from avtbench.record import CellRecord


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{out.stderr}")
    return elapsed


def newest_record(results: Path) -> CellRecord:
    path = max(results.rglob("seed*.json"), key=lambda p: p.stat().st_mtime)
    return CellRecord.from_json(json.loads(path.read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", default="unaligned")
    parser.add_argument("--task", default="avvp")
    parser.add_argument("--direction", default="v2a")
    parser.add_argument("--set", dest="sets", action="append", default=[])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "avtbench.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, AVTBENCH_CACHE=str(Path(tmp) / "cache"))
        results = Path(tmp) / "results"
        help_s = min(timed([*cli, "--help"], env) for _ in range(3))
        list_s = timed([*cli, "list"], env)
        run = [*cli, "run", "-m", args.method, "-t", args.task, "-d", args.direction, "--results", str(results),
               "--device", args.device, *[x for s in args.sets for x in ("--set", s)]]
        world_s = timed([sys.executable, "-c", "from avtbench.synth.world import ensure_world;"
                         f"ensure_world({str(Path(tmp) / 'whole-world')!r}, 'default', 0)"], env)
        rows = []
        for label in ("cold", "warm"):
            wall = timed([*run, "--overwrite"], env)
            record = newest_record(results)
            t = dataclasses.asdict(record.timings)
            if label == "cold":  # the executor pretrains before the cell runs: count that training here
                t["pretrain_s"] = record.pretrain.trained_s or t["pretrain_s"]
            work = t["pretrain_s"] + t["encode_s"] + t["evaluate_s"]
            rows.append((label, wall, t, 1 - work / wall))
            if label == "cold":
                world_bytes = sum(p.stat().st_size for p in (Path(tmp) / "cache" / "synth").rglob("*") if p.is_file())
    print(f"cli --help: {help_s:.2f}s   cli list: {list_s:.2f}s   whole synthetic world generation: {world_s:.2f}s")
    print(f"synthetic data the cold run wrote (only what its cell reads): {world_bytes / 2**20:.0f} MiB")
    print(f"{'run':<5} {'wall':>7} {'pretrain':>9} {'encode':>7} {'evaluate':>9} {'overhead':>9}")
    for label, wall, t, overhead in rows:
        print(f"{label:<5} {wall:7.2f} {t['pretrain_s']:9.2f} {t['encode_s']:7.2f} {t['evaluate_s']:9.2f} {overhead:9.1%}")


if __name__ == "__main__":
    main()
