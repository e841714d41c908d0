"""One JSON file per cell: results/<method>/<task>/<direction>/seed<k>-<confighash>.json.

Beside it, the task's files in `seed<k>-<confighash>.artifacts/` (when it keeps any); under the root,
hidden folders of the store's own (`.locks/`, the cells' lock files; `.avtbench/`, grid manifests and
Slurm job files), which no table reads and `avtbench merge` does not copy.

A cell that failed (crashed, or met bad input while it ran, such as a NaN in a feature file read
mid-run) has instead a `.failure.json` beside it: the exception, its kind ("crash" or "user
error"), its traceback, the host and the duration. Tables never read those; a later
successful run of the cell removes it.

A record counts as a finished cell only if it parses and carries the fields every record has; a
file that does not (a truncated write from another tool, an edit gone wrong) is set aside under a
name that says so, never deleted, and the cell is computed again.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterator, Literal, Protocol

from avtbench.atomic import move_aside, prepare_folder, write_text_atomic
from avtbench.cells import Cell
from avtbench.record import CellFailure, CellRecord, IncompleteRecord

FAILURE_SUFFIX = ".failure.json"
ARTIFACTS_SUFFIX = ".artifacts"
LOCKS = ".locks"
"""The folder of the cells' lock files, under the store's root (hidden: no cell's place)."""


class CellPlace(Protocol):
    """What names a cell's place in the store: a `Cell`, or a job's `plan.CellOrder`."""

    method: str
    task: str
    direction: str
    seed: int
    config_hash: str
    cell_hash: str

    def label(self) -> str: ...
RecordState = Literal["missing", "done", "corrupt"]


class ResultStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def prepare(self) -> None:
        """Create the store folder now, so that a bad `--results` path fails before any work."""
        prepare_folder(self.root, "--results")

    def path(self, cell: CellPlace) -> Path:
        return self.root / cell.method / cell.task / cell.direction / f"seed{cell.seed}-{cell.config_hash}.json"

    def lock_path(self, cell: Cell) -> Path:
        return self.root / LOCKS / cell.method / cell.task / cell.direction / f"seed{cell.seed}-{cell.config_hash}.lock"

    def lock(self, cell: Cell) -> Any:
        """The cell's file lock: processes sharing the store (serial drivers, Slurm workers) wait on it."""
        from filelock import FileLock

        path = self.lock_path(cell)
        path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(str(path))

    def failure_path(self, cell: CellPlace) -> Path:
        return self.path(cell).with_name(f"seed{cell.seed}-{cell.config_hash}{FAILURE_SUFFIX}")

    def write_failure(self, cell: CellPlace, failure: CellFailure) -> Path:
        path = self.failure_path(cell)
        document = failure.of(cell.label(), cell.cell_hash).to_json()
        write_text_atomic(path, json.dumps(document, indent=2, sort_keys=True, default=str) + "\n")
        return path

    def failure(self, cell: Cell) -> CellFailure | None:
        """The cell's failure record; an unreadable one counts as a crash (so a rerun skips it until --retry-failed)."""
        path = self.failure_path(cell)
        if not path.is_file():
            return None
        try:
            return CellFailure.from_json(read_json(path))
        except IncompleteRecord:
            return CellFailure(f"unreadable failure record {path}")

    def clear_failure(self, cell: Cell) -> None:
        self.failure_path(cell).unlink(missing_ok=True)

    def failures(self) -> list[Path]:
        return sorted(self.root.rglob(f"*{FAILURE_SUFFIX}")) if self.root.is_dir() else []

    def state(self, cell: Cell) -> RecordState:
        path = self.path(cell)
        if not path.is_file():
            return "missing"
        return "done" if _record(path, cell) is not None else "corrupt"

    def exists(self, cell: Cell) -> bool:
        """Whether the cell is finished: its record is there and complete."""
        return self.state(cell) == "done"

    def set_aside(self, cell: Cell) -> Path:
        """Rename an incomplete record to `<name>.corrupt-<UTC time>` beside it; return the new path."""
        return move_aside(self.path(cell))

    def artifacts_path(self, cell: Cell) -> Path:
        """The folder of files a task keeps beside the cell's record (`Task.write_artifacts`)."""
        path = self.path(cell)
        return path.with_name(path.stem + ARTIFACTS_SUFFIX)

    def write(self, cell: Cell, record: CellRecord) -> Path:
        path = self.path(cell)
        write_text_atomic(path, json.dumps(record.to_json(), indent=2, sort_keys=True, default=str) + "\n")
        return path

    def read(self, cell: Cell) -> CellRecord:
        """The cell's record (`IncompleteRecord` when its file is not a complete record of it)."""
        path = self.path(cell)
        record = CellRecord.from_json(read_json(path))
        if record.cell_hash != cell.cell_hash:
            raise IncompleteRecord(f"{path} holds another cell's record")
        return record.at(str(path))

    def records(self) -> Iterator[CellRecord]:
        """Every complete record; an unreadable or incomplete file is reported on stderr and skipped, never deleted."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("seed*.json")):
            if path.name.endswith(FAILURE_SUFFIX):
                continue
            record = _record(path, None)
            if record is None:
                print(f"warning: skipping incomplete result {path}; `avtbench run` redoes that cell", file=sys.stderr)
                continue
            yield record


def read_json(path: Path) -> Any:
    """The JSON in `path`, or None when it is missing or does not parse."""
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def is_complete_record(path: Path) -> bool:
    """Whether `path` holds a finished cell's record (of whichever cell)."""
    return _record(path, None) is not None


def _record(path: Path, cell: Cell | None) -> CellRecord | None:
    """The complete record in `path` (of `cell`, when given), else None."""
    try:
        record = CellRecord.from_json(read_json(path))
    except IncompleteRecord:
        return None
    if cell is not None and record.cell_hash != cell.cell_hash:
        return None
    return record.at(str(path))
