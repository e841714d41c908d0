"""Run a grid on Ray: a local cluster (`executor.address=local`) or an existing one.

Stage 1 is one Ray task per checkpoint the grid lacks; stage 2 one task per cell, started when its
checkpoint is there. Workers write checkpoints and embeddings to the shared cache (a path every
node must see) and return records; this driver is the store's one writer. A task whose worker dies
is run again up to `executor.retries` times (Ray's `max_retries`), then its cell is recorded as failed.
"""
from __future__ import annotations

from typing import Any

from avtbench.errors import UserError
from avtbench.executors.jobs import GridRun, Job, Outcome, cell_job, pretrain_job, two_stages
from avtbench.executors.report import GridReport, report_skipped, triage
from avtbench.executors.settings import ExecutorConfig
from avtbench.record import CellFailure


class RayExecutor:
    def __init__(self, config: ExecutorConfig) -> None:
        self.config = config

    def run(self, grid: GridRun, progress: Any = None) -> GridReport:
        try:
            import ray
        except ImportError:
            raise UserError("--executor ray needs Ray: pip install 'ray>=2.9' (or the [cluster] extra)") from None
        started_here = self._init(ray)
        try:
            stage1, stage2 = two_stages(grid.plan, grid.context)
            planned = {job.order.cell_hash: p for job, p in zip(stage2, grid.plan.cells)}
            todo = [job for job in stage2 if self._wanted(grid, planned[job.order.cell_hash].cell)]
            needed = {t.checkpoint for t in todo}
            broken = self._pretrain(ray, grid, [j for j in stage1 if j.checkpoint in needed])
            self._cells(ray, grid, planned, todo, broken)
        finally:
            if started_here:
                ray.shutdown()
        return grid.report

    def _init(self, ray: Any) -> bool:
        if ray.is_initialized():
            return False
        env = {"env_vars": {"OMP_NUM_THREADS": str(max(1, int(self.config.num_cpus)))}}
        if self.config.address == "local":
            cpus = self.config.local_cpus or None
            ray.init(num_cpus=cpus, include_dashboard=False, runtime_env=env, log_to_driver=False)
        else:
            ray.init(address=self.config.address, runtime_env=env, log_to_driver=False)
        return True

    def _remote(self, ray: Any, fn: Any) -> Any:
        return ray.remote(fn).options(num_cpus=self.config.num_cpus, num_gpus=self.config.num_gpus,
                                      max_retries=self.config.retries, retry_exceptions=False)

    def _wanted(self, grid: GridRun, cell: Any) -> bool:
        verdict = triage(grid.store, cell, grid.overwrite, grid.retry_failed)
        if verdict != "run":
            report_skipped(grid.report, grid.store, cell, verdict)
        return verdict == "run"

    def _pretrain(self, ray: Any, grid: GridRun, jobs: list[Job]) -> dict[str, CellFailure]:
        """Checkpoint key -> failure, for the pretraining jobs that failed."""
        remote = self._remote(ray, pretrain_job)
        pending = {remote.remote(job): job for job in jobs if not grid.runner.cache.has_checkpoint(job.checkpoint)}
        broken = {}
        for ref, job in pending.items():
            outcome = self._get(ray, ref, job)
            if outcome.failure is not None:
                broken[job.checkpoint] = outcome.failure
        return broken

    def _cells(self, ray: Any, grid: GridRun, planned: dict[str, Any], jobs: list[Job],
               broken: dict[str, CellFailure]) -> None:
        remote = self._remote(ray, cell_job)
        pending = {}
        for job in jobs:
            if job.checkpoint in broken:
                self._record(grid, planned[job.order.cell_hash], Outcome(job.label, failure=broken[job.checkpoint]))
            else:
                pending[remote.remote(job)] = job
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            job = pending.pop(ready[0])
            self._record(grid, planned[job.order.cell_hash], self._get(ray, ready[0], job))

    def _get(self, ray: Any, ref: Any, job: Job) -> Outcome:
        try:
            return ray.get(ref)
        except Exception as exc:  # the worker died more often than retries allow
            line = str(exc).splitlines()[0] if str(exc) else ""
            return Outcome(job.label, failure=CellFailure(f"{type(exc).__name__}: {line}", kind="worker died",
                                                          traceback=str(exc)))

    def _record(self, grid: GridRun, planned: Any, outcome: Outcome) -> None:
        store, cell = grid.store, planned.cell
        with store.lock(cell):
            if outcome.record is not None:
                path = store.write(cell, outcome.record)
                store.clear_failure(cell)
                grid.report.done(cell.label(), outcome.record, path)
            else:
                failure = outcome.failure or CellFailure("no record and no failure came back")
                grid.report.failed(cell.label(), failure.error, store.write_failure(cell, failure))
