"""Run one planned cell into a result store: under the cell's lock, only when its record is missing."""
from __future__ import annotations

from typing import Callable

from avtbench.plan import PlannedCell
from avtbench.record import CellRecord
from avtbench.runner import Runner
from avtbench.store import ResultStore


def record_cell(store: ResultStore, runner: Runner, planned: PlannedCell, overwrite: bool = False,
                log: Callable[[str], None] = lambda msg: None) -> CellRecord | None:
    """Compute the cell and write its record; return it, or None when a complete record already
    exists and `overwrite` is off (which cells a grid runs at all is the executors' `triage`).

    Under the cell's lock, so that a second process running the same cell waits and then finds the
    record instead of computing it again. An incomplete record is set aside (never deleted) first."""
    with store.lock(planned.cell):
        state = store.state(planned.cell)
        if state == "done" and not overwrite:
            return None
        if state == "corrupt":
            moved = store.set_aside(planned.cell)
            log(f"redoing {planned.cell.label()}: its record was incomplete or unreadable; moved it to {moved}")
        record = runner.compute(planned, artifacts=store.artifacts_path(planned.cell))
        path = store.write(planned.cell, record)
        store.clear_failure(planned.cell)
        return record.at(str(path))
