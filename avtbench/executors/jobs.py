"""The two-stage plan and the job functions every executor runs.

A job carries the grid's spec (names, seeds, settings, paths) and the index of one cell; a worker
rebuilds the plan from the installed plugins and checks the cell's hash, so that jobs pickle as
plain data and run the same code in any process on any node that sees the cache and the store.
"""
from __future__ import annotations

import platform
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from avtbench.errors import UserError


@dataclass(frozen=True)
class GridSpec:
    methods: tuple[str, ...]
    tasks: tuple[str, ...]
    directions: tuple[str, ...]
    seeds: tuple[int, ...]
    document: dict[str, Any] = field(hash=False)
    cache_root: str = ""
    results_root: str = ""
    device: str = "cpu"
    grid_id: str = ""
    loader_workers: int = 0

    def plan(self) -> Any:
        from avtbench.cache import ArtifactCache
        from avtbench.plan import make_plan
        from avtbench.plugins import registry

        return make_plan(registry(), list(self.methods), list(self.tasks), list(self.directions), list(self.seeds),
                         self.document, ArtifactCache(self.cache_root))

    def runner(self, plan: Any, with_store: bool) -> Any:
        from avtbench.cache import ArtifactCache
        from avtbench.runner import Runner
        from avtbench.store import ResultStore

        store = ResultStore(self.results_root) if with_store else None
        return Runner(store, ArtifactCache(self.cache_root), plan.data, self.device, grid_id=self.grid_id,
                      loader_workers=self.loader_workers)


@dataclass(frozen=True)
class Job:
    """Cell `index` of the plan of `spec` (for a pretraining job: any cell that needs that checkpoint)."""

    spec: GridSpec
    index: int
    cell_hash: str
    label: str
    checkpoint: str = ""


@dataclass
class Outcome:
    label: str
    cell_hash: str
    record: dict[str, Any] | None = None
    failure: dict[str, Any] | None = None


def two_stages(spec: GridSpec, plan: Any, runner: Any) -> tuple[list[Job], list[Job]]:
    """(one pretraining job per distinct checkpoint key, one job per cell), in plan order."""
    pretrain: dict[str, Job] = {}
    cells = []
    for index, planned in enumerate(plan.cells):
        key = runner.checkpoint_key(planned.method_cls, planned.method_config, planned.cell.seed)
        job = Job(spec, index, planned.cell.cell_hash, planned.cell.label(), key)
        pretrain.setdefault(key, job)
        cells.append(job)
    return list(pretrain.values()), cells


def _planned(job: Job) -> tuple[Any, Any]:
    plan = job.spec.plan()
    planned = plan.cells[job.index]
    if planned.cell.cell_hash != job.cell_hash:
        raise UserError(f"the plan of {job.label} changed since the job was made (installed plugins or data "
                        "differ on this worker); run the grid again")
    return plan, planned


def failure_info(exc: BaseException, started: float) -> dict[str, Any]:
    return {"error": f"{type(exc).__name__}: {exc}".strip(), "kind": "user error" if isinstance(exc, UserError) else "crash",
            "traceback": traceback.format_exc(), "host": platform.node(), "seconds": round(time.perf_counter() - started, 3)}


def pretrain_job(job: Job) -> Outcome:
    """Stage 1: the checkpoint of `job`'s cell, trained once (the checkpoint lock makes concurrent
    workers wait and reuse it)."""
    started = time.perf_counter()
    try:
        plan, planned = _planned(job)
        job.spec.runner(plan, with_store=False).pretrained_method(planned.method_cls, planned.method_config,
                                                                  planned.cell.seed)
        return Outcome(job.label, job.cell_hash)
    except Exception as exc:  # reported to the driver, which records the cells that needed it
        return Outcome(job.label, job.cell_hash, failure=failure_info(exc, started))


def cell_job(job: Job) -> Outcome:
    """Stage 2: the cell's record, returned to the driver (which is the store's one writer)."""
    started = time.perf_counter()
    try:
        plan, planned = _planned(job)
        return Outcome(job.label, job.cell_hash, record=job.spec.runner(plan, with_store=False).compute(planned))
    except Exception as exc:
        return Outcome(job.label, job.cell_hash, failure=failure_info(exc, started))


def cell_job_writing(job: Job) -> Outcome:
    """Stage 2 on a shared filesystem without a driver (Slurm): the worker writes its own record,
    or its failure, under the store's per-cell lock."""
    started = time.perf_counter()
    plan = planned = runner = None
    try:
        plan, planned = _planned(job)
        runner = job.spec.runner(plan, with_store=True)
        record = runner.run(planned)
        return Outcome(job.label, job.cell_hash, record=record)
    except Exception as exc:
        info = failure_info(exc, started)
        if runner is not None and planned is not None:
            runner.store.write_failure(planned.cell, info)
        return Outcome(job.label, job.cell_hash, failure=info)
