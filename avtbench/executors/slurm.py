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
from avtbench.executors.jobs import GridRun, cell_job_writing, pretrain_job, two_stages
from avtbench.executors.report import CellEvent, GridReport, report_skipped, triage
from avtbench.executors.settings import ExecutorConfig


class SlurmExecutor:
    def __init__(self, config: ExecutorConfig, make_executor: Callable[[Path], Any] | None = None) -> None:
        self.config = config
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

    def run(self, grid: GridRun, progress: Any = None) -> GridReport:
        store, cache, report = grid.store, grid.runner.cache, grid.report
        stage1, stage2 = two_stages(grid.plan, grid.context)
        todo = []
        for job, planned in zip(stage2, grid.plan.cells):
            verdict = triage(store, planned.cell, grid.overwrite, grid.retry_failed)
            if verdict == "run":
                todo.append(job)
            else:
                report_skipped(report, store, planned.cell, verdict)
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
        report.job_ids = {"pretrain": [j.job_id for j in pre_jobs], "cells": [j.job_id for j in cell_jobs]}
        for job, handle in zip(todo, cell_jobs):
            report.add(CellEvent("submitted", job.label, job_id=handle.job_id))
        return report
