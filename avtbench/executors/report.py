"""What a grid run did, cell by cell, and the manifest `avtbench status` reads."""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from avtbench.atomic import write_text_atomic

Notify = Callable[[str, str, dict[str, Any] | None], None]
"""notify(kind, label, detail): kind is "done", "cached", "failed", "skipped-failed" or "submitted"."""


@dataclass
class GridReport:
    notify: Notify = lambda kind, label, detail: None
    counts: dict[str, int] = field(default_factory=dict)
    job_ids: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, label: str, detail: dict[str, Any] | None = None) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.notify(kind, label, detail)

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0)


def triage(store: Any, cell: Any, overwrite: bool, retry_failed: bool) -> str:
    """What a grid does with a cell: "run" it, report it "cached" (a complete record), or leave it
    "skipped-failed" (it crashed before and --retry-failed is off). --overwrite runs every cell. A cell
    that failed on its input (a user error: a NaN in a feature file, say) runs again, as the input may
    have been fixed since."""
    if overwrite:
        return "run"
    if store.exists(cell):
        return "cached"
    failure = store.failure(cell)
    if not retry_failed and failure is not None and failure.get("kind") != "user error":
        return "skipped-failed"
    return "run"


def report_skipped(report: GridReport, store: Any, cell: Any, verdict: str) -> None:
    """Tell the report about a cell `triage` did not send to run."""
    if verdict == "cached":
        report.add("cached", cell.label(), {"path": str(store.path(cell))})
    else:
        report.add("skipped-failed", cell.label(), {"failure": str(store.failure_path(cell))})


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
