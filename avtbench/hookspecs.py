"""Hook specifications of the "avtbench" plugin group (implementations live in the plugins).

A plugin is a module named by an entry point in the ``avtbench`` group; it implements any
of these hooks with ``@hookimpl``. ``avtbench_cards`` returns cards (``avtbench.cards``): names,
versions and summaries, and where each class or declaration lives, imported on first use, so that
discovery, ``avtbench list`` and ``avtbench --help`` import none of a plugin's code beyond its
entry-point module. The other hooks return the classes, declarations and commands themselves (the
plugin API before cards; still supported): a plugin using them is imported whole at discovery.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    import click

    from avtbench.api import Dataset, Method, Task
    from avtbench.cards import Card
    from avtbench.extractors import Extractor
    from avtbench.plots import Plot
    from avtbench.report.sections import ReportSection
    from avtbench.suites.model import Suite

PROJECT = "avtbench"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def avtbench_cards() -> "list[Card]":
    """Return the cards (`avtbench.cards.MethodCard`, `TaskCard`, `DatasetCard`, `PlotCard`, `CommandCard`,
    `ConverterCard`, `ExtractorCard`) of what this plugin provides; each card's `target` ("module:attribute") is imported only
    when first used. Converters come as cards only (`avtbench convert NAME`)."""


@hookspec
def avtbench_methods() -> "list[type[Method]]":
    """Return the Method subclasses this plugin provides."""


@hookspec
def avtbench_tasks() -> "list[type[Task]]":
    """Return the Task subclasses this plugin provides."""


@hookspec
def avtbench_datasets() -> "list[Dataset]":
    """Return the datasets this plugin declares (name, on-disk format, reader, classes)."""


@hookspec
def avtbench_commands() -> "list[click.Command]":
    """Return click commands to add to the `avtbench` CLI (a plugin's own `avtbench <command>`)."""


@hookspec
def avtbench_plots() -> "list[Plot]":
    """Return named plots (`avtbench.plots.Plot`) that `avtbench plot NAME` can draw."""


@hookspec
def avtbench_extractors() -> "list[type[Extractor]]":
    """Return the feature extractors (`avtbench.extractors.Extractor` subclasses) this plugin provides."""


@hookspec
def avtbench_report_sections() -> "list[ReportSection]":
    """Return sections (`avtbench.report.sections.ReportSection`) that `avtbench report` draws on the pages of
    the cells they apply to (a method's, a task's, or every cell); their `draw` may be "module:function",
    imported only when a report is written."""


@hookspec
def avtbench_suites() -> "list[str | Path | Suite]":
    """Return the paper suites this plugin ships: paths of suite YAML files (see `avtbench.suites.load`) or
    `avtbench.suites.model.Suite` objects; `avtbench suite list` shows them beside benchmarks/suites/."""
