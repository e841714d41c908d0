"""What a paper suite is, as typed data: the grid of one published table or figure (rows of method
variants, tasks and their directions, seeds, settings and data) and the published figures beside it,
each with where in the paper it stands. Built by `suites.load` from YAML (or handed over whole by a
plugin's `avtbench_suites` hook); planned by `suites.plan`; compared by `suites.table`."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Document = dict[str, dict[str, Any]]
"""Settings by section (a method, a task, `data`), as in a config file."""

DATA_SECTION = "data"


@dataclass(frozen=True)
class Source:
    """Where the published figures come from: the paper, the file its text was read from, and the
    table or figure of it this suite reproduces."""

    paper: str
    table: str
    file: str = ""

    def describe(self) -> str:
        where = f" ({self.file})" if self.file else ""
        return f"{self.paper}{where}, {self.table}"

    def brief(self) -> str:
        """The table and the paper file's name: what `suite list` shows (the title names the paper)."""
        return f"{self.table}, {Path(self.file).name}" if self.file else f"{self.table}, {self.paper}"


@dataclass(frozen=True)
class Published:
    """One figure printed in the paper, and the cell of ours it stands beside.

    task, direction, metric: our cell's column and the metric of ours compared with it;
    value: the number as printed; table, row, column: where it is printed (the paper's own words);
    dataset: the paper's evaluation dataset when it is not ours; paper_metric: the paper's name for
    the metric when it differs from ours (e.g. "R@1" for r1)."""

    task: str
    direction: str
    metric: str
    value: float
    table: str
    row: str
    column: str
    dataset: str = ""
    paper_metric: str = ""

    def where(self) -> str:
        """"Table 3, row 'step = 2', column 'AVE V→A' (VGGSound)"."""
        dataset = f" ({self.dataset})" if self.dataset else ""
        metric = f", {self.paper_metric}" if self.paper_metric else ""
        return f"{self.table}, row {self.row!r}, column {self.column!r}{metric}{dataset}"


@dataclass(frozen=True)
class SuiteRow:
    """One variant of a method: a row of the paper's table. `settings` are the method's own (its section),
    `config` any other sections (a task's protocol, say) this row alone runs under."""

    label: str
    method: str
    settings: dict[str, Any] = field(default_factory=dict)
    config: Document = field(default_factory=dict)
    paper_row: str = ""
    published: tuple[Published, ...] = ()


@dataclass(frozen=True)
class SuiteFigure:
    """A figure `suite table` draws beside the table: a plot a plugin registers (hook `avtbench_plots`)
    that compares several pretrained methods, drawn with every row of its method, at `seed`
    (None: the suite's first seed), into `file` under the suite's results folder."""

    plot: str
    file: str
    seed: int | None = None


@dataclass(frozen=True)
class Suite:
    """A paper table (or figure) as a grid: rows x tasks (each with its directions; empty: all the task
    has) x seeds, under `config` (sections for methods and tasks, every row) and `data` (the data
    section: a real root, or the synthetic world's profile); `metrics` names the metrics of ours shown
    per task where no published figure names one (default: the task's main metric; the first is also
    the metric of a published figure that names none)."""

    name: str
    title: str
    source: Source
    rows: tuple[SuiteRow, ...]
    tasks: dict[str, tuple[str, ...]]
    seeds: tuple[int, ...] = (0,)
    config: Document = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: str = ""
    figure: SuiteFigure | None = None
    origin: str = ""
    """Where the suite was read from (a file, or the plugin that handed it over)."""

    @property
    def published(self) -> list[tuple[SuiteRow, Published]]:
        return [(row, figure) for row in self.rows for figure in row.published]

    def document(self, row: SuiteRow, sets: Document | None = None) -> Document:
        """The settings `row`'s cells plan under: the suite's sections and data, the row's own sections
        and method settings, then `sets` (the command line's `--set`) over all of them."""
        out: Document = {}
        layers: list[Document] = [self.config, {DATA_SECTION: self.data} if self.data else {}, row.config,
                                  {row.method: row.settings} if row.settings else {}, sets or {}]
        for layer in layers:
            for section, values in layer.items():
                out.setdefault(section, {}).update(values)
        return out
