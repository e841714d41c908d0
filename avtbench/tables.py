"""Aggregate seeds (mean ± std, n) and render paper-style tables. Imports no torch (nor numpy or scipy until a test runs)."""
from __future__ import annotations

import csv
import io
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from tabulate import tabulate

from avtbench.environment import environment_signature
from avtbench.errors import UserError
from avtbench.paired import paired_pvalue
from avtbench.record import CellRecord

FORMATS = ("markdown", "latex", "csv", "json")
TESTS = ("ttest", "wilcoxon")
ALPHA = 0.05
MIN_SHARED_SEEDS = 3
_TEST_NAMES = {"ttest": "paired t-test (scipy.stats.ttest_rel)",
               "wilcoxon": "Wilcoxon signed-rank test (scipy.stats.wilcoxon)"}
_MARK = {"markdown": "†", "latex": "$^\\dagger$"}


@dataclass
class Aggregate:
    values: list[float] = field(default_factory=list)
    seeds: list[Any] = field(default_factory=list)
    """The record's `seed` for each value, in the same order (used to pair rows for the significance test)."""
    records: list[CellRecord] = field(default_factory=list, repr=False)
    """The record of each value, in the same order (the report links each entry to its cells' pages)."""

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def std(self) -> float:
        """Sample standard deviation over seeds (`statistics.stdev`, ddof=1).

        0 for a single seed, where no spread was measured: tables show `mean (n=1)` then, never a ± 0."""
        return statistics.stdev(self.values) if self.n > 1 else 0.0

    def by_seed(self) -> dict[Any, float]:
        return dict(zip(self.seeds, self.values))


@dataclass
class Comparison:
    """The paired test of one best row against its runner-up over the seeds both have."""
    best: str
    runner_up: str
    shared: int
    """Seeds both rows have; no test runs below MIN_SHARED_SEEDS."""
    pvalue: float | None
    """Two-sided p-value; None when no test ran or the test is undefined (zero variance of the differences)."""
    ahead: bool | None
    """True: the best is ahead at p < ALPHA; False: it is not; None: not tested (too few shared seeds)."""


@dataclass
class Table:
    rows: list[str]
    columns: list[str]
    cells: dict[tuple[str, str], Aggregate]
    metric_names: dict[str, str]
    lower_is_better: set[str] = field(default_factory=set)
    """Columns whose metric is better when smaller."""
    test: str = "ttest"
    """Paired test for best vs runner-up: "ttest" (scipy.stats.ttest_rel) or "wilcoxon" (scipy.stats.wilcoxon)."""
    environments: dict[str, list[str]] = field(default_factory=dict)
    """Per column, the distinct environments (`environment_signature`) its values were computed in."""
    row_ids: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Row label -> (method, method_hash): what a row stands for, for the JSON export."""
    column_ids: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    """Column label -> (task, direction, column_hash)."""

    def mixed_environments(self) -> list[str]:
        """One warning line per column whose values come from more than one environment."""
        return [f"warning: column {col} mixes {len(envs)} environments (CPU / BLAS kernel / threads / versions "
                f"differ, so its numbers may too): " + " | ".join(envs)
                for col, envs in sorted(self.environments.items()) if len(envs) > 1]

    def _means(self, column: str) -> dict[str, float]:
        return {r: self.cells[(r, column)].mean for r in self.rows if (r, column) in self.cells}

    def _pick(self, column: str):
        return min if column in self.lower_is_better else max

    def best(self, column: str) -> set[str]:
        """Rows with the best mean in `column` (all of them when tied); empty when fewer than two rows have a value,
        since a lone row is best of nothing."""
        means = self._means(column)
        if len(means) < 2:
            return set()
        top = self._pick(column)(means.values())
        return {r for r, m in means.items() if m == top}

    def runner_up(self, column: str, row: str) -> str | None:
        """The best of the other rows in `column` (a tied row when the best is shared; first by name on ties)."""
        others = {r: m for r, m in self._means(column).items() if r != row}
        if not others:
            return None
        top = self._pick(column)(others.values())
        return min(r for r, m in others.items() if m == top)

    def compare(self, column: str, row: str) -> Comparison | None:
        """Two-sided paired test of `row` against its runner-up over their shared seeds (matched by `seed`).

        "Ahead" means p < ALPHA and the mean paired difference favours `row` (respecting lower_is_better).
        Fewer than MIN_SHARED_SEEDS shared seeds: no test (`ahead` None). Zero variance of the differences
        (for instance identical values on every seed): not ahead, with no p-value; for the Wilcoxon test only
        all-zero differences count as degenerate, since its ranks stay defined for a constant non-zero shift."""
        other = self.runner_up(column, row)
        if other is None:
            return None
        mine, theirs = self.cells[(row, column)].by_seed(), self.cells[(other, column)].by_seed()
        seeds = sorted((s for s in mine if s in theirs), key=repr)
        if len(seeds) < MIN_SHARED_SEEDS:
            return Comparison(row, other, len(seeds), None, None)
        a = [mine[s] for s in seeds]
        b = [theirs[s] for s in seeds]
        diffs = [x - y for x, y in zip(a, b)]
        sign = -1.0 if column in self.lower_is_better else 1.0
        scale = max(1.0, *(abs(v) for v in a + b))
        tol = 1e-9 * scale
        spread = max(diffs) - min(diffs)
        degenerate = all(abs(d) <= tol for d in diffs) if self.test == "wilcoxon" else spread <= tol
        if degenerate:
            return Comparison(row, other, len(seeds), None, False)
        pvalue = paired_pvalue(a, b, self.test, near=ALPHA)
        if pvalue is None:
            return Comparison(row, other, len(seeds), None, False)
        ahead = pvalue < ALPHA and sign * statistics.fmean(diffs) > 0
        return Comparison(row, other, len(seeds), pvalue, ahead)


def build_table(records: Iterable[CellRecord], metric: str | None = None, test: str = "ttest") -> Table:
    """Rows are methods, columns task/direction; a different config or version gets its own row or column.

    `test` ("ttest" or "wilcoxon") is the two-sided paired test `render` uses to check whether a best row is
    ahead of its runner-up over the seeds both share."""
    if test not in TESTS:
        raise UserError(f"unknown significance test {test!r}; use one of {', '.join(TESTS)}")
    records = list(records)
    row_keys = _labels({(r.method, r.method_hash) for r in records})
    col_keys = _labels({(f"{r.task}/{r.direction}", r.column_hash) for r in records})
    column_ids = {col_keys[(f"{r.task}/{r.direction}", r.column_hash)]: (r.task, r.direction, r.column_hash)
                  for r in records}
    cells: dict[tuple[str, str], Aggregate] = defaultdict(Aggregate)
    metric_names: dict[str, str] = {}
    lower: set[str] = set()
    seen: set[tuple[str, str, int]] = set()
    environments: dict[str, set[str]] = defaultdict(set)
    for r in records:
        name = metric or r.main_metric
        if name not in r.metrics:
            continue
        row = row_keys[(r.method, r.method_hash)]
        col = col_keys[(f"{r.task}/{r.direction}", r.column_hash)]
        if (row, col, r.seed) in seen:
            continue
        seen.add((row, col, r.seed))
        cells[(row, col)].values.append(float(r.metrics[name]))
        cells[(row, col)].seeds.append(r.seed)
        cells[(row, col)].records.append(r)
        metric_names[col] = name
        environments[col].add(environment_signature(r.environment))
        if name in r.lower_is_better:
            lower.add(col)
    if metric and not cells:
        raise UserError(f"no result has a metric named {metric!r}; leave out --metric to use each task's main metric")
    rows = sorted({row for row, _ in cells})
    columns = sorted({col for _, col in cells})
    return Table(rows, columns, dict(cells), metric_names, lower, test,
                 {col: sorted(envs) for col, envs in environments.items()},
                 {label: key for key, label in row_keys.items() if label in rows},
                 {label: key for label, key in column_ids.items() if label in columns})


def _labels(keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Plain name when unique, `name [hash]` when several configurations share a name."""
    counts: dict[str, int] = defaultdict(int)
    for name, _ in keys:
        counts[name] += 1
    return {(name, h): name if counts[name] == 1 else f"{name} [{h}]" for name, h in keys}


def footer(table: Table, fmt: str = "markdown") -> str:
    """The line under a markdown or latex table saying what bold and the mark mean and which test ran."""
    test = _TEST_NAMES[table.test]
    if fmt == "latex":
        test = test.replace("_", "\\_")
        return (f"Bold: best mean in a column where at least two methods have results (ties all bold). "
                f"{_MARK['latex']}: that best is not ahead of the runner-up at $p < {ALPHA}$ "
                f"(two-sided {test} over the seeds both share; tested only with at "
                f"least {MIN_SHARED_SEEDS} shared seeds). Cells: mean $\\pm$ sample std (ddof=1) (n seeds); "
                f"a single seed shows mean (n=1).")
    return (f"Bold: best mean in a column where at least two methods have results (ties all bold). "
            f"{_MARK['markdown']}: that best is not ahead of the runner-up at p < {ALPHA} "
            f"(two-sided {test} over the seeds both share; tested only with at least {MIN_SHARED_SEEDS} shared "
            f"seeds). Cells: mean ± sample std (ddof=1) (n seeds); a single seed shows mean (n=1).")


@dataclass(frozen=True)
class CellText:
    """One entry of a rendered table: its text, whether it is the column's best (bold), and whether that best
    carries the mark (not ahead of the runner-up). Every renderer (markdown, latex, the report's HTML) uses it."""

    text: str
    best: bool
    marked: bool


def cell_text(table: Table, row: str, column: str, precision: int = 1, pm: str = " ± ") -> CellText | None:
    """`mean ± std (n)` or `mean (n=1)` of one entry, with its bold and mark; None where the row has no value."""
    agg = table.cells.get((row, column))
    if agg is None:
        return None
    if agg.n == 1:
        text = f"{agg.mean:.{precision}f} (n=1)"
    else:
        text = f"{agg.mean:.{precision}f}{pm}{agg.std:.{precision}f} ({agg.n})"
    best = row in table.best(column)
    comparison = table.compare(column, row) if best else None
    return CellText(text, best, comparison is not None and comparison.ahead is False)


def render(table: Table, fmt: str = "markdown", precision: int = 1) -> str:
    """Markdown or latex table with a footer line explaining bold and the mark, or csv, or json.

    csv is the raw per-cell data (method, column, metric, mean, std, n; std left empty for n = 1): it carries
    no bold, no mark and no footer, so any csv reader takes it as is. json is `cells_json`, whole (an empty
    list when there are no results, so that stdout always parses)."""
    if fmt not in FORMATS:
        raise UserError(f"unknown table format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "json":
        return json.dumps(cells_json(table), indent=1)
    if not table.cells:
        return "no results yet; run `avtbench run ...` first"
    if fmt == "csv":
        return _render_csv(table)
    bold = (lambda s: f"**{s}**") if fmt == "markdown" else (lambda s: f"\\textbf{{{s}}}")
    pm = " ± " if fmt == "markdown" else " $\\pm$ "
    body = []
    for row in table.rows:
        line = [row]
        for col in table.columns:
            shown = cell_text(table, row, col, precision, pm)
            if shown is None:
                line.append("")
                continue
            text = bold(shown.text) if shown.best else shown.text
            line.append(text + _MARK[fmt] if shown.marked else text)
        body.append(line)
    headers = ["method"] + [f"{col} {table.metric_names[col]}" for col in table.columns]
    grid = tabulate(body, headers=headers, tablefmt="pipe" if fmt == "markdown" else "latex_raw",
                    disable_numparse=True)
    return f"{grid}\n\n{footer(table, fmt)}"


def _render_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["method", "column", "metric", "mean", "std", "n"])
    for (row, col), agg in sorted(table.cells.items()):
        std = f"{agg.std:.6g}" if agg.n > 1 else ""
        writer.writerow([row, col, table.metric_names[col], f"{agg.mean:.6g}", std, agg.n])
    return out.getvalue().rstrip("\n")


def cells_json(table: Table) -> list[dict[str, Any]]:
    """One object per method x column that has a value, in the csv's order: the same aggregates the markdown
    shows (mean, sample std or None for one seed, n), unrounded, with each seed's value and what names the
    cell, so that a leaderboard or a paper script reads them without parsing markdown.

    `best` is the markdown's bold; `comparison` (best cells only, else None) is the paired test behind its
    mark: `ahead` False is a cell the markdown marks, None one it did not test. The shape is documented
    in the README ("The table as JSON") and `avtbench table --help`."""
    cells = []
    for (row, col), agg in sorted(table.cells.items()):
        method, method_hash = table.row_ids.get(row, (row, ""))
        task, direction, column_hash = table.column_ids.get(col, (col, "", ""))
        best = row in table.best(col)
        comparison = table.compare(col, row) if best else None
        cells.append({
            "method": method, "method_hash": method_hash, "row": row,
            "task": task, "direction": direction, "column_hash": column_hash, "column": col,
            "metric": table.metric_names[col], "lower_is_better": col in table.lower_is_better,
            "mean": agg.mean, "std": agg.std if agg.n > 1 else None, "n": agg.n,
            "seeds": {str(seed): value for seed, value in agg.by_seed().items()},
            "best": best,
            "comparison": None if comparison is None else {
                "runner_up": comparison.runner_up, "test": table.test, "shared_seeds": comparison.shared,
                "pvalue": comparison.pvalue, "ahead": comparison.ahead},
        })
    return cells
