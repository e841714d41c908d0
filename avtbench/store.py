"""One JSON file per cell: results/<method>/<task>/<direction>/seed<k>-<confighash>.json.

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
from typing import Any, Iterator, Literal

from avtbench.atomic import move_aside, prepare_folder, write_text_atomic
from avtbench.cells import Cell

FAILURE_SUFFIX = ".failure.json"
REQUIRED_FIELDS = ("method", "task", "direction", "seed", "metrics", "main_metric", "main_value", "cell_hash")
RecordState = Literal["missing", "done", "corrupt"]


class ResultStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def prepare(self) -> None:
        """Create the store folder now, so that a bad `--results` path fails before any work."""
        prepare_folder(self.root, "--results")

    def path(self, cell: Cell) -> Path:
        return self.root / cell.method / cell.task / cell.direction / f"seed{cell.seed}-{cell.config_hash}.json"

    def lock_path(self, cell: Cell) -> Path:
        return self.root / ".locks" / cell.method / cell.task / cell.direction / f"seed{cell.seed}-{cell.config_hash}.lock"

    def lock(self, cell: Cell) -> Any:
        """The cell's file lock: processes sharing the store (serial drivers, Slurm workers) wait on it."""
        from filelock import FileLock

        path = self.lock_path(cell)
        path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(str(path))

    def failure_path(self, cell: Cell) -> Path:
        return self.path(cell).with_name(f"seed{cell.seed}-{cell.config_hash}{FAILURE_SUFFIX}")

    def write_failure(self, cell: Cell, failure: dict[str, Any]) -> Path:
        path = self.failure_path(cell)
        write_text_atomic(path, json.dumps({"cell": cell.label(), "cell_hash": cell.cell_hash, **failure},
                                           indent=2, sort_keys=True, default=str) + "\n")
        return path

    def failure(self, cell: Cell) -> dict[str, Any] | None:
        path = self.failure_path(cell)
        return read_json(path) if path.is_file() else None

    def clear_failure(self, cell: Cell) -> None:
        self.failure_path(cell).unlink(missing_ok=True)

    def failures(self) -> list[Path]:
        return sorted(self.root.rglob(f"*{FAILURE_SUFFIX}")) if self.root.is_dir() else []

    def state(self, cell: Cell) -> RecordState:
        path = self.path(cell)
        if not path.is_file():
            return "missing"
        return "done" if _complete(read_json(path), cell) else "corrupt"

    def exists(self, cell: Cell) -> bool:
        """Whether the cell is finished: its record is there and complete."""
        return self.state(cell) == "done"

    def set_aside(self, cell: Cell) -> Path:
        """Rename an incomplete record to `<name>.corrupt-<UTC time>` beside it; return the new path."""
        return move_aside(self.path(cell))

    def artifacts_path(self, cell: Cell) -> Path:
        """The folder of files a task keeps beside the cell's record (`Task.write_artifacts`)."""
        path = self.path(cell)
        return path.with_name(path.stem + ".artifacts")

    def write(self, cell: Cell, record: dict[str, Any]) -> Path:
        path = self.path(cell)
        write_text_atomic(path, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
        return path

    def read(self, cell: Cell) -> dict[str, Any]:
        return json.loads(self.path(cell).read_text())

    def records(self) -> Iterator[dict[str, Any]]:
        """Every complete record; an unreadable or incomplete file is reported on stderr and skipped, never deleted."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("seed*.json")):
            if path.name.endswith(FAILURE_SUFFIX):
                continue
            record = read_json(path)
            if not _complete(record, None):
                print(f"warning: skipping incomplete result {path}; `avtbench run` redoes that cell", file=sys.stderr)
                continue
            record["_path"] = str(path)
            yield record


def read_json(path: Path) -> Any:
    """The JSON in `path`, or None when it is missing or does not parse."""
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def is_complete_record(path: Path) -> bool:
    """Whether `path` holds a finished cell's record (of whichever cell)."""
    return _complete(read_json(path), None)


def _complete(record: Any, cell: Cell | None) -> bool:
    if not isinstance(record, dict) or any(k not in record for k in REQUIRED_FIELDS):
        return False
    if not isinstance(record["metrics"], dict) or record["main_metric"] not in record["metrics"]:
        return False
    return cell is None or record["cell_hash"] == cell.cell_hash
