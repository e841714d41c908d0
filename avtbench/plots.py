"""Named plots that plugins contribute (hook `avtbench_plots`), drawn by `avtbench plot NAME`.

Two kinds:
- a method plot draws a pretrained method (`Plot(name, method, draw)`; `draw(method, out)`), such
  as a codebook's usage; the method is pretrained, or loaded from the cache, first;
- a cell plot draws a finished cell of a task with whichever method the user names
  (`Plot.of_cell(name, task, direction, draw)`; `draw(cell, out)` gets an
  `avtbench.toolkit.CellRun`: the record and the files the task kept beside it), such as predicted
  masks; the cell is read from the result store, or run and recorded there first, under the user's
  `--set`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class Plot:
    """name: what `avtbench plot NAME` takes; method: the method a method plot draws ("" for a cell
    plot); draw: writes `out` and returns its path; task, direction: the cell a cell plot draws
    (direction: the default of `-d`); artifacts: files of the cell's task that `draw` reads."""

    name: str
    method: str
    draw: Callable[[Any, Path], Path]
    summary: str = ""
    task: str = ""
    direction: str = ""
    artifacts: tuple[str, ...] = ()

    @classmethod
    def of_cell(cls, name: str, task: str, direction: str, draw: Callable[[Any, Path], Path], summary: str = "",
                artifacts: tuple[str, ...] = ()) -> Plot:
        return cls(name, "", draw, summary, task, direction, artifacts)

    @property
    def draws_a_cell(self) -> bool:
        return bool(self.task)

    def subject(self) -> str:
        """What it draws, for `avtbench list`."""
        return f"task {self.task}, any method" if self.draws_a_cell else f"method {self.method}"
