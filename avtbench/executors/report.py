"""What a grid run did, cell by cell, and the manifest `avtbench status` reads."""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from avtbench.atomic import write_text_atomic
from avtbench.cells import Cell
from avtbench.record import CellRecord
from avtbench.store import ResultStore

EventKind = Literal["done", "cached", "failed", "skipped-failed", "submitted"]
Verdict = Literal["run", "cached", "skipped-failed"]


@dataclass(frozen=True)
class CellEvent:
    """What happened to one cell of a grid, as the CLI tells it.

    done: computed now (`record`, written at `path`); cached: its record was there (`path`); failed:
    `error`, its failure record at `path`; skipped-failed: it failed before (`path`), not run again;
    submitted: handed to Slurm as `job_id`."""

    kind: EventKind
    label: str
    path: str = ""
    record: CellRecord | None = None
    error: str = ""
    job_id: str = ""


Notify = Callable[[CellEvent], None]


@dataclass
class GridReport:
    notify: Notify = lambda event: None
    counts: dict[str, int] = field(default_factory=dict)
    job_ids: dict[str, list[str]] = field(default_factory=dict)

    def add(self, event: CellEvent) -> None:
        self.counts[event.kind] = self.counts.get(event.kind, 0) + 1
        self.notify(event)

    def done(self, label: str, record: CellRecord, path: Path) -> None:
        self.add(CellEvent("done", label, str(path), record=record))

    def failed(self, label: str, error: str, path: Path) -> None:
        self.add(CellEvent("failed", label, str(path), error=error))

    @property
    def failures(self) -> int:
        return self.counts.get("failed", 0)


def triage(store: ResultStore, cell: Cell, overwrite: bool, retry_failed: bool) -> Verdict:
    """What a grid does with a cell: "run" it, report it "cached" (a complete record), or leave it
    "skipped-failed" (it crashed before and --retry-failed is off). --overwrite runs every cell. A cell
    that failed on its input (a user error: a NaN in a feature file, say) runs again, as the input may
    have been fixed since."""
    if overwrite:
        return "run"
    if store.exists(cell):
        return "cached"
    failure = store.failure(cell)
    if not retry_failed and failure is not None and failure.kind != "user error":
        return "skipped-failed"
    return "run"


def report_skipped(report: GridReport, store: ResultStore, cell: Cell, verdict: Verdict) -> None:
    """Tell the report about a cell `triage` did not send to run."""
    if verdict == "cached":
        report.add(CellEvent("cached", cell.label(), str(store.path(cell))))
    else:
        report.add(CellEvent("skipped-failed", cell.label(), str(store.failure_path(cell))))


def new_grid_id() -> str:
    """<time>-<random>: names a grid run (its manifest, and the checkpoints its stage 1 pretrains)."""
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"


def did_work(report: GridReport) -> bool:
    """Whether a grid run ran, failed or submitted anything (a rerun that found every cell cached did not)."""
    return any(report.counts.get(kind, 0) for kind in ("done", "failed", "submitted")) or any(report.job_ids.values())


def write_manifest(results: Path, executor: str, plan: Any, store: Any, job_ids: dict[str, list[str]] | None = None,
                   extra: dict[str, Any] | None = None, grid_id: str | None = None) -> Path:
    """results/.avtbench/grids/<grid id>.json: the grid's cells (label, record and failure paths),
    its executor and, for Slurm, the job ids of both arrays."""
    grid_id = grid_id or new_grid_id()
    cells = [{"label": p.cell.label(), "record": str(store.path(p.cell)), "failure": str(store.failure_path(p.cell)),
              "lock": str(store.lock_path(p.cell))} for p in plan.cells]
    manifest = {"grid": grid_id, "executor": executor, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "cells": cells, "jobs": job_ids or {}, **(extra or {})}
    path = Path(results) / ".avtbench" / "grids" / f"{grid_id}.json"
    write_text_atomic(path, json.dumps(manifest, indent=1) + "\n")
    return path
