"""Submit a grid to Slurm through submitit, and return: two job arrays, the second depending on the first.

Array 1 pretrains each checkpoint the grid lacks; array 2 (`afterany` on array 1) runs the cells,
each worker writing its own record (or failure) through the store's per-cell lock, since the
results folder and the cache are on a shared filesystem. The job ids go into the grid's manifest
under results/.avtbench/grids/, which `avtbench status` reads.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from avtbench.errors import UserError
from avtbench.executors.jobs import cell_job_writing, pretrain_job, two_stages
from avtbench.executors.report import GridReport, report_skipped, triage


class SlurmExecutor:
    def __init__(self, config: Any, spec: Any, plan: Any, runner: Any, report: GridReport,
                 make_executor: Callable[[Path], Any] | None = None) -> None:
        self.config, self.spec, self.plan, self.runner, self.report = config, spec, plan, runner, report
        self.make_executor = make_executor or self._submitit

    def _submitit(self, folder: Path) -> Any:
        try:
            import submitit
        except ImportError:
            raise UserError("--executor slurm needs submitit: pip install 'submitit>=1.5' (or the [cluster] extra)") from None
        return submitit.AutoExecutor(folder=str(folder), cluster=self.config.slurm_cluster or None)

    def parameters(self) -> dict[str, Any]:
        c = self.config
        params = {"timeout_min": c.time_min, "cpus_per_task": c.cpus_per_task, "gpus_per_node": c.gpus_per_node,
                  "mem_gb": c.mem_gb, "slurm_array_parallelism": c.array_parallelism}
        if c.partition:
            params["slurm_partition"] = c.partition
        return params

    def run(self, overwrite: bool = False, retry_failed: bool = False, progress: Any = None) -> GridReport:
        store, cache = self.runner.store, self.runner.cache
        stage1, stage2 = two_stages(self.spec, self.plan, self.runner)
        todo = []
        for job in stage2:
            cell = self.plan.cells[job.index].cell
            verdict = triage(store, cell, overwrite, retry_failed)
            if verdict == "run":
                todo.append(job)
            else:
                report_skipped(self.report, store, cell, verdict)
        needed = {job.checkpoint for job in todo}
        pretrain = [j for j in stage1 if j.checkpoint in needed and not cache.has_checkpoint(j.checkpoint)]
        executor = self.make_executor(Path(store.root) / ".avtbench" / "slurm")
        params = self.parameters()
        pre_jobs = []
        if pretrain:
            executor.update_parameters(name="avtbench-pretrain", **params)
            pre_jobs = executor.map_array(pretrain_job, pretrain)
        cell_jobs = []
        if todo:
            dependency = {"slurm_additional_parameters": {"dependency": "afterany:" + ":".join(j.job_id for j in pre_jobs)}} \
                if pre_jobs else {}
            executor.update_parameters(name="avtbench-cells", **params, **dependency)
            cell_jobs = executor.map_array(cell_job_writing, todo)
        self.report.job_ids = {"pretrain": [j.job_id for j in pre_jobs], "cells": [j.job_id for j in cell_jobs]}
        for job, handle in zip(todo, cell_jobs):
            self.report.add("submitted", job.label, {"job_id": handle.job_id})
        return self.report
