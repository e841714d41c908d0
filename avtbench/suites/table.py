"""A suite's table: ours (mean ± sample std over the seeds found, n) beside each published figure and the
difference, one line per figure (a cell with no published figure gets one line of ours alone), in
markdown, LaTeX or CSV, under a caption (`suites.caption`) that says which data the run used.

Records are found by the planned cell of each row (method, task, direction, seed and the variant's
config hash: the store's path), never by method name alone, so that variants of one method stay apart."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tabulate import tabulate

from avtbench.errors import UserError
from avtbench.suites.model import Published, SuiteRow
from avtbench.tables import Aggregate

if TYPE_CHECKING:
    from avtbench.store import ResultStore
    from avtbench.suites.plan import SuitePlan

FORMATS = ("markdown", "latex", "csv")
HEADERS = ("row", "method", "task", "direction", "metric", "ours", "paper", "Δ (ours − paper)", "paper's place")


@dataclass(frozen=True)
class Line:
    """One line of the table: a row's cell column, one metric of ours and the figure it stands beside."""

    row: SuiteRow
    task: str
    direction: str
    metric: str
    ours: Aggregate
    published: Published | None = None

    @property
    def difference(self) -> float | None:
        if self.published is None or not self.ours.n:
            return None
        return self.ours.mean - self.published.value


@dataclass
class SuiteTable:
    lines: list[Line]
    cells: int
    """Cells the suite plans."""
    recorded: int
    """Of those, cells with a record in the store."""
    missing_metrics: list[str] = field(default_factory=list)
    """"<row> <task> <direction>: no metric 'x'" for records that lack a metric a line asks for."""


def build_suite_table(splan: SuitePlan, store: ResultStore) -> SuiteTable:
    """Every line of the suite's table from the records `store` holds of its planned cells."""
    suite = splan.suite
    lines: list[Line] = []
    missing: list[str] = []
    recorded = 0
    for row in suite.rows:
        for task, direction in splan.columns(row):
            cells = splan.of(row, task, direction)
            records = [store.read(c.planned.cell) for c in cells if store.exists(c.planned.cell)]
            recorded += len(records)
            main = cells[0].planned.task_cls.main_metric
            figures = [f for f in row.published if f.task == task and f.direction == direction]
            wanted = [(f.metric or main, f) for f in figures] or [(m, None) for m in suite.metrics.get(task) or (main,)]
            for metric, figure in wanted:
                ours = Aggregate()
                for record in records:
                    if metric in record.metrics:
                        ours.values.append(float(record.metrics[metric]))
                        ours.seeds.append(record.seed)
                if records and not ours.n:
                    missing.append(f"{row.label} {task} {direction}: its records have no metric {metric!r}")
                lines.append(Line(row, task, direction, metric, ours, figure))
    return SuiteTable(lines, len(splan.cells), recorded, missing)


def _ours(agg: Aggregate, precision: int, pm: str) -> str:
    if not agg.n:
        return ""
    if agg.n == 1:
        return f"{agg.mean:.{precision}f} (n=1)"
    return f"{agg.mean:.{precision}f}{pm}{agg.std:.{precision}f} ({agg.n})"


def _body(table: SuiteTable, precision: int, pm: str) -> list[list[str]]:
    body = []
    for line in table.lines:
        figure, diff = line.published, line.difference
        body.append([line.row.label, line.row.method, line.task, line.direction, line.metric,
                     _ours(line.ours, precision, pm),
                     "" if figure is None else f"{figure.value:.{precision}f}",
                     "" if diff is None else f"{diff:+.{precision}f}",
                     "" if figure is None else figure.where()])
    return body


def render_suite_table(table: SuiteTable, caption: str, fmt: str = "markdown", precision: int = 1,
                       data: str = "") -> str:
    """The table in `fmt` with its caption: under a markdown table, as \\caption of a LaTeX table; CSV has
    none (the caller prints it apart) but a `data` column saying which data each line used."""
    if fmt not in FORMATS:
        raise UserError(f"unknown table format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "csv":
        return _csv(table, data)
    if fmt == "markdown":
        grid = tabulate(_body(table, precision, " ± "), headers=HEADERS, tablefmt="pipe", disable_numparse=True)
        return f"{grid}\n\n{caption}"
    body = [[_latex_escape(cell) for cell in line] for line in _body(table, precision, " $\\pm$ ")]
    headers = [_latex_escape(h) for h in HEADERS]
    grid = tabulate(body, headers=headers, tablefmt="latex_raw", disable_numparse=True)
    return f"\\begin{{table}}\n\\centering\n{grid}\n\\caption{{{_latex_escape(caption)}}}\n\\end{{table}}"


_LATEX = {"\\": "\\textbackslash{}", "&": "\\&", "%": "\\%", "$": "\\$", "#": "\\#", "_": "\\_", "{": "\\{",
          "}": "\\}", "~": "\\textasciitilde{}", "^": "\\textasciicircum{}", "→": "$\\rightarrow$", "±": "$\\pm$",
          "Δ": "$\\Delta$", "−": "$-$", "λ": "$\\lambda$"}


def _latex_escape(text: str) -> str:
    """`text` as LaTeX source: its special characters escaped, arrows and Greek letters in math mode; a
    cell already holding `$\\pm$` (ours) is left as it is."""
    if "$\\pm$" in text:
        return text
    return "".join(_LATEX.get(char, char) for char in text)


def _csv(table: SuiteTable, data: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "method", "task", "direction", "metric", "mean", "std", "n", "paper", "difference",
                     "paper_table", "paper_row", "paper_column", "paper_metric", "paper_dataset", "data"])
    for line in table.lines:
        agg, figure, diff = line.ours, line.published, line.difference
        ours = [f"{agg.mean:.6g}", f"{agg.std:.6g}" if agg.n > 1 else "", agg.n] if agg.n else ["", "", 0]
        paper = [f"{figure.value:g}", "" if diff is None else f"{diff:.6g}", figure.table, figure.row, figure.column,
                 figure.paper_metric, figure.dataset] if figure is not None else [""] * 7
        writer.writerow([line.row.label, line.row.method, line.task, line.direction, line.metric, *ours, *paper, data])
    return out.getvalue().rstrip("\n")
