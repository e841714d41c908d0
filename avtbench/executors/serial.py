"""Run a grid in this process: the two-stage plan, one checkpoint after another, then one cell after another."""
from __future__ import annotations

import time
from typing import Any

from avtbench.errors import UserError
from avtbench.executors.jobs import failure_info, two_stages
from avtbench.executors.report import GridReport, report_skipped, triage


class SerialExecutor:
    def __init__(self, config: Any, spec: Any, plan: Any, runner: Any, report: GridReport) -> None:
        self.config, self.spec, self.plan, self.runner, self.report = config, spec, plan, runner, report
        self.broken: dict[str, dict[str, Any]] = {}

    def run(self, overwrite: bool = False, retry_failed: bool = False, progress: Any = None) -> GridReport:
        self.broken = self._pretrain(overwrite, retry_failed)
        cells = self.plan.cells if progress is None else progress.track(self.plan.cells, description="cells")
        try:
            for planned in cells:
                self._one(planned, overwrite, retry_failed)
        finally:
            close = getattr(cells, "close", None)
            if close is not None:  # end the progress line now, before an error is printed
                close()
        return self.report

    def _pretrain(self, overwrite: bool, retry_failed: bool) -> dict[str, dict[str, Any]]:
        """Stage 1: every checkpoint the cells to run need, each once; checkpoint key -> failure."""
        broken: dict[str, dict[str, Any]] = {}
        _, cells = two_stages(self.spec, self.plan, self.runner)
        seen: set[str] = set()
        for job in cells:
            planned = self.plan.cells[job.index]
            if job.checkpoint in seen or self.runner.cache.has_checkpoint(job.checkpoint) \
                    or triage(self.runner.store, planned.cell, overwrite, retry_failed) != "run":
                continue
            seen.add(job.checkpoint)
            started = time.perf_counter()
            try:
                self.runner.pretrained_method(planned.method_cls, planned.method_config, planned.cell.seed)
            except UserError as exc:  # bad data met while pretraining: recorded on the cell, then the run stops
                self.runner.store.write_failure(planned.cell, {**failure_info(exc, started), "stage": "pretraining"})
                raise
            except Exception as exc:  # recorded for each cell that needs it; the grid goes on
                broken[job.checkpoint] = {**failure_info(exc, started), "stage": "pretraining"}
        return broken

    def _one(self, planned: Any, overwrite: bool, retry_failed: bool) -> None:
        store = self.runner.store
        label = planned.cell.label()
        verdict = triage(store, planned.cell, overwrite, retry_failed)
        if verdict != "run":
            report_skipped(self.report, store, planned.cell, verdict)
            return
        key = self.runner.checkpoint_key(planned.method_cls, planned.method_config, planned.cell.seed)
        if key in self.broken and not store.exists(planned.cell):
            path = store.write_failure(planned.cell, self.broken[key])
            self.report.add("failed", label, {"error": self.broken[key]["error"], "failure": str(path)})
            return
        started = time.perf_counter()
        try:
            record = self.runner.run(planned, overwrite=overwrite)
        except UserError as exc:  # bad data met while the cell ran: recorded as its failure, then the run stops
            store.write_failure(planned.cell, failure_info(exc, started))
            raise
        except Exception as exc:  # any crash of one cell is recorded; the grid goes on
            info = failure_info(exc, started)
            path = store.write_failure(planned.cell, info)
            self.report.add("failed", label, {"error": info["error"], "failure": str(path)})
            return
        if record is None:
            self.report.add("cached", label, {"path": str(store.path(planned.cell))})
        else:
            self.report.add("done", label, {"record": record, "path": str(store.path(planned.cell))})
