"""Two identical grids at once on one results folder and one fresh cache share the work: the world is
written once, each checkpoint trained once, each cell computed once."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import avtbench_cmd, cli_env


@pytest.mark.slow  # several CLI processes or a whole grid: kept out of the 3-minute default run
def test_two_concurrent_grids_compute_each_cell_once(tmp_path: Path) -> None:
    cache, results = tmp_path / "cache", tmp_path / "results"
    args = avtbench_cmd("run", "-m", "unaligned,oracle", "-t", "ave", "--results", str(results), "--cache", str(cache),
                        "--set", "data.profile=tiny", "--set", "ave.epochs=2", "--set", "oracle.epochs=2", "--device", "cpu")
    env = dict(cli_env(cache), OMP_NUM_THREADS="1")
    runs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert all(run.returncode == 0 for run in runs), [err for _, err in outputs]
    lines = [line for _, err in outputs for line in err.splitlines()]
    assert sum(line.startswith("done ") for line in lines) == 4, lines
    assert sum(line.startswith("cached ") for line in lines) == 4, lines
    assert sum(line.startswith("pretraining ") for line in lines) == 2, lines
    assert len(list((cache / "synth").glob("tiny-seed0-*"))) == 1 and not list((cache / "synth").glob(".*tmp*"))
    assert len([p for p in (cache / "checkpoints").iterdir() if p.is_dir()]) == 2
    records = [json.loads(p.read_text()) for p in results.rglob("seed*.json")]
    assert len(records) == 4 and all(r["main_metric"] == "accuracy" for r in records)
