"""Hook specifications of the "avtbench" plugin group.

A plugin is a module named by an entry point in the ``avtbench`` group; it implements any
of these hooks with ``@hookimpl``. Hooks return classes, so registering costs nothing until
a method or task is used.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from avtbench.api import Method, Task

PROJECT = "avtbench"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def avtbench_methods() -> "list[type[Method]]":
    """Return the Method subclasses this plugin provides."""


@hookspec
def avtbench_tasks() -> "list[type[Task]]":
    """Return the Task subclasses this plugin provides."""
