"""Run a grid on Ray: a local cluster (`executor.address=local`) or an existing one.

Stage 1 is one Ray task per checkpoint the grid lacks; stage 2 one task per cell, started when its
checkpoint is there. Workers write checkpoints and embeddings to the shared cache (a path every
node must see) and return records; this driver is the store's one writer. A task whose worker dies
is run again up to `executor.retries` times (Ray's `max_retries`), then its cell is recorded as failed.

`start` (the cluster, local or joined, as the `executor` section says) and `actor_map` (items through
a pool of long-lived actors that each build their state once, results as they complete) are also
what `avtbench extract --executor ray` runs videos with.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

from avtbench.errors import UserError
from avtbench.executors.jobs import GridRun, Job, Outcome, cell_job, pretrain_job, two_stages
from avtbench.executors.report import GridReport, report_skipped, triage
from avtbench.executors.settings import ExecutorConfig
from avtbench.record import CellFailure


def import_ray() -> Any:
    """The `ray` module, or a one-line UserError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UserError("--executor ray needs Ray: pip install 'ray>=2.9' (or the [cluster] extra)") from None
    return ray


def start(ray: Any, config: ExecutorConfig) -> bool:
    """Connect to the cluster `config.address` names, or start a local one ("local", no dashboard);
    True when this call started it (the caller shuts it down), False when Ray was running already."""
    if ray.is_initialized():
        return False
    env = {"env_vars": {"OMP_NUM_THREADS": str(max(1, int(config.num_cpus)))}}
    if config.address == "local":
        ray.init(num_cpus=config.local_cpus or None, include_dashboard=False, runtime_env=env, log_to_driver=False)
    else:
        ray.init(address=config.address, runtime_env=env, log_to_driver=False)
    return True


def actor_map(ray: Any, config: ExecutorConfig, factory: type, args: tuple, items: Iterable[Any], actors: int | None,
              failed: Callable[[Any, BaseException], Any]) -> Iterator[tuple[Any, Any]]:
    """(item, result) for each of `items`, as they complete, computed by `actors` actors of class `factory`
    (built with `args`, each once; None: as many as the cluster's CPUs allow at `executor.num_cpus`
    each; never more than there are items), one item in flight per actor (so an actor that dies was on that item); an actor's `run(item)`
    gives the result. An actor
    whose process dies is restarted and its item retried `executor.retries` times (Ray's
    `max_restarts`, `max_task_retries`); after that the item's result is `failed(item, error)` and a
    fresh actor takes its place. An actor that cannot be built is a UserError before any item runs."""
    remote = ray.remote(factory).options(num_cpus=config.num_cpus, num_gpus=config.num_gpus,
                                         max_restarts=config.retries, max_task_retries=config.retries)
    items = list(items)
    if not items:
        return
    queue = iter(items)
    if actors is None:
        actors = max(1, int(ray.cluster_resources().get("CPU", 1) // max(config.num_cpus, 1e-9)))
    pool = [remote.remote(*args) for _ in range(min(actors, len(items)))]
    pending: dict[Any, tuple[Any, int]] = {}
    try:
        for actor in pool:
            try:
                ray.get(actor.ready.remote())
            except Exception as exc:  # the actor's constructor raised, on whichever node
                line = next((x for x in reversed(str(exc).strip().splitlines()) if x.strip()), type(exc).__name__)
                raise UserError(f"--executor ray: a worker could not start ({line.strip()}); every node must see the "
                                "same files and have the same packages as this one") from None

        def submit(index: int) -> None:
            for item in queue:
                pending[pool[index].run.remote(item)] = (item, index)
                return

        for index in range(len(pool)):
            submit(index)
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            item, index = pending.pop(ready[0])
            try:
                result = ray.get(ready[0])
            except Exception as exc:  # its actor died more often than retries allow
                result = failed(item, exc)
                ray.kill(pool[index], no_restart=True)
                pool[index] = remote.remote(*args)
            yield item, result
            submit(index)
    finally:
        for actor in pool:
            ray.kill(actor, no_restart=True)


class RayExecutor:
    def __init__(self, config: ExecutorConfig) -> None:
        self.config = config

    def run(self, grid: GridRun, progress: Any = None) -> GridReport:
        ray = import_ray()
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
        return start(ray, self.config)

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
