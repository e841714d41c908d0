"""Named plots that plugins contribute (hook `avtbench_plots`), drawn by `avtbench plot NAME`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from avtbench.api import Method


@dataclass(frozen=True)
class Plot:
    """name: what `avtbench plot NAME` takes; method: the method whose pretrained instance `draw`
    receives (it is pretrained, or loaded from the cache, first); draw(method, out) writes `out`."""

    name: str
    method: str
    draw: Callable[["Method", Path], Path]
    summary: str = ""
