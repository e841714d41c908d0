"""Run a grid on Ray: a local cluster (`executor.address=local`) or an existing one.

Stage 1 is one Ray task per checkpoint the grid lacks; stage 2 one task per cell, started when its
checkpoint is there. Workers write checkpoints and embeddings to the shared cache (a path every
node must see) and return records; this driver is the store's one writer. A task whose worker dies
is run again up to `executor.retries` times (Ray's `max_retries`), then its cell is recorded as failed.
"""
from __future__ import annotations

from typing import Any

from avtbench.errors import UserError
from avtbench.executors.jobs import Job, Outcome, cell_job, pretrain_job, two_stages
from avtbench.executors.report import GridReport, report_skipped, triage


class RayExecutor:
    def __init__(self, config: Any, spec: Any, plan: Any, runner: Any, report: GridReport) -> None:
        self.config, self.spec, self.plan, self.runner, self.report = config, spec, plan, runner, report

    def run(self, overwrite: bool = False, retry_failed: bool = False, progress: Any = None) -> GridReport:
        try:
            import ray
        except ImportError:
            raise UserError("--executor ray needs Ray: pip install 'ray>=2.9' (or the [cluster] extra)") from None
        started_here = self._init(ray)
        try:
            stage1, stage2 = two_stages(self.spec, self.plan, self.runner)
            todo = [job for job in stage2 if self._wanted(job, overwrite, retry_failed)]
            broken = self._pretrain(ray, [j for j in stage1 if j.checkpoint in {t.checkpoint for t in todo}])
            self._cells(ray, todo, broken)
        finally:
            if started_here:
                ray.shutdown()
        return self.report

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

    def _wanted(self, job: Job, overwrite: bool, retry_failed: bool) -> bool:
        cell = self.plan.cells[job.index].cell
        verdict = triage(self.runner.store, cell, overwrite, retry_failed)
        if verdict != "run":
            report_skipped(self.report, self.runner.store, cell, verdict)
        return verdict == "run"

    def _pretrain(self, ray: Any, jobs: list[Job]) -> dict[str, dict[str, Any]]:
        """Checkpoint key -> failure, for the pretraining jobs that failed."""
        remote = self._remote(ray, pretrain_job)
        pending = {remote.remote(job): job for job in jobs if not self.runner.cache.has_checkpoint(job.checkpoint)}
        broken = {}
        for ref, job in pending.items():
            outcome = self._get(ray, ref, job)
            if outcome.failure is not None:
                broken[job.checkpoint] = outcome.failure
        return broken

    def _cells(self, ray: Any, jobs: list[Job], broken: dict[str, dict[str, Any]]) -> None:
        remote = self._remote(ray, cell_job)
        pending = {}
        for job in jobs:
            if job.checkpoint in broken:
                self._record(job, Outcome(job.label, job.cell_hash, failure={**broken[job.checkpoint],
                                                                              "stage": "pretraining"}))
            else:
                pending[remote.remote(job)] = job
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            job = pending.pop(ready[0])
            self._record(job, self._get(ray, ready[0], job))

    def _get(self, ray: Any, ref: Any, job: Job) -> Outcome:
        try:
            return ray.get(ref)
        except Exception as exc:  # the worker died more often than retries allow
            return Outcome(job.label, job.cell_hash, failure={"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                                                              "kind": "worker died", "traceback": str(exc), "host": "", "seconds": 0.0})

    def _record(self, job: Job, outcome: Outcome) -> None:
        planned = self.plan.cells[job.index]
        store = self.runner.store
        with store.lock(planned.cell):
            if outcome.record is not None:
                path = store.write(planned.cell, outcome.record)
                store.clear_failure(planned.cell)
                self.report.add("done", job.label, {"record": outcome.record, "path": str(path)})
            else:
                path = store.write_failure(planned.cell, outcome.failure or {})
                self.report.add("failed", job.label, {"error": (outcome.failure or {}).get("error", ""), "failure": str(path)})
