"""Grids on the serial, Ray and Slurm (submitit) executors: same records, failures recorded, work shared."""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from avtbench.executors.jobs import GridRun, WorkerContext, two_stages
from avtbench.executors.report import GridReport
from avtbench.executors.settings import ExecutorConfig
from avtbench.executors.slurm import SlurmExecutor

from .conftest import avtbench_cmd, cli_env, tiny_world_root

TINY = ["--set", "data.profile=tiny", "--set", "ave.epochs=2", "--set", "oracle.epochs=2", "--device", "cpu"]

CRASHING_PLUGIN = '''
import os
from pathlib import Path

from avtbench.api import MethodState
from avtbench.hookspecs import hookimpl
from thirdparty_avt import MeanPool


class CrashOnce(MeanPool):
    """Its worker dies in the middle of the first pretraining (the marker says it happened)."""
    name = "crash_once"

    def pretrain(self, corpus, workdir, progress):
        marker = Path(os.environ["AVT_CRASH_DIR"]) / f"{self.name}-{self.seed}"
        if not marker.exists():
            marker.write_text("died once")
            os._exit(1)
        return {}


class CrashAlways(MeanPool):
    name = "crash_always"

    def pretrain(self, corpus, workdir, progress):
        os._exit(1)


class RaisesInEncode(MeanPool):
    """Raises while encoding as long as the file AVT_FAIL_FILE exists."""
    name = "raises_in_encode"

    def encode(self, modality, batch):
        if Path(os.environ["AVT_FAIL_FILE"]).exists():
            raise RuntimeError("something broke in encode")
        return super().encode(modality, batch)


class RaisesInPretrain(MeanPool):
    name = "raises_in_pretrain"

    def pretrain(self, corpus, workdir, progress):
        raise RuntimeError("pretraining diverged")


@hookimpl
def avtbench_methods():
    return [CrashOnce, CrashAlways, RaisesInEncode, RaisesInPretrain]
'''


@pytest.fixture
def plugins(tmp_path: Path) -> Path:
    from .third_party import install_fake_distribution

    site = install_fake_distribution(tmp_path / "site", broken=False)
    (site / "crashing_avt.py").write_text(CRASHING_PLUGIN)
    entry = site / "thirdparty_avt-0.1.dist-info" / "entry_points.txt"
    entry.write_text(entry.read_text() + "crashing = crashing_avt\n")
    return site


def records(results: Path) -> dict[tuple, dict]:
    out = {}
    for path in results.rglob("seed*.json"):
        if not path.name.endswith(".failure.json"):
            r = json.loads(path.read_text())
            out[(r["method"], r["task"], r["direction"], r["seed"])] = r["metrics"]
    return out


@pytest.mark.slow
def test_a_crashing_cell_is_recorded_skipped_then_retried(plugins: Path, tmp_path: Path, session_cache: Path) -> None:
    tiny_world_root(session_cache)
    fail = tmp_path / "fail-now"
    fail.write_text("x")
    env = dict(cli_env(session_cache, plugins), AVT_FAIL_FILE=str(fail))
    results = tmp_path / "results"
    grid = ["run", "-m", "unaligned,raises_in_encode", "-t", "ave", "--results", str(results), *TINY]
    out = subprocess.run(avtbench_cmd(*grid), capture_output=True, text=True, env=env)
    assert out.returncode == 1, out.stderr
    assert "2 of 4 cell(s) failed" in out.stderr and sum(l.startswith("done ") for l in out.stderr.splitlines()) == 2
    [failure] = [json.loads(p.read_text()) for p in results.rglob("*.failure.json")][:1]
    assert failure["error"] == "RuntimeError: something broke in encode" and "Traceback" in failure["traceback"]
    assert failure["host"] and failure["seconds"] >= 0 and failure["kind"] == "crash"
    table = subprocess.run(avtbench_cmd("table", "--results", str(results)), capture_output=True, text=True, env=env)
    assert "raises_in_encode" not in table.stdout and "2 cell(s) failed" in table.stderr
    status = subprocess.run(avtbench_cmd("status", "--results", str(results)), capture_output=True, text=True, env=env)
    assert "2 done, 0 running, 0 pending, 2 failed" in status.stdout and "failed   raises_in_encode / ave / a2v" in status.stdout
    again = subprocess.run(avtbench_cmd(*grid), capture_output=True, text=True, env=env)
    assert again.returncode == 0 and again.stderr.count("failed before") == 2
    fail.unlink()
    retried = subprocess.run(avtbench_cmd(*grid, "--retry-failed"), capture_output=True, text=True, env=env)
    assert retried.returncode == 0, retried.stderr
    assert len(records(results)) == 4 and not list(results.rglob("*.failure.json"))


@pytest.mark.slow  # several CLI processes or a whole grid: kept out of the 3-minute default run
def test_a_crashed_pretraining_fails_each_cell_that_needs_it_once(plugins: Path, tmp_path: Path,
                                                                 session_cache: Path) -> None:
    tiny_world_root(session_cache)
    results = tmp_path / "results"
    out = subprocess.run(avtbench_cmd("run", "-m", "raises_in_pretrain,unaligned", "-t", "ave", "--results", str(results),
                                      *TINY), capture_output=True, text=True, env=cli_env(session_cache, plugins))
    assert out.returncode == 1 and "2 of 4 cell(s) failed" in out.stderr, out.stderr
    failures = [json.loads(p.read_text()) for p in results.rglob("*.failure.json")]
    assert len(failures) == 2 and all(f["stage"] == "pretraining" and "pretraining diverged" in f["error"] for f in failures)
    assert len(records(results)) == 2


@pytest.mark.slow
def test_ray_local_cluster_gives_the_serial_records_and_survives_dying_workers(plugins: Path, tmp_path: Path,
                                                                             session_cache: Path) -> None:
    pytest.importorskip("ray")
    tiny_world_root(session_cache)
    env = dict(cli_env(session_cache, plugins), AVT_CRASH_DIR=str(tmp_path), RAY_AUTH_MODE="disabled",
               OMP_NUM_THREADS="1")
    grid = ["run", "-m", "unaligned,oracle,crash_once,crash_always", "-t", "ave", *TINY, "--cache", str(tmp_path / "cache"),
            "--executor", "ray", "--set", "executor.local_cpus=2", "--set", "executor.retries=1"]
    out = subprocess.run(avtbench_cmd(*grid, "--results", str(tmp_path / "ray")), capture_output=True, text=True, env=env,
                         timeout=240)
    assert out.returncode == 1, out.stderr
    assert "2 of 8 cell(s) failed" in out.stderr
    died = [json.loads(p.read_text()) for p in (tmp_path / "ray").rglob("*.failure.json")]
    assert len(died) == 2 and all(d["cell"].startswith("crash_always") and d["kind"] == "worker died" for d in died)
    ray_records = records(tmp_path / "ray")
    assert {k[0] for k in ray_records} == {"unaligned", "oracle", "crash_once"}, "retried after its worker died"
    serial = subprocess.run(avtbench_cmd("run", "-m", "unaligned,oracle", "-t", "ave", *TINY, "--results",
                                         str(tmp_path / "serial"), "--cache", str(tmp_path / "serial-cache")),
                            capture_output=True, text=True, env=env)
    assert serial.returncode == 0, serial.stderr
    for key, metrics in records(tmp_path / "serial").items():
        assert ray_records[key] == metrics, key


class FakeJob:
    def __init__(self, job_id: str) -> None:
        self.job_id = job_id


class FakeSubmitit:
    """Records what the Slurm executor asks of submitit, without sbatch."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.params: dict = {}

    def update_parameters(self, **params) -> None:
        self.params = params
        self.calls.append(("params", dict(params)))

    def map_array(self, fn, jobs) -> list[FakeJob]:
        first = 100 * (len([c for c in self.calls if c[0] == "array"]) + 1)
        self.calls.append(("array", fn.__name__, len(jobs), dict(self.params)))
        return [FakeJob(f"{first}_{i}") for i in range(len(jobs))]


def test_slurm_executor_submits_a_pretraining_array_then_a_cell_array_depending_on_it(tmp_path: Path,
                                                                                     session_cache: Path) -> None:
    from avtbench.cache import ArtifactCache
    from avtbench.plan import make_plan
    from avtbench.plugins import registry
    from avtbench.runner import Runner
    from avtbench.store import ResultStore

    document = {"data": {"profile": "tiny"}}
    plan = make_plan(registry(), ["unaligned", "oracle"], ["ave", "avvp"], [], [0, 1], document, ArtifactCache(tmp_path / "c"))
    runner = Runner(ArtifactCache(tmp_path / "c"), plan.data)
    context = WorkerContext(str(tmp_path / "c"), str(tmp_path / "r"))
    pretrain, cells = two_stages(plan, context)
    assert len(cells) == 16 and len(pretrain) == 4, "one pretraining job per method x seed, shared by its cells"
    fake = FakeSubmitit()
    config = ExecutorConfig(partition="gpu", time_min=90, cpus_per_task=4, gpus_per_node=1, mem_gb=32, array_parallelism=8)
    grid = GridRun(plan, runner, ResultStore(tmp_path / "r"), GridReport(), context)
    report = SlurmExecutor(config, make_executor=lambda folder: fake).run(grid)
    arrays = [c for c in fake.calls if c[0] == "array"]
    assert [(a[1], a[2]) for a in arrays] == [("pretrain_job", 4), ("cell_job_writing", 16)]
    pre_params, cell_params = arrays[0][3], arrays[1][3]
    assert pre_params["slurm_partition"] == "gpu" and pre_params["timeout_min"] == 90 and pre_params["gpus_per_node"] == 1
    assert pre_params["slurm_array_parallelism"] == 8 and pre_params["cpus_per_task"] == 4 and pre_params["mem_gb"] == 32
    assert "slurm_additional_parameters" not in pre_params
    assert cell_params["slurm_additional_parameters"] == {"dependency": "afterany:" + ":".join(f"100_{i}" for i in range(4))}
    assert report.job_ids == {"pretrain": [f"100_{i}" for i in range(4)], "cells": [f"200_{i}" for i in range(16)]}


@pytest.mark.slow
def test_slurm_path_runs_on_submitits_local_executor(tmp_path: Path, session_cache: Path) -> None:
    pytest.importorskip("submitit")
    tiny_world_root(session_cache)
    results = tmp_path / "results"
    env = dict(cli_env(session_cache), OMP_NUM_THREADS="1")
    out = subprocess.run(avtbench_cmd("run", "-m", "unaligned", "-t", "ave", *TINY, "--results", str(results),
                                      "--cache", str(tmp_path / "cache"), "--executor", "slurm",
                                      "--set", "executor.slurm_cluster=local"), capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "submitted to Slurm (pretrain: " in out.stderr and list((results / ".avtbench" / "grids").glob("*.json"))
    deadline = time.time() + 120
    while time.time() < deadline and len(records(results)) < 2:
        time.sleep(1)
    assert len(records(results)) == 2
    status = subprocess.run(avtbench_cmd("status", "--results", str(results)), capture_output=True, text=True, env=env)
    assert "2 done, 0 running, 0 pending, 0 failed" in status.stdout, status.stdout


def test_a_job_carries_its_one_cell_and_a_worker_rebuilds_only_that_one(tmp_path: Path, session_cache: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses
    import pickle

    import avtbench.plan
    from avtbench.cache import ArtifactCache
    from avtbench.executors.jobs import Job, cell_job
    from avtbench.plan import make_plan
    from avtbench.plugins import registry

    tiny_world_root(session_cache)
    document = {"data": {"profile": "tiny"}, "ave": {"epochs": 2}}
    plan = make_plan(registry(), ["unaligned"], ["ave", "avvp"], [], [0, 1], document, ArtifactCache(session_cache))
    stage1, stage2 = two_stages(plan, WorkerContext(str(session_cache), str(tmp_path / "r"), "cpu"))
    assert [job.order.cell_hash for job in stage2] == [p.cell.cell_hash for p in plan.cells]
    assert [job.checkpoint for job in stage1] == list(dict.fromkeys(p.checkpoint for p in plan.cells))
    job = stage2[0]
    carried = pickle.dumps(job)
    assert not any(p.cell.cell_hash.encode() in carried for p in plan.cells[1:]), "a job carries no other cell"

    def no_planning(*args, **kwargs):
        raise AssertionError("a worker planned a whole grid")

    monkeypatch.setattr(avtbench.plan, "make_plan", no_planning)
    outcome = cell_job(job)
    assert outcome.failure is None, outcome.failure
    assert outcome.record.cell_hash == job.order.cell_hash and outcome.record.pretrain.checkpoint == job.checkpoint
    elsewhere = dataclasses.replace(job.order, task_settings={**job.order.task_settings, "epochs": 3})
    outcome = cell_job(Job(elsewhere, job.context))
    assert outcome.failure is not None and outcome.failure.kind == "user error"
    assert "is not the same cell on this worker as where the grid was planned" in outcome.failure.error


def test_a_slurm_worker_that_cannot_rebuild_its_cell_records_why_where_the_record_would_go(
        tmp_path: Path, session_cache: Path) -> None:
    import dataclasses

    from avtbench.cache import ArtifactCache
    from avtbench.executors.jobs import Job, cell_job_writing
    from avtbench.plan import make_plan
    from avtbench.plugins import registry
    from avtbench.store import ResultStore

    tiny_world_root(session_cache)
    plan = make_plan(registry(), ["unaligned"], ["ave"], ["a2v"], [0], {"data": {"profile": "tiny"}},
                     ArtifactCache(session_cache))
    [job] = two_stages(plan, WorkerContext(str(session_cache), str(tmp_path / "r"), "cpu"))[1]
    elsewhere = Job(dataclasses.replace(job.order, task_settings={**job.order.task_settings, "epochs": 3}), job.context)
    outcome = cell_job_writing(elsewhere)
    assert outcome.failure is not None and outcome.failure.kind == "user error"
    failure = ResultStore(tmp_path / "r").failure(plan.cells[0].cell)
    assert failure is not None and "is not the same cell on this worker" in failure.error, "status sees it failed"
