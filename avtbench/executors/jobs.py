"""The two-stage plan, the executor protocol, and the job functions every executor runs.

A job carries its one cell as plain data (`plan.CellOrder`: names, seed, resolved settings, the data
section, the cell's hash and checkpoint key) and where to work (`WorkerContext`); a worker rebuilds
that cell alone from the installed plugins and checks its hash (`plan.rebuild_cell`), so that jobs
pickle small and run the same code in any process on any node that sees the cache and the store.
"""
from __future__ import annotations

import platform
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from avtbench.errors import UserError
from avtbench.record import CellFailure, CellRecord

if TYPE_CHECKING:
    from avtbench.api import Progress
    from avtbench.executors.report import GridReport
    from avtbench.executors.settings import ExecutorConfig
    from avtbench.plan import CellOrder, Plan, PlannedCell
    from avtbench.runner import Runner
    from avtbench.store import ResultStore


@dataclass(frozen=True)
class WorkerContext:
    """Where and how a worker runs its cells: the shared cache and store, the device, the grid's id
    (checkpoints its stage 1 trains count as this run's) and the corpus loader's processes."""

    cache_root: str
    results_root: str
    device: str = "cpu"
    grid_id: str = ""
    loader_workers: int = 0

    def runner(self, order: CellOrder) -> tuple[Runner, PlannedCell]:
        """A runner for `order`'s cell, and the cell rebuilt from the installed plugins."""
        from avtbench.cache import ArtifactCache
        from avtbench.plan import rebuild_cell
        from avtbench.plugins import registry
        from avtbench.runner import Runner

        cache = ArtifactCache(self.cache_root)
        planned, data = rebuild_cell(registry(), order, cache)
        return Runner(cache, data, self.device, grid_id=self.grid_id, loader_workers=self.loader_workers), planned


@dataclass
class GridRun:
    """One grid as an executor receives it: the plan, a runner and store in this process, the report
    its cells go to, the context its workers get, and what to do with cells already run."""

    plan: Plan
    runner: Runner
    store: ResultStore
    report: GridReport
    context: WorkerContext
    overwrite: bool = False
    retry_failed: bool = False


class Executor(Protocol):
    """What `--executor` picks (`executor_for`): built from the config's `executor` section, it runs a
    grid's two stages and tells the report about every cell."""

    def __init__(self, config: ExecutorConfig) -> None: ...

    def run(self, grid: GridRun, progress: Progress | None = None) -> GridReport: ...


@dataclass(frozen=True)
class Job:
    """One cell for a worker (for a pretraining job: the first cell that needs that checkpoint)."""

    order: CellOrder
    context: WorkerContext

    @property
    def label(self) -> str:
        return self.order.label()

    @property
    def checkpoint(self) -> str:
        return self.order.checkpoint


@dataclass(frozen=True)
class Outcome:
    label: str
    record: CellRecord | None = None
    failure: CellFailure | None = None


def two_stages(plan: Plan, context: WorkerContext) -> tuple[list[Job], list[Job]]:
    """(one pretraining job per distinct checkpoint key, one job per cell), in plan order; a cell that
    loads a released checkpoint needs no pretraining job."""
    pretrain: dict[str, Job] = {}
    cells = []
    for planned in plan.cells:
        job = Job(planned.order(), context)
        if planned.released is None:
            pretrain.setdefault(planned.checkpoint, job)
        cells.append(job)
    return list(pretrain.values()), cells


def failure_info(exc: BaseException, started: float, stage: str = "") -> CellFailure:
    return CellFailure(error=f"{type(exc).__name__}: {exc}".strip(),
                       kind="user error" if isinstance(exc, UserError) else "crash",
                       traceback=traceback.format_exc(), host=platform.node(),
                       seconds=round(time.perf_counter() - started, 3), stage=stage)


def pretrain_job(job: Job) -> Outcome:
    """Stage 1: the checkpoint of `job`'s cell, trained once (the checkpoint lock makes concurrent
    workers wait and reuse it)."""
    started = time.perf_counter()
    try:
        runner, planned = job.context.runner(job.order)
        runner.pretrained_method(planned.method_cls, planned.method_config, planned.cell.seed, planned.checkpoint)
        return Outcome(job.label)
    except Exception as exc:  # reported to the driver, which records the cells that needed it
        return Outcome(job.label, failure=failure_info(exc, started, "pretraining"))


def cell_job(job: Job) -> Outcome:
    """Stage 2: the cell's record, returned to the driver (which is the store's one writer)."""
    started = time.perf_counter()
    try:
        runner, planned = job.context.runner(job.order)
        return Outcome(job.label, record=runner.compute(planned))
    except Exception as exc:
        return Outcome(job.label, failure=failure_info(exc, started))


def cell_job_writing(job: Job) -> Outcome:
    """Stage 2 on a shared filesystem without a driver (Slurm): the worker writes its own record,
    or its failure, under the store's per-cell lock."""
    from avtbench.recording import record_cell
    from avtbench.store import ResultStore

    started = time.perf_counter()
    store = ResultStore(job.context.results_root)
    planned = None
    try:
        runner, planned = job.context.runner(job.order)
        return Outcome(job.label, record=record_cell(store, runner, planned))
    except Exception as exc:
        info = failure_info(exc, started)
        if planned is not None:
            store.write_failure(planned.cell, info)
        elif job.order.config_hash:  # the cell could not be rebuilt here: recorded where its record would go
            store.write_failure(job.order, info)
        return Outcome(job.label, failure=info)
