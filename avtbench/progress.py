"""Rich progress bars behind the plugins' `Progress` protocol."""
from __future__ import annotations

from typing import Iterable, Iterator, TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

T = TypeVar("T")


class RichProgress:
    """Each `track` call shows one bar, removed when its loop ends; nested loops show nested bars."""

    def __init__(self, console=None) -> None:
        self.bars = Progress(
            TextColumn("[bold blue]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )

    def __enter__(self) -> "RichProgress":
        self.bars.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bars.stop()

    def track(self, iterable: Iterable[T], total: int | None = None, description: str = "") -> Iterator[T]:
        if total is None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        bar = self.bars.add_task(description, total=total)
        try:
            for item in iterable:
                yield item
                self.bars.advance(bar)
        finally:
            self.bars.remove_task(bar)
