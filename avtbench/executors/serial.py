"""Run a grid in this process, cell after cell (pretraining each checkpoint when a cell first needs it)."""
from __future__ import annotations

import time
from typing import Any

from avtbench.errors import UserError
from avtbench.executors.jobs import failure_info
from avtbench.executors.report import GridReport


class SerialExecutor:
    def __init__(self, config: Any, spec: Any, plan: Any, runner: Any, report: GridReport) -> None:
        self.config, self.spec, self.plan, self.runner, self.report = config, spec, plan, runner, report

    def run(self, overwrite: bool = False, retry_failed: bool = False, progress: Any = None) -> GridReport:
        cells = self.plan.cells if progress is None else progress.track(self.plan.cells, description="cells")
        try:
            for planned in cells:
                self._one(planned, overwrite, retry_failed)
        finally:
            close = getattr(cells, "close", None)
            if close is not None:  # end the progress line now, before an error is printed
                close()
        return self.report

    def _one(self, planned: Any, overwrite: bool, retry_failed: bool) -> None:
        store = self.runner.store
        label = planned.cell.label()
        if not retry_failed and not overwrite and not store.exists(planned.cell) and store.failure(planned.cell):
            self.report.add("skipped-failed", label, {"failure": str(store.failure_path(planned.cell))})
            return
        started = time.perf_counter()
        try:
            record = self.runner.run(planned, overwrite=overwrite)
        except UserError:
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
