"""Run a grid in this process: the two-stage plan, one checkpoint after another, then one cell after another."""
from __future__ import annotations

import time
from typing import Any

from avtbench.errors import UserError
from avtbench.executors.jobs import GridRun, failure_info
from avtbench.executors.report import CellEvent, GridReport, report_skipped, triage
from avtbench.executors.settings import ExecutorConfig
from avtbench.plan import PlannedCell
from avtbench.record import CellFailure
from avtbench.recording import record_cell


class SerialExecutor:
    def __init__(self, config: ExecutorConfig) -> None:
        self.config = config

    def run(self, grid: GridRun, progress: Any = None) -> GridReport:
        broken = self._pretrain(grid)
        cells = grid.plan.cells if progress is None else progress.track(grid.plan.cells, description="cells")
        try:
            for planned in cells:
                self._one(grid, planned, broken)
        finally:
            close = getattr(cells, "close", None)
            if close is not None:  # end the progress line now, before an error is printed
                close()
        return grid.report

    def _pretrain(self, grid: GridRun) -> dict[str, CellFailure]:
        """Stage 1: every checkpoint the cells to run need, each once (a released one is loaded by its
        cells, not pretrained); checkpoint key -> failure."""
        broken: dict[str, CellFailure] = {}
        seen: set[str] = set()
        for planned in grid.plan.cells:
            key = planned.checkpoint
            if planned.released is not None or key in seen or grid.runner.cache.has_checkpoint(key) \
                    or triage(grid.store, planned.cell, grid.overwrite, grid.retry_failed) != "run":
                continue
            seen.add(key)
            started = time.perf_counter()
            try:
                grid.runner.pretrained_method(planned.method_cls, planned.method_config, planned.cell.seed, key)
            except UserError as exc:  # bad data met while pretraining: recorded on the cell, then the run stops
                grid.store.write_failure(planned.cell, failure_info(exc, started, "pretraining"))
                raise
            except Exception as exc:  # recorded for each cell that needs it; the grid goes on
                broken[key] = failure_info(exc, started, "pretraining")
        return broken

    def _one(self, grid: GridRun, planned: PlannedCell, broken: dict[str, CellFailure]) -> None:
        store, report = grid.store, grid.report
        label = planned.cell.label()
        verdict = triage(store, planned.cell, grid.overwrite, grid.retry_failed)
        if verdict != "run":
            report_skipped(report, store, planned.cell, verdict)
            return
        if planned.checkpoint in broken and not store.exists(planned.cell):
            failure = broken[planned.checkpoint]
            report.failed(label, failure.error, store.write_failure(planned.cell, failure))
            return
        started = time.perf_counter()
        try:
            record = record_cell(store, grid.runner, planned, overwrite=grid.overwrite, log=grid.runner.log)
        except UserError as exc:  # bad data met while the cell ran: recorded as its failure, then the run stops
            store.write_failure(planned.cell, failure_info(exc, started))
            raise
        except Exception as exc:  # any crash of one cell is recorded; the grid goes on
            info = failure_info(exc, started)
            report.failed(label, info.error, store.write_failure(planned.cell, info))
            return
        if record is None:
            report.add(CellEvent("cached", label, str(store.path(planned.cell))))
        else:
            report.done(label, record, store.path(planned.cell))
