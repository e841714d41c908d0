"""One JSON file per cell: results/<method>/<task>/<direction>/seed<k>-<confighash>.json."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterator

from avtbench.atomic import write_text_atomic
from avtbench.cells import Cell


class ResultStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, cell: Cell) -> Path:
        return self.root / cell.method / cell.task / cell.direction / f"seed{cell.seed}-{cell.config_hash}.json"

    def exists(self, cell: Cell) -> bool:
        return self.path(cell).is_file()

    def write(self, cell: Cell, record: dict[str, Any]) -> Path:
        path = self.path(cell)
        write_text_atomic(path, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
        return path

    def read(self, cell: Cell) -> dict[str, Any]:
        return json.loads(self.path(cell).read_text())

    def records(self) -> Iterator[dict[str, Any]]:
        """Every readable record; an unreadable file is reported on stderr and skipped, never deleted."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("seed*.json")):
            try:
                record = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                print(f"warning: skipping unreadable result {path}: {exc}", file=sys.stderr)
                continue
            if isinstance(record, dict) and "metrics" in record:
                record["_path"] = str(path)
                yield record
