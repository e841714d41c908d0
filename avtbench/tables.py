"""Aggregate seeds (mean ± std, n) and render paper-style tables. Imports no torch."""
from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from tabulate import tabulate

from avtbench.api import UserError

FORMATS = ("markdown", "latex", "csv")


@dataclass
class Aggregate:
    values: list[float] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def std(self) -> float:
        """Sample standard deviation over seeds (0 for a single seed)."""
        return statistics.stdev(self.values) if self.n > 1 else 0.0


@dataclass
class Table:
    rows: list[str]
    columns: list[str]
    cells: dict[tuple[str, str], Aggregate]
    metric_names: dict[str, str]
    lower_is_better: set[str] = field(default_factory=set)
    """Columns whose metric is better when smaller."""

    def best(self, column: str) -> set[str]:
        """Rows with the best mean in `column` (all of them when tied)."""
        means = {r: self.cells[(r, column)].mean for r in self.rows if (r, column) in self.cells}
        pick = min if column in self.lower_is_better else max
        top = pick(means.values(), default=None)
        return {r for r, m in means.items() if m == top}


def build_table(records: Iterable[dict[str, Any]], metric: str | None = None) -> Table:
    """Rows are methods, columns task/direction; a different config or version gets its own row or column."""
    records = list(records)
    row_keys = _labels({(r["method"], r["method_hash"]) for r in records})
    col_keys = _labels({(f"{r['task']}/{r['direction']}", r["column_hash"]) for r in records})
    cells: dict[tuple[str, str], Aggregate] = defaultdict(Aggregate)
    metric_names: dict[str, str] = {}
    lower: set[str] = set()
    seen: set[tuple[str, str, int]] = set()
    for r in records:
        name = metric or r["main_metric"]
        if name not in r["metrics"]:
            continue
        row = row_keys[(r["method"], r["method_hash"])]
        col = col_keys[(f"{r['task']}/{r['direction']}", r["column_hash"])]
        if (row, col, r["seed"]) in seen:
            continue
        seen.add((row, col, r["seed"]))
        cells[(row, col)].values.append(float(r["metrics"][name]))
        metric_names[col] = name
        if name in r.get("lower_is_better", ()):
            lower.add(col)
    if metric and not cells:
        raise UserError(f"no result has a metric named {metric!r}; leave out --metric to use each task's main metric")
    rows = sorted({row for row, _ in cells})
    columns = sorted({col for _, col in cells})
    return Table(rows, columns, dict(cells), metric_names, lower)


def _labels(keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Plain name when unique, `name [hash]` when several configurations share a name."""
    counts: dict[str, int] = defaultdict(int)
    for name, _ in keys:
        counts[name] += 1
    return {(name, h): name if counts[name] == 1 else f"{name} [{h}]" for name, h in keys}


def render(table: Table, fmt: str = "markdown", precision: int = 1) -> str:
    if fmt not in FORMATS:
        raise UserError(f"unknown table format {fmt!r}; use one of {', '.join(FORMATS)}")
    if not table.cells:
        return "no results yet; run `avtbench run ...` first"
    if fmt == "csv":
        return _render_csv(table)
    best = {col: table.best(col) for col in table.columns}
    bold = (lambda s: f"**{s}**") if fmt == "markdown" else (lambda s: f"\\textbf{{{s}}}")
    pm = " ± " if fmt == "markdown" else " $\\pm$ "
    body = []
    for row in table.rows:
        line = [row]
        for col in table.columns:
            agg = table.cells.get((row, col))
            if agg is None:
                line.append("")
                continue
            text = f"{agg.mean:.{precision}f}{pm}{agg.std:.{precision}f} ({agg.n})"
            line.append(bold(text) if row in best[col] else text)
        body.append(line)
    headers = ["method"] + [f"{col} {table.metric_names[col]}" for col in table.columns]
    return tabulate(body, headers=headers, tablefmt="pipe" if fmt == "markdown" else "latex_raw",
                    disable_numparse=True)


def _render_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["method", "column", "metric", "mean", "std", "n"])
    for (row, col), agg in sorted(table.cells.items()):
        writer.writerow([row, col, table.metric_names[col], f"{agg.mean:.6g}", f"{agg.std:.6g}", agg.n])
    return out.getvalue().rstrip("\n")
