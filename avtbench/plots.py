"""Named plots that plugins contribute (hook `avtbench_plots`), drawn by `avtbench plot NAME`.

Three kinds:
- a method plot draws a pretrained method (`Plot(name, method, draw)`; `draw(method, out)`), such
  as a codebook's usage; the method is pretrained, or loaded from the cache, first;
- a comparison plot draws several pretrained variants of one method side by side
  (`Plot.of_methods(name, method, draw)`; `draw([(label, method), ...], out)`), such as the codebook
  usage of a paper's model beside its baseline; a paper suite names one as its figure
  (`avtbench suite table` draws it with the suite's rows of that method, from the cache), and
  `avtbench plot NAME` draws it with the one method the user's settings make;
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
    (direction: the default of `-d`); artifacts: files of the cell's task that `draw` reads; several: a
    comparison plot (`draw` takes a list of (label, pretrained method))."""

    name: str
    method: str
    draw: Callable[[Any, Path], Path]
    summary: str = ""
    task: str = ""
    direction: str = ""
    artifacts: tuple[str, ...] = ()
    several: bool = False

    @classmethod
    def of_methods(cls, name: str, method: str, draw: Callable[[Any, Path], Path], summary: str = "") -> Plot:
        return cls(name, method, draw, summary, several=True)

    @classmethod
    def of_cell(cls, name: str, task: str, direction: str, draw: Callable[[Any, Path], Path], summary: str = "",
                artifacts: tuple[str, ...] = ()) -> Plot:
        return cls(name, "", draw, summary, task, direction, artifacts)

    @property
    def draws_a_cell(self) -> bool:
        return bool(self.task)

    def subject(self) -> str:
        """What it draws, for `avtbench list`."""
        if self.several:
            return f"variants of method {self.method} side by side"
        return f"task {self.task}, any method" if self.draws_a_cell else f"method {self.method}"
