"""The same 12-cell grid (unified_vq on ave and avvp, both directions, 3 seeds) serial and on a
local Ray cluster with 2 workers (1 thread each).

    python benchmarks/bench_executors.py

Both runs start from an empty cache (checkpoints and embeddings) over one pre-written default
world, so the timings compare pretraining, encoding and fitting only. Prints each wall time, the
ratio, and whether both gave the same records.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from avtbench.store import ResultStore

GRID = ["-m", "unified_vq", "-t", "ave,avvp", "-d", "a2v,v2a", "-s", "0,1,2", "--set", "unified_vq.epochs=2",
        "--device", "cpu"]
"""12 cells over 3 checkpoints (one unified_vq pretraining per seed, shortened to 2 epochs)."""


def run(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "avtbench.cli", "run", *GRID, *args], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(out.stderr)
    return time.perf_counter() - start


def metrics(results: Path) -> dict:
    return {Path(r.path).relative_to(results).as_posix(): r.metrics for r in ResultStore(results).records()}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        env = dict(os.environ, OMP_NUM_THREADS="1", RAY_AUTH_MODE="disabled")
        world = tmp_path / "world-cache"
        subprocess.run([sys.executable, "-c", "from avtbench.synth.provider import SyntheticWorld as W;"
                        f"w = W('default', 0, {str(world)!r}); [w.root(d) for d in ('corpus', 'ave', 'avvp')]"], check=True, env=env)
        walls = {}
        for name, extra in (("serial", []), ("ray", ["--executor", "ray", "--set", "executor.local_cpus=2"])):
            cache = tmp_path / f"cache-{name}"
            shutil.copytree(world, cache, copy_function=os.link)
            walls[name] = run(["--cache", str(cache), "--results", str(tmp_path / name), *extra], env)
        serial, ray = metrics(tmp_path / "serial"), metrics(tmp_path / "ray")
        same = serial == ray
        for key in sorted(k for k in serial if serial[k] != ray.get(k)):
            print(f"differs: {key}")
    print(f"12 cells: serial {walls['serial']:.1f}s, ray (2 workers) {walls['ray']:.1f}s, "
          f"ratio {walls['serial'] / walls['ray']:.2f}x; identical records: {same}")


if __name__ == "__main__":
    main()
