"""Hook specifications of the "avtbench" plugin group (implementations live in the plugins).

A plugin is a module named by an entry point in the ``avtbench`` group; it implements any
of these hooks with ``@hookimpl``. Hooks return classes or declarations, so registering costs
nothing until a method, task or dataset is used.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from avtbench.api import Dataset, Method, Task
    from avtbench.plots import Plot

PROJECT = "avtbench"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


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
