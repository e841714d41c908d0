"""A result store read into what the report shows, and where each page goes.

The main table is `avtbench.tables.build_table` over the store's records, exactly as `avtbench table`
builds it (main metrics, paired t-test); each of its entries keeps the records it aggregates, so the
report links every number to the pages of the cells behind it. A cell's page sits at the record's own
path in the store (`cells/<method>/<task>/<direction>/seed<k>-<config hash>.html`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from avtbench.errors import UserError
from avtbench.record import CellFailure, CellRecord, IncompleteRecord
from avtbench.report.html import slug
from avtbench.store import ResultStore, read_json
from avtbench.tables import Table, build_table

INDEX = "index.html"


@dataclass(frozen=True)
class CellEntry:
    """One finished cell: its record, its page, and its row and column in the main table ("" when not in it)."""

    record: CellRecord
    page: str
    row: str = ""
    column: str = ""

    @property
    def artifacts(self) -> Path | None:
        """The folder of files its task kept beside the record (`<record>.artifacts/`), None when there is none."""
        if not self.record.path or not self.record.artifacts:
            return None
        path = Path(self.record.path)
        folder = path.with_name(path.stem + ".artifacts")
        return folder if folder.is_dir() else None


@dataclass(frozen=True)
class FailedCell:
    """A cell with a failure record instead of a result."""

    failure: CellFailure
    path: Path
    page: str

    @property
    def label(self) -> str:
        return self.failure.cell or self.page


@dataclass
class SiteModel:
    results: Path
    table: Table
    cells: list[CellEntry] = field(default_factory=list)
    failures: list[FailedCell] = field(default_factory=list)

    def entries(self, row: str, column: str) -> list[CellEntry]:
        """The cells behind one entry of the main table, in the order the table took them."""
        aggregate = self.table.cells.get((row, column))
        if aggregate is None:
            return []
        by_record = {id(e.record): e for e in self.cells}
        return [by_record[id(r)] for r in aggregate.records if id(r) in by_record]

    def tasks(self) -> list[str]:
        return sorted({e.record.task for e in self.cells})

    def rows(self) -> list[str]:
        """Method rows: the table's labels (`name [hash]` where several configurations share a name)."""
        return sorted({e.row for e in self.cells if e.row})

    def of_row(self, row: str) -> list[CellEntry]:
        return [e for e in self.cells if e.row == row]


def task_page(task: str) -> str:
    return f"tasks/{slug(task)}.html"


def method_page(row: str) -> str:
    return f"methods/{slug(row)}.html"


def read_model(results: Path) -> SiteModel:
    """The store at `results` read whole; a one-line `UserError` when there is no store or nothing in it."""
    results = Path(results)
    if not results.is_dir():
        raise UserError(f"result folder {results} does not exist; run `avtbench run ...` first or pass --results")
    store = ResultStore(results)
    records = list(store.records())
    failures = [_failed(results, path) for path in store.failures()]
    if not records and not failures:
        raise UserError(f"result folder {results} holds no results; run `avtbench run ... --results {results}` "
                        "first or pass the folder that holds them")
    table = build_table(records)
    place: dict[int, tuple[str, str]] = {id(r): (row, col) for (row, col), agg in table.cells.items()
                                         for r in agg.records}
    cells = [CellEntry(r, _page(results, Path(r.path or "")), *place.get(id(r), ("", ""))) for r in records]
    return SiteModel(results, table, cells, failures)


def _page(results: Path, path: Path) -> str:
    """The site path of a record's (or failure's) page: its place in the store, as HTML."""
    try:
        relative = path.resolve().relative_to(results.resolve())
    except ValueError:
        relative = Path(path.name)
    name = relative.name.removesuffix(".json")
    return "cells/" + "/".join(slug(part) for part in (*relative.parent.parts, name)) + ".html"


def _failed(results: Path, path: Path) -> FailedCell:
    try:
        failure = CellFailure.from_json(read_json(path))
    except IncompleteRecord:
        failure = CellFailure(f"unreadable failure record {path}")
    return FailedCell(failure, path, _page(results, path))
